/**
 * Bounds on what one client request may carry or ask for.
 */

/** Account ids: 1..64 characters of `A-Z a-z 0-9 _ -` (safe in URLs, file names and signing messages). */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Largest page a listing (`ledger`, `accountLedger`) returns, entries. */
export const PAGE_LIMIT_MAX = 1000;

/**
 * Largest request the wallet parses, bytes. The largest valid request (a transfer with
 * two 64-character ids) is under 400 bytes; this bounds the work a client can cause
 * before validation rejects it.
 */
export const REQUEST_BYTES_MAX = 4096;

/** True if `accountId` is a well-formed account id. */
export function isAccountId(accountId: string): boolean {
  return ACCOUNT_ID_PATTERN.test(accountId);
}
