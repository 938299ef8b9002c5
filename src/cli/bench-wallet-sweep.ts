/**
 * `bulwark bench wallet-sweep`: the wallet's latency against the load offered to it. Runs
 * `bench wallet --rate R` (the open loop, bench-load.ts) once per rate, each point a child
 * process (bench-child.ts says why), writes every point to a JSON file, and draws p50, p90
 * and p99 of a transfer against the throughput achieved, each point labelled with its
 * offered rate (plot-throughput-latency.ts).
 *
 * Why an open loop for this chart: in a closed loop, more clients means both more load and
 * more queueing inside the clients, which the latency does not show; at a set rate, the
 * latency is what an arrival at that rate gets, so the curve shows where queues start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { runBenchChild } from './bench-child.ts';
import { parseIntegerList } from './bench-sweep.ts';
import { CLUSTER_OPS_PER_S_MAX, type WalletBenchResult } from './bench-wallet.ts';
import type { LatencyRow } from './plot-throughput-latency.ts';

export interface WalletSweepOptions {
  /** Comma-separated offered rates (transfers/s), e.g. `100,200,400`. */
  rates: string;
  /** The most transfers in flight (the open loop's clients). */
  clients: number;
  warmupS: number;
  measureS: number;
  storage: 'embedded' | 'memory';
  basePort: number;
  /** The JSON file of all points. */
  out: string;
  /** The chart (default: `out` with .svg for .json). */
  svg?: string;
  /** commander's `--no-plot` sets this false: write the JSON only. */
  plot?: boolean;
}

/** One measured point: bench wallet's result at an offered rate, and the load around it. */
export interface WalletSweepPoint extends WalletBenchResult {
  offeredOpsPerS: number;
  /** 1-minute load average just before and after the point (the machine is often shared). */
  loadAvg1Before: number;
  loadAvg1After: number;
  startedAt: string;
}

export interface WalletSweepFile {
  kind: 'bulwark-wallet-open-loop';
  version: 1;
  startedAt: string;
  finishedAt: string | null;
  machine: { cores: number; node: string };
  options: { rates: number[]; clients: number; warmupS: number; measureS: number; storage: string; basePort: number };
  points: WalletSweepPoint[];
  failed: { offeredOpsPerS: number; error: string }[];
}

/** At most this many rates in one sweep (each point is about 40 s). */
export const RATES_MAX = 32;

/** The percentiles drawn, one line each. */
const PERCENTILES = ['p50', 'p90', 'p99'] as const;

/** Parses `--rates` (see parseIntegerList): at most RATES_MAX rates, each ≤ CLUSTER_OPS_PER_S_MAX transfers/s. */
export function parseRates(list: string): number[] {
  return parseIntegerList(list, '--rates', CLUSTER_OPS_PER_S_MAX, RATES_MAX, ['rate', 'rates']);
}

/** The arguments after `main.ts` for the point at `rate`. */
export function walletSweepArgs(rate: number, o: Pick<WalletSweepOptions, 'clients' | 'warmupS' | 'measureS' | 'storage' | 'basePort'>): string[] {
  return [
    'bench', 'wallet',
    '--workload', 'transfers',
    '--rate', String(rate),
    '--clients', String(o.clients),
    '--warmup-s', String(o.warmupS),
    '--measure-s', String(o.measureS),
    '--storage', o.storage,
    '--base-port', String(o.basePort),
    '--json',
  ];
}

/** The chart's rows: per point, a transfer's p50, p90 and p99 (ms) at its achieved throughput, labelled with the offered rate. */
export function walletSweepRows(points: readonly WalletSweepPoint[]): LatencyRow[] {
  return PERCENTILES.flatMap((pc) =>
    points.flatMap((p) => {
      const latency = p.perOperation['transfer']?.latencyUs;
      return latency ? [{ series: pc, order: p.offeredOpsPerS, throughputOpsPerS: p.throughputOpsPerS, latencyMs: latency[pc] / 1000, label: String(p.offeredOpsPerS) }] : [];
    }),
  );
}

/**
 * `bulwark bench wallet-sweep`. The JSON file is rewritten after each point (a sweep stopped
 * halfway keeps what it measured); a failed point is recorded under `failed` and the sweep
 * goes on.
 * @throws Error for bad options, or if the chart cannot be drawn (the JSON is written first).
 */
export async function benchWalletSweep(o: WalletSweepOptions): Promise<void> {
  const rates = parseRates(o.rates);
  if (o.clients < 1) throw new Error('--clients: at least 1');
  const file: WalletSweepFile = {
    kind: 'bulwark-wallet-open-loop',
    version: 1,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: { cores: availableParallelism(), node: process.version },
    options: { rates, clients: o.clients, warmupS: o.warmupS, measureS: o.measureS, storage: o.storage, basePort: o.basePort },
    points: [],
    failed: [],
  };
  mkdirSync(dirname(o.out), { recursive: true });
  const save = () => writeFileSync(o.out, JSON.stringify(file, null, 2) + '\n');
  // Cluster start and population (up to a minute), the window, draining and stopping, with margin.
  const deadlineMs = (o.warmupS + o.measureS) * 1000 + 180_000;
  for (const [i, rate] of rates.entries()) {
    const startedAt = new Date().toISOString();
    const loadAvg1Before = round2(loadavg()[0] ?? 0);
    try {
      const r = await runBenchChild(walletSweepArgs(rate, o), deadlineMs, 'bench wallet', (x: WalletBenchResult) => typeof x.throughputOpsPerS === 'number' && typeof x.perOperation?.['transfer']?.latencyUs?.p50 === 'number');
      file.points.push({ ...r, offeredOpsPerS: rate, loadAvg1Before, loadAvg1After: round2(loadavg()[0] ?? 0), startedAt });
      const l = r.perOperation['transfer']!.latencyUs;
      console.log(`[${i + 1}/${rates.length}] ${rate}/s offered: ${r.throughputOpsPerS} transfers/s, p50 ${(l.p50 / 1000).toFixed(1)} ms, p99 ${(l.p99 / 1000).toFixed(1)} ms, largest backlog ${r.openLoop?.backlogMax ?? '?'}, load ${loadAvg1Before}`);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      file.failed.push({ offeredOpsPerS: rate, error });
      console.error(`[${i + 1}/${rates.length}] ${rate}/s offered: FAILED: ${error}`);
    }
    save();
  }
  file.finishedAt = new Date().toISOString();
  save();
  console.log(`wrote ${o.out} (${file.points.length} points, ${file.failed.length} failed)`);
  if (o.plot === false) return;
  const { latencyChartSpec, renderSvg, svgBeside } = await import('./plot-throughput-latency.ts');
  const svgPath = o.svg ?? svgBeside(o.out);
  const subtitle = `owner-signed transfers over HTTPS, open loop (label: offered transfers/s), at most ${o.clients} in flight, ${o.storage} store, ${o.warmupS} s warm-up, ${o.measureS} s measured per point`;
  const svg = await renderSvg(latencyChartSpec(walletSweepRows(file.points), { title: 'Bulwark wallet: latency against offered load', subtitle, yTitle: 'Transfer latency (ms)', legendTitle: 'Percentile', orderTitle: 'offered (transfers/s)' }));
  writeFileSync(svgPath, svg);
  console.log(`wrote ${svgPath}`);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
