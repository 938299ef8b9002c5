/**
 * Digest replies for unordered reads (PBFT, TOCS 2002 §5.1.1): the request names one
 * replica that sends the full result, the others send its digest under the same signed
 * Merkle leaf; the client accepts a result once a Byzantine quorum vouched for its digest
 * and the replier's full result matches it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { decodeMessage, encodeMessage } from '../../src/core/codec.ts';
import { MessageType, type Reply, type Request } from '../../src/core/messages.ts';
import { encodeUnorderedReply } from '../../src/core/replies.ts';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';
import { ReplyVoter, type VoteOutcome } from '../../src/client/reply-voter.ts';
import { VerifiedRoots } from '../../src/core/merkle.ts';
import { LocalCluster } from '../../src/sim/local-cluster.ts';

const enc = new TextEncoder();
const keys = [0, 1, 2, 3].map(() => generateKeyPairSync('ed25519'));
const verifier = new Ed25519Verifier(new Map(keys.map((k, id) => [id, k.publicKey])));
const request = (replier?: number): Request => ({
  type: MessageType.REQUEST, clientId: 7, session: 1, seq: 5, ordered: false, payload: enc.encode('read'),
  ...(replier !== undefined ? { replier } : {}),
});
/** Replica `id`'s signed reply to `request(replier)` with `result`, decoded as a client sees it. */
function replyFrom(id: number, replier: number | undefined, result: Uint8Array): Reply {
  const bytes = encodeUnorderedReply({ replicaId: id, signer: new Ed25519Signer(keys[id]!.privateKey), hash: sha256, sign: true }, request(replier), result);
  const d = decodeMessage(bytes);
  assert.ok(d.ok && d.message.type === MessageType.REPLY);
  return d.message;
}
const voter = (replier: number | undefined) => new ReplyVoter({ clientId: 7, session: 1, seq: 5, ordered: false }, new Set([0, 1, 2, 3]), 3, verifier, sha256, undefined, replier);
const page = enc.encode('a long ledger page');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('digest replies', () => {
  it('the codec carries a request\'s replier and a digest reply, and refuses what cannot be', () => {
    const r = decodeMessage(encodeMessage(request(2)));
    assert.ok(r.ok);
    assert.deepEqual(r.message, request(2));
    const withReplier = encodeMessage(request(2));
    assert.equal(withReplier[21], 4, 'flags after type, clientId, session and seq');
    withReplier[21] = 5; // ordered + replier
    assert.match(String((decodeMessage(withReplier) as { reason?: string }).reason), /an ordered request names a replier/);

    const digest = replyFrom(1, 2, page);
    assert.equal(digest.resultIsDigest, true);
    assert.equal(hex(digest.result), hex(sha256(page)));
    const full = replyFrom(2, 2, page);
    assert.equal(full.resultIsDigest, undefined);
    assert.equal(hex(full.result), hex(page));
    const short = encodeMessage({ ...digest, result: new Uint8Array(31) });
    assert.match(String((decodeMessage(short) as { reason?: string }).reason), /a digest reply of 31 bytes/);
  });

  it('a quorum of digests waits for the replier\'s full result, in either order', () => {
    const v = voter(2);
    assert.equal(v.add(replyFrom(0, 2, page)), null);
    assert.equal(v.add(replyFrom(1, 2, page)), null);
    assert.equal(v.add(replyFrom(3, 2, page)), null, 'three digests but no result yet');
    const outcome = v.add(replyFrom(2, 2, page)) as VoteOutcome;
    assert.equal(hex(outcome.result), hex(page));
    assert.equal(hex(outcome.evidence.resultDigest), hex(sha256(page)));
    assert.deepEqual(outcome.voters, [0, 1, 3, 2], 'the replier vouches too');
    assert.deepEqual(outcome.evidence.signatures.map((s) => s.replicaId), [0, 1, 3], 'the evidence holds the signatures checked (three by default)');

    const w = voter(2);
    assert.equal(w.add(replyFrom(2, 2, page)), null);
    assert.equal(w.add(replyFrom(0, 2, page)), null);
    assert.equal(hex((w.add(replyFrom(1, 2, page)) as VoteOutcome).result), hex(page));
  });

  it('a replier whose full result differs from the quorum\'s digest makes the read undecidable', () => {
    const v = voter(2);
    assert.equal(v.add(replyFrom(2, 2, enc.encode('a forged page'))), null);
    assert.equal(v.add(replyFrom(0, 2, page)), null);
    assert.equal(v.undecidable, false, 'replicas 1 and 3 could still vouch for the replier\'s result');
    assert.equal(v.add(replyFrom(1, 2, page)), null);
    assert.equal(v.undecidable, true, 'no result can reach a quorum with a full copy: the replier has spoken');
  });

  it('refuses a digest from the replier, a digest nobody asked for, and a forged digest signature', () => {
    assert.equal(voter(2).add({ ...replyFrom(1, 2, page), replicaId: 2 }), 'unexpected-digest');
    assert.equal(voter(undefined).add(replyFrom(1, 2, page)), 'unexpected-digest');
    const forged = replyFrom(1, 2, page);
    assert.equal(voter(2).add({ ...forged, result: sha256(enc.encode('other')) }), 'bad-signature');
  });

  it('with f+1 signatures needed, checks only those and counts the quorum\'s others by their channel', () => {
    let checks = 0;
    const counting = { verify: (id: number, m: Uint8Array, sig: Uint8Array) => (checks++, verifier.verify(id, m, sig)) };
    const lazy = () => new ReplyVoter({ clientId: 7, session: 1, seq: 5, ordered: false }, new Set([0, 1, 2, 3]), 3, counting, sha256, undefined, 2, 2);
    const unsigned = (r: Reply): Reply => ({ ...r, signature: new Uint8Array(64) });

    const v = lazy();
    assert.equal(v.add(replyFrom(2, 2, page)), null);
    assert.equal(v.add(replyFrom(0, 2, page)), null);
    const outcome = v.add(unsigned(replyFrom(3, 2, page))) as VoteOutcome;
    assert.equal(hex(outcome.result), hex(page), 'the third vote counts by its channel; its bad signature is never looked at');
    assert.equal(checks, 2);
    assert.deepEqual(outcome.voters, [2, 0, 3]);
    assert.deepEqual(outcome.evidence.signatures.map((s) => s.replicaId), [0, 2], 'the evidence holds the f+1 checked signatures only');

    const w = lazy();
    assert.equal(w.add(replyFrom(2, 2, page)), null);
    assert.equal(w.add(unsigned(replyFrom(0, 2, page))), 'bad-signature', 'a signature the evidence still needs is checked');
    assert.equal(w.add(replyFrom(1, 2, page)), null);
    assert.equal(w.replies, 2, 'the refused reply is not a vote');
    assert.ok((w.add(replyFrom(3, 2, page)) as VoteOutcome).result);

    assert.throws(() => new ReplyVoter({ clientId: 7, session: 1, seq: 5, ordered: false }, new Set([0, 1, 2, 3]), 3, verifier, sha256, undefined, 2, 4), /signaturesNeeded must be an integer in \[1, 3\], got 4/);
  });

  it('a root verified before counts only with the same signature bytes', () => {
    const roots = new VerifiedRoots();
    const withRoots = () => new ReplyVoter({ clientId: 7, session: 1, seq: 5, ordered: false }, new Set([0, 1, 2, 3]), 3, verifier, sha256, roots, 2);
    assert.equal(withRoots().add(replyFrom(1, 2, page)), null, 'verified, and its root remembered');
    const forged = { ...replyFrom(1, 2, page), signature: new Uint8Array(64).fill(9) };
    assert.equal(withRoots().add(forged), 'bad-signature', 'the same root with other bytes is checked, so evidence never carries them');
    assert.equal(withRoots().add(replyFrom(1, 2, page)), null);
  });

  it('replicas send the full result only to the replier\'s request, the digest otherwise', () => {
    const c = new LocalCluster({ n: 4 });
    c.clientSend({ clientId: 9, session: 1, seq: 1, ordered: true, payload: enc.encode('x') });
    c.run();
    c.clientSend({ clientId: 9, session: 1, seq: 1, ordered: false, payload: enc.encode('read'), replier: 1 });
    const reads = (c.replies.get(9) ?? []).filter((r) => !r.ordered);
    assert.deepEqual(reads.map((r) => [r.replicaId, r.resultIsDigest === true, r.result.length]), [[0, true, 32], [1, false, 1], [2, true, 32], [3, true, 32]]);
    assert.equal(hex(reads[0]!.result), hex(sha256(reads[1]!.result)));
  });
});
