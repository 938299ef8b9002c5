/**
 * Core bugs the simulator found that are not fixed yet (details, root causes and replay
 * commands in /work/notes/sim-bugs.md and docs/testing.md). A sweep reports a run whose
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
    summary: 'a lost STOP is never sent again: replicas wait forever for a STOP quorum (liveness)',
    matches: (v) => v.checker === 'liveness' && /waits for STOP/.test(v.message),
  },
  {
    id: 'conflicting-request-blocks-ordering',
    summary: 'a client that sends different requests under one seq to different replicas stops all ordering (liveness)',
    matches: (v, c) => v.checker === 'liveness' && c.clients.byzantine.some((b) => b.kind === 'conflicting-seq'),
  },
  {
    id: 'lagging-leader-sync-timestamp',
    summary: "a new leader that lags proposes in its SYNC a batch timestamped before the decision it then applies; every replica rejects it",
    matches: (v) => v.checker === 'accusation' && /invalid PROPOSE for instance \d+: timestamp \d+ before the previous batch's/.test(v.message),
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
