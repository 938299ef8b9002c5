/**
 * Encryption at rest: nothing readable at rest, tampering and swapping detected, and
 * the key file's creation and checks. Runs over the memory, embedded and Redis backends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { KvBackend } from '../../src/host/storage/kv.ts';
import { encryptedKv, loadOrCreateStorageKey } from '../../src/host/storage/encrypted-kv.ts';
import { StorageConfigError, StorageTamperedError } from '../../src/host/storage/errors.ts';
import { KEY_END } from '../../src/host/storage/keys.ts';
import { MemoryKvDisk, openMemoryKv } from '../../src/host/storage/memory-kv.ts';
import { openEmbeddedKv } from '../../src/host/storage/sqlite-kv.ts';
import { openRedisKv } from '../../src/host/storage/redis-kv.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';

const KEY = createHash('sha256').update('encryption test key').digest();
const OTHER_KEY = createHash('sha256').update('another replica').digest();
const SECRET = 'balance=12345';

/** Every file under `dir`, concatenated (db, WAL, AOF…). */
function bytesAtRest(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(readFileSync(join(entry.parentPath ?? entry.path, entry.name)));
  }
  return Buffer.concat(parts);
}

/** A value sealed as stores were before envelope version 2: 0x01 ‖ 12-byte nonce ‖ AES-256-GCM(KEY, aad 0x01 ‖ key) ‖ tag. */
function sealV1(key: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', KEY, nonce);
  cipher.setAAD(Buffer.concat([Buffer.from([0x01]), Buffer.from(key, 'latin1')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([0x01]), nonce, body, cipher.getAuthTag()]);
}

/** Opens the raw (unencrypted) store; tests reach under the wrapper through it. */
interface RawStore {
  open(): Promise<KvBackend>;
  destroy(): Promise<void>;
}

function tamperTests(name: string, createRaw: () => Promise<RawStore>, skip?: string): void {
  describe(`encryption over ${name}`, { skip }, () => {
    /** Runs `body` on a fresh raw store and the encrypting wrapper over it, then closes and destroys them. */
    const withStore = async (body: (inner: KvBackend, kv: KvBackend) => Promise<void>): Promise<void> => {
      const raw = await createRaw();
      try {
        const inner = await raw.open();
        const kv = encryptedKv(inner, KEY);
        await body(inner, kv);
        await kv.close();
      } finally {
        await raw.destroy();
      }
    };

    it('detects a flipped byte anywhere in a stored value, naming the key', () =>
      withStore(async (inner, kv) => {
        await kv.write({ puts: [['log/000000000001', Buffer.from(SECRET)], ['log/000000000002', Buffer.from('other')]] });
        const sealed = Buffer.from((await inner.get('log/000000000001'))!);
        // Envelope version 2: version, 24-byte nonce, ciphertext, 16-byte tag.
        assert.equal(sealed[0], 0x02);
        assert.equal(sealed.length, 1 + 24 + SECRET.length + 16);
        for (const at of [0, 1, 24, 25, 25 + 5, sealed.length - 1]) {
          const bad = Buffer.from(sealed);
          bad[at]! ^= 0x01;
          await inner.write({ puts: [['log/000000000001', bad]] });
          await assert.rejects(kv.get('log/000000000001'), (err: unknown) => {
            assert.ok(err instanceof StorageTamperedError, `byte ${at}: got ${String(err)}`);
            assert.equal(err.key, 'log/000000000001');
            assert.match(err.message, /log\/000000000001/);
            return true;
          });
          await assert.rejects(async () => {
            for await (const _ of kv.range('log/', `log/${KEY_END}`)) void _;
          }, StorageTamperedError);
        }
        // Truncated below the envelope size.
        await inner.write({ puts: [['log/000000000001', sealed.subarray(0, 20)]] });
        await assert.rejects(kv.get('log/000000000001'), StorageTamperedError);
        // Restored, it reads again; the neighbour was never affected.
        await inner.write({ puts: [['log/000000000001', sealed]] });
        assert.equal(Buffer.from((await kv.get('log/000000000001'))!).toString(), SECRET);
        assert.equal(Buffer.from((await kv.get('log/000000000002'))!).toString(), 'other');
      }));

    it('detects values swapped between keys, and values read under another key', () =>
      withStore(async (inner, kv) => {
        await kv.write({ puts: [['a', Buffer.from('balance=1')], ['b', Buffer.from('balance=1000000')]] });
        const [a, b] = [await inner.get('a'), await inner.get('b')];
        await inner.write({ puts: [['a', b!], ['b', a!]] });
        await assert.rejects(kv.get('a'), (err: unknown) => err instanceof StorageTamperedError && err.key === 'a');
        await assert.rejects(kv.get('b'), (err: unknown) => err instanceof StorageTamperedError && err.key === 'b');
        await inner.write({ puts: [['a', a!], ['b', b!]] });
        assert.equal(Buffer.from((await kv.get('b'))!).toString(), 'balance=1000000');
        // Another replica's key cannot read (or forge) these values.
        await assert.rejects(encryptedKv(inner, OTHER_KEY).get('a'), StorageTamperedError);
      }));

    it('still opens values sealed in envelope version 1 (AES-256-GCM), and detects tampering there too', () =>
      withStore(async (inner, kv) => {
        const v1 = sealV1('log/000000000007', Buffer.from(SECRET));
        await inner.write({ puts: [['log/000000000007', v1]] });
        assert.equal(Buffer.from((await kv.get('log/000000000007'))!).toString(), SECRET);
        for (const at of [1, 13, v1.length - 1]) {
          const bad = Buffer.from(v1);
          bad[at]! ^= 0x01;
          await inner.write({ puts: [['log/000000000007', bad]] });
          await assert.rejects(kv.get('log/000000000007'), (err: unknown) => err instanceof StorageTamperedError && err.key === 'log/000000000007');
        }
        // Moved to another key, it fails as a version 2 value does.
        await inner.write({ puts: [['log/000000000008', v1]] });
        await assert.rejects(kv.get('log/000000000008'), StorageTamperedError);
        // A version 2 value relabelled as version 1 does not open either.
        await kv.write({ puts: [['log/000000000009', Buffer.from(SECRET)]] });
        const relabelled = Buffer.from((await inner.get('log/000000000009'))!);
        relabelled[0] = 0x01;
        await inner.write({ puts: [['log/000000000009', relabelled]] });
        await assert.rejects(kv.get('log/000000000009'), StorageTamperedError);
        // Written again, a value is sealed in version 2.
        await kv.write({ puts: [['log/000000000007', Buffer.from(SECRET)]] });
        assert.equal((await inner.get('log/000000000007'))![0], 0x02);
      }));

    it('seals an empty value as a bare envelope and opens it empty', () =>
      withStore(async (inner, kv) => {
        await kv.write({ puts: [['marker', new Uint8Array(0)]] });
        assert.equal((await inner.get('marker'))!.byteLength, 1 + 24 + 16);
        assert.equal((await kv.get('marker'))!.byteLength, 0);
      }));

    it('uses a fresh nonce per value: equal plaintexts are stored differently', () =>
      withStore(async (inner, kv) => {
        await kv.write({ puts: [['x', Buffer.from(SECRET)], ['y', Buffer.from(SECRET)]] });
        const first = Buffer.from((await inner.get('x'))!);
        await kv.write({ puts: [['x', Buffer.from(SECRET)]] });
        const second = Buffer.from((await inner.get('x'))!);
        assert.ok(!first.equals(second));
        assert.ok(!first.subarray(1, 25).equals(Buffer.from((await inner.get('y'))!).subarray(1, 25)));
      }));
  });
}

tamperTests('the memory backend', async () => {
  const disk = new MemoryKvDisk();
  return { open: async () => openMemoryKv(disk), destroy: async () => {} };
});

tamperTests('the embedded backend', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-enc-'));
  return { open: () => openEmbeddedKv(join(dir, 'replica.db')), destroy: async () => rmSync(dir, { recursive: true, force: true }) };
});

