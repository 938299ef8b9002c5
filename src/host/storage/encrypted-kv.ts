/**
 * Encryption at rest: a KvBackend wrapper that seals every value with XChaCha20-Poly1305
 * (libsodium) under a per-replica 32-byte key kept outside the store.
 *
 * Stored value (envelope version 2, written since lever 44)
 *              = version (1 byte, 0x02) ‖ nonce (24 random bytes, fresh per value)
 *              ‖ ciphertext ‖ Poly1305 tag (16 bytes); 41 bytes of overhead.
 * The cipher key is HKDF-SHA-256(storage key, info "bulwark encrypted-kv v2"), so the
 * storage key itself is never used by two algorithms.
 * Additional authenticated data = version ‖ the key name, so a value moved to another
 * key (or a different format version) fails authentication just like a flipped bit:
 * `get`/`range` throw StorageTamperedError naming the key.
 *
 * Envelope version 1 (AES-256-GCM with node:crypto, 12-byte nonce, the storage key itself)
 * is still read, so a store written before lever 44 opens; it is never written. Why the
 * change: libsodium's one-shot AEAD seals a small value in ≈ 1.5–2 µs here against
 * ≈ 8.5–9.5 µs for a node:crypto cipher object (whose creation is most of it), and a replica
 * seals several values per consensus instance; and random 192-bit nonces carry no practical
 * limit on the number of values per key, where random 96-bit GCM nonces allow about 2^32
 * (NIST SP 800-38D).
 *
 * What it does not hide or prevent: key names stay in clear — they are zero-padded
 * cid numbers and fixed names, so they reveal the log's length and which records
 * exist, not their contents; value lengths are visible; and someone with write access
 * to the disk can still delete keys or roll the whole store back to an older copy
 * (the tag authenticates each value, not the store's freshness) — a rolled-back replica
 * is a faulty replica, which the BFT quorum tolerates and state transfer repairs.
 */
