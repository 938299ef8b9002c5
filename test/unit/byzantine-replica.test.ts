/**
 * The real-process Byzantine proxy (src/cli/byzantine-replica.ts): what it does to one
 * Ready of an honest core, for the behaviours whose effect on the host's sending differs
 * (delays, silence, rewritten replies), and the presigned request signer of bench micro.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { LocalCluster } from '../../src/sim/local-cluster.ts';
import { ByzantineOutputs, BYZANTINE_BEHAVIOURS, SLOW_DELAY_MS, type ByzantineBehaviour } from '../../src/cli/byzantine-replica.ts';
import { PresignedSigner } from '../../src/cli/presigned-signer.ts';
import { encodeMessage } from '../../src/core/codec.ts';
import { MessageType } from '../../src/core/messages.ts';
import { emptyReady, type Ready } from '../../src/core/ready.ts';
import { loneRequestSigningMessage } from '../../src/core/signing.ts';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';

const c = new LocalCluster({ n: 4 });
const core = c.replicas[0]!;
const stop = encodeMessage({ type: MessageType.STOP, from: 0, regency: 1 });
const reply = encodeMessage({ type: MessageType.REPLY, replicaId: 0, clientId: 7, session: 1, seq: 1, ordered: true, result: new TextEncoder().encode('{"ok":true}'), proof: { index: 0, leafCount: 1, siblings: [] }, signature: new Uint8Array(64) });
const ready = (): Ready => ({ ...emptyReady(), messages: [{ to: [1, 2], bytes: stop }], replies: [{ clientId: 7, bytes: reply }], persist: [{ kind: 'regency', regency: 1 }] });
const proxy = (behaviour: ByzantineBehaviour) => new ByzantineOutputs({ behaviour, replicaId: 0, signer: core.deps.signer, hash: sha256 });

describe('real-process Byzantine behaviours', () => {
  it('offers every simulator replica behaviour but collude', () => {
    assert.ok(BYZANTINE_BEHAVIOURS.includes('equivocate') && BYZANTINE_BEHAVIOURS.includes('wrong-stopdata'));
    assert.ok(!(BYZANTINE_BEHAVIOURS as readonly string[]).includes('collude'));
  });

  it('slow: nothing leaves now, everything leaves after the delay; persist records are untouched', () => {
    const out = proxy('slow').rewrite(core, ready());
    assert.deepEqual(out.ready.messages, []);
    assert.deepEqual(out.ready.replies, []);
    assert.equal(out.ready.persist.length, 1);
    assert.equal(out.delayed.length, 1);
    assert.equal(out.delayed[0]!.delayMs, SLOW_DELAY_MS);
    assert.deepEqual(out.delayed[0]!.messages.map((m) => m.to), [[1], [2]]);
    assert.equal(out.delayed[0]!.replies.length, 1);
  });

  it('silent sends nothing; wrong-results changes the reply and nothing else', () => {
    const silent = proxy('silent').rewrite(core, ready());
    assert.deepEqual([silent.ready.messages, silent.ready.replies, silent.delayed], [[], [], []]);
    const lie = proxy('wrong-results').rewrite(core, ready());
    assert.equal(lie.ready.messages.length, 2);
    assert.equal(lie.ready.replies.length, 1);
    assert.notDeepEqual(lie.ready.replies[0]!.bytes, reply);
  });
});

describe('bench micro --presign', () => {
  it('hands out each precomputed signature once, valid, and signs anything else inline', () => {
    const kp = generateKeyPairSync('ed25519');
    const signer = new PresignedSigner(new Ed25519Signer(kp.privateKey));
    const digest = sha256(new Uint8Array(0));
    signer.presign(9, 123, 3, digest);
    const verifier = new Ed25519Verifier(new Map([[9, kp.publicKey]]));
    for (const seq of [1, 2, 3, 3, 4]) {
      const message = loneRequestSigningMessage(sha256, 9, 123, seq, true, digest);
      assert.ok(verifier.verify(9, message, signer.sign(message)));
    }
    assert.equal(signer.misses, 2, 'seq 3 a second time and seq 4 were signed inline');
  });
});
