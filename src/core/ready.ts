/**
 * What the core asks its host to do after a `step` (etcd raft's `Ready`).
 *
 * Persist before you speak: everything in `messages` and `replies` may be sent only
 * after every record in `persist` is durable, because those messages may depend on it
 * (a vote must never be contradicted after a crash).
 */
import type { Decision } from './messages.ts';

export type DurableRecord =
  /** A decided instance with its proof, to append to the decided log. */
  | { readonly kind: 'decision'; readonly decision: Decision }
  /** The regency this replica moved to; a restarted replica must not vote in an older one. */
  | { readonly kind: 'regency'; readonly regency: number };

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
  | { readonly type: 'catch-up-requested'; readonly fromCid: number };

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
