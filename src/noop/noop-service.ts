/**
 * The service of `bulwark bench micro` (BFT-SMaRt's ThroughputLatency server): it does
 * nothing and answers with `replyBytes` zero bytes, so a benchmark measures the
 * replication library alone. Its state is empty: snapshots are zero bytes.
 */
import type { ExecutionContext, ReplicatedService, UnorderedContext } from '../core/service.ts';

export class NoopService implements ReplicatedService {
  private readonly reply: Uint8Array;
  /** Ordered requests executed (not part of the replicated state). */
  executed = 0;

  /** @param replyBytes size of every reply (bytes). */
  constructor(replyBytes = 0) {
    this.reply = new Uint8Array(replyBytes);
  }

  executeOrdered(_request: Uint8Array, _context: ExecutionContext): Uint8Array {
    this.executed++;
    return this.reply;
  }

  executeUnordered(_request: Uint8Array, _context: UnorderedContext): Uint8Array {
    return this.reply;
  }

  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }

  restore(snapshot: Uint8Array): void {
    if (snapshot.length !== 0) throw new Error(`a no-op service snapshot is empty, got ${snapshot.length} bytes`);
  }
}
