/**
 * The KvBackend contract, run against every backend and against the encrypted wrapper
 * around each. Redis runs against a private redis-server (skipped, with a message,
 * only when redis-server is not installed).
 */
import { after, before, describe } from 'node:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { kvContract, type CreateStore, type StoreUnderTest } from '../helpers/kv-contract.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { openMemoryKv, MemoryKvDisk } from '../../src/host/storage/memory-kv.ts';
import { openEmbeddedKv } from '../../src/host/storage/sqlite-kv.ts';
import { openRedisKv } from '../../src/host/storage/redis-kv.ts';
import { encryptedKv } from '../../src/host/storage/encrypted-kv.ts';

/** A fixed storage key, so runs repeat. */
const STORAGE_KEY = createHash('sha256').update('bulwark storage contract test key').digest();

function encrypted(create: CreateStore): CreateStore {
  return async () => {
    const store = await create();
    return {
      open: async (options) => encryptedKv(await store.open(options), STORAGE_KEY),
      destroy: () => store.destroy(),
    };
  };
}

function variants(name: string, create: () => CreateStore, skip?: string): void {
  describe(name, { skip }, () => kvContract(create));
  describe(`${name} + encryption`, { skip }, () => kvContract(() => encrypted(create())));
}

const memory: CreateStore = async () => {
  const disk = new MemoryKvDisk();
  return { open: async (options) => openMemoryKv(disk, options), destroy: async () => {} };
};

const embedded: CreateStore = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-kv-'));
  return {
    open: (options) => openEmbeddedKv(join(dir, 'replica.db'), { fsync: 'always', ...options }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
};

variants('memory backend', () => memory);
variants('embedded (SQLite) backend', () => embedded);

const redisMissing = redisServerMissing();
let server: RedisServer | undefined;
let storeCount = 0;

const redisStore: CreateStore = async () => {
  const keyPrefix = `contract-${++storeCount}:`;
  const url = server!.url;
  const store: StoreUnderTest = {
    open: (options) => openRedisKv({ url, keyPrefix, ...options }),
    destroy: async () => {
      const admin = new Redis(url);
      await admin.del(`${keyPrefix}keys`, `${keyPrefix}values`);
      await admin.quit();
    },
  };
  return store;
};

describe('Redis', { skip: redisMissing }, () => {
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });
  variants('redis backend', () => redisStore);
});
