/**
 * The wallet's state: accounts and the global ledger.
 *
 * Invariants (checked by every mutator, which throws before changing anything if one
 * would break — the service validates first, so a throw here is a bug or, during
 * restore, a malformed snapshot):
 * - the ledger is append-only, entry i has index i (decision order), and it holds at most
 *   LEDGER_ENTRIES_MAX entries;
 * - every account appears in the ledger as exactly one register entry, before any
 *   entry that names it; accounts are numbered in that (register) order from 0;
 * - each entry links, for every account it names, to the previous entry naming that
 *   account (none for the register entry); `account.lastEntryIndex` is the newest and
 *   `account.entryCount` the length of that chain, so the chain is exactly the entries
 *   naming the account, newest first;
 * - 0 <= balance <= BALANCE_MAX, and the sum of balances equals the sum of deposits;
 * - nonces are strictly increasing: a transfer's nonce above the payer's
 *   lastTransferNonce, a deposit's above the credited account's lastDepositNonce.
 *
 * Everything here is a function of the ledger, so the ledger alone is the snapshot.
 *
 * Memory (issue 5: 10 M entries must fit beside 1 M accounts): the ledger is kept
 * column-wise in typed arrays, 49 bytes an entry, with accounts stored as their numbers;
 * `entryAt` builds the public LedgerEntry object on demand (a page is at most
 * PAGE_LIMIT_MAX entries, so building them per read is cheap).
 */
import { BALANCE_MAX, isValidAmount } from './amount.ts';
import { encodeBase64Url } from './base64url.ts';
import { isAccountId } from './limits.ts';
import type { DepositEntry, LedgerEntry, RegisterEntry, TransferEntry } from './operations.ts';
import { PUBLIC_KEY_BYTES } from './signing.ts';

export interface Account {
  readonly accountId: string;
  /** Register order: 0 for the first account registered, then 1, 2, … (how the ledger names it). */
  readonly number: number;
  /** base64url of `publicKeyRaw`. */
  readonly publicKey: string;
  readonly publicKeyRaw: Uint8Array;
  /** Minor units. */
  balance: bigint;
  /** 0 until the account pays its first transfer. */
  lastTransferNonce: number;
  /** 0 until the first deposit to the account. */
  lastDepositNonce: number;
  /** Number of ledger entries naming this account (1 after its register entry). */
  entryCount: number;
  /** Ledger index of the newest entry naming this account (see WalletState.previousEntryIndex for the older ones). */
  lastEntryIndex: number;
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
 * Most entries the ledger holds: entry indices and account numbers (0..2^32 − 2) fit the
 * Uint32 columns with NONE to spare, and the snapshot counts entries in a u32.
 */
export const LEDGER_ENTRIES_MAX = 0xffff_ffff;

/** "No entry" / "no account" in the Uint32 columns; above every index and account number. */
const NONE = 0xffff_ffff;

const REGISTER = 1;
const DEPOSIT = 2;
const TRANSFER = 3;

/**
 * The ledger is cut into chunks of CHUNK_ENTRIES entries: growing copies at most one chunk
 * (never the whole ledger, which at 10 M entries would briefly need three times its size),
 * and only the last chunk has unused room.
 */
const CHUNK_SHIFT = 16;
const CHUNK_ENTRIES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ENTRIES - 1;
/** A chunk's first capacity, doubled as it fills up to CHUNK_ENTRIES: a small ledger stays small. */
const CHUNK_ENTRIES_FIRST = 64;

/** Entries `chunkIndex << CHUNK_SHIFT` onwards, one typed array per field (49 bytes an entry). */
class LedgerChunk {
  readonly type: Uint8Array;
  /** Number of the register/deposit account, or of the transfer's payer. */
  readonly account: Uint32Array;
  /** Number of the transfer's payee; NONE for other entries. */
  readonly payee: Uint32Array;
  /** Minor units, 1..AMOUNT_MAX (10^15, far inside 64 bits); 0 for register entries. */
  readonly amount: BigUint64Array;
  /** 0 for register entries. Nonces, cids and timestamps are safe integers: exact in a double. */
  readonly nonce: Float64Array;
  readonly cid: Float64Array;
  readonly timestampMs: Float64Array;
  /** Index of the previous entry naming `account`; NONE for a register entry. */
  readonly previousOfAccount: Uint32Array;
  /** Index of the previous entry naming `payee`; NONE for other entries. */
  readonly previousOfPayee: Uint32Array;

