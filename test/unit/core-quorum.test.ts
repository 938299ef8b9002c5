import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { byzantineQuorum, correctWitnesses, leaderOf, makeView, maxFaults } from '../../src/core/view.ts';

describe('view and quorums (Mod-SMaRt: ceil((n+f+1)/2))', () => {
  for (const [n, f, q] of [
    [4, 1, 3],
    [7, 2, 5],
    [10, 3, 7],
  ] as const) {
    it(`n=${n}, f=${f}: quorum ${q}, f+1 = ${f + 1}`, () => {
      const view = makeView(Array.from({ length: n }, (_, i) => i), f);
      assert.equal(maxFaults(n), f);
      assert.equal(byzantineQuorum(view), q);
      assert.equal(correctWitnesses(view), f + 1);
      // Any two quorums intersect in at least f+1 replicas.
      assert.ok(2 * q - n >= f + 1);
    });
  }

  it('rejects n < 3f+1 and duplicate members', () => {
    assert.throws(() => makeView([0, 1, 2], 1), /cannot tolerate/);
    assert.throws(() => makeView([0, 0, 1, 2], 1), /distinct/);
  });

  it('rotates the leader over the members by regency', () => {
    const view = makeView([5, 6, 7, 8], 1);
    assert.deepEqual([0, 1, 2, 3, 4].map((r) => leaderOf(view, r)), [5, 6, 7, 8, 5]);
  });
});
