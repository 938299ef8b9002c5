/**
 * The simulator's command line (`npm run sim -- …`).
 *
 *   --seed S                 replay one run and print its trace (--trace events|messages|none)
 *   --seeds N [--from S]     sweep N seeds (default from 1); each failure prints its replay command
 *   --workers K              sweep on K processes (default: 1; use 2 on a 2-core machine)
 *   --mode safe|over-f       faults within f (default), or more than f (safety loss must be detected)
 *   --planted quorum-too-small|forget-write-certificates|no-restart-fence   plant a core bug (self-test)
 *   --n 4|7|10, --service wallet|append, --behaviours a,b|none, --fault-kinds byzantine,twins,crash,
 *   --faults-max K, --client-behaviours malformed,bad-signature,conflicting-seq,flood,
 *   --no-byzantine-clients, --no-stop-loss, --no-partitions, --no-recovery, --key-seed K,
 *   --targeted-loss TYPE:P (the network loses messages of one type, e.g. 5:0.5 for ACCEPT),
 *   --signed-requests | --unsigned-requests (the core's signed-requests mode; default: drawn)
 *                            narrow the configuration
 *
 *   --strict                 count runs explained by known core bugs (known-bugs.ts) as failed
 *
 * A sweep ends with the line "N passed, M failed" (exit code 1 if any failed). Runs that
 * only hit known core bugs are listed by bug, with their seeds, and pass unless --strict.
 */
import { parseArgs } from 'node:util';
import { CLIENT_BEHAVIOURS, REPLICA_BEHAVIOURS, type ClientBehaviourKind, type ReplicaBehaviourKind } from './byzantine/behaviours.ts';
import type { GenerateOptions, FaultKind } from './generate.ts';
import { replayCommand, runSeed, verdict } from './run.ts';
import { KNOWN_CORE_BUGS } from './known-bugs.ts';
import { describeFailure, sweep, type SeedOutcome, type SweepSummary } from './sweep.ts';
import { serveAsWorker, sweepInWorkers } from './sweep-workers.ts';
import type { TraceLevel } from './trace.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    from: { type: 'string' },
    workers: { type: 'string' },
    trace: { type: 'string' },
    mode: { type: 'string' },
    planted: { type: 'string', multiple: true },
    n: { type: 'string' },
    service: { type: 'string' },
    behaviours: { type: 'string' },
    'fault-kinds': { type: 'string' },
    'faults-max': { type: 'string' },
    'no-byzantine-clients': { type: 'boolean' },
    'client-behaviours': { type: 'string' },
    'no-stop-loss': { type: 'boolean' },
    'no-partitions': { type: 'boolean' },
    'no-recovery': { type: 'boolean' },
    'targeted-loss': { type: 'string' },
    'signed-requests': { type: 'boolean' },
    'unsigned-requests': { type: 'boolean' },
    'key-seed': { type: 'string' },
    worker: { type: 'boolean' },
    strict: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  strict: true,
});

function integer(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 0) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return v;
}

function fail(message: string): never {
  console.error(`sim: ${message}`);
  process.exit(2);
}

function generateOptions(): GenerateOptions {
  const g: { -readonly [K in keyof GenerateOptions]: GenerateOptions[K] } = {};
  if (values.mode) {
    if (values.mode !== 'safe' && values.mode !== 'over-f') fail(`--mode must be safe or over-f`);
    g.mode = values.mode;
  }
  for (const p of values.planted ?? []) {
    if (p === 'quorum-too-small') g.plantedBugs = { ...g.plantedBugs, quorumTooSmall: true };
    else if (p === 'forget-write-certificates') g.plantedBugs = { ...g.plantedBugs, forgetWriteCertificates: true };
    else if (p === 'no-restart-fence') g.plantedBugs = { ...g.plantedBugs, noRestartFence: true };
    else fail(`unknown planted bug ${p}`);
  }
  if (values.n) {
    const n = integer(values.n, 'n', 4);
    if (n < 4) fail('--n must be at least 4');
    g.n = n;
  }
  if (values.service) {
    if (values.service !== 'wallet' && values.service !== 'append') fail('--service must be wallet or append');
    g.service = values.service;
  }
  if (values.behaviours !== undefined) {
    const list = values.behaviours === 'none' ? [] : values.behaviours.split(',');
    for (const b of list) if (!(REPLICA_BEHAVIOURS as readonly string[]).includes(b)) fail(`unknown behaviour ${b} (known: ${REPLICA_BEHAVIOURS.join(', ')})`);
    g.behaviours = list as ReplicaBehaviourKind[];
  }
  if (values['fault-kinds']) {
    const list = values['fault-kinds'].split(',');
    for (const k of list) if (!['byzantine', 'twins', 'crash'].includes(k)) fail(`unknown fault kind ${k}`);
    g.faultKinds = list as FaultKind[];
  }
  if (values['faults-max'] !== undefined) g.faultsMax = integer(values['faults-max'], 'faults-max', 0);
  if (values['no-byzantine-clients']) g.byzantineClients = false;
  if (values['client-behaviours']) {
    const list = values['client-behaviours'].split(',');
    for (const b of list) if (!(CLIENT_BEHAVIOURS as readonly string[]).includes(b)) fail(`unknown client behaviour ${b} (known: ${CLIENT_BEHAVIOURS.join(', ')})`);
    g.clientBehaviours = list as ClientBehaviourKind[];
  }
  if (values['no-stop-loss']) g.stopLoss = false;
  if (values['no-partitions']) g.partitions = false;
  if (values['no-recovery']) g.recovery = false;
  if (values['signed-requests']) g.signedRequests = true;
  if (values['unsigned-requests']) g.signedRequests = false;
  if (values['targeted-loss']) {
    const [type, p] = values['targeted-loss'].split(':').map(Number);
    if (!Number.isInteger(type) || p === undefined || !(p >= 0 && p <= 1)) fail('--targeted-loss is TYPE:P, e.g. 5:0.5 (ACCEPTs lost with probability 0.5)');
    g.targetedLoss = { type: type!, p };
  }
  if (values['key-seed']) g.keySeed = integer(values['key-seed'], 'key-seed', 0);
  return g;
}

