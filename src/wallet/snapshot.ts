/**
 * Snapshot bytes of the wallet: the ledger, in a canonical binary layout.
 *
 * Every part of the state (accounts, keys, balances, nonces, per-account entry lists) is
 * a function of the ledger, and the ledger is in decision order, which every replica
 * shares; so the ledger alone is the snapshot and equal states give equal bytes.
 * Restoring replays the entries through WalletState's mutators (without signatures: they
 * were checked when the entries were decided), so a snapshot that breaks any invariant —
 * unknown account, overdraft, non-increasing nonce — is rejected like a truncated one.
 *
 * Layout (all integers big-endian, unsigned):
 *   magic "BWLT" | version u8 = 1 | entryCount u32 | entryCount × entry
 *   entry    = type u8 | cid u64 | timestampMs u64 | body
 *   register (type 1): accountId | publicKey (32 bytes raw)
 *   deposit  (type 2): accountId | amount u64 | nonce u64
 *   transfer (type 3): from | to | amount u64 | nonce u64
 *   accountId = length u8 (1..64) | ASCII bytes
 * No trailing bytes. The entry index is implicit (its position).
 */
import { decodeBase64Url } from './base64url.ts';
import type { LedgerEntry } from './operations.ts';
import { PUBLIC_KEY_BYTES } from './signing.ts';
import { WalletState } from './state.ts';

const MAGIC = Buffer.from('BWLT', 'ascii');
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + 4;
const ENTRY_HEAD_BYTES = 1 + 8 + 8;
const ENTRY_COUNT_MAX = 0xffff_ffff;

const TYPE_CODES = { register: 1, deposit: 2, transfer: 3 } as const;

/** Canonical snapshot bytes of `state` (see the layout above). Throws only if the ledger exceeds 2^32 − 1 entries. */
export function encodeSnapshot(state: WalletState): Uint8Array {
  const count = state.ledgerLength;
  if (count > ENTRY_COUNT_MAX) throw new Error(`wallet ledger of ${count} entries does not fit a snapshot`);
  let bytes = HEADER_BYTES;
  for (let index = 0; index < count; index++) bytes += entryBytes(entry(state, index));
  const writer = new Writer(bytes);
  writer.bytes(MAGIC);
  writer.u8(VERSION);
  writer.u32(count);
  for (let index = 0; index < count; index++) writeEntry(writer, entry(state, index));
  return writer.finish();
}

/**
 * Rebuilds a state from snapshot bytes.
 * @throws Error("malformed wallet snapshot: …") naming the byte offset or entry at fault.
 */
export function decodeSnapshot(snapshot: Uint8Array): WalletState {
  const reader = new Reader(snapshot);
  try {
    if (!reader.bytes(MAGIC.length).equals(MAGIC)) throw new Error('bad magic (not a wallet snapshot)');
    const version = reader.u8();
    if (version !== VERSION) throw new Error(`unsupported version ${version}`);
    const count = reader.u32();
    const state = new WalletState();
    for (let index = 0; index < count; index++) {
      try {
        readEntry(reader, state);
      } catch (error) {
        throw new Error(`entry ${index}: ${(error as Error).message}`);
      }
    }
    if (reader.remaining !== 0) throw new Error(`${reader.remaining} trailing bytes`);
    return state;
  } catch (error) {
    throw new Error(`malformed wallet snapshot: ${(error as Error).message}`);
  }
}

// ---- encoding -----------------------------------------------------------------------------

function entry(state: WalletState, index: number): LedgerEntry {
  const found = state.entryAt(index);
  if (found === undefined) throw new Error(`wallet state invariant violated: no ledger entry at ${index}`);
  return found;
}

function entryBytes(e: LedgerEntry): number {
  switch (e.type) {
    case 'register':
      return ENTRY_HEAD_BYTES + 1 + e.accountId.length + PUBLIC_KEY_BYTES;
    case 'deposit':
      return ENTRY_HEAD_BYTES + 1 + e.accountId.length + 16;
    case 'transfer':
      return ENTRY_HEAD_BYTES + 2 + e.from.length + e.to.length + 16;
  }
}

