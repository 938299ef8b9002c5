/**
 * Liveness: after the network heals (the liveness phase), every operation of a correct
 * client completes within the run's stated bound: an operation issued at `t` must
 * complete by max(t, healMs) + livenessBoundMs.
 */
import type { Violations } from './violations.ts';

export interface OperationRecord {
  readonly clientId: number;
  readonly index: number;
  readonly label: string;
  readonly issuedMs: number;
  completedMs: number | null;
}

export class LivenessChecker {
  readonly operations: OperationRecord[] = [];
  private latestIssuedMs = 0;

  constructor(
    private readonly violations: Violations,
    private readonly livenessBoundMs: number,
  ) {}

  issued(clientId: number, index: number, label: string, atMs: number): OperationRecord {
    const r: OperationRecord = { clientId, index, label, issuedMs: atMs, completedMs: null };
    this.operations.push(r);
    if (atMs > this.latestIssuedMs) this.latestIssuedMs = atMs;
    return r;
  }

  /** The latest time by which every operation issued so far must have completed. */
  deadlineMs(healMs: number): number {
    return Math.max(this.latestIssuedMs, healMs) + this.livenessBoundMs;
  }

  /**
   * Checks every operation against the bound at the end of the run (`endMs`).
   * @param diagnosis appended to the first violation (where the correct replicas stand).
   * @param stalled the replicas went silent for good: pending operations will never
   *   complete, so they fail now rather than at their deadline.
   */
  finish(healMs: number, endMs: number, diagnosis = '', stalled = false): void {
    let first = true;
    const tail = (): string => {
      if (!first || !diagnosis) return '';
      first = false;
      return ` [${diagnosis}]`;
    };
    for (const o of this.operations) {
      const deadline = Math.max(o.issuedMs, healMs) + this.livenessBoundMs;
      const what = `client ${o.clientId} operation #${o.index} (${o.label}) issued at ${(o.issuedMs / 1000).toFixed(3)}s`;
      if (o.completedMs === null) {
        if (stalled) this.violations.report('liveness', endMs, `${what} never completes: the correct replicas went silent (stalled)${tail()}`);
        else if (endMs >= deadline) this.violations.report('liveness', endMs, `${what} did not complete within ${this.livenessBoundMs} ms of the heal${tail()}`);
      } else if (o.completedMs > deadline) {
        this.violations.report('liveness', o.completedMs, `${what} completed ${((o.completedMs - Math.max(o.issuedMs, healMs)) / 1000).toFixed(3)}s after the heal, beyond the ${this.livenessBoundMs} ms bound${tail()}`);
      }
    }
  }

  get completed(): number {
    return this.operations.filter((o) => o.completedMs !== null).length;
  }
}
