/**
 * The append service's invariants:
 * - an append acknowledged with history length L is the L-th entry of every correct
 *   replica's history that reached L, and at least one has it;
 * - when every replica is correct (crashes and restarts allowed), a read issued after an
 *   append was acknowledged with length L returns at least L. A read needs a Byzantine
 *   quorum of matching replies and an acknowledgement f+1, so they share a replica that
 *   executed the append, unless a replica answered from a state it lost in a crash
 *   (replica.ts, readsHeldUntilCid). With Byzantine replicas a stale quorum is possible
 *   by design (BFT-SMaRt's unordered reads), so the check is off there.
 */
import { bytesEqual } from '../../core/bytes.ts';
import type { Violations } from './violations.ts';

export class AppendChecker {
  private readonly acknowledged = new Map<number, { payload: Uint8Array; by: string }>();
  /** Acknowledgements in time order, each with the highest length acknowledged so far. */
  private readonly highWater: { atMs: number; length: number; by: string }[] = [];

  /** @param checkReads whether reads must see every earlier acknowledged append (no Byzantine replica in the run). */
  constructor(
    private readonly violations: Violations,
    private readonly checkReads = false,
  ) {}

  /** A correct client's append of `payload` was acknowledged as history length `length`. */
  onAcknowledged(length: number, payload: Uint8Array, by: string, atMs: number): void {
    const previous = this.acknowledged.get(length);
    if (previous && !bytesEqual(previous.payload, payload)) this.violations.report('client-result', atMs, `history position ${length} acknowledged to both ${previous.by} and ${by}`);
    this.acknowledged.set(length, { payload, by });
    const top = this.highWater.at(-1);
    if (!top || length > top.length) this.highWater.push({ atMs, length, by });
  }

  /** A correct client's read, issued at `issuedMs`, returned history length `length` at `atMs`. */
  onRead(length: number, by: string, issuedMs: number, atMs: number): void {
    if (!this.checkReads) return;
    let floor: { atMs: number; length: number; by: string } | undefined;
    for (let i = this.highWater.length - 1; i >= 0; i--) {
      if (this.highWater[i]!.atMs < issuedMs) {
        floor = this.highWater[i];
        break;
      }
    }
    if (floor && length < floor.length) {
      this.violations.report('stale-read', atMs, `${by} read history length ${length}, issued after length ${floor.length} was acknowledged to ${floor.by}`);
    }
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
