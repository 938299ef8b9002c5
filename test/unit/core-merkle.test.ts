import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { merkleLeaf, merkleRootOf, merkleTree } from '../../src/core/merkle.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/core/bytes.ts';

describe('reply Merkle trees', () => {
  it('every leaf proves the root, for every tree size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), (n) => {
        const leaves = Array.from({ length: n }, (_, i) => merkleLeaf(sha256, new Uint8Array([i, i >> 8])));
        const { root, proofs } = merkleTree(sha256, leaves);
        leaves.forEach((leaf, i) => assert.equal(toHex(merkleRootOf(sha256, leaf, proofs[i]!)), toHex(root)));
      }),
      { seed: 7, numRuns: 70 },
    );
  });

  it('a wrong leaf, index, leaf count or sibling does not prove the root', () => {
    const leaves = Array.from({ length: 5 }, (_, i) => merkleLeaf(sha256, new Uint8Array([i])));
    const { root, proofs } = merkleTree(sha256, leaves);
    const p = proofs[2]!;
    const rootHex = toHex(root);
    assert.notEqual(toHex(merkleRootOf(sha256, leaves[3]!, p)), rootHex);
    assert.notEqual(toHex(merkleRootOf(sha256, leaves[2]!, { ...p, index: 3 })), rootHex);
    assert.notEqual(toHex(merkleRootOf(sha256, leaves[2]!, { ...p, leafCount: 9 })), rootHex);
    assert.notEqual(toHex(merkleRootOf(sha256, leaves[2]!, { ...p, siblings: [leaves[0]!, ...p.siblings.slice(1)] })), rootHex);
    assert.equal(merkleRootOf(sha256, leaves[2]!, { ...p, index: 5 }).length, 0, 'index beyond the leaf count');
    assert.equal(toHex(merkleTree(sha256, [leaves[0]!]).root), toHex(leaves[0]!), 'a one-leaf root is the leaf');
  });
});