import { createDecipheriv, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import sodium from 'sodium-native';
import type { KvBackend, KvWrite } from './kv.ts';
import { assertBatch } from './keys.ts';
import { StorageConfigError, StorageTamperedError } from './errors.ts';

export const STORAGE_KEY_BYTES = 32;
/** Envelope version 1: AES-256-GCM (read only). */
const V1 = 0x01;
const V1_NONCE_BYTES = 12;
const V1_TAG_BYTES = 16;
/** Envelope version 2: XChaCha20-Poly1305 (written). */
const V2 = 0x02;
const V2_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
const V2_TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
const V2_HEADER_BYTES = 1 + V2_NONCE_BYTES;
const V2_KEY_INFO = 'bulwark encrypted-kv v2';
/** Nonces drawn from the CSPRNG in one call, then handed out 24 bytes at a time. */
const NONCE_POOL_BYTES = V2_NONCE_BYTES * 1024;

/**
 * Wraps `inner` so every value is encrypted before it is stored and authenticated when read.
 * Closing the wrapper closes `inner`.
 * @param storageKey 32 bytes (see `loadOrCreateStorageKey`).
 * @throws StorageConfigError if the key is not 32 bytes.
 */
export function encryptedKv(inner: KvBackend, storageKey: Uint8Array): KvBackend {
  if (!(storageKey instanceof Uint8Array) || storageKey.byteLength !== STORAGE_KEY_BYTES) {
    throw new StorageConfigError(`the storage key must be ${STORAGE_KEY_BYTES} bytes`);
  }
  const v2Key = Buffer.from(hkdfSync('sha256', storageKey, new Uint8Array(0), V2_KEY_INFO, sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  return new EncryptedKv(inner, v2Key, createSecretKey(storageKey));
}

class EncryptedKv implements KvBackend {
  private readonly noncePool = Buffer.allocUnsafe(NONCE_POOL_BYTES);
  private nonceOffset = NONCE_POOL_BYTES;

  constructor(
    private readonly inner: KvBackend,
    /** XChaCha20-Poly1305 key of envelope version 2. */
    private readonly key: Buffer,
    /** AES-256-GCM key of envelope version 1, to read stores written before version 2. */
    private readonly v1Key: KeyObject,
  ) {}

  /** Encrypts every put, then writes the batch through `inner` (same atomicity and durability). */
  async write(batch: KvWrite): Promise<void> {
    assertBatch(batch); // before encrypting, so a bad value is reported as such
    const puts = batch.puts?.map(([key, value]) => [key, this.seal(key, value)] as const);
    await this.inner.write(puts === undefined ? batch : { ...batch, puts });
  }

  /** @throws StorageTamperedError if the stored value fails authentication. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const sealed = await this.inner.get(key);
    return sealed === undefined ? undefined : this.open(key, sealed);
  }

  /** @throws StorageTamperedError at the first entry that fails authentication. */
  async *range(from: string, to: string, limit?: number): AsyncIterable<readonly [string, Uint8Array]> {
    for await (const [key, sealed] of this.inner.range(from, to, limit)) yield [key, this.open(key, sealed)] as const;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private seal(key: string, plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(V2_HEADER_BYTES + plaintext.byteLength + V2_TAG_BYTES);
    out[0] = V2;
    const nonce = this.nextNonce();
    nonce.copy(out, 1);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out.subarray(V2_HEADER_BYTES), plaintext, aad(V2, key), null, nonce, this.key);
    return out;
  }

  private open(key: string, sealed: Uint8Array): Uint8Array {
    if (sealed.byteLength === 0) throw new StorageTamperedError(key, 'an empty value is not an envelope');
    if (sealed[0] === V1) return this.openV1(key, sealed);
    if (sealed[0] !== V2) throw new StorageTamperedError(key, `unknown envelope version ${sealed[0]}`);
    if (sealed.byteLength < V2_HEADER_BYTES + V2_TAG_BYTES) throw new StorageTamperedError(key, `${sealed.byteLength} bytes is shorter than the ${V2_HEADER_BYTES + V2_TAG_BYTES}-byte envelope`);
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const out = Buffer.allocUnsafe(sealed.byteLength - V2_HEADER_BYTES - V2_TAG_BYTES);
    try {
      sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, bytes.subarray(V2_HEADER_BYTES), aad(V2, key), bytes.subarray(1, V2_HEADER_BYTES), this.key);
    } catch {
      throw new StorageTamperedError(key, 'authentication tag mismatch (modified, truncated, or moved from another key)');
    }
    return out;
  }

  /** Opens an envelope of version 1 (AES-256-GCM, 12-byte nonce), written before lever 44. */
  private openV1(key: string, sealed: Uint8Array): Uint8Array {
    if (sealed.byteLength < 1 + V1_NONCE_BYTES + V1_TAG_BYTES) throw new StorageTamperedError(key, `${sealed.byteLength} bytes is shorter than the ${1 + V1_NONCE_BYTES + V1_TAG_BYTES}-byte envelope`);
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', this.v1Key, bytes.subarray(1, 1 + V1_NONCE_BYTES));
    decipher.setAAD(aad(V1, key));
    decipher.setAuthTag(bytes.subarray(bytes.length - V1_TAG_BYTES));
    const body = decipher.update(bytes.subarray(1 + V1_NONCE_BYTES, bytes.length - V1_TAG_BYTES));
    try {
      const tail = decipher.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      throw new StorageTamperedError(key, 'authentication tag mismatch (modified, truncated, or moved from another key)');
    }
  }

  private nextNonce(): Buffer {
    if (this.nonceOffset === NONCE_POOL_BYTES) {
      randomFillSync(this.noncePool);
      this.nonceOffset = 0;
    }
    const nonce = this.noncePool.subarray(this.nonceOffset, this.nonceOffset + V2_NONCE_BYTES);
    this.nonceOffset += V2_NONCE_BYTES;
    return nonce;
  }
}

function aad(version: number, key: string): Buffer {
  const out = Buffer.allocUnsafe(1 + key.length);
  out[0] = version;
  out.write(key, 1, 'latin1');
  return out;
}

/**
 * Reads the replica's storage key from `path`, or creates it (32 random bytes, mode
 * 0600, parent directory 0700 if it must be made) when the file does not exist.
 * Creation is atomic and never overwrites: the key is written and fsynced under a
 * temporary name, then hard-linked to `path` (if another process won the race, its key
 * is used). Keep the file outside the store's directory and out of its backups —
 * whoever has both can read the store.
 * @returns the 32-byte key.
 * @throws StorageConfigError if the file is not a regular file, is readable or writable
 *   by group/others, or is not exactly 32 bytes; fs errors otherwise.
 */
export function loadOrCreateStorageKey(path: string): Buffer {
  const existing = readKeyFile(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomFillSync(Buffer.alloc(STORAGE_KEY_BYTES));
  const tmp = `${path}.tmp-${process.pid}-${randomFillSync(Buffer.alloc(4)).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  const stored = readKeyFile(path);
  if (!stored) throw new StorageConfigError(`storage key file ${path} vanished while being created`);
  return stored;
}

/** @returns the key, or undefined if the file does not exist. */
function readKeyFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new StorageConfigError(`storage key file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new StorageConfigError(`storage key file ${path} has mode ${(stat.mode & 0o777).toString(8)}: it must not be accessible to group or others (chmod 600)`);
    }
    if (stat.size !== STORAGE_KEY_BYTES) throw new StorageConfigError(`storage key file ${path} holds ${stat.size} bytes, expected ${STORAGE_KEY_BYTES}`);
    const key = Buffer.alloc(STORAGE_KEY_BYTES);
    if (readSync(fd, key, 0, STORAGE_KEY_BYTES, 0) !== STORAGE_KEY_BYTES) throw new StorageConfigError(`storage key file ${path} could not be read whole`);
    return key;
  } finally {
    closeSync(fd);
  }
}
