/**
 * Where a replica keeps what it must not forget. The core says what to persist in each
 * `Ready`; the host writes it here and only then sends the messages that depend on it.
 *
 * `DurableStorage` lays the records out on any `KvBackend` (embedded store, Redis,
 * memory): one atomic batch per Ready, so a crash leaves either the whole step or none.
 *
 * Layout (keys are ASCII; numbers zero-padded to 16 digits so they sort):
 *   regency            u53, the highest regency reached
 *   votes              VoteState of the current instance (replaced on every vote)
 *   value/<cid>        the value this replica wrote in instance cid, as its raw bytes
 *   log/<cid>          a decided instance with its proof
 *   ckpt/<cid>         a checkpoint: 32-byte digest, then the canonical bytes
 *   clean-stop         present only while the replica is stopped cleanly (no records lost)
 * A stable checkpoint at S deletes log/<= S, value/<= S and ckpt/< S (the log before it
 * is truncated).
 *
 * Each value is stored once. An instance's value (a whole batch: up to megabytes at 1 KiB
 * per request) used to be written three times, in the WRITE's vote record, the ACCEPT's
 * and the decision; with 1 KiB requests those copies were a fifth of a replica's time
 * (`docs/performance.md`, lever 26). Now the vote records and the decision refer to
 * value/<cid> by an empty value field when they hold the value written there. Values are
 * encoded batches, never empty, so an empty field cannot be a real value.
 */
import { ByteReader, ByteWriter, bytesEqual } from '../../core/bytes.ts';
import { decodeDecision, decodeVoteState, encodeDecision, encodeVoteState, type VoteState } from '../../core/codec.ts';
import type { Decision } from '../../core/messages.ts';
import type { DurableRecord } from '../../core/ready.ts';
import type { RecoveredState } from '../../core/recovery.ts';
import type { KvBackend, KvWrite } from './kv.ts';

export interface ReplicaStorage {
  /** Writes one Ready's records atomically; resolves once they are durable. */
  persist(records: readonly DurableRecord[]): Promise<void>;
  /** Everything a restarting replica needs (see core/recovery.ts). A damaged tail is cut, never thrown. */
  load(): Promise<RecoveredState>;
  /**
   * Records durably that the replica stopped cleanly: everything it wrote is durable and it
   * will say nothing more. Call last, after the final persist.
   */
  markCleanStop(): Promise<void>;
  /**
   * Durably removes the clean-stop mark. A starting replica calls this before it speaks, so
   * that a later crash is never mistaken for a clean stop.
   */
  clearCleanStop(): Promise<void>;
  close(): Promise<void>;
}

const pad = (n: number): string => String(n).padStart(16, '0');
const LOG = 'log/';
const CKPT = 'ckpt/';
const VALUE = 'value/';
const END = '~';
const CLEAN_STOP = 'clean-stop';
/** A value field that means "the value is stored under value/<cid>". */
const APART: Uint8Array = new Uint8Array(0);

function u53(n: number): Uint8Array {
  return new ByteWriter(8).u53(n).finish();
}

export class DurableStorage implements ReplicaStorage {
  /** The value last put under value/<cid>, so that later records of that instance refer to it. */
  private stored: { readonly cid: number; readonly value: Uint8Array } | null = null;

  constructor(private readonly kv: KvBackend) {}

  /** @throws what the backend throws; the replica must then stop (nothing of this batch may be assumed stored). */
  async persist(records: readonly DurableRecord[]): Promise<void> {
    const puts: [string, Uint8Array][] = [];
    const deleteRanges: [string, string][] = [];
    for (const r of records) {
      switch (r.kind) {
        case 'decision': {
          const d = r.decision;
          puts.push([LOG + pad(d.cid), encodeDecision(this.holds(d.cid, d.value) ? { ...d, value: APART } : d)]);
          break;
        }
        case 'regency':
          puts.push(['regency', u53(r.regency)]);
          break;
        case 'votes':
          puts.push(['votes', encodeVoteState(this.votesReferringToValue(r.votes, puts))]);
          break;
        case 'checkpoint':
          puts.push([CKPT + pad(r.cid), new ByteWriter(r.bytes.length + 40).raw(r.digest).raw(r.bytes).finish()]);
          break;
        case 'stable-checkpoint':
          deleteRanges.push([LOG, LOG + pad(r.cid + 1)], [VALUE, VALUE + pad(r.cid + 1)], [CKPT, CKPT + pad(r.cid)]);
          break;
      }
    }
    // Order within the batch does not matter: the ranges deleted never hold a key put here
    // (a stable checkpoint at S comes after every vote and decision of instances <= S).
    const batch: KvWrite = { puts, deleteRanges };
    try {
      await this.kv.write(batch);
    } catch (e) {
      this.stored = null; // the value may not have been written: never refer to it again
      throw e;
    }
  }

