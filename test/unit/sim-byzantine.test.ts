/**
 * Byzantine behaviours as configuration: each proxy rewrite does what its name says
 * (checked on a real replica's real output), and within f faulty replicas no behaviour —
 * alone, with its trigger — makes any checker fire.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';
import { decodeBatch, decodeMessage, encodeMessage } from '../../src/core/codec.ts';
import { toHex } from '../../src/core/bytes.ts';
import { MessageType, type Message } from '../../src/core/messages.ts';
import { DEFAULT_OPTIONS } from '../../src/core/options.ts';
import { Replica } from '../../src/core/replica.ts';
import { voteSigningMessage } from '../../src/core/signing.ts';
import { encodeReplies } from '../../src/core/replies.ts';
import { ReplyVoter } from '../../src/client/reply-voter.ts';
import { makeView } from '../../src/core/view.ts';
import { AppendService } from '../../src/sim/append-service.ts';
import { CLIENT_BEHAVIOURS, REPLICA_BEHAVIOURS, type ReplicaBehaviour, type ReplicaBehaviourKind } from '../../src/sim/byzantine/behaviours.ts';
import { ReplicaProxy } from '../../src/sim/byzantine/replica-proxy.ts';
import type { Unit } from '../../src/sim/byzantine/rewriters.ts';
import { Prng } from '../../src/sim/prng.ts';
import { simKeyPair } from '../../src/sim/sim-crypto.ts';
import { sweep } from '../../src/sim/sweep.ts';

const view = makeView([0, 1, 2, 3], 1);
const verifier = new Ed25519Verifier(new Map(view.members.map((id) => [id, simKeyPair(0, `replica/${id}`).publicKey])));
const signer0 = new Ed25519Signer(simKeyPair(0, 'replica/0').privateKey);

/** Replica 0 (the leader of regency 0) with one pending client request: its Ready holds a PROPOSE and its WRITE. */
function leaderWithProposal(): { replica: Replica; ready: ReturnType<Replica['takeReady']> } {
  const replica = new Replica({ ...DEFAULT_OPTIONS, id: 0, view }, { service: new AppendService(), signer: signer0, verifier, hash: sha256 });
  replica.step({ type: 'tick', nowMs: 1_000 });
  replica.takeReady();
  const request = encodeMessage({ type: MessageType.REQUEST, clientId: 100, session: 1, seq: 1, ordered: true, payload: new TextEncoder().encode('op') });
  replica.step({ type: 'client-message', clientId: 100, bytes: request });
  return { replica, ready: replica.takeReady() };
}

function rewriteWith(kind: ReplicaBehaviourKind, seed = 1): { units: Unit[]; replica: Replica } {
  const { replica, ready } = leaderWithProposal();
  const behaviour: ReplicaBehaviour = { kind, trigger: { kind: 'always' }, delayMs: 700 };
  const proxy = new ReplicaProxy(0, [behaviour], { signer: signer0, hash: sha256, rng: new Prng(seed), coalition: null, clientIds: [100], note: () => {} });
  return { units: proxy.rewrite(replica, ready.messages, ready.replies), replica };
}

const decoded = (u: Unit): Message | null => {
  const d = decodeMessage(u.bytes);
  return d.ok ? d.message : null;
};

