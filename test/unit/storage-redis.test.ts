/**
 * The Redis backend against a private redis-server: durability across a kill -9 of the
 * server, a transaction the server aborts midway, and the checks made at open.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { openRedisKv } from '../../src/host/storage/redis-kv.ts';
import { StorageConfigError, StorageCorruptError } from '../../src/host/storage/errors.ts';
import { KEY_END } from '../../src/host/storage/keys.ts';
import { dump, pad } from '../helpers/kv-contract.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';

const missing = redisServerMissing();

describe('Redis backend', { skip: missing }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });

  it('keeps every acknowledged batch, whole, when redis-server is killed -9 mid-stream', { timeout: 60_000 }, async () => {
    const crashing = await startRedisServer();
    let restarted: RedisServer | undefined;
    try {
      const kv = await openRedisKv({ url: crashing.url, keyPrefix: 'crash:' });
      let acknowledged = -1;
      let failed = 0;
      const inFlight: Promise<void>[] = [];
      // Batches are issued without waiting, 8 at a time, so the kill lands among in-flight transactions.
      for (let i = 0; failed === 0 && i < 100_000; i++) {
        const batch = i;
        inFlight.push(
          kv
            .write({
              puts: [['head', Buffer.from(String(batch))], ...Array.from({ length: 10 }, (_, j) => [`b/${pad(batch)}/${j}`, Buffer.alloc(100, batch & 0xff)] as const)],
              deleteRanges: batch >= 20 ? [[`b/${pad(batch - 20)}/`, `b/${pad(batch - 20)}/${KEY_END}`]] : [],
            })
            .then(
              () => {
                acknowledged = Math.max(acknowledged, batch);
              },
              () => {
                failed++;
              },
            ),
        );
        if (inFlight.length >= 8) await inFlight.shift();
        if (i === 300) void crashing.crash();
      }
      await Promise.all(inFlight);
      await kv.close();
      assert.ok(acknowledged >= 292 && failed > 0, `acknowledged ${acknowledged}, failed ${failed}`);

      restarted = await crashing.restart();
      const after = await openRedisKv({ url: restarted.url, keyPrefix: 'crash:' });
      const head = Number(Buffer.from((await after.get('head'))!).toString());
      assert.ok(head >= acknowledged, `head ${head} must include every acknowledged batch (${acknowledged})`);
      const keys = (await dump(after, 'b/', `b/${KEY_END}`)).map(([k]) => k);
      const expected: string[] = [];
      for (let i = Math.max(0, head - 19); i <= head; i++) for (let j = 0; j < 10; j++) expected.push(`b/${pad(i)}/${j}`);
      assert.deepEqual(keys, expected, 'exactly the last 20 batches, each whole');
      await after.close();
    } finally {
      if (restarted) await restarted.stop();
      else await crashing.stop();
    }
  });

  it('applies nothing when the server aborts the transaction midway (OOM while queuing)', async () => {
    const kv = await openRedisKv({ url: server.url, keyPrefix: 'oom:' });
    const admin = new Redis(server.url);
    try {
      await kv.write({ puts: Array.from({ length: 10 }, (_, i) => [`log/${pad(i)}`, Buffer.from(`v${i}`)] as const) });
      const before = await dump(kv);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(used + 256 * 1024));
      try {
        // 3000 × 1 KB: the first commands queue, later ones hit maxmemory, so EXEC is refused.
        const big = Array.from({ length: 3000 }, (_, i) => [`big/${pad(i)}`, Buffer.alloc(1024, 1)] as const);
        await assert.rejects(kv.write({ puts: big, deleteRanges: [['log/', `log/${KEY_END}`]] }), /EXECABORT/);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      assert.deepEqual(await dump(kv), before);
      assert.equal(await admin.zcard('oom:keys'), 10);
      assert.equal(await admin.hlen('oom:values'), 10);
    } finally {
      await admin.quit();
      await kv.close();
    }
  });

  it('keeps keys in a lex-ordered sorted set and values in a hash, both under the prefix', async () => {
    const kv = await openRedisKv({ url: server.url, keyPrefix: '{replica-3}:' });
    const admin = new Redis(server.url);
    try {
      await kv.write({ puts: [['b', Buffer.from('2')], ['a', Buffer.from('1')]] });
      assert.deepEqual(await admin.zrangebylex('{replica-3}:keys', '-', '+'), ['a', 'b']);
      assert.deepEqual(await admin.hgetall('{replica-3}:values'), { a: '1', b: '2' });
      await kv.write({ deleteRanges: [['', KEY_END]] });
      assert.equal(await admin.exists('{replica-3}:keys', '{replica-3}:values'), 0);
    } finally {
      await admin.quit();
      await kv.close();
    }
  });

  it('refuses a prefix whose Redis keys have the wrong types', async () => {
    const admin = new Redis(server.url);
    try {
      await admin.set('clash:keys', 'a plain string');
      await assert.rejects(openRedisKv({ url: server.url, keyPrefix: 'clash:' }), StorageCorruptError);
    } finally {
      await admin.quit();
    }
  });

  it('refuses a server that would lose acknowledged batches, unless told otherwise', async () => {
    const weak = await startRedisServer({ extraArgs: ['--appendfsync', 'everysec'] });
    try {
      await assert.rejects(openRedisKv({ url: weak.url, keyPrefix: 'weak:' }), (err: unknown) => err instanceof StorageConfigError && /appendfsync=everysec/.test(err.message));
      const kv = await openRedisKv({ url: weak.url, keyPrefix: 'weak:', requireFsyncAlways: false });
      await kv.write({ puts: [['k', Buffer.from('v')]] });
      await kv.close();
    } finally {
      await weak.stop();
    }
  });

  it('fails fast when the server is unreachable, and rejects writes after it goes away', async () => {
    const gone = await startRedisServer();
    const kv = await openRedisKv({ url: gone.url, keyPrefix: 'gone:' });
    await gone.stop();
    await assert.rejects(kv.write({ puts: [['k', Buffer.from('v')]] }));
    await kv.close();
    await assert.rejects(openRedisKv({ url: gone.url, keyPrefix: 'gone:', connectTimeoutMs: 2000 }));
    await assert.rejects(openRedisKv({ url: server.url, keyPrefix: '' }), StorageConfigError);
  });
});
