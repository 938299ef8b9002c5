/**
 * Sweeps: many seeds, one run each, in this process. A failing seed is reported with
 * the command that replays it. The CLI runs sweeps across worker processes
 * (`sweep-workers.ts`); tests call `sweep` directly.
 */
import type { Violation } from './checkers/violations.ts';
import type { GenerateOptions } from './generate.ts';
import { explainedBy } from './known-bugs.ts';
import { replayCommand, runSeed } from './run.ts';

/** What a sweep keeps of one run (small enough to pass between processes). */
export interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  /** Over-f mode and a safety checker fired: the expected detection. */
  readonly detected: boolean;
  readonly violations: readonly Violation[];
  readonly operations: number;
  readonly decisions: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  /** Set when the simulator itself threw (a bug in the simulator, never expected). */
  readonly crashed?: string;
  /** Known core bugs (known-bugs.ts) that explain every violation of a failed run. */
  readonly known?: readonly string[];
}

export interface SweepSummary {
  readonly seeds: number;
  readonly passed: number;
  readonly failed: number;
  readonly detected: number;
  readonly operations: number;
  readonly decisions: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly failures: readonly SeedOutcome[];
  /** First checker of each failure, counted. */
  readonly byChecker: Readonly<Record<string, number>>;
  /** Runs explained by known core bugs: seeds per bug id (counted as passed only when tolerated). */
  readonly known: Readonly<Record<string, readonly number[]>>;
}

/**
 * Runs one seed and condenses the result; a simulator exception becomes a failed outcome.
 * @param tolerateKnown count a run whose violations are all known core bugs as passed.
 */
export async function runOutcome(seed: number, generate: GenerateOptions, tolerateKnown = true): Promise<SeedOutcome> {
  const start = performance.now();
  try {
    const r = await runSeed(seed, generate);
    const safety = r.violations.some((v) => v.checker !== 'liveness');
    const detected = r.overF && safety;
    const known = r.ok || r.overF ? null : explainedBy(r.violations, r.config);
    return {
      seed,
      ok: r.ok || r.overF || (tolerateKnown && known !== null),
      ...(known ? { known } : {}),
      detected,
      violations: r.violations,
      operations: r.stats.operationsCompleted,
      decisions: r.stats.decisions,
      simulatedMs: r.stats.simulatedMs,
      wallMs: r.wallMs,
    };
  } catch (e) {
    const crashed = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { seed, ok: false, detected: false, violations: [], operations: 0, decisions: 0, simulatedMs: 0, wallMs: performance.now() - start, crashed };
  }
}

export function summarize(outcomes: readonly SeedOutcome[], wallMs: number): SweepSummary {
  const failures = outcomes.filter((o) => !o.ok);
  const byChecker: Record<string, number> = {};
  for (const f of failures) {
    const key = f.crashed ? 'simulator-crashed' : (f.violations[0]?.checker ?? 'unknown');
    byChecker[key] = (byChecker[key] ?? 0) + 1;
  }
  const known: Record<string, number[]> = {};
  for (const o of outcomes) for (const id of o.known ?? []) (known[id] ??= []).push(o.seed);
  return {
    seeds: outcomes.length,
    known,
    passed: outcomes.length - failures.length,
    failed: failures.length,
    detected: outcomes.filter((o) => o.detected).length,
    operations: outcomes.reduce((s, o) => s + o.operations, 0),
    decisions: outcomes.reduce((s, o) => s + o.decisions, 0),
    simulatedMs: outcomes.reduce((s, o) => s + o.simulatedMs, 0),
    wallMs,
    failures,
    byChecker,
  };
}

/**
 * Runs seeds `from` .. `from + count - 1`, stopping early once `wallBudgetMs` is spent
 * (or at the first failure, with `stopAtFirstFailure`).
 * @param onOutcome called after each seed (progress, printing).
 */
export async function sweep(
  from: number,
  count: number,
  generate: GenerateOptions = {},
  options: { wallBudgetMs?: number; tolerateKnown?: boolean; stopAtFirstFailure?: boolean; onOutcome?: (o: SeedOutcome) => void } = {},
): Promise<SweepSummary> {
  const start = performance.now();
  const outcomes: SeedOutcome[] = [];
  for (let seed = from; seed < from + count; seed++) {
    if (options.wallBudgetMs !== undefined && performance.now() - start > options.wallBudgetMs) break;
    const o = await runOutcome(seed, generate, options.tolerateKnown ?? true);
    outcomes.push(o);
    options.onOutcome?.(o);
    if (options.stopAtFirstFailure && !o.ok) break;
  }
  return summarize(outcomes, performance.now() - start);
}

/** Lines describing one failing outcome: checker, message, replay command. */
export function describeFailure(o: SeedOutcome, generate: GenerateOptions): string {
  if (o.crashed) return `FAIL seed ${o.seed}: the simulator crashed: ${o.crashed.split('\n').slice(0, 4).join('\n  ')}\n  replay: ${replayCommand(o.seed, generate)}`;
  const v = o.violations[0];
  const more = o.violations.length > 1 ? ` (+${o.violations.length - 1} more)` : '';
  return `FAIL seed ${o.seed}: [${v?.checker}] ${v?.message}${more}\n  replay: ${replayCommand(o.seed, generate)}`;
}
