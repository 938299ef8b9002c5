/** Small helpers shared by the benchmarks: latency percentiles and per-process CPU from /proc. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface LatencyUs {
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** @param samplesUs latencies in µs (sorted in place). */
export function latencySummary(samplesUs: number[]): LatencyUs {
  samplesUs.sort((a, b) => a - b);
  const at = (q: number) => (samplesUs.length === 0 ? 0 : samplesUs[Math.min(samplesUs.length - 1, Math.floor(q * samplesUs.length))]!);
  const avg = samplesUs.length === 0 ? 0 : samplesUs.reduce((a, b) => a + b, 0) / samplesUs.length;
  return { avg: Math.round(avg), p50: Math.round(at(0.5)), p90: Math.round(at(0.9)), p99: Math.round(at(0.99)), p999: Math.round(at(0.999)) };
}

/** CPU time (ms) a process has used so far (user + system), or NaN if it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 Hz here).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits for `work` to settle, at most `ms`, and clears its timer either way: a pending
 * `sleep` in a `Promise.race` kept the benchmark process alive (and idle) for its whole
 * length after the results were printed.
 * @returns true if `work` settled in time.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits `warmupS`, then measures for `measureS`: calls `setMeasuring(true/false)` around
 * the window and samples the CPU of `pids` (name -> pid) over it.
 * @returns the window's length (ms) and each process's CPU in % of one core.
 */
export async function measureWindow(
  pids: ReadonlyMap<string, number>,
  warmupS: number,
  measureS: number,
  setMeasuring: (on: boolean) => void,
): Promise<{ elapsedMs: number; cpuPercent: Record<string, number> }> {
  await sleep(warmupS * 1000);
  const cpu0 = new Map([...pids].map(([k, pid]) => [k, cpuMs(pid)]));
  setMeasuring(true);
  const t0 = performance.now();
  await sleep(measureS * 1000);
  setMeasuring(false);
  const elapsedMs = performance.now() - t0;
  const cpuPercent = Object.fromEntries([...pids].map(([k, pid]) => [k, Math.round(((cpuMs(pid) - cpu0.get(k)!) / elapsedMs) * 100)]));
  return { elapsedMs, cpuPercent };
}

/**
 * The line that ends a benchmark's report: each process's CPU (in % of one core), and their
 * sum per operation in µs, all processes together. Throughput and latency at low load also
 * count time spent waiting for a core; the sum says what a lever costs or saves (it still
 * moves with the machine's hour: waking halted vCPUs and switching contexts cost CPU too).
 * @param cpuPercent from `measureWindow`; @param opsPerS the run's throughput (ops/s).
 */
export function formatCpu(cpuPercent: Readonly<Record<string, number>>, opsPerS: number): string {
  const total = Object.values(cpuPercent).reduce((sum, v) => sum + v, 0);
  const perOp = opsPerS > 0 ? `${Math.round((total / 100 / opsPerS) * 1e6)} us` : 'n/a';
  return `cpu % of a core: ${Object.entries(cpuPercent).map(([k, v]) => `${k} ${v}`).join(', ')}; all processes: ${perOp} of CPU per operation`;
}

/** name -> pid for a local cluster's replicas and this process. */
export function clusterPids(processes: ReadonlyMap<number, { pid?: number | undefined }>, prefix = 'replica'): Map<string, number> {
  const pids = new Map<string, number>([...processes].map(([id, c]) => [`${prefix}-${id}`, c.pid!]));
  pids.set('client', process.pid);
  return pids;
}
