/**
 * State transfer (PBFT §4.3 / BFT-SMaRt's state management): a replica that is behind
 * what the others' logs still hold, or whose state diverged, installs a stable checkpoint
 * fetched from another replica, then catches up on the decisions after it.
 *
 * Trust: a checkpoint's (cid, digest, length) must be vouched for by f+1 replicas'
 * signed CHECKPOINT reports (so by at least one correct replica). The bytes are fetched
 * in chunks from one of those replicas; if they do not hash to the digest, that source
 * is reported and the next one is tried. Memory: one buffer of the vouched length.
 *
 * Normal processing continues during a transfer; installing only ever moves us forward.
 */
import { toHex } from './bytes.ts';
import { checkpointSigningMessage, decodeCheckpoint } from './checkpoint.ts';
import { MessageType, type Checkpoint, type StateChunk, type StateChunkRequest, type StateRequest } from './messages.ts';
import type { Replica } from './replica.ts';
import { markStable } from './checkpointing.ts';
import { requestCatchUp } from './catch-up.ts';

export interface Fetch {
  readonly cid: number;
  readonly digest: Uint8Array;
  readonly byteLength: number;
  /** Replicas that vouched for this checkpoint, in the order we try them. */
  readonly candidates: number[];
  source: number;
  readonly buffer: Uint8Array;
  nextIndex: number;
  readonly total: number;
  lastProgressMs: number;
}

export interface Transfer {
  /** Accept checkpoints at or after this instance (ours at that instance may be wrong). */
  readonly fromCid: number;
  /**
   * True when our own state at `fromCid` diverged from a quorum's (we had executed past it):
   * the checkpoint replaces it even though we are not behind, and our later decisions are
   * executed again on top of it. Otherwise a checkpoint is installed only strictly forward.
   */
  readonly repair: boolean;
  lastRequestMs: number;
  fetch: Fetch | null;
}

/** Asks every replica for its latest stable checkpoint. */
/** @param reason why (for the event log). */
export function requestState(replica: Replica, fromCid: number, reason: string): void {
  if (replica.transfer && replica.transfer.fromCid <= fromCid) return;
  replica.transfer = { fromCid, repair: fromCid <= replica.lastDecidedCid, lastRequestMs: replica.nowMs, fetch: null };
  replica.emit({ type: 'state-transfer-started', fromCid, reason });
  replica.sendTo(replica.others(), { type: MessageType.STATE_REQUEST, from: replica.id });
  maybeFetch(replica);
}

/** Records a verified CHECKPOINT report as an offer (the latest per replica, past our position). */
export function noteOffer(replica: Replica, m: Checkpoint): void {
  if (m.cid <= replica.lastDecidedCid && !(replica.transfer && m.cid >= replica.transfer.fromCid)) return;
  const previous = replica.offers.get(m.from);
  if (previous && previous.cid >= m.cid) return;
  replica.offers.set(m.from, m);
  maybeFetch(replica);
}

