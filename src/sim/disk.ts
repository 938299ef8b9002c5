/**
 * A replica's simulated disk. Records become durable `latency` ms after they are
 * written, in write order (one write at a time, like an fsync'd log); a crash loses
 * whatever was not yet durable. The host rule "persist before you speak" is modelled by
 * the node: a Ready's messages leave only once its records are durable, except records
 * that need not be (`mustPersistBeforeSpeaking`: decisions and WRITE-phase votes). Those
 * are kept back, as the host keeps them, and written with the next record that must be
 * durable; the host also writes them after 50 ms of quiet and at a clean stop, the
 * simulator never does, so a crash here loses more (and every restart here is fenced).
 *
 * Invariant: `durable` is a prefix of everything written, in order, minus what a
 * stable checkpoint made obsolete.
 */
import type { Decision } from '../core/messages.ts';
import { mustPersistBeforeSpeaking, type DurableRecord } from '../core/ready.ts';
import type { RecoveredState } from '../core/recovery.ts';

export class SimDisk {
  readonly durable: DurableRecord[] = [];
  private pending: { record: DurableRecord; durableAtMs: number }[] = [];
  /** Records kept back for the next write that must be durable. */
  private deferred: DurableRecord[] = [];
  /** When the last write queued so far becomes durable. */
  private busyUntilMs = 0;
  lostOnCrash = 0;

  /**
   * Queues `records` (after every earlier write), or keeps them back if none must be
   * durable before speaking. @returns when the Ready's outputs may leave: when its records
   * that must be durable are, and never before earlier writes are (`nowMs` when nothing is
   * queued).
   */
  write(records: readonly DurableRecord[], nowMs: number, latencyMs: number): number {
    this.sync(nowMs);
    const start = Math.max(nowMs, this.busyUntilMs);
    if (!records.some(mustPersistBeforeSpeaking)) {
      this.deferred.push(...records);
      return start;
    }
    this.busyUntilMs = start + latencyMs;
    for (const record of [...this.deferred, ...records]) this.pending.push({ record, durableAtMs: this.busyUntilMs });
    this.deferred = [];
    return this.busyUntilMs;
  }

  /** Moves every write durable by `nowMs` to `durable`. */
  sync(nowMs: number): void {
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.durableAtMs <= nowMs) this.append(this.pending[i++]!.record);
    if (i > 0) this.pending = this.pending.slice(i);
  }

  /** The power fails at `nowMs`: pending writes are lost. */
  crash(nowMs: number): void {
    this.sync(nowMs);
    this.lostOnCrash += this.pending.length + this.deferred.length;
    this.pending = [];
    this.deferred = [];
    this.busyUntilMs = nowMs;
  }

  /**
   * What a restarted replica reads back (like the host's storage `load()`): the latest
   * regency and votes, the latest checkpoint, and the decisions from its instance on, in order.
   */
  recoveredState(): RecoveredState {
    let regency = 0;
    let votes: RecoveredState['votes'] = null;
    let checkpoint: RecoveredState['checkpoint'] = null;
    for (const r of this.durable) {
      if (r.kind === 'regency') regency = Math.max(regency, r.regency);
      else if (r.kind === 'votes') votes = r.votes;
      else if (r.kind === 'checkpoint' && (!checkpoint || r.cid > checkpoint.cid)) checkpoint = { cid: r.cid, bytes: r.bytes };
    }
    const from = checkpoint ? checkpoint.cid : 0; // the checkpoint's own decision too: a proof (recovery.ts)
    const decisions: Decision[] = [];
    for (const r of this.durable) if (r.kind === 'decision' && r.decision.cid >= from) decisions.push(r.decision);
    decisions.sort((a, b) => a.cid - b.cid);
    return { regency, checkpoint, decisions, votes };
  }

  private append(record: DurableRecord): void {
    const r = record as { kind: string; cid?: number; decision?: { cid: number } };
    if (r.kind === 'stable-checkpoint' && r.cid !== undefined) {
      // What a stable checkpoint covers is never needed again (keeps the disk bounded).
      const cid = r.cid;
      const keep = this.durable.filter((d) => {
        const x = d as { kind: string; cid?: number; decision?: { cid: number } };
        if (x.kind === 'decision') return (x.decision?.cid ?? Infinity) > cid;
        if (x.kind === 'checkpoint') return (x.cid ?? Infinity) >= cid;
        return true;
      });
      this.durable.length = 0;
      this.durable.push(...keep);
    }
    if (r.kind === 'regency' || r.kind === 'votes') {
      // Only the latest of these matters.
      const i = this.durable.findIndex((d) => d.kind === r.kind);
      if (i >= 0) this.durable.splice(i, 1);
    }
    this.durable.push(record);
  }
}
