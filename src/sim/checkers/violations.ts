/** What a checker reports: which property broke, when, and how. */

export const CHECKERS = [
  'agreement',
  'total-order',
  'exactly-once',
  'validity',
  'liveness',
  'client-result',
  'stale-read',
  'wallet',
  'state',
  'accusation',
  'core-threw',
] as const;

export type CheckerName = (typeof CHECKERS)[number];

export interface Violation {
  readonly checker: CheckerName;
  /** Simulated time (ms) it was detected. */
  readonly atMs: number;
  readonly message: string;
}

/** Collects violations; keeps the first `max` (a broken run can report the same fault thousands of times). */
export class Violations {
  readonly list: Violation[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly max = 50) {}

  report(checker: CheckerName, atMs: number, message: string): void {
    const key = `${checker}:${message}`;
    if (this.seen.has(key) || this.list.length >= this.max) return;
    this.seen.add(key);
    this.list.push({ checker, atMs, message });
  }

  get count(): number {
    return this.list.length;
  }

  /** True if a safety property broke (anything but liveness). */
  get safetyBroken(): boolean {
    return this.list.some((v) => v.checker !== 'liveness');
  }
}
