/**
 * The CLI's reading of a gateway's success body (`readSuccess`): the data it returns must be
 * the value f+1 replicas signed, whether the evidence carries the signed bytes or is compact
 * (the client rebuilds them from the body), and a body shaped to smuggle other data past
 * the check is refused or read as what was signed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readSuccess, serverTimingMs } from '../../src/cli/wallet-http.ts';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';
import { merkleLeaf } from '../../src/core/merkle.ts';
import { replyRootSigningMessage, replySigningMessage } from '../../src/core/signing.ts';

const keys = [0, 1].map(() => generateKeyPairSync('ed25519'));
const verifier = new Ed25519Verifier(new Map(keys.map((k, id) => [id, k.publicKey])));
const check = { verifier, f: 1 };
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

const value = '{"entries":[{"type":"transfer","from":"a","to":"b","amount":"5"}],"nextCursor":null}';

/** Evidence of replicas 0 and 1 for `signedText` (one-leaf reply trees), with or without `result`. */
function evidenceFor(signedText: string, compact: boolean): string {
  const result = Buffer.from(signedText);
  const digest = sha256(result);
  const ids = { clientId: 1000, session: 1, seq: 3, ordered: false };
  const replicas = keys.map((k, replicaId) => {
    const root = merkleLeaf(sha256, replySigningMessage(replicaId, ids.clientId, ids.session, ids.seq, ids.ordered, digest));
    const signature = new Ed25519Signer(k.privateKey).sign(replyRootSigningMessage(replicaId, root));
    return { replicaId, signature: b64u(signature), proof: { index: 0, leafCount: 1, siblings: [] } };
  });
  return JSON.stringify({ ...ids, ...(compact ? {} : { result: b64u(result) }), resultDigest: b64u(digest), replicas });
}

const signed = `{"ok":true,"value":${value}}`;
const body = (data: string, evidence: string) => `{"data":${data},"evidence":${evidence}}`;

describe('wallet CLI: reading a success body', () => {
  it('returns the signed value, with full and with compact evidence', () => {
    for (const compact of [false, true]) {
      const r = readSuccess<{ entries: unknown[] }>(body(value, evidenceFor(signed, compact)), check);
      assert.deepEqual(r.data, JSON.parse(value));
    }
  });

  it('refuses data that differs from what was signed by one byte or in length', () => {
    for (const compact of [false, true]) {
      const e = evidenceFor(signed, compact);
      assert.throws(() => readSuccess(body(value.replace('"5"', '"6"'), e), check), compact ? /resultDigest|signature/ : /not what the replicas signed/);
      assert.throws(() => readSuccess(body(value.replace('"5"', '"50"'), e), check), compact ? /resultDigest|signature/ : /not what the replicas signed/);
    }
  });

  it('a second "data" after the evidence does not replace the signed data', () => {
    // JSON.parse keeps the last of two equal keys; the check is of the first.
    const forged = '{"entries":[],"nextCursor":null}';
    for (const compact of [false, true]) {
      const text = `{"data":${value},"evidence":${evidenceFor(signed, compact)},"data":${forged}}`;
      let data: unknown;
      try {
        data = readSuccess(text, check).data;
      } catch {
        continue; // refused: as good
      }
      assert.deepEqual(data, JSON.parse(value));
    }
  });

  it('accepts a body in another form when its parsed data equals the signed value, but not compact evidence then', () => {
    const reordered = `{"evidence":${evidenceFor(signed, false)},"data":${value}}`;
    assert.deepEqual(readSuccess(reordered, check).data, JSON.parse(value));
    assert.throws(() => readSuccess(`{"evidence":${evidenceFor(signed, true)},"data":${value}}`, check), /compact evidence/);
  });

  it('compact evidence for a result in another form cannot be checked and is refused', () => {
    const other = `{"value":${value},"ok":true}`;
    assert.throws(() => readSuccess(body(value, evidenceFor(other, true)), check), /resultDigest/);
  });
});

describe('wallet CLI: the Server-Timing header', () => {
  it('reads the duration of the named metric, and nothing from a header without it', () => {
    assert.equal(serverTimingMs('bft;dur=5.125', 'bft'), 5.125);
    assert.equal(serverTimingMs('db;dur=1, bft;desc="cluster";dur=2.5', 'bft'), 2.5);
    assert.equal(serverTimingMs(['cache;desc=hit', 'bft;dur=0.75'], 'bft'), 0.75);
    assert.equal(serverTimingMs('bftx;dur=1', 'bft'), undefined);
    assert.equal(serverTimingMs('bft;dur=-1', 'bft'), undefined);
    assert.equal(serverTimingMs('bft', 'bft'), undefined);
    assert.equal(serverTimingMs(undefined, 'bft'), undefined);
  });
});
