/**
 * The key-value contract every storage backend implements (embedded store, Redis,
 * the simulator's disk). The replica's durable layout (decided log, votes, regency,
 * checkpoints) is built on top of it in `durable-storage.ts`, so a backend only has to
 * be a correct, crash-safe ordered map with atomic batches.
 *
 * Keys are ASCII strings; ordering is bytewise (so fixed-width, zero-padded numbers
 * sort numerically). Values are opaque bytes (already encrypted when at-rest
 * encryption is on).
 */

export interface KvWrite {
  /** Keys to set. */
  readonly puts?: readonly (readonly [key: string, value: Uint8Array])[];
  /** Single keys to delete. */
  readonly deletes?: readonly string[];
  /** Half-open ranges [from, to) to delete. */
  readonly deleteRanges?: readonly (readonly [from: string, to: string])[];
}

export interface KvBackend {
  /**
   * Applies a batch atomically: after a crash, either all of it is visible or none.
   * Resolves once the batch is durable according to the backend's fsync policy
   * (documented by each implementation).
   * @throws when the store cannot write; the replica must then stop.
   */
  write(batch: KvWrite): Promise<void>;
  /** @returns the value, or undefined if absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Entries with from <= key < to, in key order; at most `limit` (default unbounded). */
  range(from: string, to: string, limit?: number): AsyncIterable<readonly [string, Uint8Array]>;
  close(): Promise<void>;
}
