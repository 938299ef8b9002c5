/**
 * Storage micro benchmark: appends per second of 1 KB values, in batches of 100, each
 * batch awaited before the next (the replica's pattern: persist, then speak), for every
 * backend with and without encryption at rest. Prints only.
 *
 *   node --import tsx bench/storage.ts [seconds per case, default 3]
 *
 * Redis: uses $REDIS_URL if set (it must run appendonly yes + appendfsync always),
 * otherwise starts a private redis-server if one is installed.
 * Note: on virtual machines fsync is nearly free, so durable-write figures are upper bounds.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvBackend } from '../src/host/storage/kv.ts';
import { openMemoryKv } from '../src/host/storage/memory-kv.ts';
import { openEmbeddedKv } from '../src/host/storage/sqlite-kv.ts';
import { openRedisKv } from '../src/host/storage/redis-kv.ts';
import { encryptedKv } from '../src/host/storage/encrypted-kv.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from '../test/helpers/redis-server.ts';

const VALUE_BYTES = 1024;
const BATCH_ENTRIES = 100;
const WARMUP_BATCHES = 50;
const secondsPerCase = Number(process.argv[2] ?? 3);
const storageKey = createHash('sha256').update('bench').digest();
const value = Buffer.alloc(VALUE_BYTES);
for (let i = 0; i < VALUE_BYTES; i++) value[i] = (i * 131 + 7) & 0xff;

interface Case {
  open(): Promise<KvBackend>;
  cleanup(): Promise<void>;
}

async function measure(kv: KvBackend): Promise<{ appendsPerS: number; batches: number }> {
  let next = 0;
  const batch = () => ({ puts: Array.from({ length: BATCH_ENTRIES }, () => [`log/${String(next++).padStart(12, '0')}`, value] as const) });
  for (let i = 0; i < WARMUP_BATCHES; i++) await kv.write(batch());
  const start = performance.now();
  const deadline = start + secondsPerCase * 1000;
  let batches = 0;
  while (performance.now() < deadline) {
    await kv.write(batch());
    batches++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { appendsPerS: (batches * BATCH_ENTRIES) / seconds, batches };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
  let server: RedisServer | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (redisUrl === undefined && redisServerMissing() === undefined) {
    server = await startRedisServer();
    redisUrl = server.url;
  }
  let n = 0;
  /** Each factory makes a fresh, empty store. */
  const cases: [name: string, fresh: () => Case][] = [
    ['memory', () => ({ open: async () => openMemoryKv(), cleanup: async () => {} })],
  ];
  for (const fsync of ['always', 'batch'] as const) {
    cases.push([
      `embedded SQLite, fsync ${fsync}`,
      () => {
        const path = join(dir, `bench-${++n}`, 'replica.db');
        return { open: () => openEmbeddedKv(path, { fsync }), cleanup: async () => rmSync(join(path, '..'), { recursive: true, force: true }) };
      },
    ]);
  }
  if (redisUrl !== undefined) {
    const url = redisUrl;
    cases.push([
      'Redis (ioredis, MULTI/EXEC)',
      () => {
        const keyPrefix = `bench-${process.pid}-${++n}:`;
        return {
          name: '',
          open: () => openRedisKv({ url, keyPrefix }),
          cleanup: async () => {
            const kv = await openRedisKv({ url, keyPrefix });
            await kv.write({ deleteRanges: [['', '\x7f']] });
            await kv.close();
          },
        };
      },
    ]);
  }

  console.log(`storage bench: ${BATCH_ENTRIES} × ${VALUE_BYTES} B per batch, each batch awaited, ${secondsPerCase} s per case, load average ${loadavg()[0]!.toFixed(2)}`);
  if (redisUrl === undefined) console.log('(Redis skipped: redis-server is not installed and REDIS_URL is not set)');
  console.log(`${'backend'.padEnd(32)} ${'plain appends/s'.padStart(16)} ${'encrypted appends/s'.padStart(20)}`);
  for (const [name, fresh] of cases) {
    const row: string[] = [];
    for (const encrypt of [false, true]) {
      const store = fresh();
      const inner = await store.open();
      const kv = encrypt ? encryptedKv(inner, storageKey) : inner;
      const { appendsPerS } = await measure(kv);
      await kv.close();
      await store.cleanup();
      row.push(Math.round(appendsPerS).toLocaleString('en-US'));
    }
    console.log(`${name.padEnd(32)} ${row[0]!.padStart(16)} ${row[1]!.padStart(20)}`);
  }
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
