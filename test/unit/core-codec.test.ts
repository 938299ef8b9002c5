import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBatch, decodeMessage, decodeVoteState, encodeBatch, encodeMessage, encodeVoteState, type VoteState } from '../../src/core/codec.ts';
import { ByteWriter, toHex } from '../../src/core/bytes.ts';
import { MessageType, type Message } from '../../src/core/messages.ts';

const sig = new Uint8Array(64).fill(7);
const digest = new Uint8Array(32).fill(9);
const request = { type: MessageType.REQUEST, clientId: 7, session: 1_700_000_000_000, seq: 3, ordered: true, payload: new Uint8Array([1, 2, 3]) } as const;
const decision = { cid: 4, regency: 1, value: encodeBatch({ timestampMs: 5, requests: [request] }), accepts: [{ from: 0, signature: sig }, { from: 2, signature: sig }] };

const samples: Message[] = [
  request,
  { ...request, signature: sig },
  { ...request, signature: sig, proof: { index: 1, leafCount: 3, siblings: [digest, digest] } },
  { type: MessageType.REPLY, replicaId: 2, clientId: 7, session: 1, seq: 3, ordered: false, result: new Uint8Array([4]), proof: { index: 0, leafCount: 1, siblings: [] }, signature: sig },
  { type: MessageType.REPLY, replicaId: 2, clientId: 7, session: 1, seq: 3, ordered: true, result: new Uint8Array([4]), proof: { index: 2, leafCount: 3, siblings: [digest, digest] }, signature: sig },
  // channel-authenticated: proof and signature are omitted on the wire
  { type: MessageType.REPLY, replicaId: 2, clientId: 7, session: 1, seq: 3, ordered: true, result: new Uint8Array([4]), proof: { index: 0, leafCount: 1, siblings: [] }, signature: new Uint8Array(64) },
  { type: MessageType.PROPOSE, from: 0, cid: 4, regency: 0, value: decision.value },
  { type: MessageType.WRITE, from: 1, cid: 4, regency: 0, digest, signature: sig },
  { type: MessageType.ACCEPT, from: 1, cid: 4, regency: 0, digest, signature: sig },
  { type: MessageType.STOP, from: 3, regency: 2 },
  { type: MessageType.STOPDATA, from: 3, regency: 2, lastDecided: decision, writeCertificate: { cid: 5, regency: 1, value: decision.value, writes: decision.accepts }, signature: sig },
  { type: MessageType.DECISION_REQUEST, from: 1, fromCid: 9 },
  { type: MessageType.DECISION_REPLY, from: 1, checkpointCid: -1, decisions: [decision] },
  { type: MessageType.DECISION_REPLY, from: 1, checkpointCid: 99, decisions: [] },
  { type: MessageType.CHECKPOINT, from: 2, cid: 99, digest, byteLength: 12345, signature: sig },
  { type: MessageType.STATE_REQUEST, from: 3 },
  { type: MessageType.SYNC_REQUEST, from: 3, regency: 4 },
  { type: MessageType.STATE_CHUNK_REQUEST, from: 3, cid: 99, index: 2 },
  { type: MessageType.STATE_CHUNK, from: 2, cid: 99, index: 2, total: 5, bytes: new Uint8Array([1, 2, 3]) },
];

