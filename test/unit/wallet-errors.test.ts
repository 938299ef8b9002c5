/**
 * Every error code of the wallet, reached through the service as a replica would run it,
 * with the field it names; and the order in which validation reports problems.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519PublicKeyToRaw } from '../../src/crypto/ed25519.ts';
import { AMOUNT_MAX, BALANCE_MAX } from '../../src/wallet/amount.ts';
import { decodeResult, depositOperation, encodeOperation, registerOperation, transferOperation } from '../../src/wallet/client-ops.ts';
import { WALLET_ERROR_CODES, type WalletErrorCode } from '../../src/wallet/errors.ts';
import type { AccountValue, WalletOperation, WalletResult } from '../../src/wallet/operations.ts';
import { encodeSnapshot } from '../../src/wallet/snapshot.ts';
import { WalletState } from '../../src/wallet/state.ts';
import { WalletService } from '../../src/wallet/wallet-service.ts';

function keyPair(seed: number) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const issuer = keyPair(100);
const alice = keyPair(1);
const bob = keyPair(2);
const mallory = keyPair(3);

type Request = WalletOperation | string | Uint8Array | Record<string, unknown>;
function bytesOf(request: Request): Uint8Array {
  if (request instanceof Uint8Array) return request;
  if (typeof request === 'string') return new TextEncoder().encode(request);
  return new TextEncoder().encode(JSON.stringify(request));
}

/** A wallet plus a running consensus instance counter, as one replica would see it. */
class Replica {
  readonly service = new WalletService({ issuerPublicKey: ed25519PublicKeyToRaw(issuer.publicKey) });
  private cid = 0;
  ordered(request: Request): WalletResult<any> {
    this.cid += 1;
    const context = { cid: this.cid, indexInBatch: 0, clientId: 7, seq: this.cid, timestampMs: 1_700_000_000_000 + this.cid };
    return decodeResult(this.service.executeOrdered(bytesOf(request), context));
  }
  unordered(request: Request): WalletResult<any> {
    return decodeResult(this.service.executeUnordered(bytesOf(request), { clientId: 7, seq: 0 }));
  }
}

const reached = new Set<WalletErrorCode>();
function expectError(result: WalletResult<unknown>, code: WalletErrorCode, field?: string): void {
  assert.equal(result.ok, false, `expected ${code}, got ${JSON.stringify(result)}`);
  if (result.ok) return;
  assert.equal(result.error.code, code, JSON.stringify(result.error));
  assert.equal(result.error.field, field, JSON.stringify(result.error));
  assert.ok(result.error.message.length > 0);
  reached.add(code);
}
function expectOk(result: WalletResult<unknown>): any {
  assert.equal(result.ok, true, JSON.stringify(result));
  return (result as { value: unknown }).value;
}

/** A replica where alice (100 units, deposit nonce 1) and bob exist. */
function funded(): Replica {
  const replica = new Replica();
  expectOk(replica.ordered(registerOperation('alice', alice)));
  expectOk(replica.ordered(registerOperation('bob', bob)));
  expectOk(replica.ordered(depositOperation('alice', 100n, 1, issuer.privateKey)));
  return replica;
}

