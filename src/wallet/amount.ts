/**
 * Amounts: integers of minor currency units, carried as canonical decimal strings and
 * held as bigint. Never floating point: 2^53 is below BALANCE_MAX, and a float would
 * round silently.
 */
import { walletError, type WalletError } from './errors.ts';

/**
 * Largest amount one deposit or transfer may move, in minor units (10^15 = ten trillion
 * units of a currency with cents). Bounds what one request can do and keeps any
 * amount well inside BALANCE_MAX.
 */
export const AMOUNT_MAX = 10n ** 15n;

/**
 * Largest balance an account may hold, in minor units: the signed 64-bit maximum
 * (2^63 − 1), so balances fit the int64 columns of any store or ledger export.
 */
export const BALANCE_MAX = 2n ** 63n - 1n;

/** Decimal digits of AMOUNT_MAX: a longer string is too large without parsing it. */
const AMOUNT_DIGITS_MAX = AMOUNT_MAX.toString().length;

/** Canonical positive integer: no sign, no leading zero, no fraction, exponent or blanks. */
const CANONICAL_POSITIVE = /^[1-9][0-9]*$/;

/**
 * Parses a request amount.
 * @param text the amount as sent, e.g. "1250" (minor units).
 * @returns the amount in 1..AMOUNT_MAX, or INVALID_AMOUNT (not canonical, zero, negative)
 *   / AMOUNT_TOO_LARGE (above AMOUNT_MAX), both naming `field`.
 */
export function parseAmount(text: string, field = 'amount'): bigint | WalletError {
  if (!CANONICAL_POSITIVE.test(text)) {
    return walletError('INVALID_AMOUNT', 'amount must be a positive integer of minor units written as a canonical decimal string (e.g. "1250")', field);
  }
  if (text.length > AMOUNT_DIGITS_MAX || BigInt(text) > AMOUNT_MAX) {
    return walletError('AMOUNT_TOO_LARGE', `amount must be at most ${AMOUNT_MAX} minor units`, field);
  }
  return BigInt(text);
}

/** True if `amount` is a valid amount (1..AMOUNT_MAX). */
export function isValidAmount(amount: bigint): boolean {
  return amount >= 1n && amount <= AMOUNT_MAX;
}