describe('codec', () => {
  it('round-trips every message type to identical bytes', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m);
      const back = decodeMessage(bytes);
      assert.ok(back.ok, `type ${m.type}: ${!back.ok && back.reason}`);
      assert.deepEqual(encodeMessage(back.message), bytes);
    }
    const stopData = samples.find((m) => m.type === MessageType.STOPDATA) as Extract<Message, { type: 7 }>;
    const sync: Message = { type: MessageType.SYNC, from: 2, regency: 2, stopData: [stopData, stopData], cid: 5, value: decision.value, signature: sig };
    const back = decodeMessage(encodeMessage(sync));
    assert.ok(back.ok);
    assert.deepEqual(encodeMessage(back.message), encodeMessage(sync));
    const forward: Message = { type: MessageType.SYNC_FORWARD, from: 1, sync: sync as Extract<Message, { type: 8 }> };
    const fwd = decodeMessage(encodeMessage(forward));
    assert.ok(fwd.ok);
    assert.deepEqual(encodeMessage(fwd.message), encodeMessage(forward));
  });

  it('rejects truncated, trailing, unknown and oversized input with a reason, never throwing', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m);
      for (let cut = 0; cut < bytes.length; cut++) {
        const r = decodeMessage(bytes.subarray(0, cut));
        assert.equal(r.ok, false, `type ${m.type} truncated at ${cut} decoded`);
      }
      const r = decodeMessage(new Uint8Array([...bytes, 0]));
      assert.ok(!r.ok && /trailing/.test(r.reason));
    }
    const unknown = decodeMessage(new Uint8Array([99, 0]));
    assert.ok(!unknown.ok && /unknown message type 99/.test(unknown.reason));
    const big = encodeMessage({ ...request, payload: new Uint8Array(2000) });
    const limited = decodeMessage(big, { payloadBytesMax: 1000, resultBytesMax: 1000, batchRequestsMax: 10, replicasMax: 4, decisionsPerReplyMax: 4, chunkBytesMax: 100 });
    assert.ok(!limited.ok && /more than the 1000 allowed/.test(limited.reason));
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeMessage(bytes);
        decodeBatch(bytes);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

describe('ByteWriter (shared scratch buffer)', () => {
  it('gives every finished message its own bytes, also when writers nest or grow past the scratch', () => {
    const outer = new ByteWriter().u32(1);
    const inner = new ByteWriter().u32(2).raw(new Uint8Array([3, 4])).finish(); // the scratch is taken: own buffer
    const a = outer.bytes(inner).finish();
    const b = new ByteWriter().u32(0xdeadbeef).finish(); // reuses the scratch a was copied from
    assert.deepEqual([...a], [0, 0, 0, 1, 0, 0, 0, 6, 0, 0, 0, 2, 3, 4]);
    assert.deepEqual([...b], [0xde, 0xad, 0xbe, 0xef]);
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const grown = new ByteWriter().u8(9).raw(big).finish();
    assert.equal(grown.length, 200_001);
    assert.equal(grown[0], 9);
    assert.equal(grown[200_000], (199_999 % 251));
    const after = new ByteWriter().u8(5).finish(); // the scratch was released when the writer grew
    assert.deepEqual([...after], [5]);
    assert.equal(grown[1], 0, 'the grown message is not overwritten by later writers');
  });

  it('encodes identical messages to identical, unaliased byte arrays', () => {
    const x = encodeMessage(request);
    const y = encodeMessage(request);
    assert.deepEqual(x, y);
    x[0] = (x[0] as number) ^ 0xff; // same slab, different bytes: writing one leaves the other
    assert.notDeepEqual(x, y);
    assert.deepEqual(decodeMessage(y), { ok: true, message: request });
  });
});

describe('toHex', () => {
  it("equals Node's hex encoding for any bytes, including past its scratch and its 8 192-unit chunks", () => {
    for (const n of [0, 1, 32, 64, 65, 4096, 4097, 10_000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
      assert.equal(toHex(bytes), Buffer.from(bytes).toString('hex'), `${n} bytes`);
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => toHex(bytes) === Buffer.from(bytes).toString('hex')));
    // Results do not share the scratch: an earlier key is unchanged by a later call.
    const first = toHex(new Uint8Array(32).fill(0xab));
    toHex(new Uint8Array(32).fill(0x01));
    assert.equal(first, 'ab'.repeat(32));
  });
});

describe('reply encoding', () => {
  it('omits the proof and signature of a channel-authenticated reply and keeps signed ones whole', () => {
    const base = { type: MessageType.REPLY, replicaId: 2, clientId: 7, session: 1, seq: 3, ordered: false, result: new Uint8Array(0), proof: { index: 0, leafCount: 1, siblings: [] } } as const;
    const unsigned = encodeMessage({ ...base, signature: new Uint8Array(64) });
    const signed = encodeMessage({ ...base, signature: sig });
    assert.equal(unsigned.length, 30);
    assert.equal(signed.length, 30 + 9 + 64);
    const back = decodeMessage(unsigned);
    assert.ok(back.ok && back.message.type === MessageType.REPLY);
    assert.deepEqual(back.message, { ...base, signature: new Uint8Array(64) });
  });
});

