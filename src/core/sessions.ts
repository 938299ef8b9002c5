/**
 * Client sessions and pending requests: exactly-once execution per (client, session, seq).
 *
 * Invariants:
 * - A client's ordered requests execute in sequence order: seq = lastSeq + 1 within a
 *   session; a larger session starts again at seq 1; a smaller session is stale.
 * - Pending requests are only those received directly from their client over its
 *   authenticated channel: a replica never WRITEs a proposal holding a request it has
 *   not seen from the client itself (validity against a Byzantine leader).
 * - Every collection a client can grow is bounded: `pendingPerClientMax`, `repliesKept`.
 */
import type { Request } from './messages.ts';
import { bytesEqual, detach } from './bytes.ts';
import type { SessionRecord } from './checkpoint.ts';

export interface ClientSession {
  session: number;
  /** Last executed ordered seq in `session` (0 = none yet). */
  lastSeq: number;
  /** Recent replies (encoded REPLY bytes) by seq, for retransmissions; at most `repliesKept`. */
  readonly replies: Map<number, Uint8Array>;
}

export interface PendingRequest {
  readonly request: Request;
  /** When this replica first received it (ms, from ticks). */
  arrivalMs: number;
  /**
   * Whether its client signature was checked (signed-requests mode; always true otherwise).
   * The client's channel already proves where it came from, so the check waits until it
   * matters: before a leader proposes it, or before its timeout accuses the leader.
   */
  verified: boolean;
}

export type Admission = 'new' | 'duplicate' | 'executed' | 'stale' | 'conflict' | 'too-many-pending' | 'out-of-window';

export class Sessions {
  private readonly sessions = new Map<number, ClientSession>();
  /** Pending ordered requests by client, then by seq. */
  private readonly pending = new Map<number, Map<number, PendingRequest>>();
  private pendingCount = 0;

  constructor(
    private readonly pendingPerClientMax: number,
    private readonly pendingTotalMax: number,
    private readonly repliesKept: number,
  ) {}

  get(clientId: number): ClientSession | undefined {
    return this.sessions.get(clientId);
  }

  /** Number of pending (received, not yet executed) ordered requests. */
  size(): number {
    return this.pendingCount;
  }

  /**
   * Classifies and, if new, stores an ordered request received from its client.
   * @param verified false if its client signature is still to be checked (`verify` later).
   */
  admit(request: Request, nowMs: number, verified = true): Admission {
    const s = this.sessions.get(request.clientId);
    if (s && request.session < s.session) return 'stale';
    if (s && request.session === s.session && request.seq <= s.lastSeq) return 'executed';
    const base = s && request.session === s.session ? s.lastSeq : 0;
    if (request.seq < 1 || request.seq > base + this.pendingPerClientMax) return 'out-of-window';
    let mine = this.pending.get(request.clientId);
    const existing = mine?.get(request.seq);
    if (existing) {
      if (existing.request.session !== request.session) {
        if (request.session < existing.request.session) return 'stale';
        // A newer session replaces the older pending request under the same seq.
        mine!.set(request.seq, { request, arrivalMs: nowMs, verified });
        return 'new';
      }
      return bytesEqual(existing.request.payload, request.payload) ? 'duplicate' : 'conflict';
    }
    if (this.pendingCount >= this.pendingTotalMax) return 'too-many-pending';
    if (!mine) {
      mine = new Map();
      this.pending.set(request.clientId, mine);
    }
    mine.set(request.seq, { request, arrivalMs: nowMs, verified });
    this.pendingCount++;
    return 'new';
  }

  /**
   * Checks the signatures still unchecked among `requests` (pending ones) with `valid`;
   * drops each invalid one from pending (its client's later requests then wait behind a gap).
   * @returns the requests dropped.
   */
  verify(requests: Iterable<Request>, valid: (r: Request) => boolean): Request[] {
    const dropped: Request[] = [];
    for (const r of requests) {
      const mine = this.pending.get(r.clientId);
      const p = mine?.get(r.seq);
      if (!mine || !p || p.verified || p.request !== r) continue;
      if (valid(r)) {
        p.verified = true;
        continue;
      }
      mine.delete(r.seq);
      this.pendingCount--;
      if (mine.size === 0) this.pending.delete(r.clientId);
      dropped.push(r);
    }
    return dropped;
  }

  /** Pending requests whose signature is unchecked and that arrived at or before `arrivalMs`. */
  unverifiedSince(arrivalMs: number): Request[] {
    const out: Request[] = [];
    for (const mine of this.pending.values()) for (const p of mine.values()) if (!p.verified && p.arrivalMs <= arrivalMs) out.push(p.request);
    return out;
  }

  /** True if this exact request was received from its client and is still pending. */
  hasPending(request: Request): boolean {
    const p = this.pending.get(request.clientId)?.get(request.seq);
    return p !== undefined && p.request.session === request.session && bytesEqual(p.request.payload, request.payload);
  }

