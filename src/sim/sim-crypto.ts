/**
 * Keys and signature checks for simulated runs.
 *
 * Keys are real Ed25519 keys derived from a key seed and a role name, so a run replays
 * exactly: Ed25519 signatures are deterministic (RFC 8032; libsodium and OpenSSL give the
 * same bytes). Key objects are cached per process because parsing one costs about 0.6 ms,
 * more than a small run's whole consensus instance.
 *
 * `MemoVerifier` remembers verification outcomes: in a simulation every replica checks
 * the same WRITE or ACCEPT that was broadcast to it, and verifying is a pure function of
 * (signer, message, signature), so checking it once is enough (Ed25519 verify: ≈ 0.09 ms).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Verifier } from '../crypto/signature.ts';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SimKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const keyCache = new Map<string, SimKeyPair>();
const KEY_CACHE_MAX = 4096;

/**
 * The Ed25519 key pair of `role` (e.g. "replica/2", "client/5", "issuer") under `keySeed`.
 * The same arguments always give the same key.
 */
export function simKeyPair(keySeed: number, role: string): SimKeyPair {
  const id = `${keySeed}/${role}`;
  const cached = keyCache.get(id);
  if (cached) return cached;
  const raw = createHash('sha256').update(`bulwark-sim/key/v1/${id}`).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const pair = { privateKey, publicKey: createPublicKey(privateKey) };
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(id, pair);
  return pair;
}

/** Caches another verifier's answers; at most `entriesMax` remembered (then it starts over). */
export class MemoVerifier implements Verifier {
  private readonly memo = new Map<string, boolean>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly inner: Verifier,
    private readonly entriesMax = 200_000,
  ) {}

  verify(signerId: number, message: Uint8Array, signature: Uint8Array): boolean {
    const m = message.length > 96 ? createHash('sha256').update(message).digest() : message;
    const key = `${signerId}|${Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1')}|${Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('latin1')}`;
    const known = this.memo.get(key);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    this.misses++;
    const ok = this.inner.verify(signerId, message, signature);
    if (this.memo.size >= this.entriesMax) this.memo.clear();
    this.memo.set(key, ok);
    return ok;
  }
}
