/**
 * Carries out the core's `Ready`s in order: what must be durable is written before the
 * step's messages and replies leave (persist before you speak), and no step's outputs
 * overtake an earlier step's write. Records that need not be durable before speaking
 * (decisions and WRITE-phase votes, see `mustPersistBeforeSpeaking`) wait for the next
 * write that must be, so one commit (one fsync) carries both.
 *
 * Why a class of its own: the ordering rules are the host's share of the protocol's
 * safety, and they are easier to test with a storage that answers when told than through a
 * replica process.
 */
import { mustPersistBeforeSpeaking, type DurableRecord, type Ready } from '../core/ready.ts';

export interface SequencerIo {
  /** Writes `records` atomically; resolves once they are durable. */
  persist(records: DurableRecord[]): Promise<void>;
  /** Sends a Ready's messages and replies. */
  send(ready: Ready): void;
  /** Storage failed: the replica must stop (it could contradict itself after a crash). */
  fail(error: unknown): void;
}

export class OutputSequencer {
  /** Persist-then-send chain: keeps outputs in order while storage is asynchronous. */
  private chain: Promise<void> = Promise.resolve();
  /** Writes queued on `chain` and not yet durable. */
  private writesInFlight = 0;
  /** Records that need not be durable before speaking, waiting for the next write. */
  private deferred: DurableRecord[] = [];
  private deferredTimer: NodeJS.Timeout | null = null;
  private closed = false;

  /**
   * @param deferredFlushMs how long deferred records wait for a write that must be durable
   *   before they are written on their own (ms)
   */
  constructor(
    private readonly io: SequencerIo,
    private readonly deferredFlushMs: number,
  ) {}

  /** Carries out one step's `ready`: persists what must be durable, then sends. */
  submit(ready: Ready): void {
    if (!ready.persist.some(mustPersistBeforeSpeaking)) {
      if (ready.persist.length > 0) this.defer(ready.persist);
      // Still never before an earlier write: these outputs may rest on votes of an earlier
      // step that are not durable yet (our own ACCEPT counts towards the decision whose
      // replies these are) while storage is asynchronous (Redis).
      if (this.writesInFlight > 0) this.after(() => this.io.send(ready));
      else this.io.send(ready);
      return;
    }
    this.persistThenSend([...this.takeDeferred(), ...ready.persist], ready);
  }

  /** Runs `action` once every write and send submitted so far is done. */
  after(action: () => void): void {
    this.chain = this.chain.then(action);
  }

  /** Writes what is still deferred (a clean shutdown keeps every decision); later submits are not written. @returns when every write has finished. */
  async close(): Promise<void> {
    this.flushDeferred();
    this.closed = true;
    await this.chain.catch(() => undefined);
  }

  private persistThenSend(records: DurableRecord[], ready: Ready | null): void {
    this.writesInFlight++;
    const persisted = this.chain.then(() => this.io.persist(records));
    this.chain = persisted.then(
      () => {
        this.writesInFlight--;
        if (ready) this.io.send(ready);
      },
      (e) => this.io.fail(e),
    );
  }

  private defer(records: readonly DurableRecord[]): void {
    this.deferred.push(...records);
    this.deferredTimer ??= setTimeout(() => this.flushDeferred(), this.deferredFlushMs);
  }

  private flushDeferred(): void {
    if (this.closed) return;
    const records = this.takeDeferred();
    if (records.length > 0) this.persistThenSend(records, null);
  }

  /** The records kept back so far (the list is emptied), with their flush timer cancelled. */
  private takeDeferred(): DurableRecord[] {
    if (this.deferredTimer) clearTimeout(this.deferredTimer);
    this.deferredTimer = null;
    const records = this.deferred;
    this.deferred = [];
    return records;
  }
}
