/**
 * Canonical binary encoding of every protocol message, and a decoder that returns a
 * reason instead of throwing (tigerbeetle's `invalid_header` style): peer input never
 * throws across the core boundary.
 *
 * Layout: u8 message type, then the fields in declaration order (see messages.ts).
 * The same message always encodes to the same bytes.
 */
import { ByteReader, ByteWriter, DecodeError, bytesEqual } from './bytes.ts';
import type { MerkleProof } from './merkle.ts';
import {
  MessageType,
  type Batch,
  type Checkpoint,
  type StateChunk,
  type StateChunkRequest,
  type StateRequest,
  type SyncForward,
  type SyncRequest,
  type Decision,
  type DecisionReply,
  type DecisionRequest,
  type Message,
  type Propose,
  type Reply,
  type Request,
  type SignedVote,
  type Stop,
  type StopData,
  type Sync,
  type Vote,
  type WriteCertificate,
} from './messages.ts';

/** Upper bounds a decoder enforces so that a peer cannot make us allocate without limit. */
export interface CodecLimits {
  /** Largest client request payload (bytes). */
  readonly payloadBytesMax: number;
  /** Largest reply result (bytes). */
  readonly resultBytesMax: number;
  /** Most requests in one batch. */
  readonly batchRequestsMax: number;
  /** Most replicas in a view (bounds votes in a certificate and STOPDATAs in a SYNC). */
  readonly replicasMax: number;
  /** Most decisions in one DECISION_REPLY. */
  readonly decisionsPerReplyMax: number;
  /** Largest state-transfer chunk (bytes). */
  readonly chunkBytesMax: number;
}

export const DEFAULT_LIMITS: CodecLimits = {
  payloadBytesMax: 1 << 20,
  resultBytesMax: 4 << 20,
  batchRequestsMax: 4096,
  replicasMax: 64,
  decisionsPerReplyMax: 64,
  chunkBytesMax: 1 << 20,
};

export const DIGEST_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; reason: string };

// ---------------------------------------------------------------- encoding

/**
 * Request flags: bit 0 ordered; bit 1 signed (a 64-byte signature follows the payload);
 * bit 3 a Merkle proof follows it (a signed request sent with others in one turn; a
 * one-leaf proof is never written); bit 2 a replier (u32, unordered requests only) comes last.
 */
function writeRequestBody(w: ByteWriter, r: Request): void {
  const replier = r.replier !== undefined;
  const proof = wireProof(r);
  w.u32(r.clientId).u53(r.session).u53(r.seq).u8((r.ordered ? 1 : 0) | (r.signature ? 2 : 0) | (replier ? 4 : 0) | (proof ? 8 : 0)).bytes(r.payload);
  if (r.signature) w.raw(r.signature);
  if (proof) writeProof(w, proof);
  if (replier) w.u32(r.replier!);
}

function writeProof(w: ByteWriter, p: MerkleProof): void {
  w.u32(p.index).u32(p.leafCount).u8(p.siblings.length);
  for (const s of p.siblings) w.raw(s);
}

/** The path written for `r`: that of a signed request sent with others (a one-leaf tree has none). */
function wireProof(r: Request): MerkleProof | null {
  return r.signature && r.proof && r.proof.leafCount > 1 ? r.proof : null;
}

/** Exact encoded size of `writeRequestBody(r)`, bytes. */
function requestBodyBytes(r: Request): number {
  const proof = wireProof(r);
  return 25 + r.payload.length + (r.signature ? SIGNATURE_BYTES : 0) + (proof ? 9 + DIGEST_BYTES * proof.siblings.length : 0) + (r.replier !== undefined ? 4 : 0);
}

function writeVotes(w: ByteWriter, votes: readonly SignedVote[]): void {
  w.u32(votes.length);
  for (const v of votes) w.u32(v.from).raw(v.signature);
}

function writeDecision(w: ByteWriter, d: Decision): void {
  w.u53(d.cid).u53(d.regency).bytes(d.value);
  writeVotes(w, d.accepts);
}

