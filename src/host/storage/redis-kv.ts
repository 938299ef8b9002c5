/**
 * The Redis backend, through ioredis (maintained, pipelines, MULTI/EXEC).
 *
 * Layout, per store (`keyPrefix`, e.g. `bulwark:replica-0:`):
 * - `<keyPrefix>keys`   a sorted set of every key, all with score 0, so ZRANGEBYLEX gives
 *                       bytewise key order (Redis compares members with memcmp);
 * - `<keyPrefix>values` a hash key → value bytes.
 * Both always change together inside one MULTI/EXEC, so they never disagree. With
 * Redis Cluster, put a hash tag in the prefix (`{replica-0}:`) so both share a slot.
 *
 * Atomicity: a batch is one MULTI/EXEC (deleteRanges as EVAL of a Lua script inside
 * it, sent in full rather than by SHA so a restarted server cannot fail it with
 * NOSCRIPT halfway). Redis does not roll back a transaction whose commands fail at run
 * time, so everything that could fail is checked before MULTI: keys and bounds are
 * validated, only our own sorted set and hash are touched (their types are checked at
 * open). A command refused while queuing (e.g. OOM) aborts the whole EXEC
 * (EXECABORT): nothing is applied. If the connection drops before EXEC the server
 * discards the transaction; if it drops after, the outcome is unknown and `write`
 * rejects — the replica must stop and recover from what is stored. Commands are never
 * queued offline nor re-sent after a reconnect (that could re-apply an old batch
 * after a newer one).
 *
 * Durability is the server's: an EXEC reply means durable only with
 * `appendonly yes` and `appendfsync always` (Redis then fsyncs the AOF before
 * replying; a torn AOF tail — an incomplete MULTI block — is dropped at load with
 * `aof-load-truncated yes`, the default). `everysec` can lose about one second of
 * acknowledged batches on power loss; RDB snapshots alone lose everything since the
 * last snapshot. `openRedisKv` therefore checks `CONFIG GET` and refuses a server
 * not set to `appendonly yes` + `appendfsync always` unless `requireFsyncAlways: false`.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { KvBackend, KvWrite } from './kv.ts';
import { assertBatch, assertBound, assertKey, assertLimit, noFault, type FaultHook } from './keys.ts';
import { StorageClosedError, StorageConfigError, StorageCorruptError } from './errors.ts';

/** Entries fetched per step of `range`: memory stays bounded by this many values. */
const RANGE_PAGE_ROWS = 128;
/** Fields per HSET/HDEL/ZADD/ZREM command, so no single command grows without bound. */
const FIELDS_PER_COMMAND = 512;
const CONNECT_TIMEOUT_MS = 5000;

/** Deletes [ARGV[1], ARGV[2]) (lex bounds) from the sorted set KEYS[1] and the hash KEYS[2]. */
const DELETE_RANGE_LUA = `
local n = 0
while true do
  local ks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, 500)
  if #ks == 0 then return n end
  redis.call('HDEL', KEYS[2], unpack(ks))
  redis.call('ZREM', KEYS[1], unpack(ks))
  n = n + #ks
end`;

/** One page of [ARGV[1], ARGV[2]) (lex bounds), at most ARGV[3] entries: key1, value1, key2, value2, … */
const PAGE_LUA = `
local ks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #ks == 0 then return {} end
local vs = redis.call('HMGET', KEYS[2], unpack(ks))
local out = {}
for i = 1, #ks do
  out[2 * i - 1] = ks[i]
  out[2 * i] = vs[i]
end
return out`;

export interface RedisKvOptions {
  /** e.g. `redis://127.0.0.1:6379/0` (or `rediss://` for TLS); else host/port. */
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  /** Namespace of this store's two Redis keys, e.g. `bulwark:replica-0:`. Required, non-empty. */
  readonly keyPrefix: string;
  /** Refuse a server without `appendonly yes` + `appendfsync always` (default true). */
  readonly requireFsyncAlways?: boolean;
  readonly connectTimeoutMs?: number;
  /** Extra ioredis options (password, tls, db, …); the reliability options below win. */
  readonly redisOptions?: RedisOptions;
  /** Tests only: see `FaultHook`. */
  readonly faultHook?: FaultHook;
}

