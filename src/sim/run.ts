/**
 * One seed, one run: generate the configuration from the seed, simulate it, and say
 * how to replay it. Used by the CLI (`main.ts`), the sweep and the tests.
 */
import { generateConfig, type GenerateOptions } from './generate.ts';
import { simulate, type RunOptions, type RunResult } from './simulator.ts';

/** Simulates the run that `seed` (with `generate`) describes. */
export function runSeed(seed: number, generate: GenerateOptions = {}, options: RunOptions = {}): Promise<RunResult> {
  return simulate(generateConfig(seed, generate), options);
}

/** The CLI flags that reproduce `generate` (everything but the seed). */
export function generateFlags(g: GenerateOptions): string[] {
  const flags: string[] = [];
  if (g.mode && g.mode !== 'safe') flags.push('--mode', g.mode);
  if (g.plantedBugs?.quorumTooSmall) flags.push('--planted', 'quorum-too-small');
  if (g.plantedBugs?.forgetWriteCertificates) flags.push('--planted', 'forget-write-certificates');
  if (g.plantedBugs?.noRestartFence) flags.push('--planted', 'no-restart-fence');
  if (g.n !== undefined) flags.push('--n', String(g.n));
  if (g.service) flags.push('--service', g.service);
  if (g.behaviours) flags.push('--behaviours', g.behaviours.length ? g.behaviours.join(',') : 'none');
  if (g.faultKinds) flags.push('--fault-kinds', g.faultKinds.join(','));
  if (g.faultsMax !== undefined) flags.push('--faults-max', String(g.faultsMax));
  if (g.byzantineClients === false) flags.push('--no-byzantine-clients');
  if (g.clientBehaviours) flags.push('--client-behaviours', g.clientBehaviours.join(','));
  if (g.stopLoss === false) flags.push('--no-stop-loss');
  if (g.partitions === false) flags.push('--no-partitions');
  if (g.recovery === false) flags.push('--no-recovery');
  if (g.signedRequests !== undefined) flags.push(g.signedRequests ? '--signed-requests' : '--unsigned-requests');
  if (g.targetedLoss) flags.push('--targeted-loss', `${g.targetedLoss.type}:${g.targetedLoss.p}`);
  if (g.keySeed) flags.push('--key-seed', String(g.keySeed));
  return flags;
}

/** The exact command that replays `seed` under `generate`. */
export function replayCommand(seed: number, generate: GenerateOptions = {}): string {
  return ['npm run sim --', '--seed', String(seed), ...generateFlags(generate)].join(' ');
}

/** A short verdict line for a run. */
export function verdict(r: RunResult, generate: GenerateOptions = {}): string {
  const s = r.stats;
  const head = `seed ${r.config.seed}: n=${r.config.n} ${r.config.service} ${s.decisions} decisions, ${s.operationsCompleted}/${s.operationsIssued} ops, regency ${s.highestRegency}, ${(s.simulatedMs / 1000).toFixed(1)}s simulated in ${r.wallMs.toFixed(0)} ms`;
  if (r.ok) return `ok   ${head}`;
  const first = r.violations[0]!;
  const label = r.overF && r.violations.some((v) => v.checker !== 'liveness') ? 'DETECTED (over-f)' : 'FAIL';
  return `${label} ${head}\n     [${first.checker}] ${first.message}${r.violations.length > 1 ? ` (+${r.violations.length - 1} more)` : ''}\n     replay: ${replayCommand(r.config.seed, generate)}`;
}
