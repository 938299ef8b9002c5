/**
 * The embedded (SQLite) backend's crash behaviour: kill -9 in the middle of a stream of
 * batches, a WAL torn at its last write, corrupt and foreign files, the process lock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedKv, quarantine, StorageLockedError } from '../../src/host/storage/sqlite-kv.ts';
import { StorageCorruptError } from '../../src/host/storage/errors.ts';
import { KEY_END } from '../../src/host/storage/keys.ts';
import { PUTS_PER_BATCH, WINDOW, batchPrefix, crashValue } from '../helpers/kv-crash-child.ts';
import { pad, seeded } from '../helpers/kv-contract.ts';

const CHILD = fileURLToPath(new URL('../helpers/kv-crash-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bulwark-sqlite-'));
}

/**
 * Runs the crash child on `path` until it has reported at least `minBatches` durable
 * batches and then `killAfterMs` more milliseconds, then SIGKILLs it.
 * @returns the last batch it reported durable.
 */
function runAndKill(path: string, fsync: 'always' | 'batch', minBatches: number, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, fsync], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let last = -1;
    let reported = 0;
    let timer: NodeJS.Timeout | undefined;
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!; // a partial last line is not a report
      for (const line of lines) {
        const m = /^durable (\d+)$/.exec(line);
        if (!m) continue;
        last = Number(m[1]);
        reported++;
      }
      if (reported >= minBatches && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`crash child exited by itself (${code ?? signal}): ${err}`));
      else if (reported < minBatches) reject(new Error(`killed after only ${reported} batches: ${err}`));
      else resolve(last);
    });
  });
}

/** Checks the invariants of the child's stream; @returns the stored head. */
async function checkCrashedStore(path: string, lastReported: number): Promise<number> {
  const kv = await openEmbeddedKv(path);
  try {
    const headBytes = await kv.get('head');
    assert.ok(headBytes, 'head is stored');
    const head = Number(Buffer.from(headBytes).toString());
    assert.ok(head >= lastReported, `every batch reported durable is present: head ${head} < reported ${lastReported}`);
    let keys = 0;
    for await (const [key, value] of kv.range('b/', `b/${KEY_END}`)) {
      const m = /^b\/(\d{10})\/(\d+)$/.exec(key);
      assert.ok(m, `unexpected key ${key}`);
      const i = Number(m[1]);
      const j = Number(m[2]);
      assert.ok(i <= head && i > head - WINDOW, `batch ${i} is outside the window ending at head ${head}`);
      assert.equal(Buffer.from(value).toString(), crashValue(i, j));
      keys++;
    }
    // Every batch in the window is whole: no batch half-applied, no old batch half-deleted.
    assert.equal(keys, PUTS_PER_BATCH * Math.min(head + 1, WINDOW));
    for (let j = 0; j < PUTS_PER_BATCH; j++) assert.equal(await kv.get(`${batchPrefix(head + 1)}${j}`), undefined);
    return head;
  } finally {
    await kv.close();
  }
}

