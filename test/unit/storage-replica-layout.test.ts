/**
 * The replica's durable layout (`DurableStorage` over the memory backend): each
 * instance's value is stored once under value/<cid>, the vote records and the decision
 * refer to it, and everything reads back whole after a restart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryKvDisk, openMemoryKv } from '../../src/host/storage/memory-kv.ts';
import { DurableStorage } from '../../src/host/storage/replica-storage.ts';
import type { Decision, SignedVote, WriteCertificate } from '../../src/core/messages.ts';
import type { VoteState } from '../../src/core/codec.ts';
import type { RecoveredState } from '../../src/core/recovery.ts';
import { dump } from '../helpers/kv-contract.ts';

const VALUE_BYTES = 64 * 1024;
const sigs = (...from: number[]): SignedVote[] => from.map((f) => ({ from: f, signature: new Uint8Array(64).fill(f + 1) }));
const votes = (cid: number, written: Uint8Array | null, certificate: WriteCertificate | null = null): VoteState => ({
  cid,
  regency: 0,
  written,
  accepted: certificate !== null,
  writeCertificate: certificate,
});
const certificate = (cid: number, value: Uint8Array, regency = 0): WriteCertificate => ({ cid, regency, value, writes: sigs(0, 1, 2) });
const decision = (cid: number, value: Uint8Array): Decision => ({ cid, regency: 0, value, accepts: sigs(0, 1, 3) });

/** `x` with every byte array as hex, so that a Buffer and a Uint8Array of the same bytes compare equal. */
function hex(x: unknown): unknown {
  if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
  if (Array.isArray(x)) return x.map(hex);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, hex(v)]));
  return x;
}

/** Bytes stored per key (`dump` gives hex), and the total. */
async function sizes(disk: MemoryKvDisk): Promise<{ perKey: Map<string, number>; total: number }> {
  const kv = openMemoryKv(disk);
  const rows = await dump(kv);
  await kv.close();
  const perKey = new Map(rows.map(([k, v]) => [k, v.length / 2] as const));
  return { perKey, total: [...perKey.values()].reduce((a, b) => a + b, 0) };
}

/** A stored key: prefix and zero-padded instance, as the layout writes it. */
const key = (prefix: string, cid: number): string => prefix + String(cid).padStart(16, '0');

/** What a replica restarting on `disk` reads back. */
async function reload(disk: MemoryKvDisk): Promise<RecoveredState> {
  const s = new DurableStorage(openMemoryKv(disk));
  try {
    return await s.load();
  } finally {
    await s.close();
  }
}

/** A disk on which instance i decided `values[i]`, each persisted as the core emits it. */
async function decidedDisk(values: readonly Uint8Array[]): Promise<MemoryKvDisk> {
  const disk = new MemoryKvDisk();
  const s = new DurableStorage(openMemoryKv(disk));
  for (const [cid, v] of values.entries()) await decideOne(s, cid, v);
  await s.close();
  return disk;
}

/** Persists one instance's records as the core emits them: WRITE, ACCEPT, then the decision. */
async function decideOne(s: DurableStorage, cid: number, value: Uint8Array): Promise<void> {
  await s.persist([{ kind: 'votes', votes: votes(cid, value) }]);
  await s.persist([{ kind: 'votes', votes: votes(cid, value, certificate(cid, value)) }]);
  await s.persist([{ kind: 'decision', decision: decision(cid, value) }]);
}