function writeEntry(writer: Writer, e: LedgerEntry): void {
  writer.u8(TYPE_CODES[e.type]);
  writer.u64(BigInt(e.cid));
  writer.u64(BigInt(e.timestampMs));
  switch (e.type) {
    case 'register': {
      writer.accountId(e.accountId);
      const raw = decodeBase64Url(e.publicKey, PUBLIC_KEY_BYTES);
      if (raw === undefined) throw new Error(`wallet state invariant violated: entry ${e.index} holds a malformed public key`);
      writer.bytes(raw);
      return;
    }
    case 'deposit':
      writer.accountId(e.accountId);
      writer.u64(BigInt(e.amount));
      writer.u64(BigInt(e.nonce));
      return;
    case 'transfer':
      writer.accountId(e.from);
      writer.accountId(e.to);
      writer.u64(BigInt(e.amount));
      writer.u64(BigInt(e.nonce));
      return;
  }
}

class Writer {
  private readonly buffer: Buffer;
  private offset = 0;
  constructor(bytes: number) {
    this.buffer = Buffer.alloc(bytes);
  }
  u8(value: number): void {
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }
  u32(value: number): void {
    this.offset = this.buffer.writeUInt32BE(value, this.offset);
  }
  u64(value: bigint): void {
    this.offset = this.buffer.writeBigUInt64BE(value, this.offset);
  }
  bytes(value: Uint8Array): void {
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }
  /** Account ids are ASCII (checked when they entered the state), so one char = one byte. */
  accountId(value: string): void {
    this.u8(value.length);
    this.offset += this.buffer.write(value, this.offset, 'latin1');
  }
  finish(): Uint8Array {
    if (this.offset !== this.buffer.length) throw new Error(`wallet snapshot size mismatch: wrote ${this.offset} of ${this.buffer.length} bytes`);
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }
}

// ---- decoding -----------------------------------------------------------------------------

function readEntry(reader: Reader, state: WalletState): void {
  const type = reader.u8();
  const position = { cid: reader.safeInteger('cid'), timestampMs: reader.safeInteger('timestampMs') };
  switch (type) {
    case TYPE_CODES.register: {
      const accountId = reader.accountId();
      state.register(accountId, reader.bytes(PUBLIC_KEY_BYTES), position);
      return;
    }
    case TYPE_CODES.deposit: {
      const accountId = reader.accountId();
      const amount = reader.u64();
      state.deposit(accountId, amount, reader.safeInteger('nonce'), position);
      return;
    }
    case TYPE_CODES.transfer: {
      const from = reader.accountId();
      const to = reader.accountId();
      const amount = reader.u64();
      state.transfer(from, to, amount, reader.safeInteger('nonce'), position);
      return;
    }
    default:
      throw new Error(`unknown entry type ${type}`);
  }
}

class Reader {
  private readonly buffer: Buffer;
  private offset = 0;
  constructor(bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.buffer.length - this.offset;
  }
  private take(count: number): number {
    if (count > this.remaining) throw new Error(`truncated at byte ${this.offset}: need ${count} more bytes, have ${this.remaining}`);
    const start = this.offset;
    this.offset += count;
    return start;
  }
  u8(): number {
    return this.buffer.readUInt8(this.take(1));
  }
  u32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }
  u64(): bigint {
    return this.buffer.readBigUInt64BE(this.take(8));
  }
  safeInteger(what: string): number {
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} ${value} is above 2^53 - 1`);
    return Number(value);
  }
  bytes(count: number): Buffer {
    const start = this.take(count);
    return this.buffer.subarray(start, start + count);
  }
  /** Length-prefixed ASCII; WalletState checks the id's form (bytes above 0x7f decode to characters it rejects). */
  accountId(): string {
    const length = this.u8();
    return this.bytes(length).toString('latin1');
  }
}
