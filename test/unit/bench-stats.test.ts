/** The benchmarks' small helpers: `settleWithin` must not leave its timer behind; `formatCpu` sums CPU per operation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatCpu, settleWithin } from '../../src/cli/bench-stats.ts';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('settleWithin', () => {
  it('says whether the work settled in time, and clears its timer either way', async () => {
    const before = timers();
    assert.equal(await settleWithin(Promise.resolve(), 60_000), true);
    assert.equal(await settleWithin(Promise.reject(new Error('failed work still settles')), 60_000), true);
    assert.equal(timers(), before, 'no 60 s timer left to keep the process alive');
    const never = new Promise(() => {});
    assert.equal(await settleWithin(never, 20), false);
    assert.equal(timers(), before);
  });
});

describe('formatCpu', () => {
  it('lists each process and sums their CPU per operation in µs', () => {
    // 4 × 40 % + 20 % of a core = 1.8 s of CPU per s; at 450 ops/s that is 4 000 µs per operation.
    assert.equal(
      formatCpu({ 'replica-0': 40, 'replica-1': 40, 'replica-2': 40, 'replica-3': 40, client: 20 }, 450),
      'cpu % of a core: replica-0 40, replica-1 40, replica-2 40, replica-3 40, client 20; all processes: 4000 us of CPU per operation',
    );
    assert.match(formatCpu({ client: 5 }, 0), /all processes: n\/a of CPU per operation$/);
  });
});
