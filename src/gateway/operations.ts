/**
 * Wallet operations as the wallet service reads them, and their bytes.
 *
 * Keys are written in the order declared here, so the same request always gives the same
 * operation bytes (replicas vote on results, and logs compare bytes). Optional keys are
 * left out rather than sent as null.
 */

export type WalletOperation =
  | { op: 'register'; accountId: string; publicKey: string; signature: string }
  | { op: 'deposit'; accountId: string; amount: string; nonce: number; signature: string }
  | { op: 'transfer'; from: string; to: string; amount: string; nonce: number; signature: string }
  | { op: 'getAccount'; accountId: string }
  | { op: 'accountLedger'; accountId: string; cursor?: string; limit: number }
  | { op: 'ledger'; cursor?: string; limit: number };

/** Operations that only read: sent with invokeUnordered. */
export type ReadOperation = Extract<WalletOperation, { op: 'getAccount' | 'accountLedger' | 'ledger' }>;
export type WriteOperation = Exclude<WalletOperation, ReadOperation>;

export function registerOp(accountId: string, publicKey: string, signature: string): WriteOperation {
  return { op: 'register', accountId, publicKey, signature };
}

export function depositOp(accountId: string, amount: string, nonce: number, signature: string): WriteOperation {
  return { op: 'deposit', accountId, amount, nonce, signature };
}

export function transferOp(from: string, to: string, amount: string, nonce: number, signature: string): WriteOperation {
  return { op: 'transfer', from, to, amount, nonce, signature };
}

export function getAccountOp(accountId: string): ReadOperation {
  return { op: 'getAccount', accountId };
}

export function accountLedgerOp(accountId: string, cursor: string | undefined, limit: number): ReadOperation {
  return cursor === undefined ? { op: 'accountLedger', accountId, limit } : { op: 'accountLedger', accountId, cursor, limit };
}

export function ledgerOp(cursor: string | undefined, limit: number): ReadOperation {
  return cursor === undefined ? { op: 'ledger', limit } : { op: 'ledger', cursor, limit };
}

const utf8 = new TextEncoder();

/** UTF-8 JSON bytes of an operation, keys in declaration order. */
export function encodeOperation(operation: WalletOperation): Uint8Array {
  return utf8.encode(JSON.stringify(operation));
}
