/**
 * The host's share of persist-before-you-speak (src/host/output-sequencer.ts), with a
 * storage that completes a write only when the test says so (as Redis may take its time).
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { OutputSequencer } from '../../src/host/output-sequencer.ts';
import type { DurableRecord, Ready } from '../../src/core/ready.ts';

const decision = (cid: number): DurableRecord => ({ kind: 'decision', decision: { cid, regency: 0, value: new Uint8Array([cid]), accepts: [] } });
const regency = (r: number): DurableRecord => ({ kind: 'regency', regency: r });
/** A Ready whose single reply is labelled `label`, so the test can see the send order. */
const ready = (label: number, persist: DurableRecord[]): Ready => ({ persist, messages: [], replies: [{ clientId: label, bytes: new Uint8Array() }], events: [] });

function harness(deferredFlushMs = 50) {
  const writes: { records: DurableRecord[]; done: () => void; failWith: (e: Error) => void }[] = [];
  const sent: number[] = [];
  const failures: unknown[] = [];
  const sequencer = new OutputSequencer(
    {
      persist: (records) => new Promise<void>((resolve, reject) => writes.push({ records, done: resolve, failWith: reject })),
      send: (r) => sent.push(...r.replies.map((x) => x.clientId)),
      fail: (e) => failures.push(e),
    },
    deferredFlushMs,
  );
  return { sequencer, writes, sent, failures };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('output sequencer', () => {
  it('sends a step that must persist only once its write is durable', async () => {
    const h = harness();
    h.sequencer.submit(ready(1, [regency(1)]));
    await settle();
    assert.equal(h.writes.length, 1);
    assert.deepEqual(h.sent, []);
    h.writes[0]!.done();
    await settle();
    assert.deepEqual(h.sent, [1]);
  });

  it('a step with only deferrable records never overtakes an earlier write still in flight', async () => {
    const h = harness();
    h.sequencer.submit(ready(1, [regency(1)])); // e.g. our ACCEPT's vote record
    h.sequencer.submit(ready(2, [decision(5)])); // the decision it helped form, and its replies
    await settle();
    assert.deepEqual(h.sent, [], 'the replies wait for the earlier write');
    h.writes[0]!.done();
    await settle();
    assert.deepEqual(h.sent, [1, 2]);
  });

  it('sends at once when nothing is in flight, and the next write carries the deferred decision', async () => {
    const h = harness();
    h.sequencer.submit(ready(1, [decision(5)]));
    assert.deepEqual(h.sent, [1], 'sent synchronously: no write on the path');
    h.sequencer.submit(ready(2, [regency(1)]));
    await settle();
    assert.equal(h.writes.length, 1);
    assert.deepEqual(h.writes[0]!.records.map((r) => r.kind), ['decision', 'regency'], 'one commit for both');
    h.writes[0]!.done();
    await settle();
    assert.deepEqual(h.sent, [1, 2]);
  });

  it('writes deferred records on their own after the quiet period, and at close', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const h = harness(50);
      h.sequencer.submit(ready(1, [decision(5)]));
      mock.timers.tick(49);
      await settle();
      assert.equal(h.writes.length, 0);
      mock.timers.tick(1);
      await settle();
      assert.deepEqual(h.writes.map((w) => w.records.length), [1]);
      h.writes[0]!.done();
      h.sequencer.submit(ready(2, [decision(6)]));
      const closed = h.sequencer.close();
      await settle();
      assert.deepEqual(h.writes.map((w) => w.records.map((r) => (r.kind === 'decision' ? r.decision.cid : -1))), [[5], [6]]);
      h.writes[1]!.done();
      await closed;
    } finally {
      mock.timers.reset();
    }
  });

  it('reports a failed write and sends nothing that depended on it', async () => {
    const h = harness();
    h.sequencer.submit(ready(1, [regency(1)]));
    await settle();
    h.writes[0]!.failWith(new Error('disk full'));
    await settle();
    assert.deepEqual(h.sent, []);
    assert.match(String(h.failures[0]), /disk full/);
  });
});