describe('request proofs (lever 42)', () => {
  const layout = (flags: number, proof: Uint8Array) => new ByteWriter().u8(MessageType.REQUEST).u32(7).u53(1).u53(3).u8(flags).u32(1).raw(new Uint8Array([5])).raw(sig).raw(proof).finish();
  const proofBytes = (leafCount: number) => new ByteWriter().u32(0).u32(leafCount).u8(1).raw(digest).finish();

  it('writes a signed request\'s path only for a tree of two leaves or more, and in batches too', () => {
    const alone = { ...request, signature: sig, proof: { index: 0, leafCount: 1, siblings: [] } };
    const back = decodeMessage(encodeMessage(alone));
    assert.ok(back.ok && back.message.type === MessageType.REQUEST);
    assert.equal(back.message.proof, undefined, 'a one-leaf tree: the root is the leaf');
    assert.equal(encodeMessage(alone).length, encodeMessage({ ...request, signature: sig }).length);
    const inTurn = { ...request, signature: sig, proof: { index: 1, leafCount: 2, siblings: [digest] } };
    const batch = decodeBatch(encodeBatch({ timestampMs: 5, requests: [inTurn] }));
    assert.ok(batch.ok);
    assert.deepEqual(batch.message.requests[0], inTurn);
  });

  it('refuses a proof on an unsigned request and a written one-leaf proof', () => {
    assert.ok(decodeMessage(layout(1 | 2 | 8, proofBytes(2))).ok, 'the layout itself is right');
    assert.match(String((decodeMessage(layout(1 | 8, proofBytes(2))) as { reason?: string }).reason), /an unsigned request carries a Merkle proof/);
    assert.match(String((decodeMessage(layout(1 | 2 | 8, proofBytes(1))) as { reason?: string }).reason), /a request proof of 1 leaves/);
    assert.match(String((decodeMessage(layout(16 | 3, proofBytes(2))) as { reason?: string }).reason), /unknown request flags 19/);
  });
});

describe('vote state records', () => {
  const cert = { cid: 5, regency: 1, value: decision.value, writes: decision.accepts };
  it('round-trip with no value, a written value, a certificate for the written value (stored once) and one for another value', () => {
    const states: VoteState[] = [
      { cid: 5, regency: 1, written: null, accepted: false, writeCertificate: null },
      { cid: 5, regency: 1, written: decision.value, accepted: false, writeCertificate: null },
      { cid: 5, regency: 1, written: decision.value.slice(), accepted: true, writeCertificate: cert },
      { cid: 5, regency: 2, written: new Uint8Array([1, 2, 3]), accepted: false, writeCertificate: cert },
      { cid: 5, regency: 2, written: null, accepted: false, writeCertificate: cert },
    ];
    for (const v of states) {
      const bytes = encodeVoteState(v);
      const back = decodeVoteState(bytes);
      assert.ok(back.ok, JSON.stringify(back));
      assert.deepEqual(back.message, v);
    }
    const once = encodeVoteState(states[2]!).length;
    const twice = encodeVoteState({ ...states[3]!, written: decision.value.slice(0, decision.value.length - 1) }).length;
    assert.ok(once < twice - decision.value.length / 2, `the value is stored once (${once} vs ${twice} bytes)`);
  });

  it('rejects a certificate that refers to a written value the record does not hold', () => {
    const bytes = encodeVoteState({ cid: 5, regency: 1, written: decision.value, accepted: true, writeCertificate: cert });
    // Clear the written flag (offset 16) and drop the value: the certificate now refers to nothing.
    const noValue = new Uint8Array([...bytes.subarray(0, 16), 0, ...bytes.subarray(17 + 4 + decision.value.length)]);
    const back = decodeVoteState(noValue);
    assert.equal(back.ok, false);
  });
});
