/**
 * The wallet's state: accounts and the global ledger.
 *
 * Invariants (checked by every mutator, which throws before changing anything if one
 * would break — the service validates first, so a throw here is a bug or, during
 * restore, a malformed snapshot):
 * - the ledger is append-only and `ledger[i].index === i` (decision order);
 * - every account appears in the ledger as exactly one register entry, before any
 *   entry that names it; accounts are kept in that (register) order;
 * - `account.entryIndices` are the indices of the entries naming the account, ascending;
 * - 0 <= balance <= BALANCE_MAX, and the sum of balances equals the sum of deposits;
 * - nonces are strictly increasing: a transfer's nonce above the payer's
 *   lastTransferNonce, a deposit's above the credited account's lastDepositNonce.
 *
 * Everything here is a function of the ledger, so the ledger alone is the snapshot.
 */
import type { KeyObject } from 'node:crypto';
import { ed25519PublicKeyFromRaw } from '../crypto/ed25519.ts';
import { BALANCE_MAX, isValidAmount } from './amount.ts';
import { encodeBase64Url } from './base64url.ts';
import { isAccountId } from './limits.ts';
import type { DepositEntry, LedgerEntry, RegisterEntry, TransferEntry } from './operations.ts';
import { PUBLIC_KEY_BYTES } from './signing.ts';

export interface Account {
  readonly accountId: string;
  /** base64url of `publicKeyRaw`. */
  readonly publicKey: string;
  readonly publicKeyRaw: Uint8Array;
  /** Minor units. */
  balance: bigint;
  /** 0 until the account pays its first transfer. */
  lastTransferNonce: number;
  /** 0 until the first deposit to the account. */
  lastDepositNonce: number;
  /** Ledger indices of the entries naming this account, ascending. */
  readonly entryIndices: number[];
}