function writeWriteCertificate(w: ByteWriter, c: WriteCertificate): void {
  w.u53(c.cid).u53(c.regency).bytes(c.value);
  writeVotes(w, c.writes);
}

/** The bytes of a STOPDATA that its signature covers (everything but the signature). */
export function stopDataSignedBytes(s: Omit<StopData, 'signature' | 'type'>): Uint8Array {
  const w = new ByteWriter();
  w.u8(MessageType.STOPDATA).u32(s.from).u53(s.regency);
  w.u8(s.lastDecided ? 1 : 0);
  if (s.lastDecided) writeDecision(w, s.lastDecided);
  w.u8(s.writeCertificate ? 1 : 0);
  if (s.writeCertificate) writeWriteCertificate(w, s.writeCertificate);
  return w.finish();
}

/** A decision with its proof, as stored in the decided log. */
export function encodeDecision(d: Decision): Uint8Array {
  const w = new ByteWriter(d.value.length + 256);
  writeDecision(w, d);
  return w.finish();
}

/** @returns the decision or a reason (stored bytes can be damaged too). */
export function decodeDecision(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): DecodeResult<Decision> {
  return guard('decision', () => {
    const r = new ByteReader(bytes);
    const d = readDecision(r, limits);
    r.end('decision');
    return d;
  });
}

/**
 * The voting state a restarted replica must not contradict: what it wrote and accepted
 * in instance `cid` of `regency`, and the write certificate it holds.
 */
export interface VoteState {
  readonly cid: number;
  readonly regency: number;
  /** The value this replica wrote (null if it wrote nothing in this regency). */
  readonly written: Uint8Array | null;
  readonly accepted: boolean;
  readonly writeCertificate: WriteCertificate | null;
}

/**
 * Layout: cid u53, regency u53, written flag u8 (+ value), accepted flag u8, certificate
 * flag u8: 0 none, 1 a full write certificate, 2 a certificate for the written value (its
 * cid, regency and WRITEs; the value is not repeated). Why 2: the certificate a replica
 * ACCEPTs on is almost always for the value it wrote, and writing a batch twice per vote
 * record was a visible share of a replica's CPU with 1 KiB requests.
 */
export function encodeVoteState(v: VoteState): Uint8Array {
  const c = v.writeCertificate;
  const sameValue = c !== null && v.written !== null && (c.value === v.written || bytesEqual(c.value, v.written));
  const w = new ByteWriter(256 + (v.written?.length ?? 0) + (c && !sameValue ? c.value.length : 0));
  w.u53(v.cid).u53(v.regency).u8(v.written ? 1 : 0);
  if (v.written) w.bytes(v.written);
  w.u8(v.accepted ? 1 : 0).u8(c ? (sameValue ? 2 : 1) : 0);
  if (c && sameValue) {
    w.u53(c.cid).u53(c.regency);
    writeVotes(w, c.writes);
  } else if (c) writeWriteCertificate(w, c);
  return w.finish();
}

export function decodeVoteState(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): DecodeResult<VoteState> {
  return guard('vote state', () => {
    const r = new ByteReader(bytes);
    const cid = r.u53('cid');
    const regency = r.u53('regency');
    const written = r.u8('written flag') ? r.bytes(valueBytesMax(limits), 'written') : null;
    const accepted = r.u8('accepted flag') === 1;
    const certificateFlag = r.u8('certificate flag');
    if (certificateFlag > 2 || (certificateFlag === 2 && !written)) throw new DecodeError(`bad certificate flag ${certificateFlag}`);
    const writeCertificate =
      certificateFlag === 1
        ? readWriteCertificate(r, limits)
        : certificateFlag === 2
          ? { cid: r.u53('cid'), regency: r.u53('regency'), value: written as Uint8Array, writes: readVotes(r, limits, 'WRITE') }
          : null;
    r.end('vote state');
    return { cid, regency, written, accepted, writeCertificate };
  });
}

function guard<T>(what: string, fn: () => T): DecodeResult<T> {
  try {
    return { ok: true, message: fn() };
  } catch (e) {
    if (e instanceof DecodeError || e instanceof RangeError) return { ok: false, reason: `malformed ${what}: ${e.message}` };
    throw e;
  }
}

