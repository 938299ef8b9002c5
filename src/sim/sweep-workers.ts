/**
 * A sweep across worker processes (one per core): the parent hands out batches of
 * seeds over IPC and gathers each seed's outcome. Workers are this package's CLI in
 * `--worker` mode, so they generate configurations exactly like a replay does.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GenerateOptions } from './generate.ts';
import { generateFlags } from './run.ts';
import { runOutcome, summarize, type SeedOutcome, type SweepSummary } from './sweep.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const BATCH = 16;

type ToWorker = { seeds: number[] } | { done: true };
type FromWorker = { ready: true } | { outcome: SeedOutcome };

/** Runs seeds from..from+count-1 on `workers` processes. */
export function sweepInWorkers(from: number, count: number, workers: number, generate: GenerateOptions, tolerateKnown: boolean, onOutcome: (o: SeedOutcome) => void): Promise<SweepSummary> {
  const start = performance.now();
  const outcomes: SeedOutcome[] = [];
  let next = from;
  const end = from + count;
  return new Promise((resolve, reject) => {
    let alive = 0;
    /** Sends the next batch (or `done`). @returns how many seeds were given. */
    const give = (child: ChildProcess): number => {
      if (next >= end) {
        child.send({ done: true } satisfies ToWorker);
        return 0;
      }
      const seeds: number[] = [];
      while (seeds.length < BATCH && next < end) seeds.push(next++);
      child.send({ seeds } satisfies ToWorker);
      return seeds.length;
    };
    for (let i = 0; i < Math.max(1, workers); i++) {
      const child = fork(MAIN, ['--worker', ...generateFlags(generate), ...(tolerateKnown ? [] : ['--strict'])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      alive++;
      let pending = 0;
      child.on('message', (m: FromWorker) => {
        if ('ready' in m) {
          pending = give(child);
          return;
        }
        outcomes.push(m.outcome);
        onOutcome(m.outcome);
        if (--pending === 0) pending = give(child);
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`sweep worker exited with code ${code}`));
        if (--alive === 0) resolve(summarize(outcomes.sort((a, b) => a.seed - b.seed), performance.now() - start));
      });
    }
  });
}

/** The worker side: runs each batch it is given, reports every outcome, exits on `done`. */
export function serveAsWorker(generate: GenerateOptions, tolerateKnown: boolean): void {
  const send = (m: FromWorker): void => {
    process.send?.(m);
  };
  process.on('message', async (m: ToWorker) => {
    if ('done' in m) {
      process.disconnect?.();
      return;
    }
    for (const seed of m.seeds) send({ outcome: await runOutcome(seed, generate, tolerateKnown) });
  });
  send({ ready: true });
}
