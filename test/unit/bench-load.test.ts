/**
 * The load drivers of `bench wallet` (src/cli/bench-load.ts), on a virtual clock: a closed
 * loop keeps one operation per client in flight; an open loop offers a Poisson rate, counts
 * each latency from when the operation was due (so queueing shows), and never puts two
 * operations of one client in flight.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closedLoop, openLoop, type LoadCall, type LoadClock, type LoadRecorder } from '../../src/cli/bench-load.ts';
import { Prng } from '../../src/sim/prng.ts';

/** Time moves only when every pending callback has run and the earliest sleeper is woken. */
class VirtualClock implements LoadClock {
  /** @param lateMs how late every sleeper wakes (a busy event loop's timers fire late). */
  constructor(private readonly lateMs = 0) {}
  private t = 0;
  private readonly sleepers: { at: number; order: number; wake: () => void }[] = [];
  private order = 0;
  now(): number {
    return this.t;
  }
  sleepUntil(atMs: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ at: atMs + this.lateMs, order: this.order++, wake }));
  }
  sleep(ms: number): Promise<void> {
    return this.sleepUntil(this.t + ms);
  }
  /** Runs the world until `work` settles. @throws if it has not within `limitMs` of virtual time. */
  async runUntilSettled<T>(work: Promise<T>, limitMs: number): Promise<T> {
    let settled = false;
    void work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return work;
      this.sleepers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.sleepers.shift();
      if (!next) throw new Error('nothing left to wake, but the work has not settled');
      if (next.at > limitMs) throw new Error(`the work did not settle within ${limitMs} ms of virtual time`);
      this.t = Math.max(this.t, next.at);
      next.wake();
    }
  }
}

interface Record {
  kind: string;
  latencyMs: number;
  dueMs: number;
}

function recorder(): LoadRecorder<string> & { records: Record[]; failures: number } {
  const r = {
    records: [] as Record[],
    failures: 0,
    done: (kind: string, dueMs: number, doneMs: number) => void r.records.push({ kind, dueMs, latencyMs: doneMs - dueMs }),
    failed: () => void r.failures++,
  };
  return r;
}

/** Plans whose operations take `serviceMs` each and record how many of a client's are in flight at once. */
function plans(clock: VirtualClock, clients: number, perClient: number, serviceMs: number, fail: (client: number, k: number) => boolean = () => false) {
  const inFlight = new Array<number>(clients).fill(0);
  const maxInFlight = new Array<number>(clients).fill(0);
  const sent = new Array<number>(clients).fill(0);
  const built: LoadCall<string>[][] = [];
  for (let c = 0; c < clients; c++) {
    const plan: LoadCall<string>[] = [];
    for (let k = 0; k < perClient; k++) {
      plan.push({
        kind: `op-${c}`,
        run: async () => {
          inFlight[c]!++;
          sent[c]!++;
          maxInFlight[c] = Math.max(maxInFlight[c]!, inFlight[c]!);
          await clock.sleep(serviceMs);
          inFlight[c]!--;
          if (fail(c, k)) throw new Error('refused');
          return 'ok';
        },
      });
    }
    built.push(plan);
  }
  return { built, maxInFlight, sent };
}

describe('closedLoop', () => {
  it('keeps one operation per client in flight and times each from when it was sent', async () => {
    const clock = new VirtualClock();
    const rec = recorder();
    const p = plans(clock, 3, 1000, 10);
    const result = await clock.runUntilSettled(closedLoop(p.built, rec, () => clock.now() < 1000, clock), 5000);
    assert.equal(result.exhausted, 0);
    assert.deepEqual(p.maxInFlight, [1, 1, 1]);
    // 1 000 ms at 10 ms per operation: 100 each (the last sent at 990 ms, answered at 1 000).
    assert.deepEqual(p.sent, [100, 100, 100]);
    assert.ok(rec.records.every((r) => r.latencyMs === 10), 'every latency is the 10 ms service time');
  });

  it('counts a client that ran out of operations while still running', async () => {
    const clock = new VirtualClock();
    const p = plans(clock, 2, 5, 10);
    const result = await clock.runUntilSettled(closedLoop(p.built, recorder(), () => clock.now() < 1000, clock), 5000);
    assert.equal(result.exhausted, 2);
  });
});