describe('malformed requests', () => {
  const replica = funded();
  it('rejects bytes that are not a UTF-8 JSON object, without a field', () => {
    for (const bad of ['', 'not json', '[1,2]', 'null', '42', '"transfer"', Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d)]) {
      expectError(replica.ordered(bad), 'MALFORMED_REQUEST');
      expectError(replica.unordered(bad), 'MALFORMED_REQUEST');
    }
  });
  it('rejects a request above REQUEST_BYTES_MAX', () => {
    expectError(replica.unordered({ op: 'getAccount', accountId: 'a'.repeat(5000) }), 'MALFORMED_REQUEST');
  });
  it('names a missing or mistyped op', () => {
    expectError(replica.ordered({ accountId: 'alice' }), 'MALFORMED_REQUEST', 'op');
    expectError(replica.ordered({ op: 3 }), 'MALFORMED_REQUEST', 'op');
  });
  it('names the first missing field of the operation, in its documented order', () => {
    expectError(replica.ordered({ op: 'transfer', to: 'bob', amount: '1', nonce: 1, signature: 'x' }), 'MALFORMED_REQUEST', 'from');
    expectError(replica.ordered({ op: 'transfer', from: 'alice', to: 'bob', amount: '1', signature: 'x' }), 'MALFORMED_REQUEST', 'nonce');
    expectError(replica.ordered({ op: 'register', accountId: 'carol', publicKey: 'x' }), 'MALFORMED_REQUEST', 'signature');
    expectError(replica.unordered({ op: 'ledger' }), 'MALFORMED_REQUEST', 'limit');
    expectError(replica.unordered({ op: 'accountLedger', limit: 5 }), 'MALFORMED_REQUEST', 'accountId');
  });
  it('names a field of the wrong JSON type (amount must be a string, nonce a number)', () => {
    expectError(replica.ordered({ op: 'deposit', accountId: 'alice', amount: 5, nonce: 2, signature: 'x' }), 'MALFORMED_REQUEST', 'amount');
    expectError(replica.ordered({ op: 'deposit', accountId: 'alice', amount: '5', nonce: '2', signature: 'x' }), 'MALFORMED_REQUEST', 'nonce');
    expectError(replica.unordered({ op: 'ledger', limit: '5' }), 'MALFORMED_REQUEST', 'limit');
    expectError(replica.unordered({ op: 'ledger', cursor: 5, limit: 5 }), 'MALFORMED_REQUEST', 'cursor');
  });
  it('names an unknown extra field', () => {
    expectError(replica.unordered({ op: 'getAccount', accountId: 'alice', admin: true }), 'MALFORMED_REQUEST', 'admin');
  });
  it('accepts a null cursor as "first page"', () => {
    expectOk(replica.unordered({ op: 'ledger', cursor: null, limit: 5 }));
  });
});

describe('operations', () => {
  it('UNKNOWN_OPERATION for a name the wallet does not have, and for a change sent unordered', () => {
    const replica = funded();
    expectError(replica.ordered({ op: 'mint', accountId: 'alice' }), 'UNKNOWN_OPERATION', 'op');
    expectError(replica.unordered({ op: '__proto__' }), 'UNKNOWN_OPERATION', 'op');
    expectError(replica.unordered(depositOperation('alice', 5n, 2, issuer.privateKey)), 'UNKNOWN_OPERATION', 'op');
    // and the unordered attempt changed nothing: the same deposit still works ordered
    expectOk(replica.ordered(depositOperation('alice', 5n, 2, issuer.privateKey)));
  });
  it('answers reads sent through executeOrdered like unordered ones', () => {
    const replica = funded();
    assert.deepEqual(replica.ordered({ op: 'getAccount', accountId: 'alice' }), replica.unordered({ op: 'getAccount', accountId: 'alice' }));
    assert.deepEqual(replica.ordered({ op: 'ledger', limit: 10 }), replica.unordered({ op: 'ledger', limit: 10 }));
    assert.equal(expectOk(replica.ordered({ op: 'ledger', limit: 10 })).entries.length, 3, 'a read adds no ledger entry');
  });
});

describe('register', () => {
  it('INVALID_ACCOUNT_ID for ids outside ^[A-Za-z0-9_-]{1,64}$', () => {
    const replica = new Replica();
    for (const bad of ['', 'a b', 'a\nb', 'é', 'a'.repeat(65), 'a/b', 'a.b']) {
      expectError(replica.ordered(registerOperation(bad, alice)), 'INVALID_ACCOUNT_ID', 'accountId');
    }
    expectOk(replica.ordered(registerOperation('A-z_0'.padEnd(64, '9'), alice)));
  });
  it('INVALID_PUBLIC_KEY for a key that is not canonical base64url of 32 bytes', () => {
    const replica = new Replica();
    const op = registerOperation('carol', alice);
    for (const bad of [op.publicKey + '=', op.publicKey.slice(0, -2), Buffer.alloc(33).toString('base64url'), op.publicKey.replace(/^./, '+'), '']) {
      expectError(replica.ordered({ ...op, publicKey: bad }), 'INVALID_PUBLIC_KEY', 'publicKey');
    }
  });
  it('BAD_SIGNATURE when the signature is not by the registered key, or malformed', () => {
    const replica = new Replica();
    const op = registerOperation('carol', alice);
    expectError(replica.ordered({ ...op, signature: registerOperation('carol', mallory).signature }), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered({ ...op, accountId: 'carol2' }), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered({ ...op, signature: op.signature.slice(1) }), 'BAD_SIGNATURE', 'signature');
    expectOk(replica.ordered(op));
  });
  it('ACCOUNT_EXISTS for a taken id, even with another key; the owner stays the same', () => {
    const replica = new Replica();
    const first = expectOk(replica.ordered(registerOperation('carol', alice)));
    expectError(replica.ordered(registerOperation('carol', alice)), 'ACCOUNT_EXISTS', 'accountId');
    expectError(replica.ordered(registerOperation('carol', mallory)), 'ACCOUNT_EXISTS', 'accountId');
    const account: AccountValue = expectOk(replica.unordered({ op: 'getAccount', accountId: 'carol' }));
    assert.equal(account.publicKey, first.entry.publicKey);
  });
});