const redisMissing = redisServerMissing();
let server: RedisServer | undefined;
let prefixes = 0;

describe('encryption with Redis', { skip: redisMissing }, () => {
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  tamperTests('the Redis backend', async () => {
    const keyPrefix = `enc-${++prefixes}:`;
    return { open: () => openRedisKv({ url: server!.url, keyPrefix }), destroy: async () => {} };
  });

  it('leaves no plaintext in Redis values or in the AOF on disk', async () => {
    const plain = await openRedisKv({ url: server!.url, keyPrefix: 'control:' });
    const sealed = encryptedKv(await openRedisKv({ url: server!.url, keyPrefix: 'sealed:' }), KEY);
    try {
      await sealed.write({ puts: [['wallet/alice', Buffer.from(SECRET)]] });
      const admin = new Redis(server!.url);
      const stored = await admin.hgetBuffer('sealed:values', 'wallet/alice');
      assert.ok(stored && !stored.includes(SECRET));
      assert.ok(!bytesAtRest(server!.dir).includes(SECRET), 'the AOF does not contain the plaintext');
      // Control: the same write without encryption is found, so the search can find it.
      await plain.write({ puts: [['wallet/alice', Buffer.from(SECRET)]] });
      assert.ok((await admin.hgetBuffer('control:values', 'wallet/alice'))!.includes(SECRET));
      assert.ok(bytesAtRest(server!.dir).includes(SECRET), 'control: plaintext written without encryption is in the AOF');
      await admin.quit();
    } finally {
      await plain.close();
      await sealed.close();
    }
  });
});

