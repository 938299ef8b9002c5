/**
 * Ed25519 with libsodium (sodium-native), SHA-256 and key handling with node:crypto.
 *
 * Why libsodium for signing and verifying: on this machine it verifies in ≈ 88 µs and signs in
 * ≈ 29 µs, against ≈ 170 µs and ≈ 60 µs for node:crypto (OpenSSL 3's one-shot EVP path, even
 * with cached KeyObjects): signatures bound most figures in docs/performance.md. Keys still
 * arrive as PEM or KeyObjects (the PKI, TLS and CSRs stay with node:crypto and @peculiar/x509)
 * and are converted once, here, to libsodium's raw form. libsodium is also the stricter
 * verifier (it rejects non-canonical signatures and small-order keys), and every replica runs
 * the same one, so a signature's validity is the same on every correct replica.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, KeyObject } from 'node:crypto';
import sodium from 'sodium-native';
import type { Hasher, Signer, Verifier } from './signature.ts';

/**
 * SHA-256 of `data`: 32 bytes (a Buffer). node:crypto's one-shot `hash` (Node ≥ 20.12), not
 * `createHash().update().digest()`: it skips the Hash object and its stream plumbing, 0.3–0.9 µs
 * of 1.8–3.3 µs per small input here (bench/sha256.ts). Not libsodium's SHA-256: OpenSSL's
 * uses the CPU's SHA extensions and is ≈ 5× faster from 4 KiB up.
 */
export const sha256: Hasher = (data) => hash('sha256', data, 'buffer');

/** Length of an Ed25519 signature, bytes. */
export const ED25519_SIGNATURE_BYTES = 64;
/** Length of a raw Ed25519 public key, bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;

/**
 * Verifies an Ed25519 signature under a raw 32-byte public key. @returns false (never a throw)
 * for a wrong-length key or signature, or a signature that does not verify.
 */
export function ed25519Verify(publicKeyRaw: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKeyRaw.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKeyRaw);
}

/**
 * libsodium secret keys already derived from a KeyObject: clients build a signer per signature
 * from the same key (`wallet/client-ops.ts`), and the export is ≈ 60 µs, twice a signature.
 */
const secretKeys = new WeakMap<KeyObject, Buffer>();

/** DER prefixes of Ed25519 keys (RFC 8410): PKCS#8 before the 32-byte seed, SPKI before the public key. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The 32-byte seed of an Ed25519 private KeyObject, from its PKCS#8 DER. Not from its JWK:
 * in Node 20 a JWK export of a key made by `generateKeyPairSync` can deadlock (the export
 * holds the key's mutex while allocating, and a garbage collection inside it runs the
 * key-generation job's destructor, which takes the same mutex); the DER export does not.
 */
function ed25519SeedOf(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  if (der.length !== PKCS8_ED25519_PREFIX.length + 32 || !der.subarray(0, PKCS8_ED25519_PREFIX.length).equals(PKCS8_ED25519_PREFIX)) {
    throw new Error(`unexpected PKCS#8 encoding of an Ed25519 key (${der.length} bytes)`);
  }
  return der.subarray(PKCS8_ED25519_PREFIX.length);
}

/** Signs with an Ed25519 private key given as PEM (PKCS#8) or a KeyObject. */
export class Ed25519Signer implements Signer {
  /**
   * libsodium's 64-byte secret key (seed ‖ public key). An ordinary Buffer, not sodium_malloc's
   * locked memory: each of those mlocks pages against RLIMIT_MEMLOCK (8 MiB here) and the
   * binding aborts the process when that runs out (≈ 16 000 keys), which a client signing with
   * many keys would hit.
   */
  private readonly secretKey: Buffer;
  constructor(privateKey: string | KeyObject) {
    const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 private key, got ${key.asymmetricKeyType}`);
    let secretKey = secretKeys.get(key);
    if (secretKey === undefined) {
      const seed = ed25519SeedOf(key);
      secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
      sodium.crypto_sign_seed_keypair(Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES), secretKey, seed);
      seed.fill(0);
      secretKeys.set(key, secretKey);
    }
    this.secretKey = secretKey;
  }
  /** @returns a 64-byte signature: a Buffer that owns its memory (not a view into Node's pool, which a kept signature would pin). */
  sign(message: Uint8Array): Uint8Array {
    const signature = Buffer.alloc(ED25519_SIGNATURE_BYTES);
    sodium.crypto_sign_detached(signature, message, this.secretKey);
    return signature;
  }
}

/** Verifies Ed25519 signatures of principals whose public keys it was given (PEM, SPKI DER or KeyObject). */
export class Ed25519Verifier implements Verifier {
  private readonly keys = new Map<number, Uint8Array>();
  constructor(publicKeys: ReadonlyMap<number, string | KeyObject> = new Map()) {
    for (const [id, key] of publicKeys) this.setKey(id, key);
  }
  /** Adds or replaces a principal's key (a view change can bring new members). @throws Error if it is not an Ed25519 key. */
  setKey(id: number, key: string | KeyObject): void {
    const k = typeof key === 'string' ? createPublicKey(key) : key;
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`principal ${id}: expected an Ed25519 public key, got ${k.asymmetricKeyType}`);
    this.keys.set(id, ed25519PublicKeyToRaw(k));
  }
  verify(signerId: number, message: Uint8Array, signature: Uint8Array): boolean {
    const key = this.keys.get(signerId);
    return key !== undefined && ed25519Verify(key, message, signature);
  }
}

/**
 * Raw 32-byte Ed25519 public key <-> KeyObject, for keys carried inside requests (wallet owners).
 * Imported as a JWK, not as DER SPKI: the same key, but ≈ 18 µs instead of ≈ 170 µs here
 * (the DER path goes through OpenSSL's generic decoder), and `register` calls this on every
 * replica. @throws Error when `raw` is not 32 bytes or not a valid key encoding.
 */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}
/** The raw 32 bytes of an Ed25519 public KeyObject, from its SPKI DER (not its JWK: see ed25519SeedOf). */
export function ed25519PublicKeyToRaw(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  if (der.length !== SPKI_ED25519_PREFIX.length + 32 || !der.subarray(0, SPKI_ED25519_PREFIX.length).equals(SPKI_ED25519_PREFIX)) {
    throw new Error(`unexpected SPKI encoding of an Ed25519 key (${der.length} bytes)`);
  }
  return der.subarray(SPKI_ED25519_PREFIX.length);
}
export function generateEd25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}
