/**
 * Bounded exponential backoff with jitter for reconnecting: minMs, 2*minMs, ... up to maxMs,
 * each delay drawn in [delay/2, delay] so replicas that lost a peer together do not redial in
 * lockstep.
 */
export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  /** @throws RangeError unless 0 < minMs <= maxMs. */
  constructor(minMs: number, maxMs: number, random: () => number = Math.random) {
    if (!(minMs > 0 && minMs <= maxMs)) throw new RangeError(`backoff needs 0 < minMs <= maxMs, got ${minMs}, ${maxMs}`);
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  /** Delay before the next attempt, in ms; grows until maxMs. */
  nextDelayMs(): number {
    const ceilingMs = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(1, Math.round(ceilingMs * (0.5 + 0.5 * this.random())));
  }

  /** Called once a connection proved healthy. */
  reset(): void {
    this.attempt = 0;
  }
}
