/** The benchmarks' small helpers: `settleWithin` must not leave its timer behind. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settleWithin } from '../../src/cli/bench-stats.ts';

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
