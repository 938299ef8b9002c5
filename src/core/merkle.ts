/**
 * A binary Merkle tree over the replies of one batch, so a replica signs once per batch
 * instead of once per reply, and each reply still carries evidence a third party can
 * check: its leaf, the path to the root, and the replica's signature over the root. A
 * client signs the requests of one turn the same way (lever 42).
 *
 * Domain separation: leaf = H(0x00 || message), node = H(0x01 || left || right); an odd
 * node at the end of a level is promoted unchanged. A one-leaf tree's root is its leaf.
 */
import type { Hasher } from '../crypto/signature.ts';
import { toHex } from './bytes.ts';

export interface MerkleProof {
  /** Position of the leaf among the tree's leaves. */
  readonly index: number;
  /** Number of leaves in the tree (tells where odd nodes were promoted). */
  readonly leafCount: number;
  /** Sibling hashes from the leaf's level up to just below the root. */
  readonly siblings: readonly Uint8Array[];
}

export function merkleLeaf(hash: Hasher, message: Uint8Array): Uint8Array {
  const b = new Uint8Array(message.length + 1);
  b[0] = 0;
  b.set(message, 1);
  return hash(b);
}

function node(hash: Hasher, left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + left.length + right.length);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return hash(b);
}

/** @returns the root and one proof per leaf (in leaf order). @throws RangeError for no leaves. */
export function merkleTree(hash: Hasher, leaves: readonly Uint8Array[]): { root: Uint8Array; proofs: MerkleProof[] } {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const siblings: Uint8Array[][] = leaves.map(() => []);
  // positions[i] = index of leaf i's ancestor in the current level
  const positions = leaves.map((_, i) => i);
  let level: Uint8Array[] = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? node(hash, level[i]!, level[i + 1]!) : level[i]!);
    for (let leaf = 0; leaf < leaves.length; leaf++) {
      const p = positions[leaf]!;
      const sibling = p ^ 1;
      if (sibling < level.length) siblings[leaf]!.push(level[sibling]!);
      positions[leaf] = p >> 1;
    }
    level = next;
  }
  return { root: level[0]!, proofs: leaves.map((_, index) => ({ index, leafCount: leaves.length, siblings: siblings[index]! })) };
}

/** The proof of a one-leaf tree (the root is the leaf itself). */
export const SINGLE_LEAF: MerkleProof = { index: 0, leafCount: 1, siblings: [] };

/**
 * Recomputes the root from a leaf and its proof.
 * @returns the root, or an empty array when the proof does not fit its leaf count.
 */
export function merkleRootOf(hash: Hasher, leaf: Uint8Array, proof: MerkleProof): Uint8Array {
  if (proof.index >= proof.leafCount) return new Uint8Array(0);
  let h = leaf;
  let p = proof.index;
  let width = proof.leafCount;
  let s = 0;
  while (width > 1) {
    const sibling = p ^ 1;
    if (sibling < width) {
      const sib = proof.siblings[s++];
      if (!sib) return new Uint8Array(0);
      h = (p & 1) === 0 ? node(hash, h, sib) : node(hash, sib, h);
    }
    p >>= 1;
    width = Math.ceil(width / 2);
  }
  return s === proof.siblings.length ? h : new Uint8Array(0);
}

/**
 * Merkle roots whose signature was already verified, per signer: every reply of a batch
 * (or request of a client's turn) shares its root, so a verifier checks one signature per
 * signer per tree. An entry is the (signer, root, signature) triple: a message that
 * carries a verified root with other signature bytes is checked again, so that what is
 * passed on (evidence, a proposed request) never holds a signature nobody verified.
 * Bounded: past `max` entries the oldest is forgotten (and checked again if it comes back).
 */
export class VerifiedRoots {
  private readonly roots = new Set<string>();
  constructor(private readonly max = 8192) {}
  has(signer: number, root: Uint8Array, signature: Uint8Array): boolean {
    return this.roots.has(`${signer}:${toHex(root)}:${toHex(signature)}`);
  }
  add(signer: number, root: Uint8Array, signature: Uint8Array): void {
    if (this.roots.size >= this.max) this.roots.delete(this.roots.values().next().value as string);
    this.roots.add(`${signer}:${toHex(root)}:${toHex(signature)}`);
  }
}
