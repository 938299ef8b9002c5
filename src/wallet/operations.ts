/**
 * Wire types of the wallet: the operations clients send (UTF-8 JSON request bytes) and
 * the replies they get back. The HTTPS gateway uses the same shapes.
 *
 * Conventions: amounts and balances are canonical decimal strings of minor units
 * (bigint-safe); nonces, indices, cids and timestamps are JS safe integers;
 * keys and signatures are base64url without padding.
 */
import type { WalletErrorCode } from './errors.ts';

// ---- Operations (requests) ----------------------------------------------------------

/** Ordered. Creates `accountId` owned by `publicKey`; signed by that key over registerSigningMessage. */
export interface RegisterOperation {
  op: 'register';
  accountId: string;
  /** base64url of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** base64url of the 64-byte Ed25519 signature. */
  signature: string;
}

/** Ordered. Credits `amount` to `accountId`; signed by the cluster's issuer over depositSigningMessage. */
export interface DepositOperation {
  op: 'deposit';
  accountId: string;
  /** minor units, canonical decimal, 1..AMOUNT_MAX. */
  amount: string;
  /** positive safe integer, greater than the account's last deposit nonce. */
  nonce: number;
  signature: string;
}

/** Ordered. Moves `amount` from `from` to `to`; signed by the owner of `from` over transferSigningMessage. */
export interface TransferOperation {
  op: 'transfer';
  from: string;
  to: string;
  amount: string;
  /** positive safe integer, greater than `from`'s last transfer nonce. */
  nonce: number;
  signature: string;
}

/** Read. One account's public state. */
export interface GetAccountOperation {
  op: 'getAccount';
  accountId: string;
}

/** Read. One account's ledger entries, newest first. */
export interface AccountLedgerOperation {
  op: 'accountLedger';
  accountId: string;
  /** `nextCursor` of the previous page; absent (or null) for the first page. */
  cursor?: string | null;
  /** page size, 1..PAGE_LIMIT_MAX. */
  limit: number;
}

/** Read. The global ledger, in decision order, oldest first. */
export interface LedgerOperation {
  op: 'ledger';
  cursor?: string | null;
  limit: number;
}

export type WalletOrderedOperation = RegisterOperation | DepositOperation | TransferOperation;
export type WalletReadOperation = GetAccountOperation | AccountLedgerOperation | LedgerOperation;
export type WalletOperation = WalletOrderedOperation | WalletReadOperation;
export type WalletOperationName = WalletOperation['op'];

/** Operation names that change state (must be ordered). */
export const ORDERED_OPERATIONS = ['register', 'deposit', 'transfer'] as const;
/** Operation names that only read (executeUnordered, or ordered as a fallback). */
export const READ_OPERATIONS = ['getAccount', 'accountLedger', 'ledger'] as const;

// ---- Ledger entries -----------------------------------------------------------------

interface EntryCommon {
  /** Position in the global ledger (0-based, decision order). */
  index: number;
  /** Consensus instance that decided the request. */
  cid: number;
  /** The decided batch's timestamp, ms since the Unix epoch. */
  timestampMs: number;
}

export interface RegisterEntry extends EntryCommon {
  type: 'register';
  accountId: string;
  /** base64url of the raw 32-byte Ed25519 key that owns the account. */
  publicKey: string;
}

export interface DepositEntry extends EntryCommon {
  type: 'deposit';
  accountId: string;
  amount: string;
  nonce: number;
}

export interface TransferEntry extends EntryCommon {
  type: 'transfer';
  from: string;
  to: string;
  amount: string;
  nonce: number;
}

export type LedgerEntry = RegisterEntry | DepositEntry | TransferEntry;

// ---- Reply values -------------------------------------------------------------------

export interface RegisterValue {
  entry: RegisterEntry;
}

export interface DepositValue {
  entry: DepositEntry;
  /** The credited account's balance after the deposit. */
  balance: string;
}

export interface TransferValue {
  entry: TransferEntry;
  /** The payer's (`from`'s) balance after the transfer. */
  balance: string;
}

export interface AccountValue {
  accountId: string;
  publicKey: string;
  balance: string;
  /** Number of ledger entries that involve the account. */
  entries: number;
  /** Last transfer nonce `accountId` used as payer (0: none yet); the next must be greater. */
  lastTransferNonce: number;
  /** Last deposit nonce credited to `accountId` (0: none yet); the next must be greater. */
  lastDepositNonce: number;
}

export interface AccountLedgerValue {
  accountId: string;
  /** Newest first. */
  entries: LedgerEntry[];
  /** Cursor for the next (older) page, or null when this page reaches the oldest entry. */
  nextCursor: string | null;
}

export interface LedgerValue {
  /** Oldest first. */
  entries: LedgerEntry[];
  /** Cursor for the next (newer) page, or null when this page reaches the newest entry. */
  nextCursor: string | null;
}

/** The value a successful reply carries, per operation. */
export interface WalletValueByOp {
  register: RegisterValue;
  deposit: DepositValue;
  transfer: TransferValue;
  getAccount: AccountValue;
  accountLedger: AccountLedgerValue;
  ledger: LedgerValue;
}

export interface WalletErrorBody {
  code: WalletErrorCode;
  message: string;
  /** The request field at fault, when one is. */
  field?: string;
}

/** A reply: `{ ok: true, value }` or `{ ok: false, error }`. */
export type WalletResult<T = unknown> = { ok: true; value: T } | { ok: false; error: WalletErrorBody };

/** The reply type of an operation, e.g. `ResultOf<TransferOperation>`. */
export type ResultOf<O extends WalletOperation> = WalletResult<WalletValueByOp[O['op']]>;