  /**
   * `votes` with its written value (and its certificate's, when the same) replaced by a
   * reference to value/<cid>; puts the value there first unless it already is.
   */
  private votesReferringToValue(votes: VoteState, puts: [string, Uint8Array][]): VoteState {
    if (votes.written === null) return votes;
    if (!this.holds(votes.cid, votes.written)) {
      puts.push([VALUE + pad(votes.cid), votes.written]);
      this.stored = { cid: votes.cid, value: votes.written };
    }
    const c = votes.writeCertificate;
    const certificate = c !== null && this.holds(c.cid, c.value) ? { ...c, value: APART } : c;
    return { ...votes, written: APART, writeCertificate: certificate };
  }

  /** Whether value/<cid> holds `value` (compared by reference first: it is the same object in the normal case). */
  private holds(cid: number, value: Uint8Array): boolean {
    const s = this.stored;
    return s !== null && s.cid === cid && (s.value === value || bytesEqual(s.value, value));
  }

  async load(): Promise<RecoveredState> {
    const regencyBytes = await this.kv.get('regency');
    const regency = regencyBytes ? new ByteReader(regencyBytes).u53() : 0;
    const votes = await this.loadVotes();
    let checkpoint: RecoveredState['checkpoint'] = null;
    for await (const [key, value] of this.kv.range(CKPT, CKPT + END)) {
      if (value.length < 32) continue; // damaged: ignore, an older or none will do
      checkpoint = { cid: Number(key.slice(CKPT.length)), bytes: value.subarray(32) };
    }
    const decisions: Decision[] = [];
    // From the checkpoint's own instance: its decision, if still stored, is the proof the
    // replica shows others (recovery.ts). If that one is damaged it is skipped; after it, a
    // damaged record is a torn tail.
    const from = checkpoint ? checkpoint.cid : 0;
    for await (const [key, bytes] of this.kv.range(LOG + pad(from), LOG + END)) {
      const ownProof = checkpoint !== null && key === LOG + pad(checkpoint.cid);
      const d = decodeDecision(bytes);
      const value = !d.ok ? undefined : d.message.value.length === 0 ? await this.kv.get(VALUE + pad(d.message.cid)) : d.message.value;
      if (!d.ok || value === undefined || value.length === 0) {
        if (ownProof) continue;
        break; // a torn tail, or its value is gone: cut here, catch-up refills
      }
      decisions.push({ ...d.message, value });
    }
    const cleanStop = (await this.kv.get(CLEAN_STOP)) !== undefined;
    return { regency, checkpoint, decisions, votes, cleanStop };
  }

  async markCleanStop(): Promise<void> {
    await this.kv.write({ puts: [[CLEAN_STOP, new Uint8Array([1])]] });
  }

  async clearCleanStop(): Promise<void> {
    await this.kv.write({ deletes: [CLEAN_STOP] });
  }

  /** The vote record with its value put back, or null if there is none or it is unreadable. */
  private async loadVotes(): Promise<VoteState | null> {
    const bytes = await this.kv.get('votes');
    const decoded = bytes ? decodeVoteState(bytes) : null;
    if (!decoded?.ok) return null;
    const v = decoded.message;
    if (v.written === null || v.written.length > 0) return v;
    const value = await this.kv.get(VALUE + pad(v.cid));
    if (value === undefined || value.length === 0) return null;
    this.stored = { cid: v.cid, value };
    const c = v.writeCertificate;
    return { ...v, written: value, writeCertificate: c !== null && c.value.length === 0 ? { ...c, value } : c };
  }

  close(): Promise<void> {
    return this.kv.close();
  }
}
