/**
 * The in-memory backend, for tests and the simulator: the same contract as the durable
 * backends, over a `MemoryKvDisk` that outlives the handles opened on it, so a
 * simulated replica can "restart" by opening the same disk again.
 *
 * Crash model (kept deliberately simple):
 * - fsync 'always' (default): every resolved `write` is durable; `crash()` loses nothing.
 * - fsync 'batch': writes are applied at once but remembered as unsynced (with undo
 *   records) until `sync()` or `close()`; `crash()` rolls back every batch written
 *   since the last sync point, whole batches only — never part of one — and closes
 *   the handle. That is the worst case the embedded backend allows under 'batch'.
 * Values are copied on the way in and out, as a real store would.
 */
import type { KvBackend, KvWrite } from './kv.ts';
import { assertBatch, assertBound, assertKey, assertLimit, noFault, type FaultHook } from './keys.ts';
import { StorageClosedError, StorageConfigError } from './errors.ts';
import { SortedMap } from './sorted-map.ts';

/** Rows copied per step of `range`, as the durable backends page. */
const RANGE_PAGE_ROWS = 128;

/** What a key held before a batch touched it (undefined: absent). */
type Undo = readonly [key: string, previous: Uint8Array | undefined];

/** The simulated medium: its contents and the batches not yet synced. */
export class MemoryKvDisk {
  readonly map = new SortedMap();
  /** Undo records of the batches written since the last sync point, oldest first. */
  readonly unsynced: Undo[][] = [];
  /** Whether a handle is open on this disk (one at a time, like the embedded lock). */
  inUse = false;
}

export interface MemoryKvOptions {
  readonly fsync?: 'always' | 'batch';
  /** Tests only: see `FaultHook`. */
  readonly faultHook?: FaultHook;
}

/**
 * Opens a handle on `disk` (a fresh empty disk by default).
 * @throws StorageConfigError if another handle is open on the same disk, or for an unknown fsync value.
 */
export function openMemoryKv(disk: MemoryKvDisk = new MemoryKvDisk(), options: MemoryKvOptions = {}): MemoryKv {
  const fsync = options.fsync ?? 'always';
  if (fsync !== 'always' && fsync !== 'batch') throw new StorageConfigError(`fsync must be 'always' or 'batch', got ${String(fsync)}`);
  if (disk.inUse) throw new StorageConfigError('this memory disk is already open');
  disk.inUse = true;
  return new MemoryKv(disk, fsync, options.faultHook);
}

export class MemoryKv implements KvBackend {
  private closed = false;

  constructor(
    readonly disk: MemoryKvDisk,
    readonly fsync: 'always' | 'batch',
    private readonly faultHook: FaultHook | undefined,
  ) {}

  /**
   * Applies `batch` atomically (order: deleteRanges, deletes, puts).
   * @throws StorageInputError (nothing applied) for a bad key/value/bound, the fault
   *   hook's error (nothing applied), StorageClosedError after close/crash.
   */
  async write(batch: KvWrite): Promise<void> {
    this.assertOpen('write');
    assertBatch(batch);
    const map = this.disk.map;
    const undo: Undo[] = [];
    const hook = this.faultHook ?? noFault;
    let op = 0;
    try {
      for (const [from, to] of batch.deleteRanges ?? []) {
        hook(op++);
        for (;;) {
          const doomed = map.page(from, false, to, RANGE_PAGE_ROWS);
          if (doomed.length === 0) break;
          for (const [key, value] of doomed) {
            map.delete(key);
            undo.push([key, value]);
          }
        }
      }
      for (const key of batch.deletes ?? []) {
        hook(op++);
        const previous = map.delete(key);
        if (previous !== undefined) undo.push([key, previous]);
      }
      for (const [key, value] of batch.puts ?? []) {
        hook(op++);
        undo.push([key, map.set(key, Uint8Array.prototype.slice.call(value))]);
      }
    } catch (err) {
      rollBack(map, undo);
      throw err;
    }
    if (this.fsync === 'batch') this.disk.unsynced.push(undo);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.assertOpen('get');
    assertKey(key);
    return this.disk.map.get(key)?.slice();
  }

  /** Streams [from, to) in key order, copying RANGE_PAGE_ROWS entries per step; not a snapshot (as the embedded backend). */
  async *range(from: string, to: string, limit?: number): AsyncIterable<readonly [string, Uint8Array]> {
    this.assertOpen('range');
    assertBound(from);
    assertBound(to);
    assertLimit(limit);
    let left = limit ?? Number.POSITIVE_INFINITY;
    let cursor = from;
    let exclusive = false;
    while (left > 0) {
      this.assertOpen('range');
      const take = Math.min(RANGE_PAGE_ROWS, left);
      const rows = this.disk.map.page(cursor, exclusive, to, take);
      for (const [key, value] of rows) yield [key, value.slice()] as const;
      left -= rows.length;
      if (rows.length < take) return;
      cursor = rows[rows.length - 1]![0];
      exclusive = true;
    }
  }

  /** Makes every batch written so far durable (clears the unsynced list). */
  async sync(): Promise<void> {
    this.assertOpen('sync');
    this.disk.unsynced.length = 0;
  }

  /** A clean shutdown: syncs, then releases the disk. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.disk.unsynced.length = 0;
    this.release();
  }

  /**
   * Simulates a crash of the process and machine: under fsync 'batch' every batch since
   * the last sync point is rolled back (newest first); then the handle is closed and the
   * disk can be opened again.
   * @returns how many batches were lost.
   */
  crash(): number {
    if (this.closed) throw new StorageClosedError('crash');
    const lost = this.disk.unsynced.length;
    for (let b = lost - 1; b >= 0; b--) rollBack(this.disk.map, this.disk.unsynced[b]!);
    this.disk.unsynced.length = 0;
    this.release();
    return lost;
  }

  private release(): void {
    this.closed = true;
    this.disk.inUse = false;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new StorageClosedError(what);
  }
}

function rollBack(map: SortedMap, undo: readonly Undo[]): void {
  for (let i = undo.length - 1; i >= 0; i--) {
    const [key, previous] = undo[i]!;
    if (previous === undefined) map.delete(key);
    else map.set(key, previous);
  }
}
