/**
 * How `bench wallet` offers its load: a closed loop (each client sends its next operation
 * when the last one is answered) or an open loop (operations arrive at a set rate whether
 * or not earlier ones were answered).
 *
 * Why both: a closed loop measures throughput, but its latency hides queueing, because a
 * slow answer also delays the next request ("coordinated omission"). An open loop shows the
 * latency a given offered load gets, queueing included: each operation's latency counts from
 * the moment it was due to be sent (as wrk2 and YCSB's target throughput do), so a stalled
 * cluster shows up as growing latency rather than as fewer samples.
 *
 * In both, a client has at most one operation in flight: wallet operations carry per-account
 * nonces that must arrive in order, and each client owns the accounts it signs for. In the
 * open loop an arrival takes the client that has been idle longest; when every client is
 * busy it waits (its wait counts in its latency). So `clients` bounds the operations in
 * flight, like the connections of a load generator.
 *
 * The clock is injected so that tests can drive time; the benchmark uses `realClock`.
 */
import { performance } from 'node:perf_hooks';
import type { Prng } from '../sim/prng.ts';

/** One pre-built operation of a client's plan. */
export interface LoadCall<K extends string> {
  readonly kind: K;
  /** Sends the operation. @returns its answer; rejects if it failed. */
  run(): Promise<unknown>;
}

export interface LoadClock {
  /** Milliseconds since an arbitrary origin (monotonic). */
  now(): number;
  /** Resolves once `now()` has reached `atMs` (at once if it has). */
  sleepUntil(atMs: number): Promise<void>;
}

export const realClock: LoadClock = {
  now: () => performance.now(),
  sleepUntil: (atMs) => new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - performance.now()))),
};

/** Where a driver reports each finished operation. */
export interface LoadRecorder<K extends string> {
  /** An answer: `dueMs` is when the operation was due (open loop) or sent (closed loop), `doneMs` when it was answered. */
  done(kind: K, dueMs: number, doneMs: number, answer: unknown): void;
  /** A failure (a rejected `run`). */
  failed(kind: K): void;
}

export interface LoadResult {
  /** Clients that used up their plan while the driver still ran (their figures would idle). */
  readonly exhausted: number;
}

export interface OpenLoopResult extends LoadResult {
  /** Operations that arrived (were due) while the driver ran. */
  readonly arrivals: number;
  /** Of those, how many found every client busy and waited for one. */
  readonly waitedForClient: number;
  /** The most arrivals ever waiting for a client at once. */
  readonly backlogMax: number;
}

/**
 * Each client runs its plan in order, one operation at a time, until `running()` is false.
 * @param plans one plan per client, consumed from the front
 * @returns when every client has stopped (after its operation in flight is answered)
 */
export async function closedLoop<K extends string>(plans: readonly (readonly LoadCall<K>[])[], recorder: LoadRecorder<K>, running: () => boolean, clock: LoadClock = realClock): Promise<LoadResult> {
  let exhausted = 0;
  await Promise.all(
    plans.map(async (plan) => {
      for (const call of plan) {
        if (!running()) return;
        const sentMs = clock.now();
        try {
          const answer = await call.run();
          recorder.done(call.kind, sentMs, clock.now(), answer);
        } catch {
          recorder.failed(call.kind);
        }
      }
      if (running()) exhausted++;
    }),
  );
  return { exhausted };
}

/**
 * Operations arrive as a Poisson process of `rateOpsPerS` (exponential gaps drawn from
 * `prng`, so a seed gives the same schedule) until `running()` is false. Each arrival takes
 * the next operation of the client idle longest, or waits in order for a client to free up.
 * Arrivals still waiting when the driver stops are not sent.
 * @param rateOpsPerS offered load, operations per second, > 0
 * @returns once stopped and every operation in flight is answered
 * @throws RangeError if the rate is not a positive finite number or there are no clients
 */
export async function openLoop<K extends string>(
  plans: readonly (readonly LoadCall<K>[])[],
  rateOpsPerS: number,
  prng: Prng,
  recorder: LoadRecorder<K>,
  running: () => boolean,
  clock: LoadClock = realClock,
): Promise<OpenLoopResult> {
  if (!(rateOpsPerS > 0) || !Number.isFinite(rateOpsPerS)) throw new RangeError(`rate must be a positive number of operations per second, got ${rateOpsPerS}`);
  if (plans.length === 0) throw new RangeError('an open loop needs at least one client');
  const meanGapMs = 1000 / rateOpsPerS;
  const idle: number[] = plans.map((_, c) => c);
  const nextIndex: number[] = plans.map(() => 0);
  const exhaustedClients = new Set<number>();
  /** Due times (ms) of arrivals waiting for a client, oldest first. */
  const waiting: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let arrivals = 0;
  let waitedForClient = 0;
  let backlogMax = 0;
  let freed: () => void = () => {};
  let clientFreed = new Promise<void>((resolve) => (freed = resolve));

  const dispatch = (dueMs: number, client: number): void => {
    const call = plans[client]![nextIndex[client]!++];
    if (!call) {
      // This client is done: the arrival goes to the next one (it is not lost).
      exhaustedClients.add(client);
      waiting.unshift(dueMs);
      return;
    }
    const sent = call.run().then(
      (answer) => recorder.done(call.kind, dueMs, clock.now(), answer),
      () => recorder.failed(call.kind),
    );
    const tracked: Promise<void> = sent.finally(() => {
      inFlight.delete(tracked);
      idle.push(client);
      freed();
    });
    inFlight.add(tracked);
  };

  let nextDueMs = clock.now() + prng.exponential(meanGapMs);
  while (running()) {
    const now = clock.now();
    let arrived = 0;
    for (; nextDueMs <= now; nextDueMs += prng.exponential(meanGapMs)) {
      arrived++;
      waiting.push(nextDueMs);
    }
    arrivals += arrived;
    while (waiting.length > 0 && idle.length > 0) dispatch(waiting.shift()!, idle.shift()!);
    // Arrivals join the back of the queue: those of this pass still queued found no client.
    waitedForClient += Math.min(arrived, waiting.length);
    backlogMax = Math.max(backlogMax, waiting.length);
    if (exhaustedClients.size === plans.length) break;
    await Promise.race([clock.sleepUntil(nextDueMs), clientFreed]);
    clientFreed = new Promise<void>((resolve) => (freed = resolve));
  }
  await Promise.all(inFlight);
  return { exhausted: exhaustedClients.size, arrivals, waitedForClient, backlogMax };
}