/** The Redis store: a KvBackend plus the names of its Redis keys (for inspection). */
export interface RedisKv extends KvBackend {
  readonly keysKey: string;
  readonly valuesKey: string;
}

/**
 * Connects and checks the server and the layout.
 * @throws StorageConfigError if the server's persistence is weaker than `appendfsync always`
 *   (unless `requireFsyncAlways: false`), CONFIG is not allowed, or the options are invalid.
 * @throws StorageCorruptError if the prefix's keys exist with the wrong Redis types.
 * @throws the connection error if the server cannot be reached within connectTimeoutMs.
 */
export async function openRedisKv(options: RedisKvOptions): Promise<RedisKv> {
  if (typeof options.keyPrefix !== 'string' || options.keyPrefix.length === 0) throw new StorageConfigError('keyPrefix must be a non-empty string');
  const reliability: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    keyPrefix: '', // we build full names ourselves (ioredis' prefix does not reach Lua KEYS uniformly)
  };
  const base: RedisOptions = { ...options.redisOptions, ...reliability };
  const redis = options.url !== undefined ? new Redis(options.url, base) : new Redis({ ...base, host: options.host ?? '127.0.0.1', port: options.port ?? 6379 });
  let lastError: Error | undefined;
  // Without a listener ioredis reports connection errors as unhandled; failures reach callers through rejected commands.
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await redis.connect();
    if (options.requireFsyncAlways ?? true) await checkDurability(redis);
    const kv = new RedisKvImpl(redis, options.keyPrefix, options.faultHook);
    await kv.checkLayout();
    return kv;
  } catch (err) {
    redis.disconnect();
    if (err instanceof Error && lastError && err !== lastError && /connect|closed/i.test(err.message)) err.message += ` (${lastError.message})`;
    throw err;
  }
}

async function checkDurability(redis: Redis): Promise<void> {
  let settings: string[];
  try {
    settings = [...((await redis.config('GET', 'appendonly')) as string[]), ...((await redis.config('GET', 'appendfsync')) as string[])];
  } catch (err) {
    throw new StorageConfigError(`cannot read the server's persistence settings (CONFIG GET: ${(err as Error).message}); pass requireFsyncAlways: false if you have checked them yourself`);
  }
  const got = new Map<string, string>();
  for (let i = 0; i + 1 < settings.length; i += 2) got.set(settings[i]!, settings[i + 1]!);
  if (got.get('appendonly') !== 'yes' || got.get('appendfsync') !== 'always') {
    throw new StorageConfigError(
      `Redis would lose acknowledged batches: appendonly=${got.get('appendonly')} appendfsync=${got.get('appendfsync')}; run it with --appendonly yes --appendfsync always (or pass requireFsyncAlways: false)`,
    );
  }
}

function lexFrom(from: string): string {
  return from === '' ? '-' : `[${from}`;
}