describe('what each behaviour does to a real replica output', () => {
  it('the honest leader proposes one batch to everyone (the baseline)', () => {
    const { ready } = leaderWithProposal();
    const proposes = ready.messages.map((m) => decodeMessage(m.bytes)).filter((d) => d.ok && d.message.type === MessageType.PROPOSE);
    assert.equal(proposes.length, 1);
  });

  it('equivocate: part of the group gets another valid batch for the same instance', () => {
    const values = new Set<string>();
    for (const u of rewriteWith('equivocate').units) {
      const m = decoded(u);
      if (m?.type === MessageType.PROPOSE) {
        assert.ok(decodeBatch(m.value).ok, 'both batches are well formed');
        values.add(toHex(m.value));
      }
    }
    assert.equal(values.size, 2);
  });

  it('invalid-propose: every recipient gets a batch a correct replica must refuse', () => {
    const proposes = rewriteWith('invalid-propose', 3).units.map(decoded).filter((m) => m?.type === MessageType.PROPOSE);
    assert.equal(proposes.length, 3);
    assert.equal(new Set(proposes.map((m) => toHex((m as { value: Uint8Array }).value))).size, 1);
  });

  it('conflicting-votes: a vote for another digest, validly signed by the faulty replica itself', () => {
    const votes = rewriteWith('conflicting-votes', 2).units.map(decoded).filter((m) => m?.type === MessageType.WRITE);
    assert.ok(votes.length >= 3);
    const digests = new Set(votes.map((v) => toHex((v as { digest: Uint8Array }).digest)));
    assert.ok(digests.size >= 2, 'at least one conflicting digest');
    for (const v of votes) {
      const w = v as { cid: number; regency: number; digest: Uint8Array; signature: Uint8Array };
      assert.ok(verifier.verify(0, voteSigningMessage(MessageType.WRITE, w.cid, w.regency, w.digest), w.signature));
    }
  });

  it('forge: what it signs in others\' names does not verify', () => {
    let sawForgery = false;
    for (let seed = 1; seed < 20 && !sawForgery; seed++) {
      for (const u of rewriteWith('forge', seed).units) {
        const m = decoded(u);
        if (m?.type === MessageType.WRITE && !verifier.verify(0, voteSigningMessage(MessageType.WRITE, m.cid, m.regency, m.digest), m.signature)) sawForgery = true;
        if (m && 'from' in m && m.from !== 0) sawForgery = true;
      }
    }
    assert.ok(sawForgery);
  });

  it('garble: bytes change; silent: nothing leaves; slow: everything leaves later', () => {
    const { ready } = leaderWithProposal();
    const original = new Set(ready.messages.map((m) => toHex(m.bytes)));
    assert.ok(rewriteWith('garble').units.every((u) => !original.has(toHex(u.bytes))));
    assert.deepEqual(rewriteWith('silent').units, []);
    assert.ok(rewriteWith('slow').units.every((u) => u.delayMs === 700));
  });

  it('wrong-results: a wrong result that still carries a valid signature of the faulty replica', () => {
    const { replica } = leaderWithProposal();
    const request = { type: MessageType.REQUEST, clientId: 100, session: 1, seq: 1, ordered: true, payload: new Uint8Array() } as const;
    const [bytes] = encodeReplies(replica.replySigning, [request], [new TextEncoder().encode('1')]);
    const proxy = new ReplicaProxy(0, [{ kind: 'wrong-results', trigger: { kind: 'always' } }], { signer: signer0, hash: sha256, rng: new Prng(1), coalition: null, clientIds: [], note: () => {} });
    const [unit] = proxy.rewrite(replica, [], [{ clientId: 100, bytes: bytes! }]);
    const m = decoded(unit!);
    assert.equal(m?.type, MessageType.REPLY);
    const r = m as Extract<Message, { type: typeof MessageType.REPLY }>;
    assert.notEqual(new TextDecoder().decode(r.result), '1');
    // A client's voter counts it as replica 0's (signed) vote: only f+1 matching replies can outvote it.
    const voter = new ReplyVoter({ clientId: 100, session: 1, seq: 1, ordered: true }, new Set(view.members), 2, verifier, sha256);
    assert.equal(voter.add(r), null);
  });

  it('triggers: at instance k fires only for that instance; probability p fires about p of the time', () => {
    const { replica, ready } = leaderWithProposal();
    const at = (cid: number) => new ReplicaProxy(0, [{ kind: 'silent', trigger: { kind: 'instance', cid } }], { signer: signer0, hash: sha256, rng: new Prng(1), coalition: null, clientIds: [], note: () => {} });
    assert.deepEqual(at(0).rewrite(replica, ready.messages, []), []);
    assert.ok(at(5).rewrite(replica, ready.messages, []).length > 0);
    const p = new ReplicaProxy(0, [{ kind: 'silent', trigger: { kind: 'probability', p: 0.3 } }], { signer: signer0, hash: sha256, rng: new Prng(9), coalition: null, clientIds: [], note: () => {} });
    let kept = 0;
    for (let i = 0; i < 200; i++) kept += p.rewrite(replica, ready.messages.slice(0, 1), []).length;
    assert.ok(kept > 350 && kept < 500, `about 70% of 600 units kept, got ${kept}`);
  });
});

/** Within f, with no STOP loss and no same-seq clients (known core bugs), every run must pass. */
const WITHIN_F = { n: 4, stopLoss: false, byzantineClients: false, recovery: false } as const;

describe('within f faulty replicas, no behaviour breaks a checker', () => {
  for (const kind of REPLICA_BEHAVIOURS.filter((b) => b !== 'collude')) {
    it(`${kind}`, async () => {
      const s = await sweep(1, 4, { ...WITHIN_F, behaviours: [kind], faultKinds: ['byzantine'] });
      assert.deepEqual(s.failures.map((f) => `${f.seed}: ${f.violations[0]?.message ?? f.crashed}`), []);
    });
  }

  it('twins (two replicas with one identity and key)', async () => {
    const s = await sweep(1, 4, { ...WITHIN_F, faultKinds: ['twins'] });
    assert.deepEqual(s.failures.map((f) => f.violations[0]?.message ?? f.crashed), []);
  });

  it('amnesiac crashes and restarts (counted against f)', async () => {
    const s = await sweep(1, 4, { ...WITHIN_F, faultKinds: ['crash'] });
    assert.deepEqual(s.failures.map((f) => f.violations[0]?.message ?? f.crashed), []);
  });

  for (const kind of CLIENT_BEHAVIOURS.filter((b) => b !== 'conflicting-seq')) {
    it(`Byzantine client: ${kind}`, async () => {
      const s = await sweep(1, 3, { n: 4, stopLoss: false, recovery: false, faultsMax: 0, clientBehaviours: [kind] });
      assert.deepEqual(s.failures.map((f) => f.violations[0]?.message ?? f.crashed), []);
    });
  }
});
