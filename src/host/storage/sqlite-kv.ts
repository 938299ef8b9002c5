/**
 * The embedded backend (the default, so a replica needs no server): SQLite through
 * better-sqlite3, in WAL mode.
 *
 * Why SQLite and not lmdb: (1) a damaged file must give a clear error, never a crash
 * loop — SQLite reads through ordinary I/O and reports SQLITE_CORRUPT / SQLITE_NOTADB
 * (and `PRAGMA quick_check` finds damage at open), while lmdb maps the file into memory
 * and a corrupt page can take the process down with SIGSEGV/SIGBUS before any JS runs;
 * (2) SQLite's WAL frames carry checksums and a torn tail is discarded by the library
 * on open, which is exactly the recovery we need and is tested by SQLite itself;
 * (3) the file format is stable, single-file and inspectable with the `sqlite3` CLI;
 * (4) measured throughput is comparable (see /work/shared/libraries.md) and lmdb
 * suffers most when the CPU is contended, as it is on a replica doing crypto.
 * The cost is a native module compiled at install (better-sqlite3 11; 12 needs Node 22)
 * and synchronous calls: a commit blocks the event loop for its fsync.
 *
 * Layout: one table `kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID`, so rows live in a
 * single b-tree in key order (BINARY collation = bytewise on our ASCII keys); 16 KiB
 * pages keep values up to ~4 KB inline (with 4 KiB pages a 1 KB row overflows and the
 * file triples). `application_id` marks the file as ours and `user_version` its layout.
 * The connection takes an exclusive lock, so a second process cannot open the same
 * store (`StorageLockedError`): two replicas sharing one log would be a disaster.
 */
import { mkdirSync, existsSync, renameSync, openSync, fsyncSync, closeSync, statSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { KvBackend, KvWrite } from './kv.ts';
import { assertBatch, assertBound, assertKey, assertLimit, noFault, type FaultHook } from './keys.ts';
import { StorageClosedError, StorageConfigError, StorageCorruptError } from './errors.ts';

/** The subset of better-sqlite3's API used here (its @types package is not installed). */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(on?: boolean): SqliteStatement;
  raw(on?: boolean): SqliteStatement;
}
interface SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(source: string): SqliteStatement;
  exec(source: string): void;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type SqliteConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as SqliteConstructor;

/** 'BWK1': marks a SQLite file as a Bulwark key-value store. */
const APPLICATION_ID = 0x42574b31;
const LAYOUT_VERSION = 1;
const PAGE_BYTES = 16384;
/** Rows fetched per step of `range`: memory stays bounded by this many values. */
const RANGE_PAGE_ROWS = 128;
/** How long opening waits for another process' lock before failing. */
const LOCK_WAIT_MS = 1000;

/** Another process holds the store open. */
export class StorageLockedError extends Error {
  override readonly name = 'StorageLockedError';
  constructor(readonly path: string) {
    super(`storage at ${path} is locked by another process (is another replica running on it?)`);
  }
}

export interface EmbeddedKvOptions {
  /**
   * 'always' (default): `write` resolves only after the commit is fsynced
   * (`synchronous=FULL` in WAL mode: the WAL is synced at every commit), so an
   * acknowledged batch survives a process kill and a power loss.
   * 'batch': `synchronous=NORMAL`: commits are atomic and survive a process kill
   * (they are in the OS page cache), but the last ones may be lost on power loss or
   * OS crash until the next durable point — an automatic WAL checkpoint (about every
   * 16 MB of WAL) or an explicit `sync()` / `close()`. The store is never torn.
   */
  readonly fsync?: 'always' | 'batch';
  /**
   * 'quick' (default): run `PRAGMA quick_check` at open, so damage is found now rather
   * than mid-operation (cost grows with the file: ~0.3 s per 100 MB here).
   * 'none': skip it (damage then surfaces as StorageCorruptError from the first read).
   */
  readonly check?: 'quick' | 'none';
  /** Tests only: see `FaultHook`. */
  readonly faultHook?: FaultHook;
}

