/**
 * SHA-256 as Bulwark calls it (`sha256` in src/crypto/ed25519.ts: node:crypto's one-shot
 * `hash`) against the `createHash().update().digest()` chain it replaced, on a vote-sized,
 * a reply-sized and a batch-sized input.
 *
 *   node --import tsx bench/sha256.ts
 *
 * Prints ns per hash, the median of 7 rounds of 100 000 after a warm-up. Used for
 * docs/performance.md (eleventh session, lever 37's note).
 */
import { createHash } from 'node:crypto';
import { sha256 } from '../src/crypto/ed25519.ts';
import { medianNanosPerCall } from './timing.ts';

const CALLS = 100_000;

for (const bytes of [64, 300, 4096]) {
  const data = new Uint8Array(bytes).fill(7);
  const oneShot = medianNanosPerCall(() => sha256(data), CALLS);
  const chained = medianNanosPerCall(() => createHash('sha256').update(data).digest(), CALLS);
  console.log(`${String(bytes).padStart(5)} B: one-shot ${oneShot.toFixed(0).padStart(5)} ns, createHash chain ${chained.toFixed(0).padStart(5)} ns`);
}
