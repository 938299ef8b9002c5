/**
 * A replica's local clock: an offset plus a drift (parts per million) applied to the
 * simulated time. Ticks carry local time, so timeouts and batch timestamps see the
 * skew a real deployment would. Local time never runs backwards.
 */
export class DriftClock {
  private lastMs = 0;

  constructor(
    /** Local time at simulated time 0 (ms since the Unix epoch). */
    private readonly epochMs: number,
    private readonly driftPpm: number,
  ) {}

  /** Local time (integer ms) at simulated time `simMs`. */
  localMs(simMs: number): number {
    const t = Math.floor(this.epochMs + simMs * (1 + this.driftPpm / 1e6));
    if (t > this.lastMs) this.lastMs = t;
    return this.lastMs;
  }
}