class RedisKvImpl implements RedisKv {
  readonly keysKey: string;
  readonly valuesKey: string;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly faultHook: FaultHook | undefined,
  ) {
    this.keysKey = `${keyPrefix}keys`;
    this.valuesKey = `${keyPrefix}values`;
  }

  async checkLayout(): Promise<void> {
    const [keysType, valuesType] = await Promise.all([this.redis.type(this.keysKey), this.redis.type(this.valuesKey)]);
    if ((keysType !== 'zset' && keysType !== 'none') || (valuesType !== 'hash' && valuesType !== 'none')) {
      throw new StorageCorruptError(`redis:${this.keysKey}`, `expected a zset and a hash, found ${keysType} and ${valuesType}`);
    }
  }

  /**
   * Applies `batch` as one MULTI/EXEC (order: deleteRanges, deletes, puts); resolves
   * on the EXEC reply (durable if the server runs appendfsync always).
   * @throws StorageInputError (nothing sent) for a bad key/value/bound; the server's
   *   error (nothing applied) if it aborts the transaction; a connection error, after
   *   which the outcome is unknown.
   */
  async write(batch: KvWrite): Promise<void> {
    this.assertOpen('write');
    if (assertBatch(batch) === 0) return;
    const hook = this.faultHook ?? noFault;
    const tx = this.redis.multi();
    let op = 0;
    for (const [from, to] of batch.deleteRanges ?? []) {
      hook(op++);
      if (from < to) tx.eval(DELETE_RANGE_LUA, 2, this.keysKey, this.valuesKey, lexFrom(from), `(${to}`);
    }
    const deletes = batch.deletes ?? [];
    for (let i = 0; i < deletes.length; i += FIELDS_PER_COMMAND) {
      const chunk = deletes.slice(i, i + FIELDS_PER_COMMAND);
      for (let j = 0; j < chunk.length; j++) hook(op++);
      tx.hdel(this.valuesKey, ...chunk);
      tx.zrem(this.keysKey, ...chunk);
    }
    const puts = batch.puts ?? [];
    for (let i = 0; i < puts.length; i += FIELDS_PER_COMMAND) {
      const fields: (string | Buffer)[] = [];
      const members: (string | number)[] = [];
      for (const [key, value] of puts.slice(i, i + FIELDS_PER_COMMAND)) {
        hook(op++);
        fields.push(key, Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        members.push(0, key);
      }
      tx.hset(this.valuesKey, ...fields);
      tx.zadd(this.keysKey, ...members);
    }
    this.assertOpen('write');
    const results = await tx.exec();
    if (results === null) throw new Error('Redis discarded the transaction (EXEC returned null)');
    const failed = results.find(([err]) => err !== null);
    // Unreachable when the checks above hold; if it happens the store may hold part of the batch.
    if (failed) throw new StorageCorruptError(`redis:${this.keysKey}`, `a command failed inside EXEC, the batch may be partly applied: ${failed[0]!.message}`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.assertOpen('get');
    assertKey(key);
    return (await this.redis.hgetBuffer(this.valuesKey, key)) ?? undefined;
  }

  /**
   * Streams [from, to) in key order, RANGE_PAGE_ROWS entries per server round trip
   * (each page read atomically by a Lua script), resuming after the last key seen.
   * Not a snapshot across pages.
   */
  async *range(from: string, to: string, limit?: number): AsyncIterable<readonly [string, Uint8Array]> {
    this.assertOpen('range');
    assertBound(from);
    assertBound(to);
    assertLimit(limit);
    if (from >= to) return;
    let left = limit ?? Number.POSITIVE_INFINITY;
    let min = lexFrom(from);
    while (left > 0) {
      this.assertOpen('range');
      const take = Math.min(RANGE_PAGE_ROWS, left);
      const flat = (await this.redis.callBuffer('EVAL', PAGE_LUA, 2, this.keysKey, this.valuesKey, min, `(${to}`, take)) as (Buffer | null)[];
      const rows = flat.length / 2;
      let lastKey = '';
      for (let i = 0; i < flat.length; i += 2) {
        lastKey = flat[i]!.toString('latin1');
        const value = flat[i + 1];
        if (value === null || value === undefined) throw new StorageCorruptError(`redis:${this.keysKey}`, `key ${JSON.stringify(lastKey)} is in the key set but has no value`);
        yield [lastKey, value] as const;
      }
      left -= rows;
      if (rows < take) return;
      min = `(${lastKey}`;
    }
  }

  /** Quits the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch {
      // Already disconnected: nothing to flush.
    } finally {
      this.redis.disconnect();
    }
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new StorageClosedError(what);
  }
}
