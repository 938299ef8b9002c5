/**
 * The view: which replicas form the group, and the quorums that follow from it.
 *
 * Membership is data, not constants: a later reconfiguration installs a new `View`
 * with a higher `id`. Quorum sizes follow Mod-SMaRt (Sousa & Bessani, EDCC 2012, §3):
 * with n replicas tolerating f Byzantine ones (n >= 3f+1), a Byzantine quorum is
 * ceil((n+f+1)/2) — any two such quorums intersect in at least f+1 replicas, so in at
 * least one correct replica. A client needs f+1 matching replies for an ordered request.
 */

export interface View {
  /** Monotonic view number; 0 for the initial view. */
  readonly id: number;
  /** Replica ids in the group, in the order that defines the leader rotation. */
  readonly members: readonly number[];
  /** Number of Byzantine replicas tolerated. */
  readonly f: number;
}

/** Creates a view and checks n >= 3f+1. @throws RangeError for an impossible configuration. */
export function makeView(members: readonly number[], f: number, id = 0): View {
  const n = members.length;
  if (!Number.isInteger(f) || f < 0) throw new RangeError(`f must be a non-negative integer, got ${f}`);
  if (n < 3 * f + 1) throw new RangeError(`n = ${n} replicas cannot tolerate f = ${f} Byzantine faults (need n >= 3f+1 = ${3 * f + 1})`);
  if (new Set(members).size !== n) throw new RangeError('view members must be distinct');
  for (const m of members) if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) throw new RangeError(`bad replica id ${m}`);
  return { id, members: [...members], f };
}

/** The largest f that n replicas tolerate: floor((n-1)/3). */
export function maxFaults(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Byzantine quorum ceil((n+f+1)/2): WRITEs and ACCEPTs to progress, STOPs to change regency, STOPDATAs to SYNC. */
export function byzantineQuorum(view: View): number {
  return Math.ceil((view.members.length + view.f + 1) / 2);
}

/** f+1: enough replicas that at least one is correct (matching replies, joining a STOP). */
export function correctWitnesses(view: View): number {
  return view.f + 1;
}

/** Leader of a regency: round-robin over the members (BFT-SMaRt's regency r -> members[r mod n]). */
export function leaderOf(view: View, regency: number): number {
  return view.members[regency % view.members.length] as number;
}

export function isMember(view: View, replicaId: number): boolean {
  return view.members.includes(replicaId);
}
