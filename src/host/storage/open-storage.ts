/**
 * Opens a replica's storage from configuration: the embedded store (default), Redis,
 * or memory (nothing survives a restart), wrapped in encryption at rest (XChaCha20-Poly1305, encrypted-kv.ts)
 * unless turned off. A damaged embedded store is moved aside and the replica starts
 * empty: it then rejoins by state transfer instead of crash-looping.
 */
import { join } from 'node:path';
import { DurableStorage, type ReplicaStorage } from './replica-storage.ts';
import { openEmbeddedKv, quarantine } from './sqlite-kv.ts';
import { openRedisKv } from './redis-kv.ts';
import { openMemoryKv } from './memory-kv.ts';
import { encryptedKv, loadOrCreateStorageKey } from './encrypted-kv.ts';
import { StorageCorruptError } from './errors.ts';
import type { KvBackend } from './kv.ts';

export type StorageConfig =
  | { readonly kind: 'embedded'; readonly fsync?: 'always' | 'batch' }
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'memory' };

export interface OpenStorageOptions {
  readonly replicaId: number;
  /** Folder for the embedded store and the storage keys (never inside the store). */
  readonly dataDir: string;
  /** Encrypt values at rest (default true). */
  readonly encrypt?: boolean;
  /** Redis key namespace of this cluster (replica id is appended). */
  readonly redisPrefix?: string;
  readonly warn: (fields: Record<string, unknown>, message: string) => void;
}

/**
 * @throws StorageLockedError if another process holds the embedded store;
 *   StorageConfigError for Redis without appendfsync always; connection errors for Redis.
 */
export async function openReplicaStorage(config: StorageConfig, o: OpenStorageOptions): Promise<ReplicaStorage> {
  let kv: KvBackend;
  switch (config.kind) {
    case 'memory':
      kv = openMemoryKv();
      break;
    case 'redis':
      kv = await openRedisKv({ url: config.url, keyPrefix: `${o.redisPrefix ?? 'bulwark:'}replica-${o.replicaId}:` });
      break;
    case 'embedded': {
      const path = join(o.dataDir, `replica-${o.replicaId}.db`);
      const fsync = config.fsync ?? 'always';
      try {
        kv = await openEmbeddedKv(path, { fsync });
      } catch (e) {
        if (!(e instanceof StorageCorruptError)) throw e;
        const moved = quarantine(path);
        o.warn({ path, moved, reason: e.message }, 'storage damaged: moved aside, starting empty (state transfer will refill it)');
        kv = await openEmbeddedKv(path, { fsync });
      }
      break;
    }
  }
  if (o.encrypt ?? true) kv = encryptedKv(kv, loadOrCreateStorageKey(join(o.dataDir, `replica-${o.replicaId}.storage-key`)));
  return new DurableStorage(kv);
}
