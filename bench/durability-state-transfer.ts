/**
 * Issue 3, figure 1: state transfer time and peak memory (RSS) of a recovering replica
 * for a wallet of N accounts. Prints a table; stops by itself and removes what it made.
 *
 *   node --import tsx bench/durability-state-transfer.ts [--accounts 10000,100000]
 *        [--storage embedded|redis|memory] [--checkpoint-period 128] [--in-flight 512]
 *        [--build-budget-s 1200] [--timeout-s 900] [--json] [--keep-logs] [--unsigned-requests]
 *
 * For each N, on a fresh 4-replica cluster (real processes, TLS, the chosen store):
 * 1. replica 3 is killed with SIGKILL;
 * 2. N accounts are registered through BFT clients (signed `register` operations, many
 *    in flight; every replica verifies each signature) — the build time is reported;
 *    with --build-budget-s the build stops early and the size reached is reported;
 * 3. ordered reads move the instance counter until a stable checkpoint covers the whole
 *    build, so the others' logs no longer hold what replica 3 missed;
 * 4. replica 3 is restarted and timed until `state-transferred` (its log) and until its
 *    last decided instance equals the others'; its peak RSS (VmHWM) is sampled; then
 *    its state digest is compared with replica 0's.
 */
import { BenchRuns, type BenchStorageKind } from '../test/helpers/bench-runs.ts';
import { parseArgs } from 'node:util';
import { padInstances, registerAccounts } from '../test/helpers/bench-wallet.ts';
import { restartAndMeasure, type RecoveryReport } from '../test/helpers/bench-recovery.ts';
import { readProcMemory } from '../test/helpers/bench-probes.ts';
import { loadLine, machineLine, markdownTable, mib, seconds, sourceRevision } from '../test/helpers/bench-report.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '10000,100000' },
    storage: { type: 'string', default: 'embedded' },
    'checkpoint-period': { type: 'string', default: '128' },
    'in-flight': { type: 'string', default: '512' },
    'build-budget-s': { type: 'string', default: '0' },
    'timeout-s': { type: 'string', default: '900' },
    json: { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
    'unsigned-requests': { type: 'boolean', default: false },
  },
});
/** Whether the clusters required client-signed requests (the launcher's default since ac88ccc; off with --unsigned-requests). */
let signedRequests = false;
const positive = (name: string, v: string | undefined, allowZero = false): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
  return n;
};
const sizes = (args.accounts ?? '').split(',').map((s) => positive('accounts', s.trim()));
const storageKind = args.storage;
if (storageKind !== 'embedded' && storageKind !== 'redis' && storageKind !== 'memory') throw new Error(`--storage must be embedded, redis or memory`);
const checkpointPeriod = positive('checkpoint-period', args['checkpoint-period']);
const inFlight = positive('in-flight', args['in-flight']);
const budgetMs = positive('build-budget-s', args['build-budget-s'], true) * 1000;
const timeoutMs = positive('timeout-s', args['timeout-s']) * 1000;
const RECOVERING = 3;
const SOURCES = [0, 1, 2];
const log = (s: string) => process.stderr.write(`[state-transfer] ${s}\n`);

interface Row {
  accountsWanted: number;
  accounts: number;
  buildMs: number;
  buildOpsPerS: number;
  loadDuringBuild: string;
  padded: number;
  stableCheckpointCid: number;
  sourcePeakRssBytes: number;
  recovery: Omit<RecoveryReport, 'events'>;
  loadAfter: string;
}

const runs = new BenchRuns({ log, keepLogs: args['keep-logs'] === true });