describe('embedded backend: kill -9 during a stream of batches', () => {
  for (const fsync of ['always', 'batch'] as const) {
    it(`keeps every batch reported durable and never half a batch (fsync ${fsync})`, { timeout: 180_000 }, async () => {
      const dir = tempDir();
      const path = join(dir, 'replica.db');
      try {
        let previousHead = -1;
        // Three crashes at different points, each run resuming from the survivor's head.
        for (const [minBatches, killAfterMs] of [[60, 7], [40, 23], [120, 0]] as const) {
          const reported = await runAndKill(path, fsync, minBatches, killAfterMs);
          assert.ok(existsSync(`${path}-wal`), 'the WAL was left behind by the kill');
          const head = await checkCrashedStore(path, reported);
          assert.ok(head > previousHead, 'the run made progress');
          previousHead = head;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('embedded backend: a WAL torn at its last write', () => {
  const BATCHES = 10;
  const batchKeys = (i: number) => Array.from({ length: 10 }, (_, j) => `t/${pad(i)}/${j}`);
  const value = (i: number, j: number) => Buffer.alloc(4000, `${i}.${j};`);

  /**
   * Writes BATCHES batches (each spanning several WAL frames) and copies db + WAL while
   * the store is still open, as a crash would leave them.
   * @returns the copy's path and the WAL size after each batch.
   */
  async function crashedCopy(dir: string): Promise<{ copy: string; walBytesAfter: number[] }> {
    const path = join(dir, 'live', 'replica.db');
    const kv = await openEmbeddedKv(path);
    const walBytesAfter: number[] = [];
    try {
      for (let i = 0; i < BATCHES; i++) {
        await kv.write({ puts: batchKeys(i).map((k, j) => [k, value(i, j)] as const) });
        walBytesAfter.push(statSync(`${path}-wal`).size);
      }
      mkdirSync(join(dir, 'crashed'));
      const copy = join(dir, 'crashed', 'replica.db');
      copyFileSync(path, copy);
      copyFileSync(`${path}-wal`, `${copy}-wal`);
      return { copy, walBytesAfter };
    } finally {
      await kv.close();
    }
  }

  async function batchesPresent(path: string): Promise<number[]> {
    const kv = await openEmbeddedKv(path);
    try {
      const present: number[] = [];
      for (let i = 0; i < BATCHES; i++) {
        const found = await Promise.all(batchKeys(i).map((k) => kv.get(k)));
        const count = found.filter((v) => v !== undefined).length;
        assert.ok(count === 0 || count === 10, `batch ${i} is half there (${count} of 10 keys)`);
        if (count === 10) {
          found.forEach((v, j) => assert.ok(Buffer.from(v!).equals(value(i, j)), `batch ${i} key ${j} intact`));
          present.push(i);
        }
      }
      return present;
    } finally {
      await kv.close();
    }
  }

  it('recovers the committed batches when the WAL is cut mid-frame', async () => {
    const dir = tempDir();
    try {
      const { copy, walBytesAfter } = await crashedCopy(dir);
      const frames7 = walBytesAfter[7]! - walBytesAfter[6]!;
      assert.ok(frames7 > 2 * 16408, `batch 7 spans several WAL frames (${frames7} bytes)`);
      truncateSync(`${copy}-wal`, walBytesAfter[6]! + 24 + 5000); // inside batch 7's first frame
      assert.deepEqual(await batchesPresent(copy), [0, 1, 2, 3, 4, 5, 6]);
      // The recovered store accepts new writes.
      const kv = await openEmbeddedKv(copy);
      await kv.write({ puts: [['after', Buffer.from('recovery')]] });
      await kv.close();
      const again = await openEmbeddedKv(copy);
      assert.equal(Buffer.from((await again.get('after'))!).toString(), 'recovery');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops a transaction whose commit frame never reached the disk', async () => {
    const dir = tempDir();
    try {
      const { copy, walBytesAfter } = await crashedCopy(dir);
      assert.ok(walBytesAfter[9]! - walBytesAfter[8]! > 16408, 'batch 9 spans several frames');
      truncateSync(`${copy}-wal`, walBytesAfter[9]! - 16408); // batch 9 lost its last (commit) frame; 0..8 intact
      assert.deepEqual(await batchesPresent(copy), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores everything from a frame whose checksum does not match (a torn sector)', async () => {
    const dir = tempDir();
    try {
      const { copy, walBytesAfter } = await crashedCopy(dir);
      const wal = readFileSync(`${copy}-wal`);
      wal[walBytesAfter[4]! + 24 + 100]! ^= 0xff; // inside batch 5's first frame
      writeFileSync(`${copy}-wal`, wal);
      assert.deepEqual(await batchesPresent(copy), [0, 1, 2, 3, 4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded backend: damaged and foreign files', () => {
  it('reports a garbage file as StorageCorruptError, and quarantine moves it aside', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'replica.db');
      const rand = seeded(42);
      writeFileSync(path, Buffer.from(Array.from({ length: 65536 }, () => Math.floor(rand() * 256))));
      writeFileSync(`${path}-wal`, Buffer.from('not a wal either'));
      await assert.rejects(openEmbeddedKv(path), (err: unknown) => {
        assert.ok(err instanceof StorageCorruptError, `got ${String(err)}`);
        assert.equal(err.path, path);
        assert.match(err.message, /corrupt/);
        return true;
      });
      const moved = quarantine(path);
      assert.equal(moved.length, 2);
      assert.match(moved[0]!, /replica\.db\.corrupt-\d{8}T\d{6}_\d{3}Z$/);
      assert.match(moved[1]!, /replica\.db-wal\.corrupt-\d{8}T\d{6}_\d{3}Z$/);
      assert.ok(!existsSync(path) && !existsSync(`${path}-wal`));
      assert.equal(readFileSync(moved[1]!).toString(), 'not a wal either', 'the damaged files are kept for inspection');
      // The replica starts empty on a fresh file.
      const kv = await openEmbeddedKv(path);
      assert.deepEqual(await kv.get('head'), undefined);
      await kv.write({ puts: [['head', Buffer.from('0')]] });
      await kv.close();
      // A second quarantine in the same millisecond does not overwrite the first.
      writeFileSync(path, 'garbage again');
      const second = quarantine(path);
      assert.equal(second.length, 1);
      assert.ok(!moved.includes(second[0]!));
      assert.equal(readdirSync(dir).filter((f) => f.includes('.corrupt-')).length, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a truncated database file as StorageCorruptError at open', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'replica.db');
      const kv = await openEmbeddedKv(path);
      for (let i = 0; i < 20; i++) await kv.write({ puts: Array.from({ length: 100 }, (_, j) => [`log/${pad(i * 100 + j)}`, Buffer.alloc(300, j)] as const) });
      await kv.close(); // checkpoints everything into the main file
      assert.ok(!existsSync(`${path}-wal`));
      truncateSync(path, Math.floor(statSync(path).size * 0.4));
      await assert.rejects(openEmbeddedKv(path), StorageCorruptError);
      // Without the check at open, the damage surfaces as StorageCorruptError from the
      // first read that meets it (here possibly the schema read during open itself).
      const unchecked = await openEmbeddedKv(path, { check: 'none' }).catch((err: unknown) => {
        assert.ok(err instanceof StorageCorruptError, `got ${String(err)}`);
        return undefined;
      });
      if (unchecked === undefined) return;
      try {
        await assert.rejects(async () => {
          for await (const _ of unchecked.range('', KEY_END)) void _;
        }, StorageCorruptError);
      } finally {
        await unchecked.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a SQLite database that is not a Bulwark store', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'other.db');
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => { exec(s: string): void; close(): void };
      const foreign = new Database(path);
      foreign.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER)');
      foreign.close();
      await assert.rejects(openEmbeddedKv(path), (err: unknown) => err instanceof StorageCorruptError && /not a Bulwark store/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets only one holder open a store at a time', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'replica.db');
      const first = await openEmbeddedKv(path);
      await first.write({ puts: [['k', Buffer.from('v')]] });
      await assert.rejects(openEmbeddedKv(path), StorageLockedError);
      await first.close();
      const second = await openEmbeddedKv(path);
      assert.equal(Buffer.from((await second.get('k'))!).toString(), 'v');
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes 'batch' writes durable at sync() and keeps them across reopen", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'replica.db');
      const kv = await openEmbeddedKv(path, { fsync: 'batch' });
      await kv.write({ puts: [['a', Buffer.from('1')]] });
      await kv.sync();
      await kv.write({ puts: [['b', Buffer.from('2')]] });
      await kv.close();
      const again = await openEmbeddedKv(path, { fsync: 'batch' });
      assert.equal(Buffer.from((await again.get('b'))!).toString(), '2');
      await again.close();
      await assert.rejects(openEmbeddedKv(path, { fsync: 'sometimes' as never }), /fsync must be/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
