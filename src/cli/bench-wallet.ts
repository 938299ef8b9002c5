/**
 * `bulwark bench wallet`: the real job — signed wallet operations through the HTTPS API
 * of all replicas, many concurrent clients in a closed loop (or an open loop at a set rate,
 * `--rate`), on a pre-created population.
 *
 * Workloads:
 * - `transfers`: owner-signed transfers between random accounts (every replica verifies
 *   every signature).
 * - `smallbank`: the SmallBank mix (Alomari et al., ICDE 2008) mapped onto the wallet —
 *   each customer has `<c>-chk` and `<c>-sav` accounts:
 *   Balance 15 % (read both accounts), DepositChecking 15 % (issuer deposit into chk),
 *   TransactSavings 15 % (issuer deposit into sav: the wallet has no withdrawals),
 *   (both deposits go to the client's own customer: issuer nonces must arrive in order),
 *   Amalgamate 15 % (transfer sav -> another customer's chk), WriteCheck 15 % (transfer
 *   chk -> the bank's account), SendPayment 25 % (transfer chk -> another customer's chk);
 *   25 % of the customers picked as counterparties come from a hot set of 10.
 * - `ledger`: reads of the global ledger's first page of 300 entries (`GET /ledger?limit=300`,
 *   an unordered read; the population is made large enough to fill it): the "300-entry
 *   ledger page" of the performance targets, measured after a warm-up.
 * Sources of transfers are owned by the client that signs them (nonces must increase per
 * account), so clients never race on a nonce. Operations are signed before the window.
 */
import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { depositOperation, registerOperation, transferOperation } from '../wallet/index.ts';
import { startLocalCluster } from './local-cluster.ts';
import { replicaVerifier } from './proxy-transport.ts';
import { WalletHttp } from './wallet-http.ts';
import { clusterPids, formatCpu, latencySummary, measureWindow, settleWithin, type LatencyUs } from './bench-stats.ts';
import { benchRuns, formatSpread, medianCpu, medianLatency, spreadOf } from './bench-runs.ts';
import { serverPolicy } from './server-spawn.ts';
import type { ClusterConfig } from './cluster-config.ts';
import { Prng } from '../sim/prng.ts';
import { closedLoop, openLoop, type LoadRecorder, type LoadResult, type OpenLoopResult } from './bench-load.ts';

export interface WalletBenchOptions {
  workload: 'transfers' | 'smallbank' | 'ledger';
  clients: number;
  /** Customers (smallbank) or accounts (transfers) per client. */
  accountsPerClient: number;
  warmupS: number;
  measureS: number;
  storage: 'embedded' | 'memory' | 'redis';
  redisUrl?: string;
  basePort: number;
  /** Check every answer's evidence (f+1 replica signatures) in the client, like the CLI. */
  verify?: boolean;
  /** Ask for the signed result bytes in every answer instead of compact evidence (the default). */
  fullEvidence?: boolean;
  json?: boolean;
  /** Run the benchmark this many times and report each run and the medians (bench-runs.ts); default 1. */
  runs?: number;
  /**
   * Open loop: operations arrive at this rate (ops/s, a seeded Poisson process) and each
   * one's latency counts from when it was due, queueing included (bench-load.ts). `clients`
   * then bounds the operations in flight. Undefined: closed loop.
   */
  rate?: number;
}

type OpKind = 'transfer' | 'balance' | 'deposit-checking' | 'transact-savings' | 'amalgamate' | 'write-check' | 'send-payment' | 'ledger-page';

/** Entries in the page the `ledger` workload reads (the targets' "300-entry ledger page"). */
const LEDGER_PAGE_ENTRIES = 300;

