/**
 * The simulated network: for each message it decides whether it arrives, when, and
 * how many times. Delays are independent draws (so messages reorder), with occasional
 * spikes; messages can be lost or duplicated; partitions cut links between replicas,
 * symmetric (groups) or asymmetric (directed links). Clients are never partitioned,
 * only subject to loss, delay and duplication (they retransmit).
 */
import type { NetworkProfile, PartitionShape } from './config.ts';
import type { Prng } from './prng.ts';

export class SimNetwork {
  private profile: NetworkProfile;
  /** Cut directed links "from>to" between replicas. */
  private readonly cut = new Set<string>();
  /** Messages lost to partitions, to loss, and duplicated (for the run's statistics). */
  readonly counts = { sent: 0, cutOff: 0, lost: 0, duplicated: 0, queued: 0 };
  /** Sends waiting for the partition to heal ('queue' mode). */
  private held: (() => void)[] = [];

  constructor(
    profile: NetworkProfile,
    private readonly rng: Prng,
    private readonly partitionMode: 'drop' | 'queue' = 'drop',
  ) {
    this.profile = profile;
  }

  /** Switches to another profile (the healed network of the liveness phase). */
  setProfile(profile: NetworkProfile): void {
    this.profile = profile;
  }

  /** Applies a partition on top of the current ones. */
  partition(shape: PartitionShape, members: readonly number[]): void {
    if (shape.kind === 'links') {
      for (const [a, b] of shape.cut) this.cut.add(`${a}>${b}`);
      return;
    }
    const groupOf = new Map<number, number>();
    shape.groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    for (const a of members) for (const b of members) if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.cut.add(`${a}>${b}`);
  }

  /** Restores every link and re-sends what waited for it ('queue' mode). */
  heal(): void {
    this.cut.clear();
    const held = this.held;
    this.held = [];
    for (const resend of held) resend();
  }

  isCut(from: number, to: number): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /**
   * The fate of one replica-to-replica message.
   * @param resend in 'queue' mode, called again when a partition that cut this link heals.
   * @returns the delays (ms) of its deliveries: [] when lost or cut off, two when duplicated.
   */
  replicaLink(from: number, to: number, resend: () => void, messageType = 0): number[] {
    this.counts.sent++;
    if (this.cut.has(`${from}>${to}`)) {
      if (this.partitionMode === 'queue') {
        this.counts.queued++;
        this.held.push(resend);
      } else this.counts.cutOff++;
      return [];
    }
    const t = this.profile.targetedLoss;
    if (t && t.type === messageType && this.rng.chance(t.p)) {
      this.counts.lost++;
      return [];
    }
    return this.fate(this.profile.lossP);
  }

  /** The fate of one client<->replica message (never partitioned). */
  clientLink(): number[] {
    this.counts.sent++;
    return this.fate(this.profile.clientLossP);
  }

  private fate(lossP: number): number[] {
    const p = this.profile;
    if (this.rng.chance(lossP)) {
      this.counts.lost++;
      return [];
    }
    const first = this.delay();
    if (!this.rng.chance(p.duplicateP)) return [first];
    this.counts.duplicated++;
    return [first, this.delay()];
  }

  private delay(): number {
    const p = this.profile;
    let d = p.delayMsMin + this.rng.exponential(p.delayMsMean);
    if (this.rng.chance(p.spikeP)) d += this.rng.float(0, p.spikeMsMax);
    return d;
  }
}
