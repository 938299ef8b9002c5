/**
 * Client-side helpers: build signed wallet operations, encode them as request bytes and
 * decode reply bytes. Used by the CLI, the gateway's tests and the benchmarks.
 *
 * The builders do not validate their inputs (the service does, and tests need to send
 * invalid-but-signed requests); they only sign exactly what they put in the operation.
 */
import type { KeyObject } from 'node:crypto';
import { Ed25519Signer, ed25519PublicKeyToRaw } from '../crypto/ed25519.ts';
import { encodeBase64Url } from './base64url.ts';
import { isWalletErrorCode } from './errors.ts';
import type {
  AccountLedgerOperation,
  DepositOperation,
  GetAccountOperation,
  LedgerOperation,
  RegisterOperation,
  TransferOperation,
  WalletOperation,
  WalletResult,
} from './operations.ts';
import { depositSigningMessage, registerSigningMessage, transferSigningMessage } from './signing.ts';

/** An Ed25519 key pair as node:crypto's generateKeyPairSync('ed25519') returns it. */
export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** base64url (no padding) of the raw 32-byte Ed25519 public key, as `register` and the issuer configuration carry it. */
export function publicKeyText(publicKey: KeyObject): string {
  return encodeBase64Url(ed25519PublicKeyToRaw(publicKey));
}

function signText(privateKey: KeyObject, message: Uint8Array): string {
  return encodeBase64Url(new Ed25519Signer(privateKey).sign(message));
}

/** `register` of `accountId` to `keyPair.publicKey`, signed by `keyPair.privateKey`. */
export function registerOperation(accountId: string, keyPair: Ed25519KeyPair): RegisterOperation {
  const publicKey = publicKeyText(keyPair.publicKey);
  return { op: 'register', accountId, publicKey, signature: signText(keyPair.privateKey, registerSigningMessage(accountId, publicKey)) };
}

/**
 * `deposit` of `amount` minor units to `accountId`, signed by the issuer.
 * @param nonce must exceed the account's last deposit nonce (getAccount's lastDepositNonce).
 */
export function depositOperation(accountId: string, amount: bigint | string, nonce: number, issuerPrivateKey: KeyObject): DepositOperation {
  const amountText = amount.toString();
  const signature = signText(issuerPrivateKey, depositSigningMessage(accountId, amountText, nonce));
  return { op: 'deposit', accountId, amount: amountText, nonce, signature };
}

/**
 * `transfer` of `amount` minor units from `from` to `to`, signed by the owner of `from`.
 * @param nonce must exceed `from`'s last transfer nonce (getAccount's lastTransferNonce).
 */
export function transferOperation(from: string, to: string, amount: bigint | string, nonce: number, ownerPrivateKey: KeyObject): TransferOperation {
  const amountText = amount.toString();
  const signature = signText(ownerPrivateKey, transferSigningMessage(from, to, amountText, nonce));
  return { op: 'transfer', from, to, amount: amountText, nonce, signature };
}

export function getAccountOperation(accountId: string): GetAccountOperation {
  return { op: 'getAccount', accountId };
}

/** @param cursor the previous page's nextCursor; omit for the newest entries. */
export function accountLedgerOperation(accountId: string, limit: number, cursor?: string): AccountLedgerOperation {
  return cursor === undefined ? { op: 'accountLedger', accountId, limit } : { op: 'accountLedger', accountId, cursor, limit };
}

/** @param cursor the previous page's nextCursor; omit for the oldest entries. */
export function ledgerOperation(limit: number, cursor?: string): LedgerOperation {
  return cursor === undefined ? { op: 'ledger', limit } : { op: 'ledger', cursor, limit };
}

/**
 * Request bytes of an operation: UTF-8 JSON with the keys in the documented order, so
 * equal operations give equal bytes. Unknown keys on `op` are not sent.
 * @throws Error for an operation name this wallet does not have.
 */
export function encodeOperation(op: WalletOperation): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(canonicalOperation(op)));
}

function canonicalOperation(op: WalletOperation): object {
  switch (op.op) {
    case 'register':
      return { op: op.op, accountId: op.accountId, publicKey: op.publicKey, signature: op.signature };
    case 'deposit':
      return { op: op.op, accountId: op.accountId, amount: op.amount, nonce: op.nonce, signature: op.signature };
    case 'transfer':
      return { op: op.op, from: op.from, to: op.to, amount: op.amount, nonce: op.nonce, signature: op.signature };
    case 'getAccount':
      return { op: op.op, accountId: op.accountId };
    case 'accountLedger':
      return op.cursor == null ? { op: op.op, accountId: op.accountId, limit: op.limit } : { op: op.op, accountId: op.accountId, cursor: op.cursor, limit: op.limit };
    case 'ledger':
      return op.cursor == null ? { op: op.op, limit: op.limit } : { op: op.op, cursor: op.cursor, limit: op.limit };
    default:
      throw new Error(`unknown wallet operation ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

/**
 * Decodes reply bytes. Checks the envelope only (`ok`, and for errors a known `code` and
 * a `message`); the value's shape is the caller's to trust or check.
 * @typeParam T the expected value, e.g. `WalletValueByOp['transfer']`.
 * @throws Error if the bytes are not a wallet reply.
 */
export function decodeResult<T = unknown>(bytes: Uint8Array): WalletResult<T> {
  let reply: unknown;
  try {
    reply = JSON.parse(utf8Decoder.decode(bytes));
  } catch {
    throw new Error('wallet reply is not UTF-8 JSON');
  }
  if (typeof reply !== 'object' || reply === null) throw new Error('wallet reply is not a JSON object');
  const r = reply as Record<string, unknown>;
  if (r['ok'] === true) {
    if (!Object.hasOwn(r, 'value')) throw new Error('wallet reply has ok: true but no value');
    return { ok: true, value: r['value'] as T };
  }
  if (r['ok'] !== false) throw new Error('wallet reply has no boolean "ok"');
  const error = r['error'] as Record<string, unknown> | null | undefined;
  if (typeof error !== 'object' || error === null) throw new Error('wallet error reply has no error object');
  if (!isWalletErrorCode(error['code'])) throw new Error(`wallet error reply has an unknown code ${JSON.stringify(error['code'])}`);
  if (typeof error['message'] !== 'string') throw new Error('wallet error reply has no message');
  if (error['field'] !== undefined && typeof error['field'] !== 'string') throw new Error('wallet error reply has a non-string field');
  const body = error['field'] === undefined
    ? { code: error['code'], message: error['message'] }
    : { code: error['code'], message: error['message'], field: error['field'] };
  return { ok: false, error: body };
}
