/**
 * Ed25519 key plumbing between node:crypto KeyObjects (what the protocol signs with, what files
 * hold as PEM) and WebCrypto CryptoKeys (what @peculiar/x509 signs certificates with).
 */
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, type webcrypto } from 'node:crypto';
import { PkiError } from './pki-error.ts';
import { subtle } from './x509-provider.ts';

export const ED25519 = { name: 'Ed25519' } as const;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A node:crypto key pair, as returned by `generateEd25519()` in src/crypto/ed25519.ts. */
export interface KeyObjectPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** @throws PkiError KEY_TYPE_UNSUPPORTED unless `key` is an Ed25519 key. */
export function assertEd25519(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PkiError('KEY_TYPE_UNSUPPORTED', `${what} must be an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
}

/** PKCS#8 PEM of a private key. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** SPKI PEM of a public key. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }) as string;
}

/** @throws PkiError KEY_TYPE_UNSUPPORTED when the PEM does not hold an Ed25519 private key. */
export function parseEd25519PrivateKey(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new PkiError('KEY_TYPE_UNSUPPORTED', `${what} is not a private key: ${(error as Error).message}`);
  }
  assertEd25519(key, what);
  return key;
}

/** WebCrypto signing key for @peculiar/x509 (Node 20 KeyObject has no toCryptoKey). */
export async function toSigningKey(privateKey: KeyObject): Promise<CryptoKey> {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
}

export async function toVerifyingKey(publicKey: KeyObject): Promise<CryptoKey> {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return subtle.importKey('spki', der, ED25519, true, ['verify']);
}

export async function toCryptoKeyPair(pair: KeyObjectPair): Promise<CryptoKeyPair> {
  return { privateKey: await toSigningKey(pair.privateKey), publicKey: await toVerifyingKey(pair.publicKey) };
}

/** SPKI DER bytes -> KeyObject (what @peculiar/x509 exposes as `publicKey.rawData`). */
export function publicKeyFromSpki(spki: ArrayBuffer | Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki instanceof Uint8Array ? spki : new Uint8Array(spki)), format: 'der', type: 'spki' });
}

/**
 * A random positive 126-bit certificate serial number as hex. The first byte is in 0x01..0x7f so
 * the DER INTEGER is positive and minimally encoded (OpenSSL rejects a redundant leading zero).
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}
