/**
 * Replicated state: correct replicas that executed the same instances hold the same
 * state. Compared every `period` instances (the simulator's stable points) by the
 * SHA-256 of the service snapshot, and through the core's own checkpoint digests when
 * it takes checkpoints. A correct replica that finds its state diverged from a quorum's
 * is also a violation.
 */
import { toHex } from '../../core/bytes.ts';
import type { Hasher } from '../../crypto/signature.ts';
import type { Violations } from './violations.ts';

export class StateChecker {
  private readonly snapshotDigests = new Map<number, { digestHex: string; replica: number }>();
  private readonly checkpointDigests = new Map<number, { digestHex: string; replica: number }>();

  constructor(
    private readonly violations: Violations,
    private readonly hash: Hasher,
    readonly period: number,
  ) {}

  /** True when the state after `cid` is compared. */
  isCheckedCid(cid: number): boolean {
    return (cid + 1) % this.period === 0;
  }

  /** A correct replica's service snapshot right after executing `cid`. */
  onSnapshot(replica: number, cid: number, snapshot: Uint8Array, atMs: number): void {
    this.compare(this.snapshotDigests, 'service snapshot', replica, cid, toHex(this.hash(snapshot)), atMs);
  }

  /** A correct replica's 'checkpoint-taken' event. */
  onCheckpoint(replica: number, cid: number, digestHex: string, atMs: number): void {
    this.compare(this.checkpointDigests, 'checkpoint', replica, cid, digestHex, atMs);
  }

  /** A correct replica's 'state-divergence' event. */
  onDivergence(replica: number, cid: number, atMs: number): void {
    this.violations.report('state', atMs, `correct replica ${replica} found its checkpoint ${cid} differs from a quorum's`);
  }

  private compare(table: Map<number, { digestHex: string; replica: number }>, what: string, replica: number, cid: number, digestHex: string, atMs: number): void {
    const first = table.get(cid);
    if (!first) {
      table.set(cid, { digestHex, replica });
      return;
    }
    if (first.digestHex !== digestHex) this.violations.report('state', atMs, `${what} after instance ${cid}: replica ${first.replica} has #${first.digestHex.slice(0, 12)}, replica ${replica} has #${digestHex.slice(0, 12)}`);
  }
}
