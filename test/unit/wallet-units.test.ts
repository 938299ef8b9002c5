/**
 * The wallet's building blocks on their own: amounts, signing messages, strict base64url,
 * cursors, the client-side encode/decode helpers, and the hand-written JSON of ledger pages.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { AMOUNT_MAX, BALANCE_MAX, parseAmount } from '../../src/wallet/amount.ts';
import { decodeBase64Url, encodeBase64Url } from '../../src/wallet/base64url.ts';
import {
  accountLedgerOperation,
  decodeResult,
  depositOperation,
  encodeOperation,
  getAccountOperation,
  ledgerOperation,
  publicKeyText,
  registerOperation,
  transferOperation,
} from '../../src/wallet/client-ops.ts';
import { decodeCursor, encodeCursor } from '../../src/wallet/cursor.ts';
import { WALLET_ERROR_CODES, isWalletErrorCode } from '../../src/wallet/errors.ts';
import { depositSigningMessage, registerSigningMessage, transferSigningMessage } from '../../src/wallet/signing.ts';
import { ledgerEntryJson, safeIntegerText } from '../../src/wallet/json-text.ts';
import { WalletState } from '../../src/wallet/state.ts';
import { onAccountLedger, onLedger } from '../../src/wallet/queries.ts';
import { encodeOutcome, type Outcome } from '../../src/wallet/results.ts';
import type { ParsedAccountLedger, ParsedLedger } from '../../src/wallet/parse-request.ts';
import { Prng } from '../../src/sim/prng.ts';

/** Deterministic Ed25519 key pair from a one-byte seed (PKCS#8 prefix + 32-byte seed). */
function keyPair(seed: number) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('amounts', () => {
  it('documents the limits: AMOUNT_MAX = 10^15, BALANCE_MAX = 2^63 - 1', () => {
    assert.equal(AMOUNT_MAX, 1_000_000_000_000_000n);
    assert.equal(BALANCE_MAX, 9_223_372_036_854_775_807n);
  });
  it('accepts canonical positive decimals up to AMOUNT_MAX, as bigint', () => {
    assert.equal(parseAmount('1'), 1n);
    assert.equal(parseAmount('1250'), 1250n);
    assert.equal(parseAmount('1000000000000000'), AMOUNT_MAX);
  });
  it('rejects non-canonical, zero and negative amounts with INVALID_AMOUNT', () => {
    for (const bad of ['01', '+1', '1.0', '1e3', ' 1', '1 ', '0', '00', '-1', '-0', '', '0x10', '１', '1_000', 'Infinity', 'NaN']) {
      const result = parseAmount(bad);
      assert.equal(typeof result, 'object', bad);
      assert.deepEqual(result, { code: 'INVALID_AMOUNT', message: (result as { message: string }).message, field: 'amount' }, bad);
    }
  });
  it('rejects amounts above AMOUNT_MAX with AMOUNT_TOO_LARGE, however long', () => {
    for (const big of ['1000000000000001', '9999999999999999', '1' + '0'.repeat(400)]) {
      assert.equal((parseAmount(big, 'x') as { code: string; field: string }).code, 'AMOUNT_TOO_LARGE');
      assert.equal((parseAmount(big, 'x') as { code: string; field: string }).field, 'x');
    }
  });
});

describe('signing messages', () => {
  it('are domain-separated newline-joined UTF-8 lines, exactly as documented', () => {
    assert.equal(text(registerSigningMessage('alice', 'KEY')), 'bulwark-wallet/v1\nregister\nalice\nKEY');
    assert.equal(text(depositSigningMessage('alice', 100n, 7)), 'bulwark-wallet/v1\ndeposit\nalice\n100\n7');
    assert.equal(text(transferSigningMessage('alice', 'bob', '25', 3)), 'bulwark-wallet/v1\ntransfer\nalice\nbob\n25\n3');
  });
  it('differ between operations with the same fields (no cross-operation replay)', () => {
    assert.notDeepEqual(depositSigningMessage('a', 1n, 1), transferSigningMessage('a', 'a', 1n, 1));
  });
});

