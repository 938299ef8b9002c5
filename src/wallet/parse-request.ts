/**
 * Request bytes → a typed, validated request, or the first error found.
 *
 * Validation order (so the error names the field really at fault):
 * 1. size, UTF-8, JSON, top-level object                → MALFORMED_REQUEST
 * 2. `op` present and a string                          → MALFORMED_REQUEST (field "op")
 * 3. `op` a known operation                             → UNKNOWN_OPERATION (field "op")
 * 4. each field of the operation present with its JSON type, in the order the
 *    operation lists them; then no unknown field         → MALFORMED_REQUEST (field = that field)
 * 5. each field's value, in the same order              → INVALID_ACCOUNT_ID, INVALID_PUBLIC_KEY,
 *    INVALID_AMOUNT, AMOUNT_TOO_LARGE, INVALID_NONCE, BAD_SIGNATURE (undecodable),
 *    INVALID_CURSOR (not a cursor of this listing), INVALID_LIMIT
 * Checks that need the state (existence, signatures, nonces, funds) come after, in the handlers.
 *
 * Pure: the same bytes always give the same outcome.
 */
import { parseAmount } from './amount.ts';
import { decodeBase64Url } from './base64url.ts';
import { decodeCursor, type CursorKind } from './cursor.ts';
import { walletError, type WalletError } from './errors.ts';
import { isAccountId, PAGE_LIMIT_MAX, REQUEST_BYTES_MAX } from './limits.ts';
import type { WalletOperationName } from './operations.ts';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './signing.ts';

export interface ParsedRegister {
  op: 'register';
  accountId: string;
  /** base64url text, as signed. */
  publicKey: string;
  publicKeyRaw: Uint8Array;
  signature: Uint8Array;
}
export interface ParsedDeposit {
  op: 'deposit';
  accountId: string;
  amount: bigint;
  nonce: number;
  signature: Uint8Array;
}
export interface ParsedTransfer {
  op: 'transfer';
  from: string;
  to: string;
  amount: bigint;
  nonce: number;
  signature: Uint8Array;
}
export interface ParsedGetAccount {
  op: 'getAccount';
  accountId: string;
}
export interface ParsedAccountLedger {
  op: 'accountLedger';
  accountId: string;
  /** Ledger index the cursor names; undefined for the first page. */
  cursorIndex: number | undefined;
  limit: number;
}
export interface ParsedLedger {
  op: 'ledger';
  cursorIndex: number | undefined;
  limit: number;
}

export type ParsedOrderedRequest = ParsedRegister | ParsedDeposit | ParsedTransfer;
export type ParsedReadRequest = ParsedGetAccount | ParsedAccountLedger | ParsedLedger;
export type ParsedRequest = ParsedOrderedRequest | ParsedReadRequest;

