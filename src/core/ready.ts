/**
 * What the core asks its host to do after a `step` (etcd raft's `Ready`).
 *
 * Persist before you speak: everything in `messages` and `replies` may be sent only
 * after every record in `persist` that `mustPersistBeforeSpeaking` is durable, and after
 * every earlier Ready's records that are, because those messages may depend on them (a
 * vote must never be contradicted after a crash).
 * Records are written in order, atomically per Ready; a record that need not be durable
 * first must still be durable no later than the next record that must.
 */
import type { VoteState } from './codec.ts';
import type { Decision } from './messages.ts';

export type DurableRecord =
  /** A decided instance with its proof, to append to the decided log. */
  | { readonly kind: 'decision'; readonly decision: Decision }
  /** The regency this replica moved to; a restarted replica must not vote in an older one. */
  | { readonly kind: 'regency'; readonly regency: number }
  /**
   * What this replica voted in the current instance (replaces the previous record).
   * `mayDefer`: a WRITE-phase record (nothing ACCEPTed in it) of a replica whose durable
   * state already shows that it ran, so that a restart fences it (see
   * `mustPersistBeforeSpeaking`).
   */
  | { readonly kind: 'votes'; readonly votes: VoteState; readonly mayDefer?: boolean }
  /** This replica's checkpoint after executing `cid` (canonical bytes and their digest). */
  | { readonly kind: 'checkpoint'; readonly cid: number; readonly digest: Uint8Array; readonly bytes: Uint8Array }
  /**
   * The checkpoint at `cid` is stable (or was installed by state transfer): decisions up
   * to `cid` and older checkpoints may be deleted.
   */
  | { readonly kind: 'stable-checkpoint'; readonly cid: number };

/**
 * Whether `record` must be durable before the Ready's messages and replies leave. Two
 * kinds need not; the host may defer them to the next write that must be durable.
 *
 * A decision:
 * - a replica that crashes and loses it restarts one instance behind (whatever it voted
 *   there was durable before the vote left) and catches up from the others, who hold the
 *   decision and its proof;
 * - if every replica loses it, the value is still safe: the quorum that ACCEPTed it had
 *   each made its write certificate durable before ACCEPTing, so any quorum of STOPDATAs
 *   in the next regency reports it and the new leader must propose it again (Mod-SMaRt's
 *   synchronization phase, Sousa & Bessani, EDCC 2012, §5). It is decided sooner than
 *   that: each accepter sends its restored ACCEPT again when it restarts (`resendAccept`).
 * What the replica said about the decision (replies, the next PROPOSE) is what it would
 * say again after catching up, because execution is deterministic.
 * Why: a decision record was one of three fsyncs per instance on the critical path
 * (`docs/performance.md`, lever 28).
 *
 * A WRITE-phase vote record (`mayDefer`):
 * - a replica that loses it may have sent a WRITE (or, as leader, a PROPOSE) that it no
 *   longer remembers. So a replica restarted from durable state is fenced (recovery.ts): it
 *   sends no PROPOSE and no WRITE in the regency it recovered, and votes again from the
 *   next one. It cannot contradict what it forgot, and a correct leader never equivocates.
 * - what leader change relies on is unchanged: the write certificate is in the ACCEPT-phase
 *   record, which stays durable before the ACCEPT leaves. A WRITE alone decides nothing;
 *   a quorum of others' WRITEs gives the others their certificates.
 * - a replica whose durable state is still empty cannot tell a first start (not fenced)
 *   from a restart that lost everything, so its records stay durable first until one is
 *   (`Replica.durablyStarted`).
 * - the cost: a replica restarted after a crash sits out the rest of its regency. A
 *   crashed leader, or two crashed replicas out of four, means a leader change (one
 *   request timeout). A clean stop writes everything and marks the store, and a replica
 *   that finds the mark is not fenced (`RecoveredState.cleanStop`).
 * Why: the WRITE records were two of the three fsync stages on an instance's critical
 * path, the leader's before its PROPOSE and each follower's before its WRITE
 * (`docs/performance.md`, lever 30).
 */
export function mustPersistBeforeSpeaking(record: DurableRecord): boolean {
  if (record.kind === 'decision') return false;
  if (record.kind === 'votes' && record.mayDefer === true) return false;
  return true;
}

export interface OutboundMessage {
  /** Replica ids to send to (never the sender itself). */
  readonly to: readonly number[];
  readonly bytes: Uint8Array;
}

export interface OutboundReply {
  readonly clientId: number;
  readonly bytes: Uint8Array;
}

/** Something observable happened: for logs, metrics and the simulator's checkers. */
export type CoreEvent =
  | { readonly type: 'dropped'; readonly from: string; readonly reason: string }
  | { readonly type: 'decided'; readonly cid: number; readonly regency: number; readonly requests: number; readonly digestHex: string }
  | { readonly type: 'regency-installed'; readonly regency: number; readonly leader: number }
  | { readonly type: 'synchronized'; readonly regency: number; readonly cid: number; readonly bound: boolean }
  | { readonly type: 'stop-sent'; readonly regency: number; readonly reason: string }
  | { readonly type: 'catch-up-requested'; readonly fromCid: number }
  | { readonly type: 'checkpoint-taken'; readonly cid: number; readonly digestHex: string }
  | { readonly type: 'checkpoint-stable'; readonly cid: number; readonly digestHex: string }
  /** A quorum's checkpoint digest differs from ours: our state diverged; we fetch theirs. */
  | { readonly type: 'state-divergence'; readonly cid: number; readonly ours: string; readonly quorum: string }
  | { readonly type: 'state-transfer-started'; readonly fromCid: number; readonly reason: string }
  /** A replica served state that does not match the digest f+1 replicas vouched for. */
  | { readonly type: 'state-transfer-rejected'; readonly source: number; readonly reason: string }
  | { readonly type: 'state-transferred'; readonly cid: number; readonly source: number; readonly bytes: number }
  /** Normal progress decided the checkpoint's instance first: the transfer is dropped, not installed. */
  | { readonly type: 'state-transfer-abandoned'; readonly cid: number; readonly lastDecidedCid: number };

export interface Ready {
  readonly persist: DurableRecord[];
  readonly messages: OutboundMessage[];
  readonly replies: OutboundReply[];
  readonly events: CoreEvent[];
}

export function emptyReady(): Ready {
  return { persist: [], messages: [], replies: [], events: [] };
}

export function isEmpty(r: Ready): boolean {
  return r.persist.length === 0 && r.messages.length === 0 && r.replies.length === 0 && r.events.length === 0;
}
