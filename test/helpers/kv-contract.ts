/**
 * The KvBackend contract as a reusable test suite: every backend (memory, embedded,
 * Redis) and the encrypted wrapper around each must pass the same tests.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KvBackend } from '../../src/host/storage/kv.ts';
import { KEY_END, type FaultHook } from '../../src/host/storage/keys.ts';
import { StorageClosedError, StorageInputError } from '../../src/host/storage/errors.ts';

/** One empty store; `open` may be called again after `close` and must see the same data. */
export interface StoreUnderTest {
  open(options?: { faultHook?: FaultHook }): Promise<KvBackend>;
  /** Removes whatever the store left behind (files, Redis keys). */
  destroy(): Promise<void>;
}

export type CreateStore = () => Promise<StoreUnderTest>;

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());

/** Fixed-width decimal, so numeric order is key order. */
export const pad = (n: number, width = 12): string => String(n).padStart(width, '0');

/** A small deterministic PRNG (mulberry32), so shuffles repeat run to run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function dump(kv: KvBackend, from = '', to = KEY_END): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [key, value] of kv.range(from, to)) out.push([key, Buffer.from(value).toString('hex')]);
  return out;
}

async function keysOf(kv: KvBackend, from: string, to: string, limit?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const [key] of kv.range(from, to, limit)) out.push(key);
  return out;
}

/** Registers the contract tests (call inside a `describe`). */
export function kvContract(createStore: () => CreateStore): void {
  /** Runs `body` on a fresh store and always cleans up. */
  async function withStore(body: (store: StoreUnderTest, kv: KvBackend) => Promise<void>): Promise<void> {
    const store = await createStore()();
    const kv = await store.open();
    try {
      await body(store, kv);
    } finally {
      await kv.close();
      await store.destroy();
    }
  }

  it('puts, gets, overwrites and deletes single keys', () =>
    withStore(async (_store, kv) => {
      assert.equal(await kv.get('absent'), undefined);
      await kv.write({ puts: [['a', bytes('1')], ['b', bytes('2')]] });
      assert.equal(text(await kv.get('a')), '1');
      assert.equal(text(await kv.get('b')), '2');
      await kv.write({ puts: [['a', bytes('one')]] });
      assert.equal(text(await kv.get('a')), 'one');
      await kv.write({ deletes: ['a', 'never-there'] });
      assert.equal(await kv.get('a'), undefined);
      assert.equal(text(await kv.get('b')), '2');
      await kv.write({}); // an empty batch is allowed and changes nothing
      assert.deepEqual(await keysOf(kv, '', KEY_END), ['b']);
    }));

  it('stores empty, binary and large values byte for byte', () =>
    withStore(async (_store, kv) => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + 7) & 0xff);
      await kv.write({ puts: [['empty', new Uint8Array(0)], ['all-bytes', all], ['large', large]] });
      const empty = await kv.get('empty');
      assert.ok(empty instanceof Uint8Array, 'an empty value is present, not absent');
      assert.equal(empty.byteLength, 0);
      assert.deepEqual(Buffer.from((await kv.get('all-bytes'))!), Buffer.from(all));
      assert.ok(Buffer.from((await kv.get('large'))!).equals(Buffer.from(large)));
      // A caller reusing its buffer after the write must not change what was stored.
      const reused = bytes('before');
      await kv.write({ puts: [['reused', reused]] });
      reused.fill(0x21);
      assert.equal(text(await kv.get('reused')), 'before');
    }));

  it('applies a batch in the documented order: deleteRanges, deletes, then puts', () =>
    withStore(async (_store, kv) => {
      await kv.write({ puts: [['k/1', bytes('old1')], ['k/2', bytes('old2')], ['k/3', bytes('old3')]] });
      await kv.write({
        puts: [['k/2', bytes('new2')], ['k/4', bytes('x')], ['k/4', bytes('last put wins')]],
        deletes: ['k/2', 'k/4'],
        deleteRanges: [['k/', 'k/3']],
      });
      assert.deepEqual(
        (await dump(kv)).map(([k, v]) => [k, Buffer.from(v, 'hex').toString()]),
        [['k/2', 'new2'], ['k/3', 'old3'], ['k/4', 'last put wins']],
      );
    }));

  it('deletes half-open ranges [from, to), and nothing for empty or inverted ranges', () =>
    withStore(async (_store, kv) => {
      await kv.write({ puts: Array.from({ length: 20 }, (_, i) => [`log/${pad(i)}`, bytes(String(i))] as const) });
      await kv.write({ puts: [['log0', bytes('sibling')], ['meta/regency', bytes('3')]] });
      await kv.write({ deleteRanges: [[`log/${pad(5)}`, `log/${pad(5)}`], [`log/${pad(9)}`, `log/${pad(2)}`]] });
      assert.equal((await keysOf(kv, '', KEY_END)).length, 22);
      await kv.write({ deleteRanges: [[`log/${pad(5)}`, `log/${pad(10)}`]] });
      const left = await keysOf(kv, 'log/', `log/${KEY_END}`);
      assert.deepEqual(left, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => `log/${pad(i)}`));
      await kv.write({ deleteRanges: [['', `log/${pad(12)}`]] }); // '' is below every key
      assert.deepEqual(await keysOf(kv, '', KEY_END), [...[12, 13, 14, 15, 16, 17, 18, 19].map((i) => `log/${pad(i)}`), 'log0', 'meta/regency']);
      await kv.write({ deleteRanges: [['log/', `log/${KEY_END}`]] }); // a whole prefix, not its sibling 'log0'
      assert.deepEqual(await keysOf(kv, '', KEY_END), ['log0', 'meta/regency']);
    }));

  it('ranges in key order within [from, to) and honours limit, whatever the insertion order', () =>
    withStore(async (_store, kv) => {
      const cids = Array.from({ length: 1000 }, (_, i) => i);
      const rand = seeded(7);
      for (let i = cids.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [cids[i], cids[j]] = [cids[j]!, cids[i]!];
      }
      for (let i = 0; i < cids.length; i += 100) {
        await kv.write({ puts: cids.slice(i, i + 100).map((c) => [`log/${pad(c)}`, bytes(`v${c}`)] as const) });
      }
      await kv.write({ puts: [['a', bytes('a')], ['log', bytes('log')], ['log0', bytes('log0')], ['meta/regency', bytes('r')], ['~', bytes('tilde')]] });

      const mid: [string, string][] = [];
      for await (const [k, v] of kv.range(`log/${pad(100)}`, `log/${pad(200)}`)) mid.push([k, Buffer.from(v).toString()]);
      assert.deepEqual(mid, Array.from({ length: 100 }, (_, i) => [`log/${pad(100 + i)}`, `v${100 + i}`]));

      assert.deepEqual(await keysOf(kv, `log/${pad(998)}`, `log/${KEY_END}`), [`log/${pad(998)}`, `log/${pad(999)}`]);
      assert.deepEqual(await keysOf(kv, `log/${pad(10)}`, `log/${pad(20)}`, 3), [10, 11, 12].map((i) => `log/${pad(i)}`));
      assert.deepEqual(await keysOf(kv, 'log/', `log/${KEY_END}`, 0), []);
      assert.deepEqual(await keysOf(kv, `log/${pad(500)}`, `log/${pad(500)}`), []);
      assert.deepEqual(await keysOf(kv, `log/${pad(600)}`, `log/${pad(500)}`), []);
      // A bound between keys, and a limit larger than a page.
      assert.deepEqual(await keysOf(kv, `log/${pad(299)}5`, `log/${pad(302)}`), [300, 301].map((i) => `log/${pad(i)}`));
      assert.equal((await keysOf(kv, 'log/', `log/${KEY_END}`, 700)).length, 700);
      // Bounds may hold any ASCII, NUL included: 'log' < 'log\0' < 'log/…' < 'log0'.
      assert.deepEqual(await keysOf(kv, 'log', 'log\x00'), ['log']);
      assert.deepEqual(await keysOf(kv, 'log\x00', 'log0', 2), [`log/${pad(0)}`, `log/${pad(1)}`]);
      assert.equal((await keysOf(kv, 'log\x00', 'log0')).length, 1000);

      const everything = await keysOf(kv, '', KEY_END);
      assert.equal(everything.length, 1005);
      assert.deepEqual(everything, [...everything].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      assert.deepEqual(everything.slice(0, 2), ['a', 'log']);
      assert.deepEqual(everything.slice(-3), ['log0', 'meta/regency', '~']);
    }));

  it('rejects invalid keys, values and bounds before applying anything', () =>
    withStore(async (_store, kv) => {
      await kv.write({ puts: [['keep', bytes('1')]] });
      const before = await dump(kv);
      const bad: unknown[] = [
        { puts: [['ok/1', bytes('x')], ['', bytes('empty key')]] },
        { puts: [['ok/1', bytes('x')], ['caf\u00e9', bytes('not ASCII')]] },
        { puts: [['ok/1', bytes('x')], ['line\nbreak', bytes('control char')]] },
        { puts: [['ok/1', bytes('x')], ['k'.repeat(1025), bytes('too long')]] },
        { puts: [['ok/1', bytes('x')], ['ok/2', 'a string, not bytes']] },
        { deletes: ['keep'], puts: [['ok/2', null]] },
        { deleteRanges: [['', KEY_END]], puts: [['ok/3', bytes('x')], [42, bytes('y')]] },
        { deleteRanges: [['', '\u0100']] },
      ];
      for (const batch of bad) {
        await assert.rejects(kv.write(batch as never), StorageInputError);
      }
      assert.deepEqual(await dump(kv), before);
      await assert.rejects(kv.get('bad\tkey'), StorageInputError);
      await assert.rejects(async () => {
        for await (const _ of kv.range('', 'x', -1)) void _;
      }, StorageInputError);
    }));

  it('leaves nothing behind when a batch fails midway (injected fault)', async () => {
    const store = await createStore()();
    try {
      const setup = await store.open();
      await setup.write({ puts: Array.from({ length: 50 }, (_, i) => [`log/${pad(i)}`, bytes(`v${i}`)] as const) });
      const before = await dump(setup);
      await setup.close();
      const batch = {
        deleteRanges: [[`log/${pad(0)}`, `log/${pad(20)}`]] as [string, string][],
        deletes: [`log/${pad(30)}`, `log/${pad(31)}`],
        puts: Array.from({ length: 10 }, (_, i) => [`log/${pad(100 + i)}`, bytes(`new${i}`)] as [string, Uint8Array]),
      };
      // Fail at each stage: in the deleteRanges, in the deletes, and mid-puts.
      for (const failAt of [0, 2, 8, 12]) {
        const seen: number[] = [];
        const kv = await store.open({
          faultHook: (op) => {
            seen.push(op);
            if (op === failAt) throw new Error(`injected fault at op ${op}`);
          },
        });
        await assert.rejects(kv.write(batch), { message: `injected fault at op ${failAt}` });
        assert.equal(seen.at(-1), failAt, 'the hook saw the failing operation');
        assert.deepEqual(await dump(kv), before, `nothing applied when failing at op ${failAt}`);
        await kv.close();
      }
      const kv = await store.open();
      assert.deepEqual(await dump(kv), before, 'nothing applied after reopening either');
      await kv.write(batch);
      assert.equal((await dump(kv)).length, 50 - 20 - 2 + 10, 'the same batch applies whole without the fault');
      await kv.close();
    } finally {
      await store.destroy();
    }
  });

  it('applies writes issued back to back in issue order', () =>
    withStore(async (_store, kv) => {
      const pending = Array.from({ length: 50 }, (_, i) => kv.write({ puts: [['counter', bytes(String(i))], [`w/${pad(i)}`, bytes('x')]] }));
      await Promise.all(pending);
      assert.equal(text(await kv.get('counter')), '49');
      assert.equal((await keysOf(kv, 'w/', `w/${KEY_END}`)).length, 50);
    }));

  it('lets writes interleave with an unfinished range', () =>
    withStore(async (_store, kv) => {
      await kv.write({ puts: Array.from({ length: 1000 }, (_, i) => [`log/${pad(i)}`, bytes('x')] as const) });
      let n = 0;
      for await (const [key] of kv.range('log/', `log/${KEY_END}`)) {
        if (n === 5) await kv.write({ puts: [['meta/during', bytes('y')]], deletes: ['unrelated'] });
        assert.equal(key, `log/${pad(n)}`);
        n++;
      }
      assert.equal(n, 1000);
      assert.equal(text(await kv.get('meta/during')), 'y');
    }));

  it('streams 100 000 entries in order without holding them all', { timeout: 300_000 }, () =>
    withStore(async (_store, kv) => {
      const count = 100_000;
      const valueBytes = 512;
      const valueFor = (i: number) => {
        const v = Buffer.alloc(valueBytes, i & 0xff);
        v.writeUInt32BE(i, 0);
        return v;
      };
      for (let i = 0; i < count; i += 2000) {
        await kv.write({ puts: Array.from({ length: 2000 }, (_, j) => [`log/${pad(i + j)}`, valueFor(i + j)] as const) });
      }
      const gc = collector();
      gc();
      const baseline = footprintBytes();
      let peak = 0;
      let n = 0;
      for await (const [key, value] of kv.range('log/', `log/${KEY_END}`)) {
        if (key !== `log/${pad(n)}`) assert.fail(`entry ${n}: expected key log/${pad(n)}, got ${key}`);
        if (value.byteLength !== valueBytes || Buffer.from(value.buffer, value.byteOffset, 4).readUInt32BE(0) !== n || value[valueBytes - 1] !== (n & 0xff)) {
          assert.fail(`entry ${n}: wrong value`);
        }
        n++;
        if (n % 10_000 === 0) {
          gc();
          peak = Math.max(peak, footprintBytes() - baseline);
        }
      }
      assert.equal(n, count);
      // Holding every value retains ~30-50 MB here (measured by making the page unbounded);
      // a paged stream retains a few pages (measured: no growth at all).
      assert.ok(peak < 12 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MB while streaming ${(count * valueBytes) / 1048576} MB`);
    }));

  it('keeps everything across close and reopen, and refuses use after close', async () => {
    const store = await createStore()();
    try {
      let kv = await store.open();
      await kv.write({ puts: Array.from({ length: 300 }, (_, i) => [`log/${pad(i)}`, bytes(`v${i}`)] as const) });
      await kv.write({ puts: [['meta/regency', bytes('7')]], deleteRanges: [[`log/${pad(0)}`, `log/${pad(100)}`]] });
      const before = await dump(kv);
      await kv.close();
      await kv.close(); // idempotent
      await assert.rejects(kv.get('meta/regency'), StorageClosedError);
      await assert.rejects(kv.write({ puts: [['x', bytes('y')]] }), StorageClosedError);
      kv = await store.open();
      assert.deepEqual(await dump(kv), before);
      assert.equal(before.length, 201);
      await kv.close();
    } finally {
      await store.destroy();
    }
  });
}

/** The garbage collector (exposed at run time, so tests need no node flag). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function footprintBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
