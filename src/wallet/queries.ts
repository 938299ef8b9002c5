/**
 * Handlers of the read operations: getAccount, accountLedger, ledger. They never change state.
 *
 * Paging costs O(page size): the global ledger is indexed by entry index, so a page is a
 * run of consecutive indices; each entry links to the previous entry naming the same
 * account, so an account's page is a walk of `limit` links back from the account's newest
 * entry or from the cursor. A cursor names the ledger index of the next entry; for an account
 * it must be an entry naming that account (checked in O(1)).
 */
import { encodeCursor } from './cursor.ts';
import { walletError } from './errors.ts';
import type { AccountValue } from './operations.ts';
import { JsonText, ledgerEntryJson } from './json-text.ts';
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
    entries: account.entryCount,
    lastTransferNonce: account.lastTransferNonce,
    lastDepositNonce: account.lastDepositNonce,
  });
}

/**
 * One account's entries, newest first, at most `limit`.
 * Errors: UNKNOWN_ACCOUNT, INVALID_CURSOR (the cursor names no entry of this account).
 */
export function onAccountLedger(state: WalletState, request: ParsedAccountLedger): Outcome<JsonText> {
  const account = state.account(request.accountId);
  if (account === undefined) return failure(walletError('UNKNOWN_ACCOUNT', `account ${request.accountId} does not exist`, 'accountId'));
  if (request.cursorIndex !== undefined && !state.involves(account, request.cursorIndex)) {
    return failure(walletError('INVALID_CURSOR', `cursor does not name an entry of account ${account.accountId}`, 'cursor'));
  }
  let entries = '';
  let count = 0;
  let next: number | undefined = request.cursorIndex ?? account.lastEntryIndex;
  while (next !== undefined && count < request.limit) {
    entries += (count++ === 0 ? '' : ',') + entryJson(state, next);
    next = state.previousEntryIndex(account, next);
  }
  // The text of { accountId, entries, nextCursor } (AccountLedgerValue), keys in that order.
  return success(new JsonText(`{"accountId":${JSON.stringify(account.accountId)},"entries":[${entries}],"nextCursor":${JSON.stringify(next === undefined ? null : encodeCursor('a', next))}}`));
}

/**
 * The global ledger from the cursor (default: the oldest entry), oldest first, at most `limit`.
 * Errors: INVALID_CURSOR (the cursor names no existing entry).
 */
export function onLedger(state: WalletState, request: ParsedLedger): Outcome<JsonText> {
  const start = request.cursorIndex ?? 0;
  if (request.cursorIndex !== undefined && start >= state.ledgerLength) {
    return failure(walletError('INVALID_CURSOR', 'cursor names no entry of the ledger', 'cursor'));
  }
  const end = Math.min(start + request.limit, state.ledgerLength);
  let entries = '';
  for (let index = start; index < end; index++) entries += (index === start ? '' : ',') + entryJson(state, index);
  // The text of { entries, nextCursor } (LedgerValue), keys in that order.
  return success(new JsonText(`{"entries":[${entries}],"nextCursor":${JSON.stringify(end < state.ledgerLength ? encodeCursor('g', end) : null)}}`));
}

function entryJson(state: WalletState, index: number): string {
  const entry = state.entryAt(index);
  if (entry === undefined) throw new Error(`wallet state invariant violated: no ledger entry at ${index}`);
  return ledgerEntryJson(entry);
}