/** The bytes of a SYNC that the new leader's signature covers (everything but the signature). */
export function syncSignedBytes(m: Omit<Sync, 'signature' | 'type'>): Uint8Array {
  const w = new ByteWriter();
  w.u8(MessageType.SYNC).u32(m.from).u53(m.regency).u32(m.stopData.length);
  for (const s of m.stopData) w.bytes(encodeMessage(s));
  w.u53(m.cid).bytes(m.value);
  return w.finish();
}

/** Canonical batch bytes: the value a consensus instance decides and its digest covers. */
export function encodeBatch(batch: Batch): Uint8Array {
  // Sized exactly: a writer that starts small doubles and copies its way up to the batch
  // (≈ 4 % of the leader's CPU at 1 KiB requests), and one past the scratch is returned
  // without a copy.
  let size = 12;
  for (const r of batch.requests) size += requestBodyBytes(r);
  const w = new ByteWriter(size);
  w.u53(batch.timestampMs).u32(batch.requests.length);
  for (const r of batch.requests) writeRequestBody(w, r);
  return w.finish();
}

/** A message's encoded size or a little more, for the messages that carry bulk bytes; 256 for the rest. */
function encodedBytesHint(m: Message): number {
  switch (m.type) {
    case MessageType.REQUEST:
      return 1 + requestBodyBytes(m);
    case MessageType.REPLY:
      return 128 + m.result.length + 32 * m.proof.siblings.length;
    case MessageType.PROPOSE:
      return 32 + m.value.length;
    case MessageType.STATE_CHUNK:
      return 64 + m.bytes.length;
    case MessageType.DECISION_REPLY: {
      let size = 32;
      for (const d of m.decisions) size += 32 + d.value.length + 68 * d.accepts.length;
      return size;
    }
    default:
      return 256;
  }
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new ByteWriter(encodedBytesHint(m));
  switch (m.type) {
    case MessageType.REQUEST:
      w.u8(m.type);
      writeRequestBody(w, m);
      break;
    case MessageType.REPLY: {
      // Flags: bit 0 ordered; bit 1 unsigned (a channel-authenticated reply: single-leaf
      // proof and all-zero signature, both omitted). Why: 64 zero bytes made every such
      // reply 103 bytes instead of 39, past V8's 64-byte on-heap limit (see allocateBytes).
      // Bit 2: the result is its digest (`Reply.resultIsDigest`).
      const unsigned = isUnsignedReply(m);
      w.u8(m.type).u32(m.replicaId).u32(m.clientId).u53(m.session).u53(m.seq).u8((m.ordered ? 1 : 0) | (unsigned ? 2 : 0) | (m.resultIsDigest ? 4 : 0)).bytes(m.result);
      if (unsigned) break;
      writeProof(w, m.proof);
      w.raw(m.signature);
      break;
    }
    case MessageType.PROPOSE:
      w.u8(m.type).u32(m.from).u53(m.cid).u53(m.regency).bytes(m.value);
      break;
    case MessageType.WRITE:
    case MessageType.ACCEPT:
      w.u8(m.type).u32(m.from).u53(m.cid).u53(m.regency).raw(m.digest).raw(m.signature);
      break;
    case MessageType.STOP:
      w.u8(m.type).u32(m.from).u53(m.regency);
      break;
    case MessageType.STOPDATA:
      w.raw(stopDataSignedBytes(m)).raw(m.signature);
      break;
    case MessageType.SYNC:
      w.raw(syncSignedBytes(m)).raw(m.signature);
      break;
    case MessageType.SYNC_REQUEST:
      w.u8(m.type).u32(m.from).u53(m.regency);
      break;
    case MessageType.SYNC_FORWARD:
      w.u8(m.type).u32(m.from).bytes(encodeMessage(m.sync));
      break;
    case MessageType.DECISION_REQUEST:
      w.u8(m.type).u32(m.from).u53(m.fromCid);
      break;
    case MessageType.DECISION_REPLY:
      w.u8(m.type).u32(m.from).u53(m.checkpointCid + 1).u32(m.decisions.length);
      for (const d of m.decisions) writeDecision(w, d);
      break;
    case MessageType.CHECKPOINT:
      w.u8(m.type).u32(m.from).u53(m.cid).raw(m.digest).u53(m.byteLength).raw(m.signature);
      break;
    case MessageType.STATE_REQUEST:
      w.u8(m.type).u32(m.from);
      break;
    case MessageType.STATE_CHUNK_REQUEST:
      w.u8(m.type).u32(m.from).u53(m.cid).u32(m.index);
      break;
    case MessageType.STATE_CHUNK:
      w.u8(m.type).u32(m.from).u53(m.cid).u32(m.index).u32(m.total).bytes(m.bytes);
      break;
  }
  return w.finish();
}

