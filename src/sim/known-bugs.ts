/**
 * Core bugs the simulator found that are not fixed yet (details, root causes and replay
 * commands in docs/testing.md). A sweep reports a run whose
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
  /** Whether this bug explains `v`, one of the violations of a run (`run`: all of them). */
  matches(v: Violation, config: SimConfig, run: readonly Violation[]): boolean;
}

/**
 * Empty since the simulator's bugs were fixed: stop-not-retransmitted (STOP echo),
 * unreceived-request-blocks-ordering (f+1 WRITEs vouch for unreceived requests),
 * state-transfer-resets-current-instance (an overtaken transfer is abandoned) and
 * stopdata-after-checkpoint-invalid (a write certificate past the last proven decision
 * counts). Add an entry here only while a newly found bug is being fixed.
 */
export const KNOWN_CORE_BUGS: readonly KnownCoreBug[] = [];

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
    const bug = KNOWN_CORE_BUGS.find((b) => b.matches(representative, config, violations));
    if (!bug) return null;
    ids.add(bug.id);
  }
  return [...ids];
}
