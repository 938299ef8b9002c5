/**
 * Agreement and total order, from the replicas' 'decided' events and decided values:
 * - agreement: no two correct replicas decide different digests for the same cid;
 * - total order: each correct replica decides cids consecutively (0, 1, 2, …), except
 *   where a state transfer installs a checkpoint and it continues after that.
 */
import type { Violations } from './violations.ts';

export class AgreementChecker {
  /** First correct decision per cid: digest and who decided it. */
  private readonly decided = new Map<number, { digestHex: string; replica: number }>();
  /** Next cid each correct replica must decide. */
  private readonly nextCid = new Map<number, number>();

  constructor(private readonly violations: Violations) {}

  /** A correct replica decided `cid` with value digest `digestHex`. */
  onDecided(replica: number, cid: number, digestHex: string, atMs: number): void {
    const expected = this.nextCid.get(replica) ?? 0;
    if (cid !== expected) this.violations.report('total-order', atMs, `replica ${replica} decided instance ${cid}, expected ${expected}`);
    this.nextCid.set(replica, cid + 1);
    const first = this.decided.get(cid);
    if (!first) {
      this.decided.set(cid, { digestHex, replica });
      return;
    }
    if (first.digestHex !== digestHex) {
      this.violations.report('agreement', atMs, `instance ${cid}: replica ${first.replica} decided #${first.digestHex.slice(0, 16)}, replica ${replica} decided #${digestHex.slice(0, 16)}`);
    }
  }

  /** A correct replica installed a checkpoint at `cid` by state transfer: it continues at cid+1. */
  onStateTransferred(replica: number, cid: number): void {
    this.nextCid.set(replica, cid + 1);
  }

  /**
   * A correct replica restarted and recovered up to `lastCid` from its disk: decisions it
   * made after that were never durable (nor visible: outputs wait for durability), so it
   * may decide them again — agreement still requires the same digests.
   */
  onRecovered(replica: number, lastCid: number): void {
    this.nextCid.set(replica, lastCid + 1);
  }

  /** The digest decided for `cid` by the first correct replica, if any. */
  digestOf(cid: number): string | undefined {
    return this.decided.get(cid)?.digestHex;
  }

  /** Highest cid any correct replica decided (-1 if none). */
  get highestCid(): number {
    let h = -1;
    for (const c of this.decided.keys()) if (c > h) h = c;
    return h;
  }
}