/** Where a ledger entry was decided. */
export interface EntryPosition {
  /** Consensus instance id; a non-negative safe integer. */
  readonly cid: number;
  /** Batch timestamp, ms since the Unix epoch; a non-negative safe integer. */
  readonly timestampMs: number;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`wallet state invariant violated: ${what}`);
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function isNonce(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/**
 * Parsed owner keys kept at most (an LRU). A parsed Ed25519 KeyObject costs ≈ 1.3 KB of native
 * memory here, so one per account would be ≈ 1.3 GB at a million accounts; a miss costs one
 * JWK import (≈ 18 µs, against ≈ 130 µs for the verification it serves).
 */
export const OWNER_KEYS_CACHED_MAX = 65_536;

export class WalletState {
  /** Insertion order = register order = ledger order (never iterated to produce bytes anyway). */
  private readonly accounts = new Map<string, Account>();
  /** Recently used owner keys, least recently used first (see OWNER_KEYS_CACHED_MAX). */
  private readonly ownerKeys = new Map<Account, KeyObject>();
  private readonly ledger: LedgerEntry[] = [];
  private depositedTotal = 0n;

  /** Number of ledger entries (= the next entry's index). */
  get ledgerLength(): number {
    return this.ledger.length;
  }

  /** Number of registered accounts. */
  get accountCount(): number {
    return this.accounts.size;
  }

  /** Sum of all deposits, minor units (= sum of all balances). */
  get totalDeposited(): bigint {
    return this.depositedTotal;
  }

  account(accountId: string): Account | undefined {
    return this.accounts.get(accountId);
  }

  /** The entry at ledger `index`, or undefined outside 0..ledgerLength-1. */
  entryAt(index: number): LedgerEntry | undefined {
    return this.ledger[index];
  }

  /** The account owner's key as a KeyObject (parsed on first use, kept while recently used). Throws only if the stored key is not 32 bytes (a bug). */
  ownerKey(account: Account): KeyObject {
    let key = this.ownerKeys.get(account);
    if (key) this.ownerKeys.delete(account); // re-inserted below: most recently used
    else key = ed25519PublicKeyFromRaw(account.publicKeyRaw);
    this.cacheOwnerKey(account, key);
    return key;
  }

  private cacheOwnerKey(account: Account, key: KeyObject): void {
    this.ownerKeys.set(account, key);
    if (this.ownerKeys.size > OWNER_KEYS_CACHED_MAX) this.ownerKeys.delete(this.ownerKeys.keys().next().value as Account);
  }

  /**
   * Appends a register entry and creates the account with balance 0.
   * @param keyObject the already-parsed key, if the caller has it (saves parsing it again).
   * @throws Error if the id is malformed or taken, or the key is not 32 bytes.
   */
  register(accountId: string, publicKeyRaw: Uint8Array, position: EntryPosition, keyObject?: KeyObject): RegisterEntry {
    check(isAccountId(accountId), `malformed account id ${JSON.stringify(accountId)}`);
    check(!this.accounts.has(accountId), `account ${accountId} registered twice`);
    check(publicKeyRaw.length === PUBLIC_KEY_BYTES, `public key of ${accountId} is ${publicKeyRaw.length} bytes`);
    this.checkPosition(position);
    const entry: RegisterEntry = {
      index: this.ledger.length,
      type: 'register',
      accountId,
      publicKey: encodeBase64Url(publicKeyRaw),
      cid: position.cid,
      timestampMs: position.timestampMs,
    };
    const account: Account = {
      accountId,
      publicKey: entry.publicKey,
      publicKeyRaw: Uint8Array.from(publicKeyRaw),
      balance: 0n,
      lastTransferNonce: 0,
      lastDepositNonce: 0,
      entryIndices: [entry.index],
    };
    this.accounts.set(accountId, account);
    if (keyObject) this.cacheOwnerKey(account, keyObject);
    this.ledger.push(Object.freeze(entry));
    return entry;
  }

  /**
   * Appends a deposit entry and credits the account.
   * @throws Error if the account is unknown, the amount is outside 1..AMOUNT_MAX, the
   *   nonce is not above the account's last deposit nonce, or the balance would pass BALANCE_MAX.
   */
  deposit(accountId: string, amount: bigint, nonce: number, position: EntryPosition): DepositEntry {
    const account = this.accounts.get(accountId);
    check(account !== undefined, `deposit to unknown account ${JSON.stringify(accountId)}`);
    check(isValidAmount(amount), `deposit amount ${amount} out of range`);
    check(isNonce(nonce) && nonce > account.lastDepositNonce, `deposit nonce ${nonce} not above ${account.lastDepositNonce}`);
    check(account.balance + amount <= BALANCE_MAX, `deposit overflows the balance of ${accountId}`);
    this.checkPosition(position);
    const entry: DepositEntry = {
      index: this.ledger.length,
      type: 'deposit',
      accountId: account.accountId, // the account's own string: one copy per account, not per entry
      amount: amount.toString(),
      nonce,
      cid: position.cid,
      timestampMs: position.timestampMs,
    };
    account.balance += amount;
    account.lastDepositNonce = nonce;
    account.entryIndices.push(entry.index);
    this.depositedTotal += amount;
    this.ledger.push(Object.freeze(entry));
    return entry;
  }

  /**
   * Appends a transfer entry and moves the amount.
   * @throws Error if either account is unknown or they are the same, the amount is out of
   *   range or above the payer's balance, the nonce is not above the payer's last transfer
   *   nonce, or the payee's balance would pass BALANCE_MAX.
   */
  transfer(from: string, to: string, amount: bigint, nonce: number, position: EntryPosition): TransferEntry {
    const payer = this.accounts.get(from);
    const payee = this.accounts.get(to);
    check(payer !== undefined && payee !== undefined, `transfer between unknown accounts ${JSON.stringify(from)} -> ${JSON.stringify(to)}`);
    check(payer !== payee, `self transfer of ${from}`);
    check(isValidAmount(amount), `transfer amount ${amount} out of range`);
    check(amount <= payer.balance, `transfer of ${amount} exceeds the balance of ${from}`);
    check(isNonce(nonce) && nonce > payer.lastTransferNonce, `transfer nonce ${nonce} not above ${payer.lastTransferNonce}`);
    check(payee.balance + amount <= BALANCE_MAX, `transfer overflows the balance of ${to}`);
    this.checkPosition(position);
    const entry: TransferEntry = {
      index: this.ledger.length,
      type: 'transfer',
      // The accounts' own strings, not the request's: one copy of each id per account, not per entry.
      from: payer.accountId,
      to: payee.accountId,
      amount: amount.toString(),
      nonce,
      cid: position.cid,
      timestampMs: position.timestampMs,
    };
    payer.balance -= amount;
    payee.balance += amount;
    payer.lastTransferNonce = nonce;
    payer.entryIndices.push(entry.index);
    payee.entryIndices.push(entry.index);
    this.ledger.push(Object.freeze(entry));
    return entry;
  }

  private checkPosition(position: EntryPosition): void {
    check(isCount(position.cid), `cid ${position.cid} is not a non-negative safe integer`);
    check(isCount(position.timestampMs), `timestampMs ${position.timestampMs} is not a non-negative safe integer`);
  }
}
