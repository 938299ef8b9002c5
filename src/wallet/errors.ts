/**
 * The wallet's error catalogue: stable codes that cross the service boundary.
 *
 * The codes are part of the wire contract (the gateway maps each to an HTTP status),
 * so they are only ever added to, never renamed. The message is for humans and may change.
 */

/** Every error code a wallet reply can carry, in catalogue order. */
export const WALLET_ERROR_CODES = [
  /** Not UTF-8 JSON, not an object, too large, or a field missing / of the wrong JSON type. */
  'MALFORMED_REQUEST',
  /** `op` is not an operation this service knows (or a state-changing op sent unordered). */
  'UNKNOWN_OPERATION',
  /** An account id does not match `^[A-Za-z0-9_-]{1,64}$`. */
  'INVALID_ACCOUNT_ID',
  /** `publicKey` is not base64url (no padding) of 32 bytes. */
  'INVALID_PUBLIC_KEY',
  /** `register` for an account id that is already taken. */
  'ACCOUNT_EXISTS',
  /** The named account has not been registered. */
  'UNKNOWN_ACCOUNT',
  /** An amount that is not a canonical positive decimal integer string. */
  'INVALID_AMOUNT',
  /** An amount above AMOUNT_MAX. */
  'AMOUNT_TOO_LARGE',
  /** Crediting would take a balance above BALANCE_MAX. */
  'BALANCE_OVERFLOW',
  /** The payer's balance is below the amount. */
  'INSUFFICIENT_FUNDS',
  /** `from` and `to` are the same account. */
  'SELF_TRANSFER',
  /** A nonce that is not a positive safe integer. */
  'INVALID_NONCE',
  /** A nonce not greater than the last one used (transfers: the payer's; deposits: the credited account's). */
  'REPLAYED_REQUEST',
  /** The signature is malformed or does not verify under the expected key. */
  'BAD_SIGNATURE',
  /** A paging cursor this service did not issue for this listing. */
  'INVALID_CURSOR',
  /** `limit` is not an integer in 1..PAGE_LIMIT_MAX. */
  'INVALID_LIMIT',
] as const;

export type WalletErrorCode = (typeof WALLET_ERROR_CODES)[number];

/** The error half of a reply: `{ code, message, field? }` (field = the request field at fault). */
export interface WalletError {
  readonly code: WalletErrorCode;
  readonly message: string;
  readonly field?: string;
}

/** Builds a WalletError; `field` is left out entirely when not given (so the JSON has no `field` key). */
export function walletError(code: WalletErrorCode, message: string, field?: string): WalletError {
  return field === undefined ? { code, message } : { code, message, field };
}

/** True if `value` is one of WALLET_ERROR_CODES. */
export function isWalletErrorCode(value: unknown): value is WalletErrorCode {
  return typeof value === 'string' && (WALLET_ERROR_CODES as readonly string[]).includes(value);
}
