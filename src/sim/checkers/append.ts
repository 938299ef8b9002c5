/**
 * The append service's invariant: an append acknowledged with history length L is the
 * L-th entry of every correct replica's history that reached L, and at least one has it.
 */
import { bytesEqual } from '../../core/bytes.ts';
import type { Violations } from './violations.ts';

export class AppendChecker {
  private readonly acknowledged = new Map<number, { payload: Uint8Array; by: string }>();

  constructor(private readonly violations: Violations) {}

  /** A correct client's append of `payload` was acknowledged as history length `length`. */
  onAcknowledged(length: number, payload: Uint8Array, by: string, atMs: number): void {
    const previous = this.acknowledged.get(length);
    if (previous && !bytesEqual(previous.payload, payload)) this.violations.report('client-result', atMs, `history position ${length} acknowledged to both ${previous.by} and ${by}`);
    this.acknowledged.set(length, { payload, by });
  }

  finish(histories: ReadonlyMap<number, readonly Uint8Array[]>, atMs: number): void {
    for (const [length, ack] of this.acknowledged) {
      let holders = 0;
      for (const [replica, history] of histories) {
        const entry = history[length - 1];
        if (!entry) continue;
        holders++;
        if (!bytesEqual(entry, ack.payload)) this.violations.report('state', atMs, `replica ${replica}'s history entry ${length} differs from the one acknowledged to ${ack.by}`);
      }
      if (holders === 0 && histories.size > 0) this.violations.report('state', atMs, `history entry ${length} acknowledged to ${ack.by} is at no correct replica`);
    }
  }
}