describe('deposit', () => {
  it('UNKNOWN_ACCOUNT, then INVALID_AMOUNT / AMOUNT_TOO_LARGE / INVALID_NONCE by field', () => {
    const replica = funded();
    expectError(replica.ordered(depositOperation('nobody', 5n, 1, issuer.privateKey)), 'UNKNOWN_ACCOUNT', 'accountId');
    for (const bad of ['01', '+1', '1.0', '1e3', ' 1', '0', '-5']) {
      expectError(replica.ordered(depositOperation('alice', bad, 2, issuer.privateKey)), 'INVALID_AMOUNT', 'amount');
    }
    expectError(replica.ordered(depositOperation('alice', AMOUNT_MAX + 1n, 2, issuer.privateKey)), 'AMOUNT_TOO_LARGE', 'amount');
    for (const bad of [0, -1, 1.5, 2 ** 53, Number.MAX_VALUE]) {
      expectError(replica.ordered(depositOperation('alice', 5n, bad, issuer.privateKey)), 'INVALID_NONCE', 'nonce');
    }
    const max = expectOk(replica.ordered(depositOperation('alice', AMOUNT_MAX, 2, issuer.privateKey)));
    assert.equal(max.balance, (AMOUNT_MAX + 100n).toString());
  });
  it('BAD_SIGNATURE for a forged deposit signed by a non-issuer key (even the account owner)', () => {
    const replica = funded();
    expectError(replica.ordered(depositOperation('alice', 1000n, 2, mallory.privateKey)), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered(depositOperation('alice', 1000n, 2, alice.privateKey)), 'BAD_SIGNATURE', 'signature');
    const tampered = { ...depositOperation('alice', 1n, 2, issuer.privateKey), amount: '1000' };
    expectError(replica.ordered(tampered), 'BAD_SIGNATURE', 'signature');
    const redirected = { ...depositOperation('alice', 1n, 2, issuer.privateKey), accountId: 'bob' };
    expectError(replica.ordered(redirected), 'BAD_SIGNATURE', 'signature');
    assert.equal(expectOk(replica.unordered({ op: 'getAccount', accountId: 'alice' })).balance, '100');
  });
  it('REPLAYED_REQUEST for a nonce not above the account\'s last deposit nonce; gaps are allowed', () => {
    const replica = funded();
    const deposit = depositOperation('alice', 10n, 5, issuer.privateKey);
    expectOk(replica.ordered(deposit));
    expectError(replica.ordered(deposit), 'REPLAYED_REQUEST', 'nonce');
    expectError(replica.ordered(depositOperation('alice', 10n, 4, issuer.privateKey)), 'REPLAYED_REQUEST', 'nonce');
    expectOk(replica.ordered(depositOperation('bob', 10n, 1, issuer.privateKey)), ); // nonces are per credited account
    expectOk(replica.ordered(depositOperation('alice', 10n, 1000, issuer.privateKey)));
    const account: AccountValue = expectOk(replica.unordered({ op: 'getAccount', accountId: 'alice' }));
    assert.equal(account.balance, '120');
    assert.equal(account.lastDepositNonce, 1000);
  });
});