describe('encryption over the embedded backend: bytes at rest', () => {
  it('leaves no plaintext in the database file or its WAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-enc-'));
    try {
      const kv = encryptedKv(await openEmbeddedKv(join(dir, 'sealed', 'replica.db')), KEY);
      await kv.write({ puts: [['wallet/alice', Buffer.from(SECRET)]] });
      assert.ok(!bytesAtRest(join(dir, 'sealed')).includes(SECRET), 'not in the WAL while open');
      await kv.close();
      assert.ok(!bytesAtRest(join(dir, 'sealed')).includes(SECRET), 'not in the database after the checkpoint at close');
      // Control: the search finds the plaintext when encryption is off.
      const plain = await openEmbeddedKv(join(dir, 'plain', 'replica.db'));
      await plain.write({ puts: [['wallet/alice', Buffer.from(SECRET)]] });
      await plain.close();
      assert.ok(bytesAtRest(join(dir, 'plain')).includes(SECRET));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('storage key file', () => {
  it('creates a 32-byte key with mode 0600 once, then reads the same key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-key-'));
    try {
      const path = join(dir, 'secrets', 'storage.key');
      const created = loadOrCreateStorageKey(path);
      assert.equal(created.length, 32);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'secrets')).mode & 0o077, 0, 'a directory it creates is private too');
      assert.deepEqual(loadOrCreateStorageKey(path), created);
      assert.deepEqual(readdirSync(join(dir, 'secrets')), ['storage.key'], 'no temporary file is left');
      assert.notDeepEqual(loadOrCreateStorageKey(join(dir, 'other.key')), created, 'each replica gets its own random key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key file readable by others, of the wrong length, or not a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-key-'));
    try {
      const open = join(dir, 'open.key');
      writeFileSync(open, Buffer.alloc(32, 1), { mode: 0o644 });
      chmodSync(open, 0o644);
      assert.throws(() => loadOrCreateStorageKey(open), (err: unknown) => err instanceof StorageConfigError && /chmod 600/.test(err.message));
      const short = join(dir, 'short.key');
      writeFileSync(short, Buffer.alloc(31, 1), { mode: 0o600 });
      assert.throws(() => loadOrCreateStorageKey(short), (err: unknown) => err instanceof StorageConfigError && /31 bytes/.test(err.message));
      const empty = join(dir, 'empty.key');
      writeFileSync(empty, '', { mode: 0o600 });
      assert.throws(() => loadOrCreateStorageKey(empty), StorageConfigError, 'an empty file is not silently replaced');
      assert.throws(() => loadOrCreateStorageKey(dir), (err: unknown) => err instanceof StorageConfigError && /not a regular file/.test(err.message));
      assert.ok(existsSync(empty));
      assert.throws(() => encryptedKv(openMemoryKv(), Buffer.alloc(16)), StorageConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