describe('replica storage layout', () => {
  it('stores an instance value once, and reads the votes and the decision back whole', async () => {
    const value = randomBytes(VALUE_BYTES);
    const disk = await decidedDisk([value]);

    const { perKey, total } = await sizes(disk);
    assert.ok(total < VALUE_BYTES + 2048, `value stored more than once: ${total} bytes for a ${VALUE_BYTES}-byte value`);
    assert.equal(perKey.get(key('value/', 0)), VALUE_BYTES);

    const loaded = await reload(disk);
    assert.deepEqual(hex(loaded.decisions), hex([decision(0, value)]));
    assert.deepEqual(hex(loaded.votes), hex(votes(0, value, certificate(0, value))));
  });

  it('stores inline a decided value, or a certificate value, that is not the one written', async () => {
    const disk = new MemoryKvDisk();
    const s = new DurableStorage(openMemoryKv(disk));
    const written = randomBytes(VALUE_BYTES);
    const other = randomBytes(VALUE_BYTES);
    // A certificate from an earlier regency for another value, kept beside the value written now.
    await s.persist([{ kind: 'votes', votes: { ...votes(0, written, certificate(0, other)), regency: 1 } }]);
    await s.persist([{ kind: 'decision', decision: decision(0, other) }]);
    await s.close();

    const loaded = await reload(disk);
    assert.deepEqual(hex(loaded.decisions), hex([decision(0, other)]));
    assert.deepEqual(hex(loaded.votes), hex({ ...votes(0, written, certificate(0, other)), regency: 1 }));
  });

  it('after a restart, refers to the value it loaded instead of storing it again', async () => {
    const disk = new MemoryKvDisk();
    const value = randomBytes(VALUE_BYTES);
    const s = new DurableStorage(openMemoryKv(disk));
    await s.persist([{ kind: 'votes', votes: votes(0, value, certificate(0, value)) }]);
    await s.close();

    const again = new DurableStorage(openMemoryKv(disk));
    const loaded = await again.load();
    assert.ok(loaded.votes?.written);
    await again.persist([{ kind: 'decision', decision: decision(0, loaded.votes.written) }]);
    await again.close();
    assert.ok((await sizes(disk)).total < VALUE_BYTES + 2048);

    assert.deepEqual(hex((await reload(disk)).decisions), hex([decision(0, value)]));
  });

  it('a stable checkpoint deletes the values of the instances it covers', async () => {
    const values = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    const disk = await decidedDisk(values);
    const s = new DurableStorage(openMemoryKv(disk));
    await s.persist([{ kind: 'checkpoint', cid: 1, digest: new Uint8Array(32), bytes: Buffer.from('state at 1') }]);
    await s.persist([{ kind: 'stable-checkpoint', cid: 1 }]);
    await s.close();

    const keys = [...(await sizes(disk)).perKey.keys()].filter((k) => k.startsWith('value/') || k.startsWith('log/'));
    assert.deepEqual(keys, [key('log/', 2), key('value/', 2)]);
    const loaded = await reload(disk);
    assert.equal(loaded.checkpoint?.cid, 1);
    assert.deepEqual(hex(loaded.decisions), hex([decision(2, values[2]!)]));
  });

  it('reads back the decision a checkpoint ends with, as its proof, unless the checkpoint is stable', async () => {
    const values = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    const disk = await decidedDisk(values);
    const s = new DurableStorage(openMemoryKv(disk));
    await s.persist([{ kind: 'checkpoint', cid: 1, digest: new Uint8Array(32), bytes: Buffer.from('state at 1') }]);
    await s.close();
    const loaded = await reload(disk);
    assert.equal(loaded.checkpoint?.cid, 1);
    assert.deepEqual(hex(loaded.decisions), hex([decision(1, values[1]!), decision(2, values[2]!)]));

    // Its value lost (a damaged store): that proof is skipped, not taken for a torn tail.
    const kv = openMemoryKv(disk);
    await kv.write({ deletes: [key('value/', 1)] });
    await kv.close();
    assert.deepEqual(hex((await reload(disk)).decisions), hex([decision(2, values[2]!)]));
  });

  it('after a failed write, stores the value again rather than refer to a value that may be missing', async () => {
    const disk = new MemoryKvDisk();
    let fail = true;
    const kv = openMemoryKv(disk, { faultHook: () => { if (fail) throw new Error('disk full'); } });
    const s = new DurableStorage(kv);
    const value = randomBytes(VALUE_BYTES);
    await assert.rejects(s.persist([{ kind: 'votes', votes: votes(0, value) }]), /disk full/);
    fail = false;
    await s.persist([{ kind: 'decision', decision: decision(0, value) }]);
    await s.close();

    const loaded = await reload(disk);
    assert.equal(loaded.votes, null);
    assert.deepEqual(hex(loaded.decisions), hex([decision(0, value)]));
  });

  it('cuts the log at a decision whose stored value is missing (a damaged store), keeping what precedes it', async () => {
    const values = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    const disk = await decidedDisk(values);
    const kv = openMemoryKv(disk);
    await kv.write({ deletes: [key('value/', 1)] });
    await kv.close();

    assert.deepEqual(hex((await reload(disk)).decisions), hex([decision(0, values[0]!)]));
  });

  it('marks a clean stop durably, and a start clears the mark before anything else is written', async () => {
    const disk = await decidedDisk([randomBytes(100)]);
    assert.equal((await reload(disk)).cleanStop, false, 'stopped without the mark: a crash');
    const s = new DurableStorage(openMemoryKv(disk));
    await s.markCleanStop();
    await s.close();
    assert.equal((await reload(disk)).cleanStop, true);
    const again = new DurableStorage(openMemoryKv(disk));
    assert.equal((await again.load()).cleanStop, true);
    await again.clearCleanStop();
    await again.close();
    assert.equal((await reload(disk)).cleanStop, false, 'a crash after this start is not a clean stop');
    assert.equal((await reload(disk)).decisions.length, 1, 'the records are untouched');
  });
});
