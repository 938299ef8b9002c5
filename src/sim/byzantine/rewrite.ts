/**
 * Building blocks for Byzantine messages: alternative and invalid batches, re-signed
 * votes and STOPDATAs, garbled bytes. A faulty replica holds only its own key, so
 * everything it signs is signed by itself; what it cannot sign (others' votes) it can
 * only copy, replay or fake (and fakes fail verification).
 */
import { decodeBatch, encodeBatch, stopDataSignedBytes } from '../../core/codec.ts';
import { MessageType, type Batch, type Decision, type Request, type SignedVote, type StopData, type Vote, type WriteCertificate } from '../../core/messages.ts';
import { voteSigningMessage } from '../../core/signing.ts';
import type { Signer } from '../../crypto/signature.ts';
import type { Prng } from '../prng.ts';

/** Re-signs a vote for (cid, regency, digest) with `signer`. */
export function resignVote(m: Vote, signer: Signer, changes: Partial<Pick<Vote, 'cid' | 'regency' | 'digest'>>): Vote {
  const v = { ...m, ...changes };
  return { ...v, signature: signer.sign(voteSigningMessage(v.type, v.cid, v.regency, v.digest)) };
}

/** Re-signs a STOPDATA after changing its fields. */
export function resignStopData(m: StopData, signer: Signer, changes: Partial<Pick<StopData, 'regency' | 'lastDecided' | 'writeCertificate'>>): StopData {
  const unsigned = { from: m.from, regency: m.regency, lastDecided: m.lastDecided, writeCertificate: m.writeCertificate, ...changes };
  return { type: MessageType.STOPDATA, ...unsigned, signature: signer.sign(stopDataSignedBytes(unsigned)) };
}

/** Groups a batch's requests by client, keeping each client's order (any interleaving of the groups stays valid). */
function byClient(requests: readonly Request[]): Request[][] {
  const groups = new Map<number, Request[]>();
  for (const r of requests) {
    let g = groups.get(r.clientId);
    if (!g) groups.set(r.clientId, (g = []));
    g.push(r);
  }
  return [...groups.values()];
}

/**
 * A different batch that a correct replica would still accept in place of `value`: a
 * later timestamp, a prefix of the requests, or the clients' groups in another order.
 * @returns null when `value` is not a batch.
 */
export function alternativeBatch(value: Uint8Array, rng: Prng): Uint8Array | null {
  const d = decodeBatch(value);
  if (!d.ok) return null;
  const b = d.message;
  const variant = b.requests.length === 0 ? 0 : rng.int(0, 2);
  if (variant === 0) return encodeBatch({ timestampMs: b.timestampMs + 1 + rng.int(0, 50), requests: b.requests });
  if (variant === 1) return encodeBatch({ timestampMs: b.timestampMs, requests: b.requests.slice(0, b.requests.length - 1) });
  const shuffled = rng.shuffle(byClient(b.requests)).flat();
  const same = shuffled.every((r, i) => r === b.requests[i]);
  return encodeBatch({ timestampMs: b.timestampMs + (same ? 1 : 0), requests: shuffled });
}

export type InvalidBatchKind = 'garbage' | 'out-of-sequence' | 'forged-request' | 'backdated' | 'unordered' | 'repeated-request';

/**
 * A batch no correct replica may accept, built from `value` (a real proposal).
 * @param clientIds ids of clients that exist, for forged requests.
 */
export function invalidBatch(value: Uint8Array, kind: InvalidBatchKind, rng: Prng, clientIds: readonly number[]): Uint8Array {
  const d = decodeBatch(value);
  const b: Batch = d.ok ? d.message : { timestampMs: 0, requests: [] };
  const first = b.requests[0];
  switch (kind) {
    case 'garbage':
      return rng.bytes(rng.int(1, 120));
    case 'out-of-sequence':
      if (!first) return invalidBatch(value, 'forged-request', rng, clientIds);
      return encodeBatch({ timestampMs: b.timestampMs, requests: [{ ...first, seq: first.seq + rng.int(2, 5) }, ...b.requests.slice(1)] });
    case 'forged-request': {
      const clientId = clientIds.length > 0 ? rng.pick(clientIds) : 1;
      const mine = b.requests.filter((r) => r.clientId === clientId);
      const last = mine[mine.length - 1];
      const forged: Request = {
        type: MessageType.REQUEST,
        clientId,
        session: last?.session ?? first?.session ?? 1,
        seq: (last?.seq ?? 0) + 1,
        ordered: true,
        payload: rng.bytes(rng.int(1, 40)),
      };
      return encodeBatch({ timestampMs: b.timestampMs, requests: [...b.requests, forged] });
    }
    case 'backdated':
      if (b.timestampMs === 0) return invalidBatch(value, 'garbage', rng, clientIds);
      return encodeBatch({ timestampMs: 0, requests: b.requests });
    case 'unordered':
      if (!first) return invalidBatch(value, 'garbage', rng, clientIds);
      return encodeBatch({ timestampMs: b.timestampMs, requests: [{ ...first, ordered: false }, ...b.requests.slice(1)] });
    case 'repeated-request':
      if (!first) return invalidBatch(value, 'garbage', rng, clientIds);
      return encodeBatch({ timestampMs: b.timestampMs, requests: [first, ...b.requests] });
  }
}

/** Signatures that verify under nobody's key. */
export function fakeVotes(members: readonly number[], count: number, rng: Prng): SignedVote[] {
  return members.slice(0, count).map((from) => ({ from, signature: rng.bytes(64) }));
}

/** A decision proof that does not check out: a quorum of fake ACCEPT signatures. */
export function fakeDecision(cid: number, regency: number, value: Uint8Array, members: readonly number[], quorum: number, rng: Prng): Decision {
  return { cid, regency, value, accepts: fakeVotes(members, quorum, rng) };
}

/** A write certificate with fake WRITE signatures. */
export function fakeWriteCertificate(cid: number, regency: number, value: Uint8Array, members: readonly number[], quorum: number, rng: Prng): WriteCertificate {
  return { cid, regency, value, writes: fakeVotes(members, quorum, rng) };
}

/** Flips, truncates, extends or retypes `bytes` (never returns the same bytes). */
export function garble(bytes: Uint8Array, rng: Prng): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (rng.int(0, 3)) {
    case 0: {
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips && out.length > 0; i++) {
        const at = rng.int(0, out.length - 1);
        out[at] = out[at]! ^ (1 << rng.int(0, 7));
      }
      return out.length > 0 ? out : Uint8Array.of(0);
    }
    case 1:
      return out.slice(0, rng.int(0, Math.max(0, out.length - 1)));
    case 2: {
      const tail = rng.bytes(rng.int(1, 16));
      const longer = new Uint8Array(out.length + tail.length);
      longer.set(out);
      longer.set(tail, out.length);
      return longer;
    }
    default:
      if (out.length > 0) out[0] = (out[0]! + rng.int(1, 20)) & 0xff;
      return out.length > 0 ? out : Uint8Array.of(99);
  }
}
