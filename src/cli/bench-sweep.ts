/**
 * `bulwark bench sweep`: the throughput–latency curve of issue 5. Runs `bench micro` once
 * per (client count, configuration), writes every point to a JSON file, then draws the
 * chart (plot-throughput-latency.ts): x = throughput, y = p50 latency, one line per
 * configuration.
 *
 * Each point is a child process (`bench micro ... --json`, bench-child.ts says why).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { MicroResult } from './bench-micro.ts';
import { runBenchChild } from './bench-child.ts';

/** One line of the chart: what differs between runs of `bench micro` at a client count. */
export interface SweepConfig {
  /** As written in --configs, e.g. `0/0`, `1024/0+signed`, `n7`. */
  key: string;
  /** Legend text, e.g. `n=4, 1024/0 B, signed requests`. */
  label: string;
  replicas: number;
  requestBytes: number;
  replyBytes: number;
  signedRequests: boolean;
}

export interface SweepOptions {
  /** Comma-separated client counts, e.g. `1,2,4,8,16,32,64`. */
  clients: string;
  /** Comma-separated configurations (see parseConfigs). */
  configs: string;
  window: number;
  warmupS: number;
  measureS: number;
  basePort: number;
  /** The JSON file of all points. */
  out: string;
  /** The chart (default: `out` with .svg for .json). */
  svg?: string;
  /** commander's `--no-plot` sets this false: write the JSON only. */
  plot?: boolean;
}

/** One measured point: bench micro's result plus which configuration and the load around it. */
export interface SweepPoint extends MicroResult {
  config: string;
  label: string;
  /** 1-minute load average just before and after the point (the machine is often shared). */
  loadAvg1Before: number;
  loadAvg1After: number;
  startedAt: string;
}

export interface SweepFailure {
  config: string;
  label: string;
  clients: number;
  error: string;
}

/** The JSON file `bench sweep` writes and `bench plot` reads. */
export interface SweepFile {
  kind: 'bulwark-throughput-latency';
  version: 1;
  startedAt: string;
  finishedAt: string | null;
  machine: { cores: number; node: string };
  options: { clients: number[]; configs: string[]; window: number; warmupS: number; measureS: number; basePort: number };
  points: SweepPoint[];
  failed: SweepFailure[];
}

/** Bounds on what one sweep may ask for (a sweep is hours at the upper end already). */
export const CLIENTS_MAX = 1024;
export const CONFIGS_MAX = 16;
export const CLIENT_COUNTS_MAX = 32;
/** Replicas per config: n = 3f+1 and ports base-port + i must stay distinct from the API's (+500). */
export const REPLICAS_MAX = 100;
/** Request or reply bytes per config. */
export const PAYLOAD_BYTES_MAX = 16 * 1024 * 1024;

/**
 * Parses a sweep's list option: comma-separated integers in 1..`max`, kept in the given
 * order, duplicates dropped.
 * @param option the option's name, for messages (`--clients`)
 * @param noun what one entry is, singular and plural (`client count`, `client counts`)
 * @throws Error naming the bad entry, or if there is none or more than `countMax`.
 */
export function parseIntegerList(list: string, option: string, max: number, countMax: number, noun: readonly [string, string]): number[] {
  const values = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`${option}: "${s}" is not an integer in 1..${max}`);
    return n;
  });
  const unique = [...new Set(values)];
  if (unique.length === 0) throw new Error(`${option}: give at least one ${noun[0]}`);
  if (unique.length > countMax) throw new Error(`${option}: at most ${countMax} ${noun[1]}`);
  return unique;
}

/** Parses `--clients` (see parseIntegerList): at most CLIENT_COUNTS_MAX counts, each ≤ CLIENTS_MAX. */
export function parseClientCounts(list: string): number[] {
  return parseIntegerList(list, '--clients', CLIENTS_MAX, CLIENT_COUNTS_MAX, ['client count', 'client counts']);
}

/**
 * Parses `--configs`: comma-separated configurations, each one or more `+`-joined parts:
 * `R/P` (request/reply bytes, default 0/0), `signed` (--signed-requests), `nN` (N
 * replicas, default 4). Examples: `0/0`, `1024/0`, `signed`, `n7`, `1024/0+signed+n10`.
 * @throws Error naming the bad part or a repeated configuration.
 */
