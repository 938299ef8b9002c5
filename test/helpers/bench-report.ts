/**
 * Small formatting helpers for benchmark output: percentiles, Markdown tables, and a
 * line describing the machine and its load (other work shares these cores).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** p50/p99/max of latency samples in ms (nearest-rank). An empty list gives NaNs. */
export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  const s = Float64Array.from(samplesMs).sort();
  const at = (q: number): number => (s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!);
  return { count: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s.length ? s[s.length - 1]! : Number.NaN };
}

/** A Markdown table; numbers are printed as given (format them first). */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** "1.23 s" style, for a duration in ms. */
export const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');

/** Mebibytes with one decimal. */
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The 1/5/15-minute load averages as "a / b / c". */
export const loadLine = (): string => loadavg().map((l) => l.toFixed(2)).join(' / ');

/** One line: date, CPU model and count, Node version, load average now. */
export function machineLine(): string {
  const c = cpus();
  return `${new Date().toISOString()} — ${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average (1/5/15 min) ${loadLine()}`;
}

/** The commit the working tree is based on (the tree may have uncommitted changes), or 'unknown'. */
export function sourceRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
