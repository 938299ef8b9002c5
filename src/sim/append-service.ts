/**
 * A minimal deterministic service for protocol tests, the simulator and `bench micro`:
 * it appends each ordered payload to a history and replies with the history length;
 * unordered requests read the length. Its snapshot is the history, canonically encoded.
 */
import type { ExecutionContext, ReplicatedService, UnorderedContext } from '../core/service.ts';
import { ByteReader, ByteWriter } from '../core/bytes.ts';

const encoder = new TextEncoder();

export class AppendService implements ReplicatedService {
  readonly history: Uint8Array[] = [];
  /** Bytes of every reply (0 means "the history length as text"). */
  constructor(private readonly replyBytes = 0) {}

  executeOrdered(request: Uint8Array, _context: ExecutionContext): Uint8Array {
    this.history.push(request.slice());
    return this.reply();
  }

  executeUnordered(_request: Uint8Array, _context: UnorderedContext): Uint8Array {
    return this.reply();
  }

  private reply(): Uint8Array {
    return this.replyBytes > 0 ? new Uint8Array(this.replyBytes) : encoder.encode(String(this.history.length));
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter().u32(this.history.length);
    for (const h of this.history) w.bytes(h);
    return w.finish();
  }

  restore(snapshot: Uint8Array): void {
    const r = new ByteReader(snapshot);
    const n = r.u32('history length');
    const next: Uint8Array[] = [];
    for (let i = 0; i < n; i++) next.push(r.bytes(1 << 30, 'entry').slice());
    r.end('snapshot');
    this.history.length = 0;
    this.history.push(...next);
  }
}