/** The embedded store: a KvBackend with an explicit durability point for fsync 'batch'. */
export interface EmbeddedKv extends KvBackend {
  readonly path: string;
  /** Makes every committed batch durable (a WAL checkpoint, which syncs the WAL first). A no-op cost under 'always'. */
  sync(): Promise<void>;
}

/**
 * Opens (creating if absent) the embedded store at `path` (a file; its directory is
 * created). SQLite recovers a WAL torn by a crash by itself: frames after the last
 * complete, checksummed commit are ignored.
 * @throws StorageCorruptError if the file is not a SQLite database, fails its check,
 *   or is a SQLite database that is not a Bulwark store — move it aside with
 *   `quarantine(path)` and start empty.
 * @throws StorageLockedError if another process has the store open.
 * @throws StorageConfigError for an unknown option value.
 */
export async function openEmbeddedKv(path: string, options: EmbeddedKvOptions = {}): Promise<EmbeddedKv> {
  const fsync = options.fsync ?? 'always';
  if (fsync !== 'always' && fsync !== 'batch') throw new StorageConfigError(`fsync must be 'always' or 'batch', got ${String(fsync)}`);
  const check = options.check ?? 'quick';
  if (check !== 'quick' && check !== 'none') throw new StorageConfigError(`check must be 'quick' or 'none', got ${String(check)}`);
  mkdirSync(dirname(path), { recursive: true });
  const existed = existsSync(path) && statSync(path).size > 0;
  // Checked before SQLite sees the file: on a failed open SQLite deletes the -wal file
  // when it closes, and a WAL beside a damaged header may be worth inspecting.
  if (existed) checkHeader(path);
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { timeout: LOCK_WAIT_MS });
    // Exclusive locking: set before WAL so the wal-index lives in process memory and
    // the lock is held for the connection's lifetime (released by the OS on a kill).
    db.pragma('locking_mode = EXCLUSIVE');
    if (!existed) db.pragma(`page_size = ${PAGE_BYTES}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StorageConfigError(`cannot switch ${path} to WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${fsync === 'always' ? 'FULL' : 'NORMAL'}`);
    db.pragma('wal_autocheckpoint = 1000');
    if (check === 'quick') {
      const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (problems.length > 0) throw new StorageCorruptError(path, `quick_check: ${problems.join('; ')}`);
    }
    ensureLayout(db, path);
    return new SqliteKv(db, path, options.faultHook);
  } catch (err) {
    try {
      db?.close();
    } catch {
      // The original error is what matters.
    }
    throw translate(err, path);
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SQLITE_HEADER_BYTES = 100;

/** @throws StorageCorruptError unless the file starts with a SQLite header. */
function checkHeader(path: string): void {
  const header = Buffer.alloc(SQLITE_HEADER_BYTES);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, header, 0, SQLITE_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (got < SQLITE_HEADER_BYTES) throw new StorageCorruptError(path, `${got} bytes is shorter than a SQLite header`);
  if (!header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) throw new StorageCorruptError(path, 'file is not a database (no SQLite header)');
}

function ensureLayout(db: SqliteDatabase, path: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[];
  if (appId === 0 && tables.length === 0) {
    db.exec(`
      BEGIN;
      CREATE TABLE kv (k TEXT PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID;
      PRAGMA application_id = ${APPLICATION_ID};
      PRAGMA user_version = ${LAYOUT_VERSION};
      COMMIT;`);
    return;
  }
  if (appId !== APPLICATION_ID) throw new StorageCorruptError(path, `a SQLite database that is not a Bulwark store (application_id ${appId})`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== LAYOUT_VERSION) throw new StorageCorruptError(path, `unknown layout version ${version} (expected ${LAYOUT_VERSION})`);
  if (!tables.includes('kv')) throw new StorageCorruptError(path, 'the kv table is missing');
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function translate(err: unknown, path: string): unknown {
  if (err instanceof StorageCorruptError || err instanceof StorageConfigError) return err;
  if (isCorruption(err)) return new StorageCorruptError(path, (err as Error).message, { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StorageLockedError(path);
  return err;
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

class SqliteKv implements EmbeddedKv {
  private closed = false;
  private readonly getStmt: SqliteStatement;
  private readonly firstPage: SqliteStatement;
  private readonly nextPage: SqliteStatement;
  private readonly apply: (batch: KvWrite) => void;

  constructor(
    private readonly db: SqliteDatabase,
    readonly path: string,
    faultHook: FaultHook | undefined,
  ) {
    const hook = faultHook ?? noFault;
    this.getStmt = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
    this.firstPage = db.prepare('SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k LIMIT ?').raw();
    this.nextPage = db.prepare('SELECT k, v FROM kv WHERE k > ? AND k < ? ORDER BY k LIMIT ?').raw();
    const put = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    const del = db.prepare('DELETE FROM kv WHERE k = ?');
    const delRange = db.prepare('DELETE FROM kv WHERE k >= ? AND k < ?');
    // One SQLite transaction per batch: any throw inside rolls the whole batch back.
    this.apply = db.transaction((batch: KvWrite) => {
      let op = 0;
      for (const [from, to] of batch.deleteRanges ?? []) {
        hook(op++);
        if (from < to) delRange.run(from, to);
      }
      for (const key of batch.deletes ?? []) {
        hook(op++);
        del.run(key);
      }
      for (const [key, value] of batch.puts ?? []) {
        hook(op++);
        put.run(key, toBuffer(value));
      }
    });
  }

  /**
   * Applies `batch` in one transaction (order: deleteRanges, deletes, puts).
   * Resolves when it is committed — and fsynced under fsync 'always'.
   * @throws StorageInputError (nothing applied) for a bad key/value/bound;
   *   StorageCorruptError if SQLite finds damage; StorageClosedError after close.
   */
  async write(batch: KvWrite): Promise<void> {
    this.assertOpen('write');
    assertBatch(batch);
    try {
      this.apply(batch);
    } catch (err) {
      throw translate(err, this.path);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.assertOpen('get');
    assertKey(key);
    try {
      return (this.getStmt.get(key) as Buffer | undefined) ?? undefined;
    } catch (err) {
      throw translate(err, this.path);
    }
  }

  /**
   * Streams [from, to) in key order, RANGE_PAGE_ROWS rows per query, resuming after the
   * last key seen — no cursor stays open between steps, so writes may interleave with
   * an unfinished iteration. Each page is consistent; the whole range is not a snapshot
   * (a batch committed mid-iteration is seen if it lands after the current position).
   */
  async *range(from: string, to: string, limit?: number): AsyncIterable<readonly [string, Uint8Array]> {
    this.assertOpen('range');
    assertBound(from);
    assertBound(to);
    assertLimit(limit);
    let left = limit ?? Number.POSITIVE_INFINITY;
    let after: string | undefined;
    while (left > 0) {
      this.assertOpen('range');
      const take = Math.min(RANGE_PAGE_ROWS, left);
      let rows: [string, Buffer][];
      try {
        rows = (after === undefined ? this.firstPage.all(from, to, take) : this.nextPage.all(after, to, take)) as [string, Buffer][];
      } catch (err) {
        throw translate(err, this.path);
      }
      for (const row of rows) yield row;
      left -= rows.length;
      if (rows.length < take) return;
      after = rows[rows.length - 1]![0];
    }
  }

  async sync(): Promise<void> {
    this.assertOpen('sync');
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      throw translate(err, this.path);
    }
  }

  /** Checkpoints, removes the WAL and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new StorageClosedError(what);
  }
}

/**
 * Moves a damaged store aside so the replica can start empty: renames `path` and its
 * `-wal` / `-shm` / `-journal` companions (those that exist) to
 * `<name>.corrupt-<UTC timestamp>` (plus `-<n>` if that name is taken), then fsyncs
 * the directory. Call only while no process has the store open.
 * @returns the new paths, in the order of the files moved.
 */
export function quarantine(path: string): string[] {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '_');
  let suffix = `.corrupt-${stamp}`;
  for (let n = 1; existsSync(path + suffix) || existsSync(`${path}-wal${suffix}`); n++) suffix = `.corrupt-${stamp}-${n}`;
  const moved: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (!existsSync(file)) continue;
    renameSync(file, file + suffix);
    moved.push(file + suffix);
  }
  fsyncDirectory(dirname(path));
  return moved;
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