describe('strict base64url', () => {
  it('round-trips and checks the length', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const encoded = encodeBase64Url(bytes);
    assert.equal(encoded.length, 43);
    assert.deepEqual(decodeBase64Url(encoded, 32), bytes);
    assert.equal(decodeBase64Url(encoded, 31), undefined);
  });
  it('refuses padding, the standard alphabet, blanks and non-zero trailing bits', () => {
    const encoded = encodeBase64Url(new Uint8Array(32));
    assert.equal(decodeBase64Url(encoded + '='), undefined);
    assert.equal(decodeBase64Url(encoded.slice(0, -1) + 'B', 32), undefined, 'trailing bits must be zero');
    assert.equal(decodeBase64Url('ab+/'), undefined);
    assert.equal(decodeBase64Url('ab c'), undefined);
    assert.equal(decodeBase64Url('a'), undefined);
  });
});

describe('cursors', () => {
  it('round-trip per kind and do not cross kinds', () => {
    for (const index of [0, 1, 99_999, 100_000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(decodeCursor('g', encodeCursor('g', index)), index);
      assert.equal(decodeCursor('a', encodeCursor('a', index)), index);
      assert.equal(decodeCursor('a', encodeCursor('g', index)), undefined);
    }
  });
  it('reject anything this service could not have issued', () => {
    const forge = (s: string) => Buffer.from(s).toString('base64url');
    for (const bad of ['', 'garbage!', forge('g.01'), forge('g.-1'), forge('g.1.5'), forge('g.9007199254740992'), forge('x.1'), forge('g.'), 'Zy4x=', 'A'.repeat(40)]) {
      assert.equal(decodeCursor('g', bad), undefined, bad);
    }
  });
});

describe('client operations', () => {
  const owner = keyPair(1);
  const issuer = keyPair(2);

  it('registerOperation signs the register message with the registered key', () => {
    const op = registerOperation('alice', owner);
    assert.equal(op.publicKey, publicKeyText(owner.publicKey));
    const signature = decodeBase64Url(op.signature, 64);
    assert.ok(signature);
    assert.ok(verify(null, registerSigningMessage('alice', op.publicKey), owner.publicKey, signature));
  });
  it('deposit and transfer sign canonical amounts, accepting bigint or string', () => {
    const deposit = depositOperation('alice', 500n, 4, issuer.privateKey);
    assert.deepEqual(Object.keys(deposit), ['op', 'accountId', 'amount', 'nonce', 'signature']);
    assert.equal(deposit.amount, '500');
    assert.ok(verify(null, depositSigningMessage('alice', 500n, 4), issuer.publicKey, decodeBase64Url(deposit.signature, 64)!));
    const transfer = transferOperation('alice', 'bob', '42', 9, owner.privateKey);
    assert.ok(verify(null, transferSigningMessage('alice', 'bob', 42n, 9), owner.publicKey, decodeBase64Url(transfer.signature, 64)!));
  });
  it('encodeOperation writes keys in the documented order whatever the object order', () => {
    const shuffled = { signature: 'S', nonce: 2, amount: '5', to: 'b', from: 'a', op: 'transfer' as const };
    assert.equal(text(encodeOperation(shuffled)), '{"op":"transfer","from":"a","to":"b","amount":"5","nonce":2,"signature":"S"}');
    assert.equal(text(encodeOperation(ledgerOperation(10))), '{"op":"ledger","limit":10}');
    assert.equal(text(encodeOperation(ledgerOperation(10, 'Zy4x'))), '{"op":"ledger","cursor":"Zy4x","limit":10}');
    assert.equal(text(encodeOperation(accountLedgerOperation('a', 5))), '{"op":"accountLedger","accountId":"a","limit":5}');
    assert.equal(text(encodeOperation(getAccountOperation('a'))), '{"op":"getAccount","accountId":"a"}');
    assert.throws(() => encodeOperation({ op: 'mint' } as never), /unknown wallet operation/);
  });
  it('decodeResult checks the envelope and keeps the error field only when present', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(decodeResult(enc('{"ok":true,"value":{"x":1}}')), { ok: true, value: { x: 1 } });
    assert.deepEqual(decodeResult(enc('{"ok":false,"error":{"code":"SELF_TRANSFER","message":"m","field":"to"}}')), {
      ok: false,
      error: { code: 'SELF_TRANSFER', message: 'm', field: 'to' },
    });
    assert.throws(() => decodeResult(enc('nope')), /not UTF-8 JSON/);
    assert.throws(() => decodeResult(enc('{"ok":1}')), /boolean "ok"/);
    assert.throws(() => decodeResult(enc('{"ok":true}')), /no value/);
    assert.throws(() => decodeResult(enc('{"ok":false,"error":{"code":"NOPE","message":"m"}}')), /unknown code/);
  });
  it('exports the error catalogue as a const list', () => {
    assert.equal(WALLET_ERROR_CODES.length, 16);
    assert.equal(new Set(WALLET_ERROR_CODES).size, 16);
    assert.ok(isWalletErrorCode('BAD_SIGNATURE'));
    assert.ok(!isWalletErrorCode('toString'));
  });
});

