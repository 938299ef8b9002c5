/**
 * Shared state of colluding faulty replicas (over-f mode only): when a coalition leader
 * equivocates, it records which correct replica was shown which value, and every
 * coalition member then votes, to each correct replica, for the value it was shown.
 * With more than f colluders this splits the correct replicas' decisions — which the
 * agreement checker must report.
 */

interface Split {
  readonly groupB: ReadonlySet<number>;
  readonly valueA: Uint8Array;
  readonly valueB: Uint8Array;
}

export class Coalition {
  private readonly splits = new Map<string, Split>();
  readonly members: ReadonlySet<number>;

  constructor(members: Iterable<number>) {
    this.members = new Set(members);
  }

  /** Records that, in (cid, regency), `groupB` was shown `valueB` and everyone else `valueA`. */
  assign(cid: number, regency: number, groupB: ReadonlySet<number>, valueA: Uint8Array, valueB: Uint8Array): void {
    if (this.splits.size > 256) this.splits.clear();
    this.splits.set(`${cid}/${regency}`, { groupB, valueA, valueB });
  }

  /** The value `recipient` was shown in (cid, regency), or null if the coalition did not split it. */
  valueFor(cid: number, regency: number, recipient: number): Uint8Array | null {
    const s = this.splits.get(`${cid}/${regency}`);
    if (!s) return null;
    return s.groupB.has(recipient) ? s.valueB : s.valueA;
  }

  has(cid: number, regency: number): boolean {
    return this.splits.has(`${cid}/${regency}`);
  }
}
