/**
 * Core bugs the simulator found that are not fixed yet (details, root causes and replay
 * commands in /work/notes/sim-bugs.md and docs/testing.md). Fixed in a2cbbf2 and removed
 * from this list: lagging-leader-equivocates, lagging-leader-sync-timestamp,
 * sync-forward-blames-author (and most of stop-not-retransmitted). A sweep reports a run whose
 * every violation matches one of these as "known" instead of failed, so it keeps finding
 * new bugs meanwhile. When the core owner fixes one, its entry is deleted here and its
 * regression test in test/unit/sim-regressions.test.ts loses its `todo`.
 */
import type { Violation } from './checkers/violations.ts';
import type { SimConfig } from './config.ts';

export interface KnownCoreBug {
  readonly id: string;
  /** One line: what goes wrong. */
  readonly summary: string;
  matches(v: Violation, config: SimConfig): boolean;
}

export const KNOWN_CORE_BUGS: readonly KnownCoreBug[] = [
  {
    id: 'stop-not-retransmitted',
    summary: 'replicas that installed a regency without its SYNC and replicas still asking for it cannot reach a quorum together; the group stalls (liveness; the case a2cbbf2 leaves)',
    matches: (v) => v.checker === 'liveness' && /waits for STOP/.test(v.message),
  },
  {
    id: 'unreceived-request-blocks-ordering',
    summary:
      'without signed requests, a proposal holding a request some correct replicas never received (a Byzantine client sent it to some only, or two versions under one seq) blocks its instance in every regency (liveness)',
    matches: (v, c) => v.checker === 'liveness' && !c.replica.requireSignedRequests && c.clients.byzantine.length > 0,
  },
  {
    id: 'state-transfer-resets-current-instance',
    summary: "a state transfer that completes after the replica decided the checkpoint's instance resets the next instance: the replica votes (and, as leader, proposes) twice in one regency",
    matches: (v) => v.checker === 'accusation' && /conflicting (WRITE|ACCEPT) for instance \d+ in regency \d+/.test(v.message),
  },
];

/**
 * The known bug ids that explain `violations`, or null if any violation is unexplained.
 * A run's liveness violations share one cause: the first (which carries the diagnosis of
 * where the replicas stand) stands for all of them.
 */
export function explainedBy(violations: readonly Violation[], config: SimConfig): string[] | null {
  const ids = new Set<string>();
  const firstLiveness = violations.find((v) => v.checker === 'liveness');
  for (const v of violations) {
    const representative = v.checker === 'liveness' && firstLiveness ? firstLiveness : v;
    const bug = KNOWN_CORE_BUGS.find((b) => b.matches(representative, config));
    if (!bug) return null;
    ids.add(bug.id);
  }
  return [...ids];
}