export type ParseOutcome = { ok: true; request: ParsedRequest } | { ok: false; error: WalletError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates one request.
 * @param bytes UTF-8 JSON, at most REQUEST_BYTES_MAX bytes.
 * @returns the typed request, or the first error in the order above. Never throws.
 */
export function parseRequest(bytes: Uint8Array): ParseOutcome {
  const body = parseJsonObject(bytes);
  if (isError(body)) return fail(body);
  if (!Object.hasOwn(body, 'op')) return fail(malformed('missing field "op"', 'op'));
  const op = body['op'];
  if (typeof op !== 'string') return fail(malformed('"op" must be a string', 'op'));
  if (!isOperationName(op)) return fail(walletError('UNKNOWN_OPERATION', `unknown operation ${JSON.stringify(op.slice(0, 64))}`, 'op'));
  const request = PARSERS[op](body);
  return isError(request) ? fail(request) : { ok: true, request };
}

// ---- Step 1: bytes → object -----------------------------------------------------------

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | WalletError {
  if (bytes.length > REQUEST_BYTES_MAX) return malformed(`request is ${bytes.length} bytes; at most ${REQUEST_BYTES_MAX} are accepted`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return malformed('request is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed('request must be a JSON object');
  return value as Record<string, unknown>;
}

// ---- Step 4: field presence and JSON types --------------------------------------------

type FieldKind = 'string' | 'number' | 'optionalString';
type FieldSpec = Readonly<Record<string, FieldKind>>;
type Fields<S extends FieldSpec> = {
  [K in keyof S]: S[K] extends 'string' ? string : S[K] extends 'number' ? number : string | undefined;
};

/**
 * Reads the fields `spec` lists (in its order), then rejects any other key.
 * An optional string may be absent or null (both mean "not given").
 */
function readFields<S extends FieldSpec>(body: Record<string, unknown>, spec: S): Fields<S> | WalletError {
  const fields: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const present = Object.hasOwn(body, name) && !(kind === 'optionalString' && body[name] === null);
    if (!present) {
      if (kind === 'optionalString') continue;
      return malformed(`missing field "${name}"`, name);
    }
    const value = body[name];
    const jsonType = kind === 'number' ? 'number' : 'string';
    if (typeof value !== jsonType) return malformed(`"${name}" must be a ${jsonType}`, name);
    fields[name] = value;
  }
  for (const name of Object.keys(body)) {
    if (name !== 'op' && !Object.hasOwn(spec, name)) return malformed(`unknown field ${JSON.stringify(name.slice(0, 64))}`, name.slice(0, 64));
  }
  return fields as Fields<S>;
}

// ---- Step 5: values, one parser per operation -----------------------------------------

const PARSERS: { readonly [Op in WalletOperationName]: (body: Record<string, unknown>) => ParsedRequest | WalletError } = {
  register(body) {
    const f = readFields(body, { accountId: 'string', publicKey: 'string', signature: 'string' });
    if (isError(f)) return f;
    const idError = accountIdError(f.accountId, 'accountId');
    if (idError !== undefined) return idError;
    const publicKeyRaw = decodeBase64Url(f.publicKey, PUBLIC_KEY_BYTES);
    if (publicKeyRaw === undefined) {
      return walletError('INVALID_PUBLIC_KEY', `publicKey must be base64url (no padding) of a raw ${PUBLIC_KEY_BYTES}-byte Ed25519 key`, 'publicKey');
    }
    const signature = parseSignature(f.signature);
    if (isError(signature)) return signature;
    return { op: 'register', accountId: f.accountId, publicKey: f.publicKey, publicKeyRaw, signature };
  },

  deposit(body) {
    const f = readFields(body, { accountId: 'string', amount: 'string', nonce: 'number', signature: 'string' });
    if (isError(f)) return f;
    const idError = accountIdError(f.accountId, 'accountId');
    if (idError !== undefined) return idError;
    const amount = parseAmount(f.amount);
    if (isError(amount)) return amount;
    const nonceError = nonceErrorOf(f.nonce);
    if (nonceError !== undefined) return nonceError;
    const signature = parseSignature(f.signature);
    if (isError(signature)) return signature;
    return { op: 'deposit', accountId: f.accountId, amount, nonce: f.nonce, signature };
  },

  transfer(body) {
    const f = readFields(body, { from: 'string', to: 'string', amount: 'string', nonce: 'number', signature: 'string' });
    if (isError(f)) return f;
    const idError = accountIdError(f.from, 'from') ?? accountIdError(f.to, 'to');
    if (idError !== undefined) return idError;
    const amount = parseAmount(f.amount);
    if (isError(amount)) return amount;
    const nonceError = nonceErrorOf(f.nonce);
    if (nonceError !== undefined) return nonceError;
    const signature = parseSignature(f.signature);
    if (isError(signature)) return signature;
    return { op: 'transfer', from: f.from, to: f.to, amount, nonce: f.nonce, signature };
  },

  getAccount(body) {
    const f = readFields(body, { accountId: 'string' });
    if (isError(f)) return f;
    return accountIdError(f.accountId, 'accountId') ?? { op: 'getAccount', accountId: f.accountId };
  },

  accountLedger(body) {
    const f = readFields(body, { accountId: 'string', cursor: 'optionalString', limit: 'number' });
    if (isError(f)) return f;
    const idError = accountIdError(f.accountId, 'accountId');
    if (idError !== undefined) return idError;
    const cursorIndex = parseCursor('a', f.cursor);
    if (isError(cursorIndex)) return cursorIndex;
    return limitErrorOf(f.limit) ?? { op: 'accountLedger', accountId: f.accountId, cursorIndex, limit: f.limit };
  },

  ledger(body) {
    const f = readFields(body, { cursor: 'optionalString', limit: 'number' });
    if (isError(f)) return f;
    const cursorIndex = parseCursor('g', f.cursor);
    if (isError(cursorIndex)) return cursorIndex;
    return limitErrorOf(f.limit) ?? { op: 'ledger', cursorIndex, limit: f.limit };
  },
};

function accountIdError(accountId: string, field: string): WalletError | undefined {
  return isAccountId(accountId) ? undefined : walletError('INVALID_ACCOUNT_ID', `${field} must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"`, field);
}

function nonceErrorOf(nonce: number): WalletError | undefined {
  return Number.isSafeInteger(nonce) && nonce > 0 ? undefined : walletError('INVALID_NONCE', 'nonce must be a positive integer no larger than 2^53 - 1', 'nonce');
}

function parseSignature(text: string): Uint8Array | WalletError {
  return decodeBase64Url(text, SIGNATURE_BYTES) ?? walletError('BAD_SIGNATURE', `signature must be base64url (no padding) of a ${SIGNATURE_BYTES}-byte Ed25519 signature`, 'signature');
}

function parseCursor(kind: CursorKind, text: string | undefined): number | undefined | WalletError {
  if (text === undefined) return undefined;
  return decodeCursor(kind, text) ?? walletError('INVALID_CURSOR', 'cursor is not a nextCursor this listing returned', 'cursor');
}

function limitErrorOf(limit: number): WalletError | undefined {
  return Number.isInteger(limit) && limit >= 1 && limit <= PAGE_LIMIT_MAX ? undefined : walletError('INVALID_LIMIT', `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}`, 'limit');
}

// ---- helpers ----------------------------------------------------------------------------

function isOperationName(op: string): op is WalletOperationName {
  return Object.hasOwn(PARSERS, op);
}

function isError(value: unknown): value is WalletError {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && 'code' in value && 'message' in value;
}

function malformed(message: string, field?: string): WalletError {
  return walletError('MALFORMED_REQUEST', message, field);
}

function fail(error: WalletError): ParseOutcome {
  return { ok: false, error };
}