export interface WalletBenchResult {
  workload: string;
  clients: number;
  storage: string;
  throughputOpsPerS: number;
  failures: number;
  /**
   * Per operation: the client's latency, and `bftLatencyUs`, the part the gateway reported
   * the cluster took (Server-Timing `bft`; for a balance, the slower of its two reads). The
   * difference is the HTTPS hop and the gateway.
   */
  perOperation: Record<string, { count: number; latencyUs: LatencyUs; bftLatencyUs?: LatencyUs }>;
  cpuPercent: Record<string, number>;
  /** The Linux scheduling policy the replica processes ran under (server-spawn.ts). */
  serverScheduling: 'batch' | 'other';
  /**
   * Open loop only: the offered rate (ops/s), the arrivals over the whole run (warm-up
   * included), how many found all clients busy, and the most that waited at once. An
   * offered rate the cluster cannot sustain shows as a growing backlog.
   */
  openLoop?: { offeredOpsPerS: number; arrivals: number; waitedForClient: number; backlogMax: number };
}

interface Account {
  id: string;
  key: KeyObject;
  nonce: number;
}

type Call = { kind: OpKind; run: (http: WalletHttp) => Promise<unknown> };

/**
 * Runs one benchmark on a fresh local cluster (4 replicas, each with its HTTPS API) and stops it.
 * @throws RangeError if `rate` is given and is not in (0, CLUSTER_OPS_PER_S_MAX] ops/s
 * @throws Error if a client used up its pre-signed operations before the window ended
 */