describe('ledger JSON text (json-text.ts)', () => {
  it('safeIntegerText is String(x) for every non-negative safe integer it is given, and refuses others', () => {
    const edges = [0, 1, 9, 10, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 32 + 5, 999_999_999_999, 1_000_000_000_000, 1_763_860_000_000, 2 ** 53 - 1, 2 ** 53 - 2];
    // Near multiples of a million at every magnitude, where x / 10^6 rounds across an integer.
    for (let k = 1_000; k < 2 ** 53 / 1e6; k = k * 7 + 3) edges.push(k * 1e6 - 1, k * 1e6, k * 1e6 + 1, k * 1e6 + 999_999);
    const random = new Prng(7);
    for (let i = 0; i < 20_000; i++) edges.push(Math.floor(random.next() * 2 ** random.int(1, 53)));
    for (const x of edges.filter((v) => Number.isSafeInteger(v))) assert.equal(safeIntegerText(x), String(x));
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) assert.throws(() => safeIntegerText(bad), RangeError);
  });

  it('ledgerEntryJson is JSON.stringify for every kind of entry at the edges of every field, and pages are the object form\'s bytes', () => {
    const state = new WalletState();
    const big = 2 ** 53 - 1;
    const ids = ['a', `${'Z'.repeat(62)}_-`, 'x-1'];
    ids.forEach((id, i) => state.register(id, new Uint8Array(32).fill(i * 97), { cid: i === 1 ? big : i, timestampMs: i === 1 ? big : 0 }));
    state.deposit('a', AMOUNT_MAX, 1, { cid: 2 ** 31, timestampMs: 1_763_860_000_000 });
    state.deposit(ids[1]!, 1n, big, { cid: 1_000_000_000_000, timestampMs: 999_999_999_999 });
    state.transfer('a', 'x-1', AMOUNT_MAX, big, { cid: big, timestampMs: big });
    state.transfer(ids[1]!, 'a', 1n, 1, { cid: 0, timestampMs: 2 ** 30 });
    for (let i = 0; i < state.ledgerLength; i++) assert.equal(ledgerEntryJson(state.entryAt(i)!), JSON.stringify(state.entryAt(i)), `entry ${i}`);

    const text = (o: Outcome<unknown>) => new TextDecoder().decode(encodeOutcome(o));
    const global = text(onLedger(state, { op: 'ledger', cursorIndex: 1, limit: 4 } as ParsedLedger));
    const nextCursor = (JSON.parse(global) as { value: { nextCursor: string } }).value.nextCursor;
    assert.equal(global, JSON.stringify({ ok: true, value: { entries: [1, 2, 3, 4].map((i) => state.entryAt(i)), nextCursor } }));
    const account = text(onAccountLedger(state, { op: 'accountLedger', accountId: 'a', limit: 10 } as ParsedAccountLedger));
    assert.equal(account, JSON.stringify({ ok: true, value: { accountId: 'a', entries: [6, 5, 3, 0].map((i) => state.entryAt(i)), nextCursor: null } }));
    const empty = text(onLedger(new WalletState(), { op: 'ledger', limit: 300 } as ParsedLedger));
    assert.equal(empty, JSON.stringify({ ok: true, value: { entries: [], nextCursor: null } }));
  });
});
