/**
 * Issue 3, figure 3: time from restart to serving again for a replica that missed
 * 100 000 operations. Prints a table; stops by itself and removes what it made.
 *
 *   node --import tsx bench/durability-catch-up.ts [--missed 100000]
 *        [--storage embedded|redis|memory] [--checkpoint-period <n>] [--users 512]
 *        [--timeout-s 900] [--json] [--keep-logs] [--unsigned-requests]
 *
 * On a fresh 4-replica cluster: `users` accounts are opened (each user owns one and
 * sends its transfers one at a time); replica 3 is killed with SIGKILL; `missed`
 * transfers go through BFT clients while it is down; then it is restarted and timed
 * until its last decided instance equals the others' (which are idle by then), and its
 * state digest is compared with replica 0's. Whether it came back through the others'
 * logs (catch-up) or a state transfer depends on whether a stable checkpoint passed its
 * position: the checkpoint period is the project default (1024 instances) unless set.
 */
import { BenchRuns, type BenchStorageKind } from '../test/helpers/bench-runs.ts';
import { parseArgs } from 'node:util';
import { openTransferUsers, runTransferUsers } from '../test/helpers/bench-wallet.ts';
import { restartAndMeasure, type RecoveryReport } from '../test/helpers/bench-recovery.ts';
import { latencySummary, loadLine, machineLine, markdownTable, mib, seconds, sourceRevision } from '../test/helpers/bench-report.ts';
import { DEFAULT_OPTIONS } from '../src/core/options.ts';

const { values: args } = parseArgs({
  options: {
    missed: { type: 'string', default: '100000' },
    storage: { type: 'string', default: 'embedded' },
    'checkpoint-period': { type: 'string' },
    users: { type: 'string', default: '512' },
    'timeout-s': { type: 'string', default: '900' },
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
const missed = positive('missed', args.missed);
const storageKind = args.storage;
if (storageKind !== 'embedded' && storageKind !== 'redis' && storageKind !== 'memory') throw new Error(`--storage must be embedded, redis or memory`);
const checkpointPeriod = args['checkpoint-period'] === undefined ? undefined : positive('checkpoint-period', args['checkpoint-period']);
const userCount = positive('users', args.users);
const timeoutMs = positive('timeout-s', args['timeout-s']) * 1000;
const RECOVERING = 3;
const SOURCES = [0, 1, 2];
const log = (s: string) => process.stderr.write(`[catch-up] ${s}\n`);

const runs = new BenchRuns({ log, keepLogs: args['keep-logs'] === true });

interface Result {
  missedOperations: number;
  loadMs: number;
  loadPerS: number;
  loadP50Ms: number;
  loadP99Ms: number;
  loadDuring: string;
  instancesMissed: number;
  stableCheckpointCid: number;
  recovery: Omit<RecoveryReport, 'events'>;
  loadAfter: string;
}

async function run(): Promise<Result> {
  const storage = await runs.storage(storageKind as BenchStorageKind);
  const bftClients = Math.ceil(userCount / 256);
  return runs.withCluster({ bftClients, outstandingPerClient: Math.min(256, userCount), storage, retransmitMs: 30_000, ...(checkpointPeriod ? { checkpointPeriod } : {}), ...(args['unsigned-requests'] ? { requireSignedRequests: false } : {}) }, async (c) => {
    signedRequests = c.cluster.config.requireSignedRequests === true;
    const users = await openTransferUsers(c.proxies, c.issuer, 'u', userCount, 1_000_000_000n);
    const before = await c.status(RECOVERING);
    await c.cluster.kill(RECOVERING, 'SIGKILL');
    log(`replica ${RECOVERING} killed at instance ${before.lastDecidedCid}; sending ${missed} transfers (${userCount} users, ${bftClients} BFT clients)`);
    let started = 0;
    let acked = 0;
    const latencies: number[] = [];
    const t0 = performance.now();
    const progress = setInterval(() => log(`  ${acked} transfers, ${((acked / (performance.now() - t0)) * 1000).toFixed(0)}/s, load ${loadLine()}`), 15_000);
    try {
      await runTransferUsers(
        users,
        () => started++ < missed,
        (ms) => {
          acked++;
          latencies.push(ms);
        },
      );
    } finally {
      clearInterval(progress);
    }
    const loadMs = performance.now() - t0;
    const loadDuring = loadLine();
    const s = latencySummary(latencies);
    const others = await c.status(0);
    log(`  ${acked} transfers in ${seconds(loadMs)}; others at instance ${others.lastDecidedCid}, stable checkpoint ${others.stableCheckpointCid}; restarting replica ${RECOVERING}`);
    const { events: _events, ...recovery } = await restartAndMeasure(c, RECOVERING, SOURCES, timeoutMs);
    log(`  caught up in ${seconds(recovery.caughtUpMs)} (${recovery.stateTransfers > 0 ? 'with a state transfer' : 'from the logs'}), digest ${recovery.digestEqual ? 'equal' : 'DIFFERENT'}`);
    return {
      missedOperations: acked,
      loadMs,
      loadPerS: (acked / loadMs) * 1000,
      loadP50Ms: s.p50Ms,
      loadP99Ms: s.p99Ms,
      loadDuring,
      instancesMissed: recovery.targetCid - before.lastDecidedCid,
      stableCheckpointCid: others.stableCheckpointCid,
      recovery,
      loadAfter: loadLine(),
    };
  });
}

async function main(): Promise<void> {
  const machine = machineLine();
  const r = await run();
  const period = checkpointPeriod ?? DEFAULT_OPTIONS.checkpointPeriod;
  if (args.json) {
    console.log(JSON.stringify({ machine, revision: sourceRevision(), signedRequests, storage: storageKind, checkpointPeriod: period, users: userCount, result: r }, null, 2));
    return;
  }
  const rc = r.recovery;
  console.log(`Restart after missed operations (issue 3, figure 3) — storage ${storageKind}, encryption at rest on, checkpointPeriod ${period}, ${userCount} users`);
  console.log(`started ${machine}; source revision ${sourceRevision()}; requests signed by their client: ${signedRequests ? 'yes' : 'no'}`);
  console.log(`load while replica ${RECOVERING} was down: ${r.missedOperations} transfers in ${seconds(r.loadMs)} (${r.loadPerS.toFixed(0)}/s, p50 ${r.loadP50Ms.toFixed(0)} ms, p99 ${r.loadP99Ms.toFixed(0)} ms; load ${r.loadDuring})`);
  console.log(
    markdownTable(
      ['missed transfers', 'missed instances', 'path', 'restart → API up', 'restart → state transferred', 'checkpoint bytes', 'restart → caught up', 'peak RSS', 'digest equal', 'load after'],
      [
        [
          r.missedOperations,
          r.instancesMissed,
          rc.stateTransfers > 0 ? `state transfer (checkpoint ${r.stableCheckpointCid}) + log` : `log only (${rc.catchUpRequests} catch-up requests)`,
          seconds(rc.apiUpMs ?? Number.NaN),
          seconds(rc.stateTransferredMs ?? Number.NaN),
          rc.stateTransfers > 0 ? mib(rc.transferredBytes) : '–',
          seconds(rc.caughtUpMs),
          mib(rc.peakRssBytes),
          rc.digestEqual ? 'yes' : 'NO',
          r.loadAfter,
        ],
      ],
    ),
  );
}

runs.main(main);
