/**
 * Handlers of the read operations: getAccount, accountLedger, ledger. They never change state.
 *
 * Paging costs O(page size): the global ledger is an array indexed by entry index, and
 * each account keeps the ascending array of its entry indices, so a page is a slice of
 * consecutive positions. A cursor names the ledger index of the next entry; for an account
 * it is located in the account's index array by binary search (O(log entries)), which also
 * proves the cursor belongs to this account.
 */
import { encodeCursor } from './cursor.ts';
import { walletError } from './errors.ts';
import type { AccountLedgerValue, AccountValue, LedgerEntry, LedgerValue } from './operations.ts';
import type { ParsedAccountLedger, ParsedGetAccount, ParsedLedger } from './parse-request.ts';
import { failure, success, type Outcome } from './results.ts';
import type { WalletState } from './state.ts';

/** One account's public state. Errors: UNKNOWN_ACCOUNT. */
export function onGetAccount(state: WalletState, request: ParsedGetAccount): Outcome<AccountValue> {
  const account = state.account(request.accountId);
  if (account === undefined) return failure(walletError('UNKNOWN_ACCOUNT', `account ${request.accountId} does not exist`, 'accountId'));
  return success({
    accountId: account.accountId,
    publicKey: account.publicKey,
    balance: account.balance.toString(),
    entries: account.entryIndices.length,
    lastTransferNonce: account.lastTransferNonce,
    lastDepositNonce: account.lastDepositNonce,
  });
}

/**
 * One account's entries, newest first, at most `limit`.
 * Errors: UNKNOWN_ACCOUNT, INVALID_CURSOR (the cursor names no entry of this account).
 */
export function onAccountLedger(state: WalletState, request: ParsedAccountLedger): Outcome<AccountLedgerValue> {
  const account = state.account(request.accountId);
  if (account === undefined) return failure(walletError('UNKNOWN_ACCOUNT', `account ${request.accountId} does not exist`, 'accountId'));
  const indices = account.entryIndices;
  const first = request.cursorIndex === undefined ? indices.length - 1 : positionOf(indices, request.cursorIndex);
  if (first === undefined) return failure(walletError('INVALID_CURSOR', `cursor does not name an entry of account ${account.accountId}`, 'cursor'));
  const last = Math.max(first - request.limit + 1, 0);
  const entries: LedgerEntry[] = [];
  for (let position = first; position >= last; position--) entries.push(entryAt(state, indices[position]));
  const next = indices[last - 1];
  return success({ accountId: account.accountId, entries, nextCursor: next === undefined ? null : encodeCursor('a', next) });
}

/**
 * The global ledger from the cursor (default: the oldest entry), oldest first, at most `limit`.
 * Errors: INVALID_CURSOR (the cursor names no existing entry).
 */
export function onLedger(state: WalletState, request: ParsedLedger): Outcome<LedgerValue> {
  const start = request.cursorIndex ?? 0;
  if (request.cursorIndex !== undefined && start >= state.ledgerLength) {
    return failure(walletError('INVALID_CURSOR', 'cursor names no entry of the ledger', 'cursor'));
  }
  const end = Math.min(start + request.limit, state.ledgerLength);
  const entries: LedgerEntry[] = [];
  for (let index = start; index < end; index++) entries.push(entryAt(state, index));
  return success({ entries, nextCursor: end < state.ledgerLength ? encodeCursor('g', end) : null });
}

/** Position of `index` in the ascending `indices`, or undefined if absent. */
function positionOf(indices: readonly number[], index: number): number | undefined {
  let low = 0;
  let high = indices.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = indices[middle]!;
    if (value === index) return middle;
    if (value < index) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

function entryAt(state: WalletState, index: number | undefined): LedgerEntry {
  const entry = index === undefined ? undefined : state.entryAt(index);
  if (entry === undefined) throw new Error(`wallet state invariant violated: no ledger entry at ${index}`);
  return entry;
}
