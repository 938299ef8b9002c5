/**
 * Byzantine behaviour as configuration (style.md practice 13; malachite's
 * engine-byzantine): a faulty replica runs the honest core, and a proxy around its
 * inputs and outputs applies these behaviours, each with a trigger. The names are the
 * issue's list; `replica-proxy.ts` says exactly what each one does.
 */

/** When a behaviour fires. Instance and regency triggers compare with the message's own cid/regency when it has one, else with the replica's. */
export type Trigger =
  | { readonly kind: 'always' }
  | { readonly kind: 'probability'; readonly p: number }
  | { readonly kind: 'instance'; readonly cid: number }
  | { readonly kind: 'regency'; readonly regency: number };

export const REPLICA_BEHAVIOURS = [
  /** Sends nothing (replicas and clients). */
  'silent',
  /** Sends nothing while it leads its current regency. */
  'silent-leader',
  /** Delays every output by `delayMs`. */
  'slow',
  /** As leader, PROPOSEs a different (valid-looking) batch to part of the group. */
  'equivocate',
  /** As leader, PROPOSEs garbage, out-of-sequence, forged-request or backdated batches. */
  'invalid-propose',
  /** As leader, PROPOSEs twice, and batches that repeat or re-order already executed requests. */
  'duplicate-propose',
  /** Sends WRITE/ACCEPT votes for another digest to part of the group (validly signed). */
  'conflicting-votes',
  /** Rewrites the regency of its votes, PROPOSEs and STOPs to a stale or future one. */
  'wrong-regency',
  /** Sends messages with bad signatures, another sender's id, or fake decision proofs. */
  'forge',
  /** Flips, truncates or extends the bytes of its messages. */
  'garble',
  /** Re-sends messages it sent or received earlier. */
  'replay',
  /** Sends STOPDATA that hides or backdates what it decided and wrote (validly signed). */
  'wrong-stopdata',
  /** As new leader, sends SYNCs with another value, too few or duplicated STOPDATAs, the wrong instance, or different values to different replicas. */
  'wrong-sync',
  /** Replies to clients with wrong results, validly signed. */
  'wrong-results',
  /** Reports checkpoint digests it did not compute and serves corrupted state chunks. */
  'corrupt-checkpoint',
  /**
   * Over-f mode only: all faulty replicas collude — a faulty leader equivocates and every
   * faulty replica votes, to each correct replica, for the value that replica was shown.
   */
  'collude',
] as const;

export type ReplicaBehaviourKind = (typeof REPLICA_BEHAVIOURS)[number];

export interface ReplicaBehaviour {
  readonly kind: ReplicaBehaviourKind;
  readonly trigger: Trigger;
  /** 'slow' only: extra delay of every output (ms). */
  readonly delayMs?: number;
}

export const CLIENT_BEHAVIOURS = [
  /** Undecodable bytes, replica-only message types, another client's id in the request. */
  'malformed',
  /** Well-formed wallet operations with bad signatures or signed by the wrong key. */
  'bad-signature',
  /** Different payloads under the same sequence number to different replicas. */
  'conflicting-seq',
  /** Bursts of requests: far-future sequence numbers, new sessions, large payloads. */
  'flood',
] as const;

export type ClientBehaviourKind = (typeof CLIENT_BEHAVIOURS)[number];

export interface ByzantineClientSpec {
  readonly clientId: number;
  readonly kind: ClientBehaviourKind;
  /** Mean time between two bad actions (ms). */
  readonly everyMs: number;
}

/** A short text form for traces and reports, e.g. "equivocate(p=0.5)". */
export function describeBehaviour(b: ReplicaBehaviour): string {
  const t = b.trigger;
  const trigger = t.kind === 'always' ? '' : t.kind === 'probability' ? `p=${t.p}` : t.kind === 'instance' ? `cid=${t.cid}` : `regency=${t.regency}`;
  const extra = b.kind === 'slow' ? `${b.delayMs}ms` : '';
  const args = [trigger, extra].filter((x) => x !== '').join(',');
  return args ? `${b.kind}(${args})` : b.kind;
}
