import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeMessage, encodeMessage, peekReply } from '../../src/core/codec.ts';
import { MessageType, type Reply } from '../../src/core/messages.ts';
import { makeView } from '../../src/core/view.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { ServiceProxy } from '../../src/client/service-proxy.ts';
import { knownDigest, withLazyDigest } from '../../src/client/reply-voter.ts';
import { toVotedReply } from '../../src/cli/proxy-backend.ts';
import { loneRequestSigningMessage, requestRootSigningMessage, requestSigningMessage } from '../../src/core/signing.ts';
import { merkleLeaf, merkleRootOf } from '../../src/core/merkle.ts';

const reply = (replicaId: number, seq: number, result: number[], session = 42): Reply => ({
  type: MessageType.REPLY, replicaId, clientId: 7, session, seq, ordered: true,
  result: new Uint8Array(result), proof: { index: 0, leafCount: 1, siblings: [] }, signature: new Uint8Array(64),
});

describe('client reply handling', () => {
  it('peekReply reads the answered request from a REPLY header and refuses anything else', () => {
    assert.deepEqual(peekReply(encodeMessage(reply(2, 9, [1, 2]))), { session: 42, seq: 9, ordered: true });
    assert.equal(peekReply(encodeMessage({ type: MessageType.STOP, from: 1, regency: 2 })), null);
    assert.equal(peekReply(encodeMessage(reply(2, 9, [])).subarray(0, 20)), null);
    const badFlags = encodeMessage(reply(2, 9, []));
    badFlags[25] = 8;
    assert.equal(peekReply(badFlags), null);
  });

  it('computes the evidence digest on first read, once, and keeps it through a spread', () => {
    let hashes = 0;
    const hash = (b: Uint8Array): Uint8Array => (hashes++, sha256(b));
    const result = new Uint8Array([5, 6, 7]);
    const e = withLazyDigest({ clientId: 7, session: 1, seq: 1, ordered: true, signatures: [] }, result, hash);
    assert.equal(hashes, 0);
    const expected = createHash('sha256').update(result).digest();
    assert.deepEqual(Buffer.from(e.resultDigest), expected);
    assert.equal(e.resultDigest, e.resultDigest);
    assert.equal(hashes, 1);
    assert.equal(knownDigest(withLazyDigest({ clientId: 7, session: 1, seq: 1, ordered: true, signatures: [] }, result, hash)), null, 'not computed yet');
    assert.deepEqual(Buffer.from(knownDigest(e)!), expected, 'computed once, then known');
    assert.equal(hashes, 1);
    const given = new Uint8Array(32).fill(1);
    assert.equal(withLazyDigest({ clientId: 7, session: 1, seq: 1, ordered: true, signatures: [] }, result, hash, given).resultDigest, given);
  });

  it('a ServiceProxy answers on f+1 matching replies, ignores late ones undecoded, and still counts malformed frames', async () => {
    const sent: [number, Uint8Array][] = [];
    const proxy = new ServiceProxy(
      { clientId: 7, view: makeView([0, 1, 2, 3], 1), session: 42, verifyReplies: false },
      { transport: { send: (id, bytes) => sent.push([id, bytes]) }, verifier: { verify: () => false }, hash: sha256 },
    );
    const answer = proxy.invokeOrdered(new Uint8Array([1]));
    assert.deepEqual(sent.map(([id]) => id), [0, 1, 2, 3]);
    proxy.onReplyBytes(0, encodeMessage(reply(0, 1, [9])));
    proxy.onReplyBytes(1, encodeMessage(reply(1, 1, [8]))); // disagrees: no outcome yet
    proxy.onReplyBytes(2, encodeMessage(reply(2, 1, [9])));
    const outcome = await answer;
    assert.deepEqual([...outcome.result], [9]);
    assert.deepEqual(outcome.evidence.signatures.map((s) => s.replicaId), [0, 2]);
    assert.deepEqual(Buffer.from(outcome.evidence.resultDigest), createHash('sha256').update(new Uint8Array([9])).digest());
    // Late, and even truncated-after-the-header, replies to an answered request are ignored.
    proxy.onReplyBytes(3, encodeMessage(reply(3, 1, [9])).subarray(0, 30));
    assert.equal(proxy.rejectedReplies.size, 0);
    // A reply for another session is counted, not decoded.
    proxy.onReplyBytes(3, encodeMessage(reply(3, 1, [9], 41)));
    assert.equal(proxy.rejectedReplies.get('reply for another session'), 1);
    // A frame that is not a reply header is still decoded and counted as malformed.
    proxy.onReplyBytes(3, new Uint8Array([200, 1, 2]));
    assert.equal([...proxy.rejectedReplies.keys()].filter((k) => k.startsWith('malformed')).length, 1);
    proxy.close();
  });

  it('a proxy signs the ordered requests of one turn with one signature over their Merkle root, and not its reads', async () => {
    const sent: Uint8Array[] = [];
    const signed: Uint8Array[] = [];
    const proxy = new ServiceProxy(
      { clientId: 7, view: makeView([0, 1, 2, 3], 1), session: 42, verifyReplies: false, requestSigner: { sign: (m) => (signed.push(m), new Uint8Array(64).fill(3)) } },
      { transport: { send: (id, bytes) => id === 0 && sent.push(bytes) }, verifier: { verify: () => false }, hash: sha256 },
    );
    const first = proxy.invokeOrdered(new Uint8Array([1]));
    const read = proxy.invokeUnordered(new Uint8Array([2]));
    const second = proxy.invokeOrdered(new Uint8Array([3]));
    try {
      assert.equal(sent.length, 1, 'the read leaves at once; the ordered requests wait for the end of the turn');
      await new Promise((r) => setImmediate(r));
      const requests = sent.map((b) => {
        const d = decodeMessage(b);
        assert.ok(d.ok && d.message.type === MessageType.REQUEST);
        return d.message;
      });
      assert.deepEqual(requests.map((r) => [r.seq, r.ordered, r.signature === undefined ? 'unsigned' : 'signed']), [[1, false, 'unsigned'], [1, true, 'signed'], [2, true, 'signed']]);
      assert.equal(signed.length, 1, 'one signature for the turn');
      // Each ordered request's leaf and path lead to the root whose message was signed.
      for (const r of requests.slice(1)) {
        const leaf = merkleLeaf(sha256, requestSigningMessage(7, 42, r.seq, true, sha256(r.payload)));
        assert.deepEqual(r.proof && [r.proof.index, r.proof.leafCount], [r.seq - 1, 2]);
        assert.deepEqual(Buffer.from(requestRootSigningMessage(7, merkleRootOf(sha256, leaf, r.proof!))), Buffer.from(signed[0]!));
      }
      // A request sent alone in its turn is a one-leaf tree: no proof on the wire.
      const third = proxy.invokeOrdered(new Uint8Array([4]));
      await new Promise((r) => setImmediate(r));
      const alone = decodeMessage(sent.at(-1)!);
      assert.ok(alone.ok && alone.message.type === MessageType.REQUEST && alone.message.seq === 3 && alone.message.proof === undefined);
      assert.deepEqual(Buffer.from(signed[1]!), Buffer.from(loneRequestSigningMessage(sha256, 7, 42, 3, true, sha256(new Uint8Array([4])))));
      void third.catch(() => {});
    } finally {
      proxy.close(); // its retransmission timer would keep the test process alive
      await Promise.allSettled([first, second, read]);
    }
  });

  it('a proxy takes its colocated replica\'s reply signatures as they are, and checks every other one', async () => {
    // The verifier accepts replica 0's signatures only (the test replies carry zero bytes).
    const proxyWith = (colocatedReplica?: number) =>
      new ServiceProxy(
        { clientId: 7, view: makeView([0, 1, 2, 3], 1), session: 42, ...(colocatedReplica === undefined ? {} : { colocatedReplica }) },
        { transport: { send: () => {} }, verifier: { verify: (id) => id === 0 }, hash: sha256 },
      );
    const state = (p: Promise<unknown>) => Promise.race([p.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 20))]);
    for (const colocated of [2, undefined]) {
      const proxy = proxyWith(colocated);
      const answer = proxy.invokeOrdered(new Uint8Array([1]));
      for (const id of [1, 2, 0]) proxy.onReplyBytes(id, encodeMessage(reply(id, 1, [9])));
      if (colocated === 2) {
        assert.equal(proxy.rejectedReplies.get('bad-signature'), 1, 'replica 1 is still checked');
        assert.deepEqual((await answer).evidence.signatures.map((s) => s.replicaId), [0, 2]);
      } else {
        assert.equal(proxy.rejectedReplies.get('bad-signature'), 2);
        assert.equal(await state(answer), 'waiting', 'one good reply is not f+1');
      }
      proxy.close();
      await answer.catch(() => {});
    }
    assert.throws(() => proxyWith(9), /colocatedReplica 9 is not a member/);
  });

  it('a proxy checks f+1 signatures of a read\'s quorum and counts the rest by their channel', async () => {
    // n = 4, f = 1: a read needs 3 matching replies, its evidence 2 checked signatures.
    const checked: number[] = [];
    const proxy = new ServiceProxy(
      { clientId: 7, view: makeView([0, 1, 2, 3], 1), session: 42 },
      { transport: { send: () => {} }, verifier: { verify: (id) => (checked.push(id), id !== 2) }, hash: sha256 },
    );
    const read = proxy.invokeUnordered(new Uint8Array([2]));
    try {
      for (const id of [0, 1, 2]) proxy.onReplyBytes(id, encodeMessage({ ...reply(id, 1, [9]), ordered: false }));
      const outcome = await read;
      assert.deepEqual(checked, [0, 1], 'replica 2\'s (bad) signature is not needed, so not checked');
      assert.deepEqual(outcome.voters, [0, 1, 2]);
      assert.deepEqual(outcome.evidence.signatures.map((s) => s.replicaId), [0, 1]);
      assert.equal(proxy.rejectedReplies.size, 0);
    } finally {
      proxy.close();
      await read.catch(() => {});
    }
  });
});

describe('the gateway backend over a ServiceProxy', () => {
  it('marks a result its colocated replica vouched for, and only that', () => {
    const sig = (replicaId: number) => ({ replicaId, signature: new Uint8Array(64), proof: { index: 0, leafCount: 1, siblings: [] } });
    // `voters` may name more replicas than the evidence signs for (a read's later votes count by their channel).
    const outcome = (ids: number[], voters = ids) => ({ result: new Uint8Array([1]), voters, evidence: { clientId: 7, session: 1, seq: 1, ordered: true, resultDigest: new Uint8Array(32), signatures: ids.map(sig) } });
    assert.equal(toVotedReply(outcome([0, 2]), 2).fromColocatedReplica, true);
    assert.equal(toVotedReply(outcome([0, 1]), 2).fromColocatedReplica, undefined);
    assert.equal(toVotedReply(outcome([0, 1], [0, 1, 2]), 2).fromColocatedReplica, true, 'a voter outside the evidence still vouched');
    assert.equal(toVotedReply(outcome([0, 2], [0, 2])).fromColocatedReplica, undefined);
    assert.deepEqual(toVotedReply(outcome([0, 2]), 2).evidence.replicas.map((r) => r.replicaId), [0, 2]);
  });
});
