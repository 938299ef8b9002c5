/**
 * Repeated benchmark runs and their median (`bench micro --runs k`, `bench wallet --runs k`).
 *
 * Why: on this 2-vCPU virtual machine one build's runs a few minutes apart differ by up to a
 * factor of two (docs/benchmarks.md), so one run is a weak figure. The issue states
 * BFT-SMaRt's figures as the median of 5 runs; `--runs 5` gives Bulwark's the same way.
 *
 * Each figure is the median of that figure over the runs, taken field by field (the median
 * p50 and the median p99 may come from different runs); counts (operations, failures) are
 * summed. With an even number of runs the median is the mean of the middle two.
 */
import type { LatencyUs } from './bench-stats.ts';

/** The middle of some runs' values, and their extremes. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * @param values one figure of each run (not changed).
 * @returns its median (rounded to an integer, as the figures are), min and max.
 * @throws RangeError if `values` is empty or holds a value that is not finite.
 */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spreadOf: no runs');
  if (!values.every(Number.isFinite)) throw new RangeError(`spreadOf: a value that is not finite in [${values.join(', ')}]`);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: Math.round(median), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Field-by-field medians of latency summaries. @throws RangeError if `runs` is empty. */
export function medianLatency(runs: readonly LatencyUs[]): LatencyUs {
  const m = (k: keyof LatencyUs) => spreadOf(runs.map((r) => r[k])).median;
  return { avg: m('avg'), p50: m('p50'), p90: m('p90'), p99: m('p99'), p999: m('p999') };
}

/**
 * Per-process CPU medians, over the processes every run reports (a process missing from a
 * run, say one that crashed, has no figure there). @throws RangeError if `runs` is empty.
 */
export function medianCpu(runs: readonly Record<string, number>[]): Record<string, number> {
  if (runs.length === 0) throw new RangeError('medianCpu: no runs');
  const names = Object.keys(runs[0]!).filter((k) => runs.every((r) => Number.isFinite(r[k])));
  return Object.fromEntries(names.map((k) => [k, spreadOf(runs.map((r) => r[k]!)).median]));
}

/**
 * Runs `once` `runs` times, one after the other, handing each result to `onRun` as it comes.
 * @param runs how many (a positive integer).
 * @returns the results in run order.
 * @throws RangeError if `runs` is not a positive integer; whatever a run throws (the runs
 *   after it are not started).
 */
export async function repeatRuns<R>(runs: number, once: () => Promise<R>, onRun: (result: R, index: number) => void = () => {}): Promise<R[]> {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const results: R[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    results.push(r);
    onRun(r, i);
  }
  return results;
}

/** "median 1234 us (1100–1400 us)" for a summary line. */
export function formatSpread(s: Spread, unit = ''): string {
  return `median ${s.median}${unit} (${s.min}–${s.max}${unit})`;
}

/** How one benchmark's results are printed and combined (see `benchRuns`). */
export interface RunsReport<R> {
  /** The full text of one result (also used for the medians). */
  format(result: R): string;
  /** The runs' medians as one result. */
  median(runs: readonly R[]): R;
  /** One line summing up a run, printed as it ends. */
  runLine(result: R): string;
  /** The spreads worth a line at the end, as "figure median … (min–max …)" parts. */
  spreads(runs: readonly R[]): string[];
}

/**
 * Runs a benchmark `o.runs` times (default 1) and prints it: one run as before (its text,
 * or its JSON object); several as a line per run, then the medians in the same format and
 * a spread line, or with `o.json` one object of the medians with every run under `runs`.
 * @throws RangeError if `o.runs` is not a positive integer; whatever a run throws.
 */
export async function benchRuns<R extends object>(o: { runs?: number; json?: boolean }, once: () => Promise<R>, report: RunsReport<R>): Promise<void> {
  const k = o.runs ?? 1;
  const runs = await repeatRuns(k, once, (r, i) => {
    if (k > 1 && !o.json) console.log(`run ${i + 1} of ${k}: ${report.runLine(r)}`);
  });
  if (k === 1) return console.log(o.json ? JSON.stringify(runs[0]) : report.format(runs[0]!));
  const median = report.median(runs);
  if (o.json) return console.log(JSON.stringify({ ...median, runs }));
  console.log(`median of ${k} runs (each figure on its own):\n${report.format(median)}`);
  console.log(`spread: ${report.spreads(runs).join(', ')}`);
}
