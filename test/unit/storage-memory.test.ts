/**
 * The in-memory backend's crash model and its sorted map (checked against a plain
 * model with fast-check).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryKvDisk, openMemoryKv } from '../../src/host/storage/memory-kv.ts';
import { SortedMap } from '../../src/host/storage/sorted-map.ts';
import { StorageClosedError, StorageConfigError } from '../../src/host/storage/errors.ts';
import { dump, pad } from '../helpers/kv-contract.ts';

const b = (s: string) => Buffer.from(s);

describe('memory backend crash model', () => {
  it("loses nothing on crash with fsync 'always'", async () => {
    const disk = new MemoryKvDisk();
    const kv = openMemoryKv(disk);
    await kv.write({ puts: [['a', b('1')]] });
    await kv.write({ puts: [['b', b('2')]], deletes: ['a'] });
    const before = await dump(kv);
    assert.equal(kv.crash(), 0);
    const again = openMemoryKv(disk);
    assert.deepEqual(await dump(again), before);
    await again.close();
  });

  it("rolls back exactly the batches written since the last sync with fsync 'batch'", async () => {
    const disk = new MemoryKvDisk();
    const kv = openMemoryKv(disk, { fsync: 'batch' });
    await kv.write({ puts: Array.from({ length: 300 }, (_, i) => [`log/${pad(i)}`, b(`v${i}`)] as const) });
    await kv.write({ puts: [['meta/regency', b('1')]] });
    await kv.sync();
    const synced = await dump(kv);
    await kv.write({ puts: [['meta/regency', b('2')], ['log/x', b('new')]], deleteRanges: [[`log/${pad(0)}`, `log/${pad(250)}`]] });
    await kv.write({ deletes: ['meta/regency', `log/${pad(299)}`], puts: [[`log/${pad(5)}`, b('resurrected')]] });
    assert.equal((await dump(kv)).length, 50 + 1);
    assert.equal(kv.crash(), 2);
    await assert.rejects(kv.get('meta/regency'), StorageClosedError);
    const again = openMemoryKv(disk, { fsync: 'batch' });
    assert.deepEqual(await dump(again), synced);
    // close() is a clean shutdown: it syncs.
    await again.write({ puts: [['after', b('close')]] });
    await again.close();
    const third = openMemoryKv(disk, { fsync: 'batch' });
    assert.equal(third.crash(), 0);
    const fourth = openMemoryKv(disk);
    assert.equal(Buffer.from((await fourth.get('after'))!).toString(), 'close');
    await fourth.close();
  });

  it('allows one open handle per disk', async () => {
    const disk = new MemoryKvDisk();
    const kv = openMemoryKv(disk);
    assert.throws(() => openMemoryKv(disk), StorageConfigError);
    await kv.close();
    assert.throws(() => kv.crash(), StorageClosedError);
    openMemoryKv(disk).crash();
  });
});

describe('SortedMap', () => {
  type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; key: string } | { kind: 'page'; from: string; exclusive: boolean; to: string; max: number };
  // A small alphabet makes collisions, prefixes and neighbours frequent.
  const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '0', '/'), minLength: 1, maxLength: 4 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: fc.nat(1000) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('page' as const), from: fc.oneof(key, fc.constant('')), exclusive: fc.boolean(), to: fc.oneof(key, fc.constant('\x7f')), max: fc.nat(50) }) },
  );

  it('behaves like a sorted plain map under any sequence of operations', () => {
    fc.assert(
      // Chunks of 2 to 16 keys, so splits and chunk removals happen all the time.
      fc.property(fc.integer({ min: 2, max: 16 }), fc.array(op, { minLength: 200, maxLength: 3000, size: 'max' }), (chunkKeysMax, ops) => {
        const map = new SortedMap(chunkKeysMax);
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            const previous = map.set(o.key, Uint8Array.of(o.value & 0xff, o.value >> 8));
            assert.equal(previous === undefined, !model.has(o.key));
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            assert.equal(map.delete(o.key) === undefined, !model.has(o.key));
            model.delete(o.key);
          } else {
            const expected = [...model.keys()]
              .filter((k) => (o.exclusive ? k > o.from : k >= o.from) && k < o.to)
              .sort()
              .slice(0, o.max);
            assert.deepEqual(
              map.page(o.from, o.exclusive, o.to, o.max).map(([k]) => k),
              expected,
            );
          }
          assert.equal(map.size, model.size);
        }
        const all = map.page('', false, '\x7f', Number.MAX_SAFE_INTEGER);
        assert.deepEqual(all.map(([k]) => k), [...model.keys()].sort());
        for (const [k, v] of all) assert.deepEqual(v, Uint8Array.of(model.get(k)! & 0xff, model.get(k)! >> 8));
      }),
      { seed: 20240601, numRuns: 100 },
    );
  });

  it('splits and merges chunks correctly across many keys', () => {
    const map = new SortedMap();
    for (let i = 0; i < 5000; i++) map.set(pad((i * 7919) % 5000, 6), Uint8Array.of(i & 0xff));
    assert.equal(map.size, 5000);
    for (let i = 0; i < 5000; i += 2) map.delete(pad(i, 6));
    const keys = map.page('', false, '\x7f', 10_000).map(([k]) => k);
    assert.deepEqual(keys, Array.from({ length: 2500 }, (_, i) => pad(2 * i + 1, 6)));
    assert.deepEqual(map.page(pad(1001, 6), true, pad(1011, 6), 100).map(([k]) => k), [1003, 1005, 1007, 1009].map((i) => pad(i, 6)));
  });
});
