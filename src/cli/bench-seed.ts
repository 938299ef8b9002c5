/**
 * `bulwark bench seed`: the source report's benchmark run for real (seed 000, §4.1):
 * one client, 4 replicas, N operations each of register, deposit, transfer and ledger
 * reads through the HTTPS API, in three scenarios: no fault, one replica killed, one
 * Byzantine replica returning wrong results. Prints avg/p50/p99 latency in ms.
 */
import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { depositOperation, registerOperation, transferOperation } from '../wallet/index.ts';
import { startLocalCluster, type LocalClusterHandle } from './local-cluster.ts';
import { replicaVerifier } from './proxy-transport.ts';
import { WalletHttp } from './wallet-http.ts';

export const SCENARIOS = ['no-fault', 'crash', 'byzantine'] as const;
type Scenario = (typeof SCENARIOS)[number];
const KINDS = ['register', 'deposit', 'transfer', 'account-ledger', 'global-ledger'] as const;
type Kind = (typeof KINDS)[number];

export interface LatencySummary {
  operations: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
}

export type SeedResults = Record<string, Record<Kind, LatencySummary>>;

function summarize(samples: number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { operations: s.length, avgMs: s.reduce((a, b) => a + b, 0) / s.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function prepare(scenario: Scenario, dir: string, index: number): Promise<LocalClusterHandle> {
  const cluster = await startLocalCluster({
    dir: join(dir, scenario),
    replicas: 4,
    basePort: 12000 + index * 10,
    apiBasePort: 12500 + index * 10,
    ...(scenario === 'byzantine' ? { byzantine: new Map([[3, 'wrong-results' as const]]) } : {}),
    env: { BULWARK_LOG_LEVEL: 'warn' },
  });
  await cluster.waitHealthy(60_000);
  if (scenario === 'crash') await cluster.kill(3, 'SIGKILL');
  return cluster;
}

async function runScenario(scenario: Scenario, dir: string, index: number, operations: number, bar: cliProgress.MultiBar, compactEvidence: boolean): Promise<Record<Kind, LatencySummary>> {
  const cluster = await prepare(scenario, dir, index);
  // The client talks to replica 1's API: replica 3 is the faulty one in the fault scenarios.
  const http = new WalletHttp({ url: cluster.urls[1]!, caPem: cluster.caPem, verifier: replicaVerifier(cluster.config), f: cluster.config.f, connections: 1, compactEvidence });
  const issuer = createPrivateKey(readFileSync(join(cluster.config.pkiDir, 'issuer.key'), 'utf8'));
  const progress = bar.create(operations * KINDS.length, 0, { scenario: scenario.padEnd(9) });
  const samples: Record<Kind, number[]> = { register: [], deposit: [], transfer: [], 'account-ledger': [], 'global-ledger': [] };
  const timed = async (kind: Kind, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    samples[kind].push(performance.now() - t0);
    progress.increment();
  };
  try {
    const owners: { id: string; key: KeyObject }[] = [];
    for (let i = 0; i < operations; i++) {
      const kp = generateKeyPairSync('ed25519');
      const id = `acct-${i}`;
      owners.push({ id, key: kp.privateKey });
      const op = registerOperation(id, kp);
      await timed('register', () => http.call('POST', '/accounts', { accountId: id, publicKey: op.publicKey, signature: op.signature }));
    }
    for (const [i, o] of owners.entries()) {
      const op = depositOperation(o.id, 1000n + BigInt(i), 1, issuer);
      await timed('deposit', () => http.call('POST', `/accounts/${o.id}/deposits`, { amount: op.amount, nonce: op.nonce, signature: op.signature }));
    }
    for (const [i, o] of owners.entries()) {
      const to = owners[(i + 1) % owners.length]!.id;
      const op = transferOperation(o.id, to, 10n, 1, o.key);
      await timed('transfer', () => http.call('POST', '/transfers', { from: o.id, to, amount: op.amount, nonce: op.nonce, signature: op.signature }));
    }
    for (const o of owners) await timed('account-ledger', () => http.call('GET', `/accounts/${o.id}/ledger?limit=300`));
    for (let i = 0; i < operations; i++) await timed('global-ledger', () => http.call('GET', '/ledger?limit=300'));
  } finally {
    progress.stop();
    await http.close();
    await cluster.stop();
  }
  return Object.fromEntries(KINDS.map((k) => [k, summarize(samples[k])])) as Record<Kind, LatencySummary>;
}

export function formatSeedTable(results: SeedResults): string {
  const rows = ['| scenario | operation | ops | avg ms | p50 ms | p99 ms |', '|---|---|---:|---:|---:|---:|'];
  for (const [scenario, kinds] of Object.entries(results)) {
    for (const [kind, s] of Object.entries(kinds)) rows.push(`| ${scenario} | ${kind} | ${s.operations} | ${s.avgMs.toFixed(2)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} |`);
  }
  return rows.join('\n');
}

export async function benchSeed(o: { operations: number; dir: string; scenarios: string; json?: boolean; fullEvidence?: boolean }): Promise<void> {
  const wanted = o.scenarios.split(',').map((s) => s.trim());
  for (const s of wanted) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}; expected ${SCENARIOS.join(', ')}`);
  rmSync(o.dir, { recursive: true, force: true });
  const bar = new cliProgress.MultiBar({ format: '{scenario} [{bar}] {value}/{total} ops', stream: process.stderr, hideCursor: true, clearOnComplete: false, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 2000 }, cliProgress.Presets.shades_classic);
  const results: SeedResults = {};
  try {
    for (const [index, scenario] of SCENARIOS.entries()) {
      if (!wanted.includes(scenario)) continue;
      results[scenario] = await runScenario(scenario, o.dir, index, o.operations, bar, !o.fullEvidence);
    }
  } finally {
    bar.stop();
  }
  console.log(o.json ? JSON.stringify(results, null, 2) : formatSeedTable(results));
}