  /**
   * Checks that `requests`, executed in order from the current sessions, each continue
   * their client's sequence. @returns null if valid, or the reason.
   */
  checkSequence(requests: readonly Request[]): string | null {
    const next = new Map<number, { session: number; lastSeq: number }>();
    for (const r of requests) {
      if (!r.ordered) return `request ${r.clientId}/${r.seq} is not an ordered request`;
      const cur = next.get(r.clientId) ?? this.sessions.get(r.clientId) ?? { session: r.session, lastSeq: 0 };
      const expected = r.session === cur.session ? cur.lastSeq + 1 : 1;
      if (r.session < cur.session) return `request ${r.clientId}/${r.session}/${r.seq} belongs to a stale session`;
      if (r.seq !== expected) return `request ${r.clientId}/${r.seq} out of sequence (expected ${expected})`;
      next.set(r.clientId, { session: r.session, lastSeq: r.seq });
    }
    return null;
  }

  /** Pending requests ready to be ordered, in each client's sequence, at most `max`. */
  takeOrderable(max: number): Request[] {
    const out: Request[] = [];
    for (const [clientId, mine] of this.pending) {
      if (out.length >= max) break;
      const s = this.sessions.get(clientId);
      let seq = s ? s.lastSeq + 1 : 1;
      let first = s ? mine.get(seq) : undefined;
      if (!first || first.request.session !== s?.session) {
        // Either nothing continues the current session, or the client started a new one at seq 1.
        seq = 1;
        first = mine.get(1);
        if (!first || (s !== undefined && first.request.session <= s.session)) continue;
      }
      const session = first.request.session;
      for (let p: PendingRequest | undefined = first; p && p.request.session === session && out.length < max; p = mine.get(++seq)) {
        out.push(p.request);
      }
    }
    return out;
  }

  /** Marks `request` executed with `replyBytes`; drops it from pending. */
  recordExecuted(request: Request, replyBytes: Uint8Array): void {
    const previous = this.sessions.get(request.clientId);
    const newSession = previous === undefined || request.session !== previous.session;
    const s: ClientSession = newSession ? { session: request.session, lastSeq: 0, replies: new Map() } : previous;
    if (newSession) this.sessions.set(request.clientId, s);
    s.lastSeq = request.seq;
    // A reply encoded into a shared slab (see allocateBytes) is copied before it is cached:
    // a cached reply can live for as long as its client is idle, and must not keep the
    // other 8 KiB of its slab alive with it.
    s.replies.set(request.seq, detach(replyBytes));
    if (s.replies.size > this.repliesKept) s.replies.delete(s.replies.keys().next().value as number);
    if (newSession) {
      this.dropPendingBelow(request.clientId, request.session, request.seq);
      return;
    }
    // Within a session, the executed request is the only pending one at or below its seq:
    // every earlier seq was dropped when it executed, `admit` refuses seqs at or below
    // lastSeq and older sessions, and `restore` drops what a checkpoint overtook. So there
    // is no need to scan the client's whole window (which made execution quadratic in it).
    const mine = this.pending.get(request.clientId);
    const p = mine?.get(request.seq);
    if (!mine || !p || p.request.session !== request.session) return;
    mine.delete(request.seq);
    this.pendingCount--;
    if (mine.size === 0) this.pending.delete(request.clientId);
  }

  /** Drops a client's pending requests from sessions older than `session`, or with seq <= `seq` in it. */
  private dropPendingBelow(clientId: number, session: number, seq: number): void {
    const mine = this.pending.get(clientId);
    if (!mine) return;
    for (const [k, p] of mine) {
      if (p.request.session < session || (p.request.session === session && k <= seq)) {
        mine.delete(k);
        this.pendingCount--;
      }
    }
    if (mine.size === 0) this.pending.delete(clientId);
  }

  /** The replicated part of the sessions (for checkpoints): no pending requests, no cached replies. */
  records(): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const [clientId, s] of this.sessions) out.push({ clientId, session: s.session, lastSeq: s.lastSeq });
    return out;
  }

  /** Replaces the sessions with a checkpoint's; pending requests already executed there are dropped. */
  restore(records: readonly SessionRecord[]): void {
    this.sessions.clear();
    for (const r of records) this.sessions.set(r.clientId, { session: r.session, lastSeq: r.lastSeq, replies: new Map() });
    for (const r of records) this.dropPendingBelow(r.clientId, r.session, r.lastSeq);
  }

  /** Oldest arrival time among pending requests, or null if none. */
  oldestArrivalMs(): number | null {
    let oldest: number | null = null;
    for (const mine of this.pending.values()) for (const p of mine.values()) if (oldest === null || p.arrivalMs < oldest) oldest = p.arrivalMs;
    return oldest;
  }

  /** Restarts every pending request's timer (after a regency change, the new leader gets a full timeout). */
  restartTimers(nowMs: number): void {
    for (const mine of this.pending.values()) for (const p of mine.values()) p.arrivalMs = nowMs;
  }
}
