/**
 * Execution of client requests at correct replicas:
 * - exactly-once: a replica never executes the same (client, session, seq) twice;
 * - validity: every decided request is byte-for-byte one that a client sent on its own
 *   channel (a Byzantine leader cannot invent or alter requests);
 * - every request a correct client saw acknowledged was executed by a correct replica.
 */
import { encodeMessage } from '../../core/codec.ts';
import { toHex } from '../../core/bytes.ts';
import { MessageType, type Batch, type Request } from '../../core/messages.ts';
import type { Hasher } from '../../crypto/signature.ts';
import type { Violations } from './violations.ts';

export const requestKey = (r: { clientId: number; session: number; seq: number }): string => `${r.clientId}/${r.session}/${r.seq}`;

export class ExecutionChecker {
  /** Digests of every REQUEST any client (correct or Byzantine) sent. */
  private readonly issued = new Set<string>();
  /** Requests each correct replica executed (client/session/seq key -> cid). */
  private readonly executed = new Map<number, Map<string, number>>();
  /** Where each request was first executed by a correct replica: cid. */
  readonly executedAt = new Map<string, number>();

  constructor(
    private readonly violations: Violations,
    private readonly hash: Hasher,
  ) {}

  /** A client sent these REQUEST bytes (the exact encoding, as replicas decode it). */
  onIssued(requestBytes: Uint8Array): void {
    this.issued.add(toHex(this.hash(requestBytes)));
  }

  /** A correct replica executed `batch` as instance `cid`. */
  onExecuted(replica: number, cid: number, batch: Batch, atMs: number): void {
    let mine = this.executed.get(replica);
    if (!mine) this.executed.set(replica, (mine = new Map()));
    for (const r of batch.requests) {
      const key = requestKey(r);
      const before = mine.get(key);
      if (before !== undefined) this.violations.report('exactly-once', atMs, `replica ${replica} executed request ${key} a second time (instances ${before} and ${cid})`);
      mine.set(key, cid);
      if (!this.executedAt.has(key)) this.executedAt.set(key, cid);
      if (!this.wasIssued(r)) this.violations.report('validity', atMs, `replica ${replica} decided request ${key} in instance ${cid}, which no client sent`);
    }
  }

  /** A correct replica installed a checkpoint: it will not execute the requests before it. */
  onStateTransferred(replica: number): void {
    this.executed.delete(replica);
  }

  /** A correct replica recovered from disk up to `lastCid`: executions after it were undone with the crash. */
  onRecovered(replica: number, lastCid: number): void {
    const mine = this.executed.get(replica);
    if (mine) for (const [key, cid] of mine) if (cid > lastCid) mine.delete(key);
  }

  /** Checks that an acknowledged ordered request was executed by some correct replica. */
  checkAcknowledged(key: string, atMs: number): void {
    if (!this.executedAt.has(key)) this.violations.report('exactly-once', atMs, `request ${key} was acknowledged to its client but no correct replica executed it`);
  }

  private wasIssued(r: Request): boolean {
    return this.issued.has(toHex(this.hash(encodeMessage({ ...r, type: MessageType.REQUEST }))));
  }
}
