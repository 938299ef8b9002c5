/**
 * Timing for the in-process micro-benchmarks in bench/: a function's cost per call, as the
 * median over rounds after warm-up rounds (the JIT compiles during the first ones).
 */

/**
 * @param fn what to time; its result is discarded.
 * @param calls calls per round.
 * @returns ns per call: the median of `rounds` rounds, after `warmupRounds` untimed ones.
 */
export function medianNanosPerCall(fn: () => unknown, calls: number, rounds = 7, warmupRounds = 2): number {
  const timed: number[] = [];
  for (let r = 0; r < warmupRounds + rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    if (r >= warmupRounds) timed.push(Number(process.hrtime.bigint() - t) / calls);
  }
  return timed.sort((a, b) => a - b)[rounds >> 1]!;
}
