/**
 * Checkpoints (PBFT §4.3; BFT-SMaRt's state management): every `checkpointPeriod`
 * instances each replica encodes its replicated state canonically — the service
 * snapshot, the client sessions and the last batch timestamp — signs the digest and
 * reports it in a CHECKPOINT message. A checkpoint is stable once a Byzantine quorum
 * reports the same digest; the log up to it can then be truncated. f+1 matching
 * reports are enough to trust a digest during state transfer (one is from a correct replica).
 *
 * Canonical means: the same state gives the same bytes on every replica. Sessions are
 * written sorted by client id; the service's snapshot is canonical by contract.
 */
import { ByteReader, ByteWriter, DecodeError } from './bytes.ts';
import { MessageType, type Checkpoint } from './messages.ts';

const TAG_CHECKPOINT = new TextEncoder().encode('bulwark/checkpoint/v1');

export interface SessionRecord {
  readonly clientId: number;
  readonly session: number;
  readonly lastSeq: number;
}

/** The replicated state after executing instance `cid`. */
export interface CheckpointState {
  readonly cid: number;
  readonly lastTimestampMs: number;
  readonly sessions: readonly SessionRecord[];
  readonly serviceSnapshot: Uint8Array;
}

export function encodeCheckpoint(s: CheckpointState): Uint8Array {
  const sessions = [...s.sessions].sort((a, b) => a.clientId - b.clientId);
  const w = new ByteWriter(64 + sessions.length * 20 + s.serviceSnapshot.length);
  w.u53(s.cid).u53(s.lastTimestampMs).u32(sessions.length);
  for (const x of sessions) w.u32(x.clientId).u53(x.session).u53(x.lastSeq);
  w.bytes(s.serviceSnapshot);
  return w.finish();
}

/** @throws DecodeError for malformed bytes. */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const r = new ByteReader(bytes);
  const cid = r.u53('cid');
  const lastTimestampMs = r.u53('lastTimestampMs');
  const n = r.u32('sessions count');
  if (n * 20 > bytes.length) throw new DecodeError(`checkpoint claims ${n} sessions in ${bytes.length} bytes`);
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < n; i++) sessions.push({ clientId: r.u32('clientId'), session: r.u53('session'), lastSeq: r.u53('lastSeq') });
  const serviceSnapshot = r.bytes(bytes.length, 'service snapshot');
  r.end('checkpoint');
  return { cid, lastTimestampMs, sessions, serviceSnapshot };
}

/** What a CHECKPOINT signature covers. */
export function checkpointSigningMessage(cid: number, digest: Uint8Array, byteLength: number): Uint8Array {
  return new ByteWriter(96).raw(TAG_CHECKPOINT).u53(cid).raw(digest).u53(byteLength).finish();
}

/** This replica's own checkpoint and the reports others sent for it. */
export interface LocalCheckpoint {
  readonly cid: number;
  readonly digest: Uint8Array;
  readonly bytes: Uint8Array;
  /** Our own signed report (sent to others, and served in state transfer). */
  readonly report: Checkpoint;
}

export function makeReport(from: number, cid: number, digest: Uint8Array, byteLength: number, signature: Uint8Array): Checkpoint {
  return { type: MessageType.CHECKPOINT, from, cid, digest, byteLength, signature };
}