async function one(n: number): Promise<Row> {
  const storage = await runs.storage(storageKind as BenchStorageKind);
  return runs.withCluster({ bftClients: Math.ceil(inFlight / 256), outstandingPerClient: Math.min(256, inFlight), checkpointPeriod, storage, retransmitMs: 30_000, ...(args['unsigned-requests'] ? { requireSignedRequests: false } : {}) }, async (c) => {
    signedRequests = c.cluster.config.requireSignedRequests === true;
    await c.cluster.kill(RECOVERING, 'SIGKILL');
    log(`N = ${n}: replica ${RECOVERING} killed; registering accounts through ${c.proxies.length} BFT client(s), ${inFlight} in flight`);
    const t0 = performance.now();
    const { registered } = await registerAccounts(c.proxies, 'acct', n, {
      inFlight,
      budgetMs,
      onProgress: (done) => log(`  ${done} registered, ${((done / (performance.now() - t0)) * 1000).toFixed(0)}/s, load ${loadLine()}`),
    });
    const buildMs = performance.now() - t0;
    const loadDuringBuild = loadLine();
    log(`  built ${registered} accounts in ${seconds(buildMs)}`);
    const buildEnd = Math.max(...(await Promise.all(SOURCES.map((id) => c.status(id)))).map((s) => s.lastDecidedCid));
    const padded = await padInstances(
      c.proxies[0]!,
      'acct0',
      async () => (await Promise.all(SOURCES.map((id) => c.status(id)))).every((s) => s.stableCheckpointCid >= buildEnd),
      4 * checkpointPeriod,
    );
    const stable = await c.status(0);
    log(`  ${padded} ordered reads until a stable checkpoint (${stable.stableCheckpointCid}) covers the build (instance ${buildEnd}); restarting replica ${RECOVERING}`);
    const recovery = await restartAndMeasure(c, RECOVERING, SOURCES, timeoutMs);
    const { events: _events, ...report } = recovery;
    log(`  caught up in ${seconds(report.caughtUpMs)}; state transferred at ${seconds(report.stateTransferredMs ?? Number.NaN)} (${mib(report.transferredBytes)}), peak RSS ${mib(report.peakRssBytes)}, digest ${report.digestEqual ? 'equal' : 'DIFFERENT'}`);
    return {
      accountsWanted: n,
      accounts: registered,
      buildMs,
      buildOpsPerS: (registered / buildMs) * 1000,
      loadDuringBuild,
      padded,
      stableCheckpointCid: stable.stableCheckpointCid,
      sourcePeakRssBytes: readProcMemory(c.cluster.processes.get(0)!.pid!)?.peakRssBytes ?? Number.NaN,
      recovery: report,
      loadAfter: loadLine(),
    };
  });
}

async function main(): Promise<void> {
  const machine = machineLine();
  const rows: Row[] = [];
  for (const n of sizes) rows.push(await one(n));
  if (args.json) {
    console.log(JSON.stringify({ machine, revision: sourceRevision(), signedRequests, storage: storageKind, checkpointPeriod, inFlight, rows }, null, 2));
    return;
  }
  console.log(`State transfer (issue 3, figure 1) — storage ${storageKind}, encryption at rest on, checkpointPeriod ${checkpointPeriod}, ${inFlight} registrations in flight`);
  console.log(`started ${machine}; source revision ${sourceRevision()}; requests signed by their client: ${signedRequests ? 'yes' : 'no'}`);
  console.log(
    markdownTable(
      ['accounts', 'build (3 replicas up)', 'build rate', 'checkpoint bytes', 'restart → API up', 'restart → transfer started', 'transfer started → installed', 'restart → caught up', 'peak RSS recovering', 'peak RSS source', 'digest equal', 'load after'],
      rows.map((r) => [
        r.accounts === r.accountsWanted ? String(r.accounts) : `${r.accounts} of ${r.accountsWanted}`,
        seconds(r.buildMs),
        `${r.buildOpsPerS.toFixed(0)}/s`,
        mib(r.recovery.transferredBytes),
        seconds(r.recovery.apiUpMs ?? Number.NaN),
        seconds(r.recovery.stateTransferStartedMs ?? Number.NaN),
        seconds((r.recovery.stateTransferredMs ?? Number.NaN) - (r.recovery.stateTransferStartedMs ?? Number.NaN)),
        seconds(r.recovery.caughtUpMs),
        mib(r.recovery.peakRssBytes),
        mib(r.sourcePeakRssBytes),
        r.recovery.digestEqual ? 'yes' : 'NO',
        r.loadAfter,
      ]),
    ),
  );
}

runs.main(main);