describe('openLoop', () => {
  it('offers the rate asked for, and under capacity the latency is the service time', async () => {
    const clock = new VirtualClock();
    const rec = recorder();
    const p = plans(clock, 4, 1000, 2);
    const result = await clock.runUntilSettled(openLoop(p.built, 100, new Prng(1), rec, () => clock.now() < 10_000, clock), 20_000);
    // 100/s for 10 s: a Poisson count of mean 1 000 (sd ≈ 32).
    assert.ok(result.arrivals > 900 && result.arrivals < 1100, `arrivals ${result.arrivals}`);
    assert.equal(rec.records.length, result.arrivals, 'every arrival was sent and answered');
    assert.equal(result.waitedForClient, 0, 'four clients at 2 ms each never all busy at 100/s here');
    assert.equal(result.backlogMax, 0);
    const near = (x: number, y: number): boolean => Math.abs(x - y) < 1e-6;
    assert.ok(rec.records.every((r) => near(r.latencyMs, 2)), 'every latency is the 2 ms service time');
    assert.deepEqual(p.maxInFlight, [1, 1, 1, 1]);
    // The idle-longest client takes each arrival: the load is spread evenly.
    assert.ok(Math.max(...p.sent) - Math.min(...p.sent) <= 1, `sent ${p.sent.join(',')}`);
  });

  it('counts queueing in the latency when the offered rate exceeds what the clients can carry', async () => {
    const clock = new VirtualClock();
    const rec = recorder();
    // One client at 10 ms per operation carries 100/s; 200/s are offered for 5 s.
    const p = plans(clock, 1, 2000, 10);
    const result = await clock.runUntilSettled(openLoop(p.built, 200, new Prng(2), rec, () => clock.now() < 5000, clock), 20_000);
    assert.deepEqual(p.maxInFlight, [1], 'never two operations of one client in flight');
    assert.ok(result.backlogMax > 300, `backlog ${result.backlogMax}`);
    assert.ok(result.waitedForClient > result.arrivals / 2, `${result.waitedForClient} of ${result.arrivals} waited`);
    // Sent ≈ 500 in 5 s; the rest of the ≈ 1 000 arrivals were still waiting and are not sent.
    assert.ok(rec.records.length >= 495 && rec.records.length <= 505, `answered ${rec.records.length}`);
    // A closed loop would report 10 ms for every operation; here the last ones waited seconds.
    const last = rec.records.at(-1)!;
    assert.ok(last.latencyMs > 2000, `last latency ${last.latencyMs} ms`);
    // Latency is measured from the due time, which precedes the send.
    assert.ok(rec.records.every((r) => r.latencyMs >= 10 - 1e-6), 'no latency below the service time');
  });

  it('does not count as waiting the arrivals a late wake-up finds together, while clients are free', async () => {
    // Timers 30 ms late at ≈ 10 ms between arrivals: each pass finds several due at once.
    const clock = new VirtualClock(30);
    const rec = recorder();
    const result = await clock.runUntilSettled(openLoop(plans(clock, 32, 1000, 1).built, 100, new Prng(4), rec, () => clock.now() < 5000, clock), 20_000);
    assert.ok(result.arrivals > 400, `arrivals ${result.arrivals}`);
    assert.equal(result.waitedForClient, 0);
    assert.equal(result.backlogMax, 0);
    // The lateness itself is counted: latency runs from the due time.
    assert.ok(rec.records.some((r) => r.latencyMs > 31 + 1e-6), 'some arrivals waited for the late wake-up as well as their service');
  });

  it('gives the same schedule for the same seed', async () => {
    const run = async (seed: number) => {
      const clock = new VirtualClock();
      const rec = recorder();
      await clock.runUntilSettled(openLoop(plans(clock, 2, 500, 3).built, 50, new Prng(seed), rec, () => clock.now() < 2000, clock), 10_000);
      return rec.records.map((r) => r.dueMs);
    };
    assert.deepEqual(await run(9), await run(9));
    assert.notDeepEqual(await run(9), await run(10));
  });

  it('records failures, frees their client, and hands an exhausted client\'s arrivals to the others', async () => {
    const clock = new VirtualClock();
    const rec = recorder();
    // Client 0 has 3 operations, the second of which fails; client 1 has plenty.
    const p0 = plans(clock, 1, 3, 5, (_, k) => k === 1);
    const p1 = plans(clock, 1, 1000, 5);
    const result = await clock.runUntilSettled(openLoop([...p0.built, ...p1.built], 50, new Prng(3), rec, () => clock.now() < 2000, clock), 10_000);
    assert.equal(rec.failures, 1);
    assert.equal(p0.sent[0], 3);
    assert.equal(result.exhausted, 1);
    assert.equal(rec.records.length + rec.failures, result.arrivals, 'no arrival lost to the exhausted client');
  });

  it('refuses a rate that is not a positive number, and an empty set of clients', async () => {
    const clock = new VirtualClock();
    await assert.rejects(openLoop([[]], 0, new Prng(1), recorder(), () => false, clock), RangeError);
    await assert.rejects(openLoop([[]], Number.NaN, new Prng(1), recorder(), () => false, clock), RangeError);
    await assert.rejects(openLoop([], 10, new Prng(1), recorder(), () => false, clock), RangeError);
  });
});