// ---------------------------------------------------------------- decoding

function readRequestBody(r: ByteReader, limits: CodecLimits): Request {
  const clientId = r.u32('clientId');
  const session = r.u53('session');
  const seq = r.u53('seq');
  const flags = r.u8('flags');
  if (flags > 15) throw new DecodeError(`unknown request flags ${flags}`);
  if ((flags & 5) === 5) throw new DecodeError('an ordered request names a replier');
  if ((flags & 10) === 8) throw new DecodeError('an unsigned request carries a Merkle proof');
  const payload = r.bytes(limits.payloadBytesMax, 'payload');
  const base = { type: MessageType.REQUEST, clientId, session, seq, ordered: (flags & 1) === 1, payload } as const;
  let signed: Request = flags & 2 ? { ...base, signature: r.raw(SIGNATURE_BYTES, 'request signature') } : base;
  if (flags & 8) {
    const proof = readProof(r);
    // One encoding per request: a one-leaf tree is written without its proof.
    if (proof.leafCount < 2) throw new DecodeError(`a request proof of ${proof.leafCount} leaves`);
    signed = { ...signed, proof };
  }
  return flags & 4 ? { ...signed, replier: r.u32('replier') } : signed;
}

function readProof(r: ByteReader): MerkleProof {
  const index = r.u32('proof index');
  const leafCount = r.u32('proof leaf count');
  const n = r.u8('proof length');
  if (n > 32) throw new DecodeError(`a Merkle proof of ${n} levels`);
  const siblings: Uint8Array[] = [];
  for (let i = 0; i < n; i++) siblings.push(r.raw(DIGEST_BYTES, 'proof sibling'));
  return { index, leafCount, siblings };
}

function readVotes(r: ByteReader, limits: CodecLimits, what: string): SignedVote[] {
  const n = r.count(limits.replicasMax, what);
  const votes: SignedVote[] = [];
  for (let i = 0; i < n; i++) votes.push({ from: r.u32(`${what} signer`), signature: r.raw(SIGNATURE_BYTES, `${what} signature`) });
  return votes;
}

const valueBytesMax = (limits: CodecLimits): number => 16 + limits.batchRequestsMax * (32 + limits.payloadBytesMax);

function readDecision(r: ByteReader, limits: CodecLimits): Decision {
  const cid = r.u53('cid');
  const regency = r.u53('regency');
  const value = r.bytes(valueBytesMax(limits), 'value');
  return { cid, regency, value, accepts: readVotes(r, limits, 'ACCEPT') };
}

function readWriteCertificate(r: ByteReader, limits: CodecLimits): WriteCertificate {
  const cid = r.u53('cid');
  const regency = r.u53('regency');
  const value = r.bytes(valueBytesMax(limits), 'value');
  return { cid, regency, value, writes: readVotes(r, limits, 'WRITE') };
}

/** Decodes batch bytes. @returns the batch or a reason. */
export function decodeBatch(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): DecodeResult<Batch> {
  try {
    const r = new ByteReader(bytes);
    const timestampMs = r.u53('timestampMs');
    const n = r.count(limits.batchRequestsMax, 'batch requests');
    const requests: Request[] = [];
    for (let i = 0; i < n; i++) requests.push(readRequestBody(r, limits));
    r.end('batch');
    return { ok: true, message: { timestampMs, requests } };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, reason: `malformed batch: ${e.message}` };
    throw e;
  }
}

