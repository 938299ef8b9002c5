/**
 * Where a replica keeps what it must not forget. The core says what to persist in each
 * `Ready`; the host writes it here and only then sends the messages that depend on it.
 *
 * `MemoryStorage` keeps nothing across restarts; durable implementations (an embedded
 * store, Redis) implement the same interface.
 */
import type { DurableRecord } from '../../core/ready.ts';
import type { Decision } from '../../core/messages.ts';

export interface ReplicaStorage {
  /** Writes a group of records atomically; resolves once they are durable. */
  persist(records: readonly DurableRecord[]): Promise<void>;
  /** The highest regency this replica moved to (0 if none). */
  loadRegency(): Promise<number>;
  /** Decided instances from `fromCid` on, in cid order. */
  loadDecisions(fromCid: number): AsyncIterable<Decision>;
  close(): Promise<void>;
}

export class MemoryStorage implements ReplicaStorage {
  private regency = 0;
  private readonly decisions: Decision[] = [];

  async persist(records: readonly DurableRecord[]): Promise<void> {
    for (const r of records) {
      if (r.kind === 'regency') this.regency = Math.max(this.regency, r.regency);
      else this.decisions.push(r.decision);
    }
  }

  async loadRegency(): Promise<number> {
    return this.regency;
  }

  async *loadDecisions(fromCid: number): AsyncIterable<Decision> {
    for (const d of this.decisions) if (d.cid >= fromCid) yield d;
  }

  async close(): Promise<void> {}
}
