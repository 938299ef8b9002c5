/**
 * Issue 3, figure 2: throughput of transfers with the embedded store, with Redis and
 * with memory, under the same client load. Prints a table; stops by itself and removes
 * what it made.
 *
 *   node --import tsx bench/durability-throughput.ts [--backends embedded,redis,memory]
 *        [--users 64] [--bft-clients 4] [--warmup-s 5] [--measure-s 20] [--rounds 2] [--json] [--keep-logs] [--unsigned-requests]
 *
 * Each (round, backend) runs on a fresh 4-replica cluster (real processes, TLS,
 * encryption at rest on; Redis: a private redis-server with appendfsync always).
 * `users` closed-loop users, each owning one account, sign a transfer, send it through
 * one of `bft-clients` BFT clients (ServiceProxy: f+1 matching signed replies) and wait
 * for the answer, then send the next. Transfers/s count the answers completed in the
 * measurement window; latency is per transfer, client-side. The backends alternate
 * within each round so that a change in the machine's load hits all of them.
 */
import { BenchRuns } from '../test/helpers/bench-runs.ts';
import { parseArgs } from 'node:util';
import { openTransferUsers, runTransferUsers } from '../test/helpers/bench-wallet.ts';
import { readProcCpuMs } from '../test/helpers/bench-probes.ts';
import { latencySummary, loadLine, machineLine, markdownTable, sourceRevision } from '../test/helpers/bench-report.ts';
import { redisServerMissing } from '../test/helpers/redis-server.ts';

const BACKENDS = ['embedded', 'redis', 'memory'] as const;
type Backend = (typeof BACKENDS)[number];

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: BACKENDS.join(',') },
    users: { type: 'string', default: '64' },
    'bft-clients': { type: 'string', default: '4' },
    'warmup-s': { type: 'string', default: '5' },
    'measure-s': { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
    'unsigned-requests': { type: 'boolean', default: false },
  },
});
/** Whether the clusters required client-signed requests (the launcher's default since ac88ccc; off with --unsigned-requests). */
let signedRequests = false;
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const backends = (args.backends ?? '').split(',').map((b) => b.trim());
for (const b of backends) if (!(BACKENDS as readonly string[]).includes(b)) throw new Error(`unknown backend ${b}; expected ${BACKENDS.join(', ')}`);
const userCount = positive('users', args.users);
const bftClients = positive('bft-clients', args['bft-clients']);
const warmupMs = positive('warmup-s', args['warmup-s']) * 1000;
const measureMs = positive('measure-s', args['measure-s']) * 1000;
const rounds = positive('rounds', args.rounds);
const log = (s: string) => process.stderr.write(`[throughput] ${s}\n`);

interface Run {
  backend: Backend;
  round: number;
  transfers: number;
  transfersPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of all four replica processes per acknowledged transfer, ms. */
  replicaCpuMsPerTransfer: number;
  /** CPU cores the four replicas got on average during the window (the machine is shared). */
  replicaCores: number;
  load: string;
}

const runs = new BenchRuns({ log, keepLogs: args['keep-logs'] === true });

async function one(backend: Backend, round: number): Promise<Run> {
  const storage = await runs.storage(backend);
  return runs.withCluster({ bftClients, storage, logLevel: 'warn', ...(args['unsigned-requests'] ? { requireSignedRequests: false } : {}) }, async (c) => {
    signedRequests = c.cluster.config.requireSignedRequests === true;
    const users = await openTransferUsers(c.proxies, c.issuer, 'u', userCount, 1_000_000_000n);
    const pids = [...c.cluster.processes.values()].map((p) => p.pid!);
    const start = performance.now();
    const windowStart = start + warmupMs;
    const windowEnd = windowStart + measureMs;
    const latencies: number[] = [];
    let cpuBefore: number[] = [];
    const cpuTimer = setTimeout(() => (cpuBefore = pids.map((p) => readProcCpuMs(p) ?? 0)), warmupMs);
    let cpuAfter: number[] = [];
    const endTimer = setTimeout(() => (cpuAfter = pids.map((p) => readProcCpuMs(p) ?? 0)), warmupMs + measureMs);
    await runTransferUsers(
      users,
      () => performance.now() < windowEnd,
      (latencyMs) => {
        const now = performance.now();
        if (now >= windowStart && now < windowEnd) latencies.push(latencyMs);
      },
    );
    clearTimeout(cpuTimer);
    clearTimeout(endTimer);
    const s = latencySummary(latencies);
    const cpuMs = cpuAfter.reduce((sum, v, i) => sum + v - (cpuBefore[i] ?? 0), 0);
    const run: Run = {
      backend,
      round,
      transfers: s.count,
      transfersPerS: (s.count / measureMs) * 1000,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      replicaCpuMsPerTransfer: cpuMs / s.count,
      replicaCores: cpuMs / measureMs,
      load: loadLine(),
    };
    log(`round ${round} ${backend}: ${run.transfersPerS.toFixed(0)} transfers/s, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, load ${run.load}`);
    return run;
  });
}

async function main(): Promise<void> {
  const machine = machineLine();
  const missing = backends.includes('redis') ? redisServerMissing() : undefined;
  if (missing) log(`${missing}: skipping redis`);
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const b of backends as Backend[]) if (!(b === 'redis' && missing)) runs.push(await one(b, round));
  }
  if (args.json) {
    console.log(JSON.stringify({ machine, revision: sourceRevision(), signedRequests, users: userCount, bftClients, warmupMs, measureMs, runs }, null, 2));
    return;
  }
  console.log(`Transfer throughput (issue 3, figure 2) — ${userCount} closed-loop users over ${bftClients} BFT clients, 4 replicas, warm-up ${warmupMs / 1000} s, ${measureMs / 1000} s measured per run`);
  console.log(`started ${machine}; source revision ${sourceRevision()}; requests signed by their client: ${signedRequests ? 'yes' : 'no'}`);
  console.log(
    markdownTable(
      ['round', 'store', 'transfers/s', 'p50 ms', 'p99 ms', 'replica CPU ms / transfer (4 replicas)', 'cores the replicas got', 'load after'],
      runs.map((r) => [r.round, r.backend, r.transfersPerS.toFixed(0), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.replicaCpuMsPerTransfer.toFixed(2), r.replicaCores.toFixed(2), r.load]),
    ),
  );
}

runs.main(main);
