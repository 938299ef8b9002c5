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
 *   log/<cid>          a decided instance with its proof
 *   ckpt/<cid>         a checkpoint: 32-byte digest, then the canonical bytes
 * A stable checkpoint at S deletes log/<= S and ckpt/< S (the log before it is truncated).
 */
import { ByteReader, ByteWriter } from '../../core/bytes.ts';
import { decodeDecision, decodeVoteState, encodeDecision, encodeVoteState } from '../../core/codec.ts';
import type { Decision } from '../../core/messages.ts';
import type { DurableRecord } from '../../core/ready.ts';
import type { RecoveredState } from '../../core/recovery.ts';
import type { KvBackend, KvWrite } from './kv.ts';

export interface ReplicaStorage {
  /** Writes one Ready's records atomically; resolves once they are durable. */
  persist(records: readonly DurableRecord[]): Promise<void>;
  /** Everything a restarting replica needs (see core/recovery.ts). A damaged tail is cut, never thrown. */
  load(): Promise<RecoveredState>;
  close(): Promise<void>;
}

const pad = (n: number): string => String(n).padStart(16, '0');
const LOG = 'log/';
const CKPT = 'ckpt/';
const END = '~';

function u53(n: number): Uint8Array {
  return new ByteWriter(8).u53(n).finish();
}

export class DurableStorage implements ReplicaStorage {
  constructor(private readonly kv: KvBackend) {}

  async persist(records: readonly DurableRecord[]): Promise<void> {
    const puts: [string, Uint8Array][] = [];
    const deleteRanges: [string, string][] = [];
    for (const r of records) {
      switch (r.kind) {
        case 'decision':
          puts.push([LOG + pad(r.decision.cid), encodeDecision(r.decision)]);
          break;
        case 'regency':
          puts.push(['regency', u53(r.regency)]);
          break;
        case 'votes':
          puts.push(['votes', encodeVoteState(r.votes)]);
          break;
        case 'checkpoint':
          puts.push([CKPT + pad(r.cid), new ByteWriter(r.bytes.length + 40).raw(r.digest).raw(r.bytes).finish()]);
          break;
        case 'stable-checkpoint':
          deleteRanges.push([LOG, LOG + pad(r.cid + 1)], [CKPT, CKPT + pad(r.cid)]);
          break;
      }
    }
    // Order within the batch does not matter: the ranges deleted never hold a key put here.
    const batch: KvWrite = { puts, deleteRanges };
    await this.kv.write(batch);
  }

  async load(): Promise<RecoveredState> {
    const regencyBytes = await this.kv.get('regency');
    const regency = regencyBytes ? new ByteReader(regencyBytes).u53() : 0;
    const votesBytes = await this.kv.get('votes');
    const votesDecoded = votesBytes ? decodeVoteState(votesBytes) : null;
    let checkpoint: RecoveredState['checkpoint'] = null;
    for await (const [key, value] of this.kv.range(CKPT, CKPT + END)) {
      if (value.length < 32) continue; // damaged: ignore, an older or none will do
      checkpoint = { cid: Number(key.slice(CKPT.length)), bytes: value.subarray(32) };
    }
    const decisions: Decision[] = [];
    const from = checkpoint ? checkpoint.cid + 1 : 0;
    for await (const [, value] of this.kv.range(LOG + pad(from), LOG + END)) {
      const d = decodeDecision(value);
      if (!d.ok) break; // torn tail
      decisions.push(d.message);
    }
    return { regency, checkpoint, decisions, votes: votesDecoded?.ok ? votesDecoded.message : null };
  }

  close(): Promise<void> {
    return this.kv.close();
  }
}
