/**
 * The messages wallet signatures cover, and their verification.
 *
 * Each message is UTF-8 text: the domain `bulwark-wallet/v1`, the operation name, then
 * the operation's fields in a fixed order, joined by "\n". The domain keeps a wallet
 * signature from being valid anywhere else (another protocol, another version), the
 * operation name keeps a deposit from being replayed as a transfer, and fields are
 * canonical (account ids and base64url contain no "\n", amounts and nonces are
 * canonical decimals), so one message has exactly one reading. No JSON: its key order
 * and escaping would make the signed bytes depend on the encoder.
 */
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519Verify } from '../crypto/ed25519.ts';

/** Domain-separation prefix (first line) of every wallet signing message. */
export const SIGNING_DOMAIN = 'bulwark-wallet/v1';

/** Length of an Ed25519 signature, bytes. */
export const SIGNATURE_BYTES = ED25519_SIGNATURE_BYTES;

/** Length of a raw Ed25519 public key, bytes. */
export const PUBLIC_KEY_BYTES = ED25519_PUBLIC_KEY_BYTES;

const utf8 = new TextEncoder();

function message(lines: readonly string[]): Uint8Array {
  return utf8.encode([SIGNING_DOMAIN, ...lines].join('\n'));
}

function amountText(amount: bigint | string): string {
  return typeof amount === 'bigint' ? amount.toString() : amount;
}

/**
 * `bulwark-wallet/v1\nregister\n<accountId>\n<publicKey>`, signed by the key being registered
 * (proof that the registrant holds it).
 * @param publicKey base64url (no padding) of the raw 32-byte Ed25519 key.
 */
export function registerSigningMessage(accountId: string, publicKey: string): Uint8Array {
  return message(['register', accountId, publicKey]);
}

/**
 * `bulwark-wallet/v1\ndeposit\n<accountId>\n<amount>\n<nonce>`, signed by the cluster's issuer.
 * @param amount minor units; a string must already be canonical decimal.
 */
export function depositSigningMessage(accountId: string, amount: bigint | string, nonce: number): Uint8Array {
  return message(['deposit', accountId, amountText(amount), String(nonce)]);
}

/**
 * `bulwark-wallet/v1\ntransfer\n<from>\n<to>\n<amount>\n<nonce>`, signed by the owner of `from`.
 * @param amount minor units; a string must already be canonical decimal.
 */
export function transferSigningMessage(from: string, to: string, amount: bigint | string, nonce: number): Uint8Array {
  return message(['transfer', from, to, amountText(amount), String(nonce)]);
}

/**
 * Verifies an Ed25519 signature under a raw 32-byte public key; false (never a throw) for a
 * wrong-length key or signature, or a bad signature.
 */
export const verifySignature: (publicKeyRaw: Uint8Array, signedMessage: Uint8Array, signature: Uint8Array) => boolean = ed25519Verify;