export async function runWalletBench(o: WalletBenchOptions): Promise<WalletBenchResult> {
  if (o.rate !== undefined && !(o.rate > 0 && o.rate <= CLUSTER_OPS_PER_S_MAX)) throw new RangeError(`--rate must be in (0, ${CLUSTER_OPS_PER_S_MAX}] operations per second, got ${o.rate}`);
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-wallet-bench-'));
  const storage: ClusterConfig['storage'] = o.storage === 'redis' ? { kind: 'redis', url: o.redisUrl ?? 'redis://127.0.0.1:6379' } : { kind: o.storage };
  const cluster = await startLocalCluster({ dir, replicas: 4, basePort: o.basePort, apiBasePort: o.basePort + 500, storage, env: { BULWARK_LOG_LEVEL: 'warn' } });
  const verifier = o.verify ? replicaVerifier(cluster.config) : undefined;
  const https = cluster.urls.map((url) => new WalletHttp({ url, caPem: cluster.caPem, ...(verifier ? { verifier, f: cluster.config.f } : {}), connections: Math.max(4, Math.ceil(o.clients / 4) + 2), compactEvidence: !o.fullEvidence }));
  try {
    await cluster.waitHealthy(60_000);
    const issuer = createPrivateKey(readFileSync(join(cluster.config.pkiDir, 'issuer.key'), 'utf8'));
    const issuerNonce = new Map<string, number>();
    const deposit = (id: string, amount: bigint) => {
      const nonce = (issuerNonce.get(id) ?? 0) + 1;
      issuerNonce.set(id, nonce);
      const op = depositOperation(id, amount, nonce, issuer);
      return (h: WalletHttp) => h.call('POST', `/accounts/${id}/deposits`, { amount: op.amount, nonce, signature: op.signature });
    };
    // Population: per client, its own accounts (smallbank: chk + sav per customer), plus the bank's account.
    const names = o.workload === 'smallbank' ? ['chk', 'sav'] : ['acct'];
    // `ledger`: each account adds two entries (register, deposit); fill at least one page.
    const accountsPerClient = o.workload === 'ledger' ? Math.max(o.accountsPerClient, Math.ceil(LEDGER_PAGE_ENTRIES / 2 / o.clients)) : o.accountsPerClient;
    const owned: Account[][] = [];
    const setup: ((h: WalletHttp) => Promise<unknown>)[] = [];
    for (let c = 0; c < o.clients; c++) {
      const mine: Account[] = [];
      for (let i = 0; i < accountsPerClient; i++) {
        for (const n of names) {
          const kp = generateKeyPairSync('ed25519');
          const id = `c${c}-${i}-${n}`;
          mine.push({ id, key: kp.privateKey, nonce: 0 });
          const reg = registerOperation(id, kp);
          setup.push((h) => h.call('POST', '/accounts', { accountId: id, publicKey: reg.publicKey, signature: reg.signature }));
        }
      }
      owned.push(mine);
    }
    const bankKp = generateKeyPairSync('ed25519');
    const bankReg = registerOperation('bank', bankKp);
    setup.push((h) => h.call('POST', '/accounts', { accountId: 'bank', publicKey: bankReg.publicKey, signature: bankReg.signature }));
    await runParallel(setup, https, 64);
    await runParallel(owned.flat().map((a) => deposit(a.id, 1_000_000_000n)), https, 64);

    if (o.workload === 'ledger') {
      const page = (await https[0]!.call('GET', `/ledger?limit=${LEDGER_PAGE_ENTRIES}`)) as { data: { entries: unknown[] } };
      if (page.data.entries.length !== LEDGER_PAGE_ENTRIES) throw new Error(`the ledger page holds ${page.data.entries.length} entries, not ${LEDGER_PAGE_ENTRIES}`);
    }
    const all = owned.flat();
    const customers = o.workload === 'smallbank' ? all.filter((a) => a.id.endsWith('-chk')).map((a) => a.id.slice(0, -4)) : [];
    const hot = customers.slice(0, 10);
    const random = new Prng(42);
    const rnd = (): number => random.next();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const counterparty = (): string => (rnd() < 0.25 && hot.length > 0 ? pick(hot) : pick(customers));
    const transfer = (from: Account, to: string, amount: bigint, kind: OpKind): Call => {
      from.nonce++;
      const op = transferOperation(from.id, to, amount, from.nonce, from.key);
      return { kind, run: (h) => h.call('POST', '/transfers', { from: from.id, to, amount: op.amount, nonce: op.nonce, signature: op.signature }) };
    };
    // Pre-sign each client's operations (signing is the client's cost, not the cluster's),
    // enough for the whole run at a rate no client reaches here.
    const perClient = planLength(o.clients, o.warmupS + o.measureS);
    const plans: Call[][] = owned.map((mine) => {
      const plan: Call[] = [];
      for (let k = 0; k < perClient; k++) {
        if (o.workload === 'ledger') {
          plan.push({ kind: 'ledger-page', run: (h) => h.call('GET', `/ledger?limit=${LEDGER_PAGE_ENTRIES}`) });
          continue;
        }
        if (o.workload === 'transfers') {
          const from = pick(mine);
          let to = pick(all).id;
          if (to === from.id) to = 'bank';
          plan.push(transfer(from, to, 1n, 'transfer'));
          continue;
        }
        const me = pick(mine.filter((a) => a.id.endsWith('-chk'))).id.slice(0, -4);
        const chk = mine.find((a) => a.id === `${me}-chk`)!;
        const sav = mine.find((a) => a.id === `${me}-sav`)!;
        let other = counterparty();
        if (other === me) other = customers[(customers.indexOf(me) + 1) % customers.length]!;
        const x = rnd();
        if (x < 0.15) plan.push({ kind: 'balance', run: async (h) => Promise.all([h.call('GET', `/accounts/${me}-chk`), h.call('GET', `/accounts/${me}-sav`)]) });
        // Deposits go to the client's own customer: issuer nonces per account must arrive in order.
        else if (x < 0.3) plan.push({ kind: 'deposit-checking', run: deposit(`${me}-chk`, 10n) });
        else if (x < 0.45) plan.push({ kind: 'transact-savings', run: deposit(`${me}-sav`, 10n) });
        else if (x < 0.6) plan.push(transfer(sav, `${other}-chk`, 5n, 'amalgamate'));
        else if (x < 0.75) plan.push(transfer(chk, 'bank', 3n, 'write-check'));
        else plan.push(transfer(chk, `${other}-chk`, 2n, 'send-payment'));
      }
      return plan;
    });

    let measuring = false;
    let running = true;
    let failures = 0;
    const samples = new Map<OpKind, number[]>();
    const bftSamples = new Map<OpKind, number[]>();
    const push = (m: Map<OpKind, number[]>, kind: OpKind, us: number): void => {
      const xs = m.get(kind) ?? [];
      xs.push(us);
      m.set(kind, xs);
    };
    const recorder: LoadRecorder<OpKind> = {
      done: (kind, dueMs, doneMs, answer) => {
        if (!measuring) return;
        push(samples, kind, (doneMs - dueMs) * 1000);
        const bftMs = bftMsOf(answer);
        if (bftMs !== undefined) push(bftSamples, kind, bftMs * 1000);
      },
      failed: () => {
        if (measuring) failures++;
      },
    };
    // Client c sends through replica c mod n's API.
    const calls = plans.map((plan, c) => plan.map((call) => ({ kind: call.kind, run: () => call.run(https[c % https.length]!) })));
    const driver: Promise<LoadResult | OpenLoopResult> = o.rate === undefined ? closedLoop(calls, recorder, () => running) : openLoop(calls, o.rate, new Prng(7), recorder, () => running);
    const { elapsedMs, cpuPercent } = await measureWindow(clusterPids(cluster.processes), o.warmupS, o.measureS, (on) => (measuring = on));
    running = false;
    let load: LoadResult | OpenLoopResult | undefined;
    await settleWithin(driver.then((r) => (load = r)), 10_000);
    // A client that ran out of operations idled in the window: its figures would be too low.
    if (load && load.exhausted > 0) throw new Error(`${load.exhausted} of ${o.clients} clients used up their ${perClient} pre-signed operations before the window ended`);
    let total = 0;
    const perOperation: WalletBenchResult['perOperation'] = {};
    for (const [kind, xs] of samples) {
      total += xs.length;
      const bs = bftSamples.get(kind);
      perOperation[kind] = { count: xs.length, latencyUs: latencySummary(xs), ...(bs && bs.length > 0 ? { bftLatencyUs: latencySummary(bs) } : {}) };
    }
    const openLoopStats = load && 'arrivals' in load ? { offeredOpsPerS: o.rate!, arrivals: load.arrivals, waitedForClient: load.waitedForClient, backlogMax: load.backlogMax } : undefined;
    return { workload: o.workload, clients: o.clients, storage: o.storage, throughputOpsPerS: Math.round((total / elapsedMs) * 1000), failures, perOperation, cpuPercent, serverScheduling: serverPolicy(), ...(openLoopStats ? { openLoop: openLoopStats } : {}) };
  } finally {
    await Promise.all(https.map((h) => h.close()));
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The cluster's share of an answer (ms, Server-Timing `bft`); for several answers at once, the largest. */
function bftMsOf(answer: unknown): number | undefined {
  if (Array.isArray(answer)) {
    const all = answer.map(bftMsOf);
    return all.every((x) => x !== undefined) && all.length > 0 ? Math.max(...(all as number[])) : undefined;
  }
  const ms = (answer as { bftMs?: unknown } | null)?.bftMs;
  return typeof ms === 'number' ? ms : undefined;
}

/** A bound on one closed-loop client's rate (ops/s); one client gets ≈ 100–250 transfers/s here. */
const CLIENT_OPS_PER_S_MAX = 1000;
/** A bound on the whole cluster's rate (ops/s), shared by the clients (it verifies every owner signature 4 times). */
export const CLUSTER_OPS_PER_S_MAX = 8000;

/** Operations to pre-sign per client so that none runs out within `seconds` (s). */
function planLength(clients: number, seconds: number): number {
  return Math.ceil(seconds * Math.min(CLIENT_OPS_PER_S_MAX, CLUSTER_OPS_PER_S_MAX / clients)) + 100;
}

/** Runs `tasks` with at most `inFlight` at once, spread over the replicas' APIs. @throws the first failure. */
async function runParallel(tasks: ((h: WalletHttp) => Promise<unknown>)[], https: WalletHttp[], inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      while (next < tasks.length) {
        const t = tasks[next++]!;
        await t(https[w % https.length]!);
      }
    }),
  );
}