function readStopData(r: ByteReader, limits: CodecLimits): StopData {
  const from = r.u32('from');
  const regency = r.u53('regency');
  const hasDecided = r.u8('lastDecided flag');
  if (hasDecided > 1) throw new DecodeError('bad lastDecided flag');
  const lastDecided = hasDecided ? readDecision(r, limits) : null;
  const hasCert = r.u8('writeCertificate flag');
  if (hasCert > 1) throw new DecodeError('bad writeCertificate flag');
  const writeCertificate = hasCert ? readWriteCertificate(r, limits) : null;
  const signature = r.raw(SIGNATURE_BYTES, 'signature');
  return { type: MessageType.STOPDATA, from, regency, lastDecided, writeCertificate, signature };
}

/** A reply authenticated by its channel only: single-leaf proof, all-zero signature. */
function isUnsignedReply(m: Reply): boolean {
  if (m.proof.index !== 0 || m.proof.leafCount !== 1 || m.proof.siblings.length !== 0 || m.signature.length !== SIGNATURE_BYTES) return false;
  for (let i = 0; i < SIGNATURE_BYTES; i++) if (m.signature[i] !== 0) return false;
  return true;
}

/**
 * Which request a REPLY frame answers, read from its fixed header (type u8, replicaId u32,
 * clientId u32, session u53, seq u53, flags u8) without decoding the rest. Lets a client
 * skip replies to requests it already answered (half of all replies with n = 4) before
 * paying for a full decode. @returns null when `bytes` does not start like a REPLY.
 */
export function peekReply(bytes: Uint8Array): { readonly session: number; readonly seq: number; readonly ordered: boolean } | null {
  if (bytes.length < 26 || bytes[0] !== MessageType.REPLY) return null;
  try {
    const r = new ByteReader(bytes.subarray(9, 26));
    const session = r.u53('session');
    const seq = r.u53('seq');
    const flags = r.u8('flags');
    return flags > 7 ? null : { session, seq, ordered: (flags & 1) === 1 };
  } catch {
    return null;
  }
}

/**
 * Decodes one message. Never throws for malformed input.
 * @returns `{ok: true, message}` or `{ok: false, reason}` naming what was wrong.
 */