export function parseConfigs(list: string): SweepConfig[] {
  const keys = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (keys.length === 0) throw new Error('--configs: give at least one configuration');
  if (keys.length > CONFIGS_MAX) throw new Error(`--configs: at most ${CONFIGS_MAX} configurations`);
  const configs = keys.map((key) => {
    let replicas = 4;
    let requestBytes = 0;
    let replyBytes = 0;
    let signedRequests = false;
    const seen = new Set<string>();
    for (const part of key.split('+')) {
      const sizes = /^(\d+)\/(\d+)$/.exec(part);
      const n = /^n(\d+)$/.exec(part);
      const kind = sizes ? 'sizes' : n ? 'replicas' : part === 'signed' ? 'signed' : undefined;
      if (!kind) throw new Error(`--configs: "${part}" in "${key}" is none of R/P (request/reply bytes), signed, nN (replicas)`);
      if (seen.has(kind)) throw new Error(`--configs: "${key}" gives ${kind} twice`);
      seen.add(kind);
      if (sizes) {
        requestBytes = Number(sizes[1]);
        replyBytes = Number(sizes[2]);
        if (requestBytes > PAYLOAD_BYTES_MAX || replyBytes > PAYLOAD_BYTES_MAX) throw new Error(`--configs: "${part}": request and reply bytes must be ≤ ${PAYLOAD_BYTES_MAX}`);
      } else if (n) {
        replicas = Number(n[1]);
        // Mod-SMaRt needs n = 3f+1 with f ≥ 1 for a meaningful fault-tolerant run.
        if (replicas < 4 || replicas > REPLICAS_MAX) throw new Error(`--configs: "${part}": replicas must be in 4..${REPLICAS_MAX}`);
      } else signedRequests = true;
    }
    const label = [`n=${replicas}`, `${requestBytes}/${replyBytes} B`, ...(signedRequests ? ['signed requests'] : [])].join(', ');
    return { key, label, replicas, requestBytes, replyBytes, signedRequests };
  });
  const labels = new Set<string>();
  for (const c of configs) {
    if (labels.has(c.label)) throw new Error(`--configs: "${c.key}" repeats the configuration ${c.label}`);
    labels.add(c.label);
  }
  return configs;
}

/** The arguments after `main.ts` for one `bench micro` point. */
export function microArgs(c: SweepConfig, clients: number, o: Pick<SweepOptions, 'window' | 'warmupS' | 'measureS' | 'basePort'>): string[] {
  return [
    'bench', 'micro',
    '--replicas', String(c.replicas),
    '--clients', String(clients),
    '--window', String(o.window),
    '--request-bytes', String(c.requestBytes),
    '--reply-bytes', String(c.replyBytes),
    '--warmup-s', String(o.warmupS),
    '--measure-s', String(o.measureS),
    '--base-port', String(o.basePort),
    ...(c.signedRequests ? ['--signed-requests'] : []),
    '--json',
  ];
}

/**
 * Runs one `bench micro` child and parses its JSON line.
 * @throws Error as `runBenchChild`, or if the JSON lacks throughputOpsPerS or latencyUs.
 */
export function runMicroChild(args: readonly string[], deadlineMs: number): Promise<MicroResult> {
  return runBenchChild(args, deadlineMs, 'bench micro', (r: MicroResult) => typeof r.throughputOpsPerS === 'number' && typeof r.latencyUs?.p50 === 'number');
}

/**
 * `bulwark bench sweep`. Points run client count by client count, every configuration at
 * each count before the next, so a change in the machine's load hits every line alike.
 * The JSON file is rewritten after each point (a long sweep stopped halfway keeps what it
 * measured); a failed point is recorded under `failed` and the sweep goes on.
 * @throws Error for bad options, or if the chart cannot be drawn (the JSON is written first).
 */
export async function benchSweep(o: SweepOptions): Promise<void> {
  const clientCounts = parseClientCounts(o.clients);
  const configs = parseConfigs(o.configs);
  const replicasMax = Math.max(...configs.map((c) => c.replicas));
  if (o.basePort < 1024 || o.basePort + 500 + replicasMax > 65535) throw new Error(`--base-port: ${o.basePort} + 500 + ${replicasMax} replicas must fit in 1024..65535`);
  const file: SweepFile = {
    kind: 'bulwark-throughput-latency',
    version: 1,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: { cores: availableParallelism(), node: process.version },
    options: { clients: clientCounts, configs: configs.map((c) => c.key), window: o.window, warmupS: o.warmupS, measureS: o.measureS, basePort: o.basePort },
    points: [],
    failed: [],
  };
  mkdirSync(dirname(o.out), { recursive: true });
  const save = () => writeFileSync(o.out, JSON.stringify(file, null, 2) + '\n');
  // Cluster start (waitHealthy allows 60 s), the window, draining (5 s) and stopping (5 s), with margin.
  const deadlineMs = (o.warmupS + o.measureS) * 1000 + 120_000;
  const total = clientCounts.length * configs.length;
  let done = 0;
  for (const clients of clientCounts) {
    for (const c of configs) {
      done++;
      const startedAt = new Date().toISOString();
      const loadAvg1Before = round2(loadavg()[0] ?? 0);
      try {
        const r = await runMicroChild(microArgs(c, clients, o), deadlineMs);
        file.points.push({ config: c.key, label: c.label, ...r, loadAvg1Before, loadAvg1After: round2(loadavg()[0] ?? 0), startedAt });
        console.log(`[${done}/${total}] ${c.label}, ${clients} clients: ${r.throughputOpsPerS} ops/s, p50 ${(r.latencyUs.p50 / 1000).toFixed(2)} ms, p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms, failures ${r.failures}, load ${loadAvg1Before}`);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        file.failed.push({ config: c.key, label: c.label, clients, error });
        console.error(`[${done}/${total}] ${c.label}, ${clients} clients: FAILED: ${error}`);
      }
      save();
    }
  }
  file.finishedAt = new Date().toISOString();
  save();
  console.log(`wrote ${o.out} (${file.points.length} points, ${file.failed.length} failed)`);
  if (o.plot === false) return;
  const { plotCommand, svgBeside } = await import('./plot-throughput-latency.ts');
  const svgPath = o.svg ?? svgBeside(o.out);
  await plotCommand({ in: o.out, out: svgPath });
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