describe('transfer', () => {
  it('validates fields in order: ids, amount, nonce, signature format, then self transfer', () => {
    const replica = funded();
    const good = transferOperation('alice', 'bob', 5n, 1, alice.privateKey);
    expectError(replica.ordered({ ...good, from: 'al ice', amount: '05', nonce: 0 }), 'INVALID_ACCOUNT_ID', 'from');
    expectError(replica.ordered({ ...good, to: 'b@b', amount: '05' }), 'INVALID_ACCOUNT_ID', 'to');
    expectError(replica.ordered({ ...good, amount: '05', nonce: 0 }), 'INVALID_AMOUNT', 'amount');
    expectError(replica.ordered({ ...good, amount: '1' + '0'.repeat(20) }), 'AMOUNT_TOO_LARGE', 'amount');
    expectError(replica.ordered({ ...good, nonce: 0, signature: 'x' }), 'INVALID_NONCE', 'nonce');
    expectError(replica.ordered({ ...good, signature: 'x' }), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered(transferOperation('alice', 'alice', 5n, 1, alice.privateKey)), 'SELF_TRANSFER', 'to');
  });
  it('UNKNOWN_ACCOUNT names from, then to', () => {
    const replica = funded();
    expectError(replica.ordered(transferOperation('nobody', 'nobody2', 5n, 1, alice.privateKey)), 'UNKNOWN_ACCOUNT', 'from');
    expectError(replica.ordered(transferOperation('alice', 'nobody', 5n, 1, alice.privateKey)), 'UNKNOWN_ACCOUNT', 'to');
  });
  it('BAD_SIGNATURE when not signed by the owner of from, or when any signed field changed', () => {
    const replica = funded();
    expectError(replica.ordered(transferOperation('alice', 'bob', 5n, 1, mallory.privateKey)), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered(transferOperation('alice', 'bob', 5n, 1, bob.privateKey)), 'BAD_SIGNATURE', 'signature');
    const good = transferOperation('alice', 'bob', 5n, 1, alice.privateKey);
    expectError(replica.ordered({ ...good, amount: '50' }), 'BAD_SIGNATURE', 'signature');
    expectError(replica.ordered({ ...good, nonce: 2 }), 'BAD_SIGNATURE', 'signature');
    expectOk(replica.ordered(registerOperation('eve', mallory)));
    expectError(replica.ordered({ ...good, to: 'eve' }), 'BAD_SIGNATURE', 'signature');
    expectOk(replica.ordered(good));
  });
  it('REPLAYED_REQUEST for a replayed or lower nonce; the replay moves nothing', () => {
    const replica = funded();
    const transfer = transferOperation('alice', 'bob', 30n, 3, alice.privateKey);
    assert.equal(expectOk(replica.ordered(transfer)).balance, '70');
    expectError(replica.ordered(transfer), 'REPLAYED_REQUEST', 'nonce');
    expectError(replica.ordered(transferOperation('alice', 'bob', 1n, 2, alice.privateKey)), 'REPLAYED_REQUEST', 'nonce');
    assert.equal(expectOk(replica.unordered({ op: 'getAccount', accountId: 'alice' })).balance, '70');
    assert.equal(expectOk(replica.unordered({ op: 'getAccount', accountId: 'bob' })).balance, '30');
    expectOk(replica.ordered(transferOperation('alice', 'bob', 1n, 4, alice.privateKey)));
  });
  it('INSUFFICIENT_FUNDS above the balance; exactly the balance is allowed', () => {
    const replica = funded();
    expectError(replica.ordered(transferOperation('alice', 'bob', 101n, 1, alice.privateKey)), 'INSUFFICIENT_FUNDS', 'amount');
    assert.equal(expectOk(replica.ordered(transferOperation('alice', 'bob', 100n, 2, alice.privateKey))).balance, '0');
    expectError(replica.ordered(transferOperation('alice', 'bob', 1n, 3, alice.privateKey)), 'INSUFFICIENT_FUNDS', 'amount');
  });
});

describe('balance overflow', () => {
  /** alice near BALANCE_MAX and bob with 10 units, built directly (no signatures) and restored. */
  function nearMax(): Replica {
    const state = new WalletState();
    const at = { cid: 1, timestampMs: 1 };
    state.register('alice', ed25519PublicKeyToRaw(alice.publicKey), at);
    state.register('bob', ed25519PublicKeyToRaw(bob.publicKey), at);
    let nonce = 0;
    while (BALANCE_MAX - state.account('alice')!.balance >= AMOUNT_MAX) state.deposit('alice', AMOUNT_MAX, ++nonce, at);
    state.deposit('bob', 10n, 1, at);
    const replica = new Replica();
    replica.service.restore(encodeSnapshot(state));
    return replica;
  }
  it('BALANCE_OVERFLOW for a deposit or a transfer that would pass 2^63 - 1; up to it is fine', () => {
    const replica = nearMax();
    const alice0: AccountValue = expectOk(replica.unordered({ op: 'getAccount', accountId: 'alice' }));
    const room = BALANCE_MAX - BigInt(alice0.balance);
    expectError(replica.ordered(depositOperation('alice', room + 1n, 1_000_000, issuer.privateKey)), 'BALANCE_OVERFLOW', 'amount');
    expectOk(replica.ordered(depositOperation('alice', room - 5n, 1_000_000, issuer.privateKey)));
    expectError(replica.ordered(transferOperation('bob', 'alice', 6n, 1, bob.privateKey)), 'BALANCE_OVERFLOW', 'amount');
    expectOk(replica.ordered(transferOperation('bob', 'alice', 5n, 2, bob.privateKey)));
    assert.equal(expectOk(replica.unordered({ op: 'getAccount', accountId: 'alice' })).balance, BALANCE_MAX.toString());
  });
});