export function decodeMessage(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): DecodeResult<Message> {
  try {
    const r = new ByteReader(bytes);
    const type = r.u8('type');
    let m: Message;
    switch (type) {
      case MessageType.REQUEST:
        m = readRequestBody(r, limits);
        break;
      case MessageType.REPLY: {
        const replicaId = r.u32('replicaId');
        const clientId = r.u32('clientId');
        const session = r.u53('session');
        const seq = r.u53('seq');
        const flags = r.u8('flags');
        if (flags > 7) throw new DecodeError(`unknown reply flags ${flags}`);
        const result = r.bytes(limits.resultBytesMax, 'result');
        const unsigned = (flags & 2) !== 0;
        const resultIsDigest = (flags & 4) !== 0;
        if (resultIsDigest && result.length !== DIGEST_BYTES) throw new DecodeError(`a digest reply of ${result.length} bytes`);
        const reply: Reply = {
          type,
          replicaId,
          clientId,
          session,
          seq,
          ordered: (flags & 1) === 1,
          result,
          proof: unsigned ? { index: 0, leafCount: 1, siblings: [] } : readProof(r),
          signature: unsigned ? new Uint8Array(SIGNATURE_BYTES) : r.raw(SIGNATURE_BYTES, 'signature'),
        };
        // The flag only where set: full replies keep one object shape on the client's hot path.
        m = resultIsDigest ? { ...reply, resultIsDigest } : reply;
        break;
      }
      case MessageType.PROPOSE: {
        const p: Propose = { type, from: r.u32('from'), cid: r.u53('cid'), regency: r.u53('regency'), value: r.bytes(valueBytesMax(limits), 'value') };
        m = p;
        break;
      }
      case MessageType.WRITE:
      case MessageType.ACCEPT: {
        const v: Vote = { type, from: r.u32('from'), cid: r.u53('cid'), regency: r.u53('regency'), digest: r.raw(DIGEST_BYTES, 'digest'), signature: r.raw(SIGNATURE_BYTES, 'signature') };
        m = v;
        break;
      }
      case MessageType.STOP: {
        const s: Stop = { type, from: r.u32('from'), regency: r.u53('regency') };
        m = s;
        break;
      }
      case MessageType.STOPDATA:
        m = readStopData(r, limits);
        break;
      case MessageType.SYNC: {
        const from = r.u32('from');
        const regency = r.u53('regency');
        const n = r.count(limits.replicasMax, 'STOPDATA');
        const stopData: StopData[] = [];
        for (let i = 0; i < n; i++) {
          const inner = new ByteReader(r.bytes(valueBytesMax(limits) * 2 + 4096, 'STOPDATA'));
          if (inner.u8('STOPDATA type') !== MessageType.STOPDATA) throw new DecodeError('SYNC holds a message that is not a STOPDATA');
          stopData.push(readStopData(inner, limits));
          inner.end('STOPDATA');
        }
        const s: Sync = { type, from, regency, stopData, cid: r.u53('cid'), value: r.bytes(valueBytesMax(limits), 'value'), signature: r.raw(SIGNATURE_BYTES, 'signature') };
        m = s;
        break;
      }
      case MessageType.SYNC_REQUEST: {
        const q: SyncRequest = { type, from: r.u32('from'), regency: r.u53('regency') };
        m = q;
        break;
      }
      case MessageType.SYNC_FORWARD: {
        const from = r.u32('from');
        const inner = decodeMessage(r.bytes(valueBytesMax(limits) * (limits.replicasMax + 2), 'forwarded SYNC'), limits);
        if (!inner.ok) throw new DecodeError(`forwarded SYNC: ${inner.reason}`);
        if (inner.message.type !== MessageType.SYNC) throw new DecodeError('SYNC_FORWARD holds a message that is not a SYNC');
        const f: SyncForward = { type, from, sync: inner.message };
        m = f;
        break;
      }
      case MessageType.DECISION_REQUEST: {
        const d: DecisionRequest = { type, from: r.u32('from'), fromCid: r.u53('fromCid') };
        m = d;
        break;
      }
      case MessageType.DECISION_REPLY: {
        const from = r.u32('from');
        const checkpointCid = r.u53('checkpointCid') - 1;
        const n = r.count(limits.decisionsPerReplyMax, 'decisions');
        const decisions: Decision[] = [];
        for (let i = 0; i < n; i++) decisions.push(readDecision(r, limits));
        const d: DecisionReply = { type, from, checkpointCid, decisions };
        m = d;
        break;
      }
      case MessageType.CHECKPOINT: {
        const c: Checkpoint = { type, from: r.u32('from'), cid: r.u53('cid'), digest: r.raw(DIGEST_BYTES, 'digest'), byteLength: r.u53('byteLength'), signature: r.raw(SIGNATURE_BYTES, 'signature') };
        m = c;
        break;
      }
      case MessageType.STATE_REQUEST: {
        const s: StateRequest = { type, from: r.u32('from') };
        m = s;
        break;
      }
      case MessageType.STATE_CHUNK_REQUEST: {
        const s: StateChunkRequest = { type, from: r.u32('from'), cid: r.u53('cid'), index: r.u32('index') };
        m = s;
        break;
      }
      case MessageType.STATE_CHUNK: {
        const s: StateChunk = { type, from: r.u32('from'), cid: r.u53('cid'), index: r.u32('index'), total: r.u32('total'), bytes: r.bytes(limits.chunkBytesMax, 'chunk') };
        m = s;
        break;
      }
      default:
        return { ok: false, reason: `unknown message type ${type}` };
    }
    r.end('message');
    return { ok: true, message: m };
  } catch (e) {
    if (e instanceof DecodeError || e instanceof RangeError) return { ok: false, reason: `malformed message: ${e.message}` };
    throw e;
  }
}