export function formatWalletBench(r: WalletBenchResult): string {
  const load = r.openLoop ? `open loop at ${r.openLoop.offeredOpsPerS} ops/s offered, at most ${r.clients} in flight` : `${r.clients} closed-loop clients`;
  const lines = [`workload ${r.workload}, ${load}, storage ${r.storage}, replicas under SCHED_${r.serverScheduling.toUpperCase()}: ${r.throughputOpsPerS} ops/s, failures ${r.failures}`];
  if (r.openLoop) lines.push(`arrivals ${r.openLoop.arrivals} (warm-up included), ${r.openLoop.waitedForClient} waited for a free client, at most ${r.openLoop.backlogMax} at once; latency counts from when each was due`);
  lines.push('| operation | count | avg us | p50 us | p90 us | p99 us | of which BFT: p50 us | p99 us |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [k, v] of Object.entries(r.perOperation)) {
    const bft = v.bftLatencyUs ? `${v.bftLatencyUs.p50} | ${v.bftLatencyUs.p99}` : '- | -';
    lines.push(`| ${k} | ${v.count} | ${v.latencyUs.avg} | ${v.latencyUs.p50} | ${v.latencyUs.p90} | ${v.latencyUs.p99} | ${bft} |`);
  }
  lines.push(formatCpu(r.cpuPercent, r.throughputOpsPerS));
  return lines.join('\n');
}