  /** A chunk of `capacity` entries holding a copy of `from`'s (which must be smaller). */
  constructor(readonly capacity: number, from?: LedgerChunk) {
    this.type = new Uint8Array(capacity);
    this.account = new Uint32Array(capacity);
    this.payee = new Uint32Array(capacity);
    this.amount = new BigUint64Array(capacity);
    this.nonce = new Float64Array(capacity);
    this.cid = new Float64Array(capacity);
    this.timestampMs = new Float64Array(capacity);
    this.previousOfAccount = new Uint32Array(capacity);
    this.previousOfPayee = new Uint32Array(capacity);
    if (from === undefined) return;
    this.type.set(from.type);
    this.account.set(from.account);
    this.payee.set(from.payee);
    this.amount.set(from.amount);
    this.nonce.set(from.nonce);
    this.cid.set(from.cid);
    this.timestampMs.set(from.timestampMs);
    this.previousOfAccount.set(from.previousOfAccount);
    this.previousOfPayee.set(from.previousOfPayee);
  }
}

/** One ledger entry's fields as stored (see LedgerChunk). */
interface StoredEntry {
  type: number;
  account: Account;
  payee: Account | undefined;
  amount: bigint;
  nonce: number;
  position: EntryPosition;
}

export class WalletState {
  /** Insertion order = register order = ledger order (never iterated to produce bytes anyway). */
  private readonly accounts = new Map<string, Account>();
  /** The same accounts by number (register order). */
  private readonly accountsByNumber: Account[] = [];
  /** The ledger: entry i is at offset `i & CHUNK_MASK` of chunk `i >>> CHUNK_SHIFT`. */
  private readonly chunks: LedgerChunk[] = [];
  private length = 0;
  private depositedTotal = 0n;

