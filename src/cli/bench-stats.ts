/** Small helpers shared by the benchmarks: latency percentiles and per-process CPU from /proc. */
import { readFileSync } from 'node:fs';

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