/**
 * The runs' medians as one result (see bench-runs.ts): throughput, each operation's latency
 * percentiles (the client's and the BFT share) and each process's CPU are medians; counts
 * and failures are summed. An operation kind missing from a run counts only where it ran.
 * @throws RangeError if `runs` is empty.
 */
export function medianWalletBench(runs: readonly WalletBenchResult[]): WalletBenchResult {
  if (runs.length === 0) throw new RangeError('medianWalletBench: no runs');
  const perOperation = Object.fromEntries(operationKinds(runs).map((kind) => {
    const ran = runs.map((r) => r.perOperation[kind]).filter((v) => v !== undefined);
    const bft = ran.map((v) => v.bftLatencyUs).filter((v) => v !== undefined);
    return [kind, {
      count: ran.reduce((sum, v) => sum + v.count, 0),
      latencyUs: medianLatency(ran.map((v) => v.latencyUs)),
      ...(bft.length > 0 ? { bftLatencyUs: medianLatency(bft) } : {}),
    }];
  }));
  return {
    ...runs[0]!,
    throughputOpsPerS: spreadOf(runs.map((r) => r.throughputOpsPerS)).median,
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    perOperation,
    cpuPercent: medianCpu(runs.map((r) => r.cpuPercent)),
    ...(runs[0]!.openLoop ? { openLoop: openLoopOverRuns(runs) } : {}),
  };
}

/** Open-loop counts over runs: arrivals and waits summed, the largest backlog of any run. */
function openLoopOverRuns(runs: readonly WalletBenchResult[]): NonNullable<WalletBenchResult['openLoop']> {
  const stats = runs.map((r) => r.openLoop).filter((x) => x !== undefined);
  return {
    offeredOpsPerS: stats[0]!.offeredOpsPerS,
    arrivals: stats.reduce((sum, x) => sum + x.arrivals, 0),
    waitedForClient: stats.reduce((sum, x) => sum + x.waitedForClient, 0),
    backlogMax: Math.max(...stats.map((x) => x.backlogMax)),
  };
}

/** The operation kinds any of the runs measured, in first-seen order. */
function operationKinds(runs: readonly WalletBenchResult[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.perOperation)))];
}

export async function benchWallet(o: WalletBenchOptions): Promise<void> {
  await benchRuns(o, () => runWalletBench(o), {
    format: formatWalletBench,
    median: medianWalletBench,
    runLine: (r) => [`${r.throughputOpsPerS} ops/s`, ...Object.entries(r.perOperation).map(([kind, v]) => `${kind} p50 ${v.latencyUs.p50} us`), `failures ${r.failures}`].join(', '),
    spreads: (runs) => [
      `throughput ${formatSpread(spreadOf(runs.map((r) => r.throughputOpsPerS)), ' ops/s')}`,
      ...operationKinds(runs).map((kind) => {
        const p50s = runs.flatMap((r) => (r.perOperation[kind] ? [r.perOperation[kind].latencyUs.p50] : []));
        return `${kind} p50 ${formatSpread(spreadOf(p50s), ' us')}`;
      }),
    ],
  });
}