/** Starts fetching the highest checkpoint that f+1 offers agree on, when we need one. */
function maybeFetch(replica: Replica): void {
  if (replica.transfer?.fetch) return;
  const groups = new Map<string, Checkpoint[]>();
  for (const o of replica.offers.values()) {
    const key = `${o.cid}:${toHex(o.digest)}:${o.byteLength}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  let best: Checkpoint[] | null = null;
  for (const g of groups.values()) if (g.length >= replica.witnesses && (!best || g[0]!.cid > best[0]!.cid)) best = g;
  if (!best) return;
  const c = best[0]!;
  // Fetch when asked to (behind the log, or diverged), or when the group is far ahead of us.
  const wanted = replica.transfer ? c.cid >= replica.transfer.fromCid : c.cid > replica.lastDecidedCid + replica.options.checkpointPeriod;
  if (!wanted || c.byteLength > replica.options.stateBytesMax) return;
  if (!replica.transfer) {
    replica.transfer = { fromCid: c.cid, repair: false, lastRequestMs: replica.nowMs, fetch: null };
    replica.emit({ type: 'state-transfer-started', fromCid: c.cid, reason: `f+1 replicas report checkpoint ${c.cid}, far ahead` });
  }
  const chunk = replica.options.limits.chunkBytesMax;
  const candidates = best.map((o) => o.from).filter((id) => id !== replica.id);
  if (candidates.length === 0) return;
  replica.transfer.fetch = {
    cid: c.cid,
    digest: c.digest,
    byteLength: c.byteLength,
    candidates,
    source: candidates[0]!,
    buffer: new Uint8Array(c.byteLength),
    nextIndex: 0,
    total: Math.max(1, Math.ceil(c.byteLength / chunk)),
    lastProgressMs: replica.nowMs,
  };
  requestChunk(replica);
}

function requestChunk(replica: Replica): void {
  const f = replica.transfer?.fetch;
  if (!f) return;
  replica.sendTo([f.source], { type: MessageType.STATE_CHUNK_REQUEST, from: replica.id, cid: f.cid, index: f.nextIndex });
}

/** STATE_REQUEST: answer with the signed reports of our stable checkpoint and of every newer one we took. */
export function onStateRequest(replica: Replica, m: StateRequest): void {
  const stable = replica.stableCheckpoint;
  if (!stable) return replica.drop(`replica ${m.from}`, 'STATE_REQUEST: no stable checkpoint here yet');
  // Our stable report, then those of the newer checkpoints we took (oldest first: the
  // requester keeps each replica's latest offer). Why the newer ones: replicas can differ in
  // which checkpoint they saw become stable (a lost report is not resent), and a requester
  // needs f+1 matching offers; offering only the stable one left r0 at 19 and r2 at 15 with
  // nobody to match either (sim seed 445). A newer checkpoint is as good an offer: f+1
  // matching signed reports still vouch for its digest.
  replica.sendTo([m.from], stable.report);
  const newer = [...replica.checkpoints.values()].filter((c) => c.cid > stable.cid).sort((a, b) => a.cid - b.cid);
  for (const c of newer) replica.sendTo([m.from], c.report);
}

/** STATE_CHUNK_REQUEST: serve one chunk of a checkpoint we hold. */
export function onStateChunkRequest(replica: Replica, m: StateChunkRequest): void {
  const c = replica.checkpoints.get(m.cid);
  if (!c) return replica.drop(`replica ${m.from}`, `STATE_CHUNK_REQUEST for checkpoint ${m.cid}, not held here`);
  const chunk = replica.options.limits.chunkBytesMax;
  const total = Math.max(1, Math.ceil(c.bytes.length / chunk));
  if (m.index >= total) return replica.drop(`replica ${m.from}`, `STATE_CHUNK_REQUEST for chunk ${m.index} of ${total}`);
  const bytes = c.bytes.subarray(m.index * chunk, Math.min(c.bytes.length, (m.index + 1) * chunk));
  replica.sendTo([m.from], { type: MessageType.STATE_CHUNK, from: replica.id, cid: m.cid, index: m.index, total, bytes });
}

/** STATE_CHUNK: append the next chunk; when complete, verify the digest and install. */
export function onStateChunk(replica: Replica, m: StateChunk): void {
  const f = replica.transfer?.fetch;
  const from = `replica ${m.from}`;
  if (!f || m.from !== f.source || m.cid !== f.cid || m.index !== f.nextIndex) return replica.drop(from, `unexpected STATE_CHUNK ${m.cid}/${m.index}`);
  const chunk = replica.options.limits.chunkBytesMax;
  const offset = m.index * chunk;
  const expected = Math.min(chunk, f.byteLength - offset);
  if (m.total !== f.total || m.bytes.length !== expected) return rejectSource(replica, `chunk ${m.index} has ${m.bytes.length} bytes of ${m.total} chunks, expected ${expected} of ${f.total}`);
  if (overtaken(replica)) return;
  f.buffer.set(m.bytes, offset);
  f.nextIndex++;
  f.lastProgressMs = replica.nowMs;
  if (f.nextIndex < f.total) return requestChunk(replica);
  const digest = replica.deps.hash(f.buffer);
  if (toHex(digest) !== toHex(f.digest)) return rejectSource(replica, `checkpoint ${f.cid} does not match the digest f+1 replicas reported`);
  install(replica, f);
}

/**
 * Normal progress (ACCEPTs, catch-up) decided the checkpoint's instance before the transfer
 * finished: abandon it. Installing now would move us back to the instance after the
 * checkpoint and forget our votes in the current one, so that we would vote (or, as
 * leader, propose) twice in one regency (found by the simulator, seed 104544).
 * @returns whether the transfer was abandoned.
 */
function overtaken(replica: Replica): boolean {
  const t = replica.transfer;
  if (!t?.fetch || t.repair || replica.lastDecidedCid < t.fetch.cid) return false;
  replica.transfer = null;
  replica.emit({ type: 'state-transfer-abandoned', cid: t.fetch.cid, lastDecidedCid: replica.lastDecidedCid });
  return true;
}

/** The source served bad state (or stalled): report it and try the next candidate. */
function rejectSource(replica: Replica, reason: string): void {
  const f = replica.transfer?.fetch;
  if (!f) return;
  replica.emit({ type: 'state-transfer-rejected', source: f.source, reason });
  const next = f.candidates.indexOf(f.source) + 1;
  replica.offers.delete(f.source);
  if (next >= f.candidates.length) {
    replica.transfer!.fetch = null;
    return;
  }
  f.source = f.candidates[next]!;
  f.nextIndex = 0;
  f.lastProgressMs = replica.nowMs;
  requestChunk(replica);
}

/**
 * Installs a verified checkpoint: service state, sessions, position; then catches up on
 * the log after it. When repairing a diverged state, our own decisions after the checkpoint
 * are executed again on top of it, and the instance we were voting in is kept as it was.
 */
function install(replica: Replica, f: Fetch): void {
  const repair = replica.transfer?.repair === true;
  const current = replica.instance;
  const later = repair ? [...replica.decided.values()].filter((d) => d.cid > f.cid).sort((a, b) => a.cid - b.cid) : [];
  let state;
  try {
    state = decodeCheckpoint(f.buffer);
    if (state.cid !== f.cid) throw new Error(`it is for instance ${state.cid}`);
    replica.deps.service.restore(state.serviceSnapshot);
  } catch (e) {
    // f+1 replicas vouched for these exact bytes, so at least one correct replica produced them.
    throw new Error(`bug: a vouched-for checkpoint does not install: ${e instanceof Error ? e.message : String(e)}`);
  }
  replica.sessions.restore(state.sessions);
  replica.lastTimestampMs = state.lastTimestampMs;
  replica.lastDecided = null;
  replica.lastDecisionProof = null;
  replica.lastProvenDecision = null;
  replica.decided.clear();
  replica.instance = replica.newInstance(f.cid + 1);
  // We serve this checkpoint from now on, under our own signature.
  const signature = replica.deps.signer.sign(checkpointSigningMessage(f.cid, f.digest, f.byteLength));
  const report: Checkpoint = { type: MessageType.CHECKPOINT, from: replica.id, cid: f.cid, digest: f.digest, byteLength: f.byteLength, signature };
  replica.checkpoints.set(f.cid, { cid: f.cid, digest: f.digest, bytes: f.buffer, report });
  replica.persist({ kind: 'checkpoint', cid: f.cid, digest: f.digest, bytes: f.buffer });
  markStable(replica, f.cid);
  replica.transfer = null;
  for (const [id, o] of replica.offers) if (o.cid <= f.cid) replica.offers.delete(id);
  replica.lastProgressMs = replica.nowMs;
  replica.emit({ type: 'state-transferred', cid: f.cid, source: f.source, bytes: f.byteLength });
  for (const d of later) {
    if (d.cid !== replica.instance.cid) break; // a gap: catch-up brings the rest
    replica.executeDecision(d, replica.decodeDecidedValue(d.value));
  }
  // Back where we were: keep this instance's values, certificate and votes of this regency.
  if (replica.instance.cid === current.cid) replica.instance = current;
  requestCatchUp(replica, f.candidates, true);
  replica.replayHeld();
}

/** On a tick: retry a stalled transfer with the next source, or ask again for offers. */
export function onStateTransferTick(replica: Replica): void {
  const t = replica.transfer;
  if (!t) return;
  const timeout = replica.options.stateTransferTimeoutMs;
  if (t.fetch) {
    if (overtaken(replica)) return;
    if (replica.nowMs - t.fetch.lastProgressMs > timeout) rejectSource(replica, `no chunk within ${timeout} ms`);
    return;
  }
  if (replica.nowMs - t.lastRequestMs > timeout) {
    t.lastRequestMs = replica.nowMs;
    replica.sendTo(replica.others(), { type: MessageType.STATE_REQUEST, from: replica.id });
  }
}