describe('reads', () => {
  it('UNKNOWN_ACCOUNT for getAccount and accountLedger of a missing account', () => {
    const replica = funded();
    expectError(replica.unordered({ op: 'getAccount', accountId: 'nobody' }), 'UNKNOWN_ACCOUNT', 'accountId');
    expectError(replica.unordered({ op: 'accountLedger', accountId: 'nobody', limit: 5 }), 'UNKNOWN_ACCOUNT', 'accountId');
    expectError(replica.unordered({ op: 'getAccount', accountId: 'no body' }), 'INVALID_ACCOUNT_ID', 'accountId');
  });
  it('INVALID_LIMIT outside 1..1000', () => {
    const replica = funded();
    for (const bad of [0, -1, 1001, 1.5, 1e9]) {
      expectError(replica.unordered({ op: 'ledger', limit: bad }), 'INVALID_LIMIT', 'limit');
      expectError(replica.unordered({ op: 'accountLedger', accountId: 'alice', limit: bad }), 'INVALID_LIMIT', 'limit');
    }
    expectOk(replica.unordered({ op: 'ledger', limit: 1000 }));
  });
  it('INVALID_CURSOR for garbage, a cursor of another listing or account, or past the end', () => {
    const replica = funded();
    expectOk(replica.ordered(transferOperation('alice', 'bob', 1n, 1, alice.privateKey)));
    expectOk(replica.ordered(depositOperation('alice', 1n, 2, issuer.privateKey)));
    const globalPage = expectOk(replica.unordered({ op: 'ledger', limit: 1 }));
    const alicePage = expectOk(replica.unordered({ op: 'accountLedger', accountId: 'alice', limit: 1 }));
    assert.equal(typeof globalPage.nextCursor, 'string');
    assert.equal(typeof alicePage.nextCursor, 'string');
    expectError(replica.unordered({ op: 'ledger', cursor: 'garbage!', limit: 5 }), 'INVALID_CURSOR', 'cursor');
    expectError(replica.unordered({ op: 'ledger', cursor: alicePage.nextCursor, limit: 5 }), 'INVALID_CURSOR', 'cursor');
    expectError(replica.unordered({ op: 'accountLedger', accountId: 'alice', cursor: globalPage.nextCursor, limit: 5 }), 'INVALID_CURSOR', 'cursor');
    // alice's next cursor names the transfer (index 3), which bob also has; the deposit at 4 is alice's only
    const bobPage = expectOk(replica.unordered({ op: 'accountLedger', accountId: 'bob', cursor: alicePage.nextCursor, limit: 5 }));
    assert.deepEqual(bobPage.entries.map((e: { index: number }) => e.index), [3, 1]);
    const aliceDepositCursor = Buffer.from('a.4').toString('base64url');
    expectError(replica.unordered({ op: 'accountLedger', accountId: 'bob', cursor: aliceDepositCursor, limit: 5 }), 'INVALID_CURSOR', 'cursor');
    expectError(replica.unordered({ op: 'ledger', cursor: Buffer.from('g.5').toString('base64url'), limit: 5 }), 'INVALID_CURSOR', 'cursor');
  });
  it('refuses to crash on a malformed execution context (a library bug), but never on client bytes', () => {
    const replica = new Replica();
    assert.throws(() => replica.service.executeOrdered(bytesOf({ op: 'ledger', limit: 1 }), { cid: -1, indexInBatch: 0, clientId: 0, seq: 0, timestampMs: 0 }), /cid/);
    assert.throws(() => replica.service.executeOrdered(bytesOf({ op: 'ledger', limit: 1 }), { cid: 1, indexInBatch: 0, clientId: 0, seq: 0, timestampMs: 1.5 }), /timestampMs/);
  });
});

it('reaches every code of WALLET_ERROR_CODES (runs last)', () => {
  const missing = WALLET_ERROR_CODES.filter((code) => !reached.has(code));
  assert.deepEqual(missing, [], `error codes never reached: ${missing.join(', ')}`);
});