async function replay(seed: number, generate: GenerateOptions): Promise<void> {
  const level = (values.trace ?? 'events') as TraceLevel;
  if (!['none', 'events', 'messages'].includes(level)) fail('--trace must be none, events or messages');
  const r = await runSeed(seed, generate, { trace: level, stopOnViolation: false });
  if (level !== 'none') console.log(r.trace.format());
  console.log(verdict(r, generate));
  const s = r.stats;
  console.log(`stats: ${s.events} events, ${s.messages} messages (${s.lost} lost), ${s.byzantineActions} Byzantine actions, ${s.restarts} restarts, signature checks ${s.verifications.misses} (+${s.verifications.hits} cached)`);
  if (!r.ok && !r.overF) process.exitCode = 1;
}

function printSummary(s: SweepSummary, from: number, generate: GenerateOptions): void {
  for (const f of s.failures) console.log(describeFailure(f, generate));
  for (const [id, seeds] of Object.entries(s.known)) {
    const bug = KNOWN_CORE_BUGS.find((b) => b.id === id);
    console.log(`known core bug ${id} (${bug?.summary ?? '?'}): ${seeds.length} runs, e.g. ${replayCommand(seeds[0]!, generate)}${seeds.length > 1 ? ` (also seeds ${seeds.slice(1, 8).join(', ')}${seeds.length > 8 ? ', …' : ''})` : ''}`);
  }
  const checkers = Object.entries(s.byChecker).map(([k, v]) => `${k}: ${v}`).join(', ');
  console.log(
    `seeds ${from}..${from + s.seeds - 1}: ${s.seeds} runs, ${s.operations} client operations, ${s.decisions} decisions, ${(s.simulatedMs / 3_600_000).toFixed(2)} h simulated, wall ${(s.wallMs / 1000).toFixed(1)} s` +
      (generate.mode === 'over-f' ? `, safety loss detected in ${s.detected}` : '') +
      (checkers ? ` (failures by checker: ${checkers})` : ''),
  );
  console.log(`${s.passed} passed, ${s.failed} failed`);
  if (s.failed > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const generate = generateOptions();
  const tolerateKnown = !values.strict;
  if (values.worker) return serveAsWorker(generate, tolerateKnown);
  if (values.seed !== undefined) return replay(integer(values.seed, 'seed', 0), generate);
  if (values.seeds === undefined) fail('give --seed S (replay one run) or --seeds N [--from S] (sweep)');
  const count = integer(values.seeds, 'seeds', 0);
  const from = integer(values.from, 'from', 1);
  const workers = integer(values.workers, 'workers', 1);
  let done = 0;
  const onOutcome = (o: SeedOutcome): void => {
    done++;
    if (!o.ok) console.log(describeFailure(o, generate));
    else if (!values.quiet && done % 500 === 0) console.log(`… ${done}/${count} seeds`);
  };
  console.log(`sweeping ${count} seeds from ${from}${workers > 1 ? ` on ${workers} workers` : ''}; replay any seed with: ${replayCommand(from, generate).replace(String(from), 'S')}`);
  const summary = workers > 1 ? await sweepInWorkers(from, count, workers, generate, tolerateKnown, onOutcome) : await sweep(from, count, generate, { onOutcome, tolerateKnown });
  printSummary({ ...summary, failures: [] }, from, generate);
}

await main();