  /** Number of ledger entries (= the next entry's index). */
  get ledgerLength(): number {
    return this.length;
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

  /**
   * The entry at ledger `index`, or undefined outside 0..ledgerLength-1. Built on each call
   * (a fresh object, keys always in the order of the LedgerEntry types: reply bytes depend on it).
   */
  entryAt(index: number): LedgerEntry | undefined {
    if (!this.isIndex(index)) return undefined;
    const chunk = this.chunks[index >>> CHUNK_SHIFT]!;
    const offset = index & CHUNK_MASK;
    const account = this.accountsByNumber[chunk.account[offset]!]!;
    const cid = chunk.cid[offset]!;
    const timestampMs = chunk.timestampMs[offset]!;
    switch (chunk.type[offset]) {
      case REGISTER:
        return { index, type: 'register', accountId: account.accountId, publicKey: account.publicKey, cid, timestampMs } satisfies RegisterEntry;
      case DEPOSIT:
        return { index, type: 'deposit', accountId: account.accountId, amount: chunk.amount[offset]!.toString(), nonce: chunk.nonce[offset]!, cid, timestampMs } satisfies DepositEntry;
      default: {
        const to = this.accountsByNumber[chunk.payee[offset]!]!.accountId;
        return { index, type: 'transfer', from: account.accountId, to, amount: chunk.amount[offset]!.toString(), nonce: chunk.nonce[offset]!, cid, timestampMs } satisfies TransferEntry;
      }
    }
  }

  /** True if ledger entry `index` exists and names `account` (as the register or deposit account, or a transfer's payer or payee). */
  involves(account: Account, index: number): boolean {
    if (!this.isIndex(index)) return false;
    const chunk = this.chunks[index >>> CHUNK_SHIFT]!;
    const offset = index & CHUNK_MASK;
    return chunk.account[offset] === account.number || chunk.payee[offset] === account.number;
  }

  /**
   * The index of the entry naming `account` just before entry `index`, or undefined if
   * `index` is the account's register entry (its first). O(1): entries link to it.
   * @throws Error if entry `index` does not name `account` (a bug of the caller: check with `involves`).
   */
  previousEntryIndex(account: Account, index: number): number | undefined {
    check(this.involves(account, index), `entry ${index} does not name account ${account.accountId}`);
    const chunk = this.chunks[index >>> CHUNK_SHIFT]!;
    const offset = index & CHUNK_MASK;
    // Payer and payee differ (no self transfers), so the account is exactly one of them.
    const previous = chunk.payee[offset] === account.number ? chunk.previousOfPayee[offset]! : chunk.previousOfAccount[offset]!;
    return previous === NONE ? undefined : previous;
  }

  /**
   * Appends a register entry and creates the account with balance 0.
   * @throws Error if the id is malformed or taken, the key is not 32 bytes, or the ledger is full.
   */
  register(accountId: string, publicKeyRaw: Uint8Array, position: EntryPosition): RegisterEntry {
    check(isAccountId(accountId), `malformed account id ${JSON.stringify(accountId)}`);
    check(!this.accounts.has(accountId), `account ${accountId} registered twice`);
    check(publicKeyRaw.length === PUBLIC_KEY_BYTES, `public key of ${accountId} is ${publicKeyRaw.length} bytes`);
    this.checkAppend(position);
    const index = this.length;
    const account: Account = {
      accountId,
      number: this.accountsByNumber.length,
      publicKey: encodeBase64Url(publicKeyRaw),
      publicKeyRaw: Uint8Array.from(publicKeyRaw),
      balance: 0n,
      lastTransferNonce: 0,
      lastDepositNonce: 0,
      entryCount: 1,
      lastEntryIndex: index,
    };
    this.accounts.set(accountId, account);
    this.accountsByNumber.push(account);
    this.append({ type: REGISTER, account, payee: undefined, amount: 0n, nonce: 0, position }, NONE, NONE);
    return this.entryAt(index) as RegisterEntry;
  }

  /**
   * Appends a deposit entry and credits the account.
   * @throws Error if the account is unknown, the amount is outside 1..AMOUNT_MAX, the
   *   nonce is not above the account's last deposit nonce, the balance would pass
   *   BALANCE_MAX, or the ledger is full.
   */
  deposit(accountId: string, amount: bigint, nonce: number, position: EntryPosition): DepositEntry {
    const account = this.accounts.get(accountId);
    check(account !== undefined, `deposit to unknown account ${JSON.stringify(accountId)}`);
    check(isValidAmount(amount), `deposit amount ${amount} out of range`);
    check(isNonce(nonce) && nonce > account.lastDepositNonce, `deposit nonce ${nonce} not above ${account.lastDepositNonce}`);
    check(account.balance + amount <= BALANCE_MAX, `deposit overflows the balance of ${accountId}`);
    this.checkAppend(position);
    const index = this.length;
    this.append({ type: DEPOSIT, account, payee: undefined, amount, nonce, position }, account.lastEntryIndex, NONE);
    account.balance += amount;
    account.lastDepositNonce = nonce;
    account.entryCount += 1;
    account.lastEntryIndex = index;
    this.depositedTotal += amount;
    return this.entryAt(index) as DepositEntry;
  }

  /**
   * Appends a transfer entry and moves the amount.
   * @throws Error if either account is unknown or they are the same, the amount is out of
   *   range or above the payer's balance, the nonce is not above the payer's last transfer
   *   nonce, the payee's balance would pass BALANCE_MAX, or the ledger is full.
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
    this.checkAppend(position);
    const index = this.length;
    this.append({ type: TRANSFER, account: payer, payee, amount, nonce, position }, payer.lastEntryIndex, payee.lastEntryIndex);
    payer.balance -= amount;
    payee.balance += amount;
    payer.lastTransferNonce = nonce;
    payer.entryCount += 1;
    payer.lastEntryIndex = index;
    payee.entryCount += 1;
    payee.lastEntryIndex = index;
    return this.entryAt(index) as TransferEntry;
  }

  /** Checks an entry can be appended at `position`. */
  private checkAppend(position: EntryPosition): void {
    check(isCount(position.cid), `cid ${position.cid} is not a non-negative safe integer`);
    check(isCount(position.timestampMs), `timestampMs ${position.timestampMs} is not a non-negative safe integer`);
    check(this.length < LEDGER_ENTRIES_MAX, `ledger full (${LEDGER_ENTRIES_MAX} entries)`);
  }

  /** Writes `entry` at index ledgerLength (checked by checkAppend), growing the last chunk or starting one. */
  private append(entry: StoredEntry, previousOfAccount: number, previousOfPayee: number): void {
    const index = this.length;
    const chunkIndex = index >>> CHUNK_SHIFT;
    const offset = index & CHUNK_MASK;
    let chunk = this.chunks[chunkIndex];
    if (chunk === undefined) {
      chunk = new LedgerChunk(CHUNK_ENTRIES_FIRST);
      this.chunks.push(chunk);
    } else if (offset === chunk.capacity) {
      chunk = new LedgerChunk(chunk.capacity * 2, chunk);
      this.chunks[chunkIndex] = chunk;
    }
    chunk.type[offset] = entry.type;
    chunk.account[offset] = entry.account.number;
    chunk.payee[offset] = entry.payee === undefined ? NONE : entry.payee.number;
    chunk.amount[offset] = entry.amount;
    chunk.nonce[offset] = entry.nonce;
    chunk.cid[offset] = entry.position.cid;
    chunk.timestampMs[offset] = entry.position.timestampMs;
    chunk.previousOfAccount[offset] = previousOfAccount;
    chunk.previousOfPayee[offset] = previousOfPayee;
    this.length = index + 1;
  }

  private isIndex(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.length;
  }
}
