/**
 * Sealing one stored value, the two ways encryption at rest has done it
 * (src/host/storage/encrypted-kv.ts): envelope version 1, a node:crypto AES-256-GCM cipher
 * object per value, against version 2, libsodium's one-shot XChaCha20-Poly1305 (lever 44),
 * for a vote-record-sized, a decision-sized and a checkpoint-chunk-sized value.
 *
 *   node --import tsx bench/seal.ts
 *
 * Prints µs per value, the median of 7 rounds after a warm-up. Used for
 * docs/performance.md (thirteenth session, lever 44).
 */
import { createCipheriv, createSecretKey, randomFillSync } from 'node:crypto';
import sodium from 'sodium-native';
import { medianNanosPerCall } from './timing.ts';

const key = randomFillSync(Buffer.alloc(32));
const keyObject = createSecretKey(key);
const aad = Buffer.from('\x02log/000000001234', 'latin1');
const gcmNonce = randomFillSync(Buffer.alloc(12));
const xNonce = randomFillSync(Buffer.alloc(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));

for (const bytes of [200, 2_000, 100_000]) {
  const plaintext = randomFillSync(Buffer.alloc(bytes));
  const out = Buffer.alloc(bytes + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
  const calls = bytes > 10_000 ? 2_000 : 50_000;
  const gcm = medianNanosPerCall(() => {
    const cipher = createCipheriv('aes-256-gcm', keyObject, gcmNonce);
    cipher.setAAD(aad);
    cipher.update(plaintext);
    cipher.final();
    return cipher.getAuthTag();
  }, calls);
  const xchacha = medianNanosPerCall(() => sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, plaintext, aad, null, xNonce, key), calls);
  console.log(`${String(bytes).padStart(7)} B: node:crypto AES-256-GCM object ${(gcm / 1000).toFixed(2).padStart(7)} µs, libsodium XChaCha20-Poly1305 ${(xchacha / 1000).toFixed(2).padStart(7)} µs`);
}
