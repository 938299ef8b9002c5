/**
 * Paging of the global ledger (oldest first) and of account ledgers (newest first):
 * walking the cursors returns every entry exactly once, in order; cursors stay valid as
 * the ledger grows; and a page deep in a 100 000-entry ledger is served by reading only
 * the page's entries.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519PublicKeyToRaw } from '../../src/crypto/ed25519.ts';
import { decodeResult, depositOperation, encodeOperation, registerOperation, transferOperation } from '../../src/wallet/client-ops.ts';
import { decodeCursor, encodeCursor } from '../../src/wallet/cursor.ts';
import type { AccountLedgerValue, LedgerEntry, LedgerValue, WalletOperation } from '../../src/wallet/operations.ts';
import { encodeSnapshot } from '../../src/wallet/snapshot.ts';
import { WalletState } from '../../src/wallet/state.ts';
import { WalletService } from '../../src/wallet/wallet-service.ts';

function keyPair(seed: number) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const issuer = keyPair(100);
const names = ['alice', 'bob', 'carol'] as const;
const keys = names.map((_, i) => keyPair(i + 1));

function newService(): WalletService {
  return new WalletService({ issuerPublicKey: ed25519PublicKeyToRaw(issuer.publicKey) });
}
let cid = 0;
function ordered(service: WalletService, op: WalletOperation): void {
  cid += 1;
  const result = decodeResult(service.executeOrdered(encodeOperation(op), { cid, indexInBatch: 0, clientId: 1, seq: cid, timestampMs: 1_000 * cid }));
  assert.equal(result.ok, true, JSON.stringify(result));
}
function read<T>(service: WalletService, op: WalletOperation): T {
  const result = decodeResult<T>(service.executeUnordered(encodeOperation(op), { clientId: 1, seq: 0 }));
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

/** Registers the three accounts, then a fixed mix of 60 deposits and transfers (63 entries). */
function busyService(): WalletService {
  const service = newService();
  names.forEach((name, i) => ordered(service, registerOperation(name, keys[i]!)));
  const transferNonces = [0, 0, 0];
  for (let step = 0; step < 60; step++) {
    const from = (step * 7) % 3;
    if (step < 3) ordered(service, depositOperation(names[step]!, BigInt(100 + step), step + 1, issuer.privateKey));
    else if (step % 3 === 0) ordered(service, depositOperation(names[from]!, BigInt(100 + step), step + 1, issuer.privateKey));
    else ordered(service, transferOperation(names[from]!, names[(from + 1 + (step % 2)) % 3]!, 1n, ++transferNonces[from]!, keys[from]!.privateKey));
  }
  return service;
}

function walkLedger(service: WalletService, limit: number): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = read<LedgerValue>(service, cursor === undefined ? { op: 'ledger', limit } : { op: 'ledger', cursor, limit });
    assert.ok(page.entries.length <= limit);
    entries.push(...page.entries);
    if (page.nextCursor === null) return entries;
    assert.equal(page.entries.length, limit, 'only the last page may be short');
    cursor = page.nextCursor;
  }
  assert.fail('ledger walk did not end');
}

function walkAccount(service: WalletService, accountId: string, limit: number): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const op: WalletOperation = cursor === undefined ? { op: 'accountLedger', accountId, limit } : { op: 'accountLedger', accountId, cursor, limit };
    const page = read<AccountLedgerValue>(service, op);
    assert.equal(page.accountId, accountId);
    entries.push(...page.entries);
    if (page.nextCursor === null) return entries;
    assert.equal(page.entries.length, limit, 'only the last page may be short');
    cursor = page.nextCursor;
  }
  assert.fail('account walk did not end');
}

const involves = (entry: LedgerEntry, accountId: string) =>
  entry.type === 'transfer' ? entry.from === accountId || entry.to === accountId : entry.accountId === accountId;

describe('global ledger paging', () => {
  it('an empty ledger is one empty page', () => {
    assert.deepEqual(read(newService(), { op: 'ledger', limit: 10 }), { entries: [], nextCursor: null });
  });
  it('walking the cursors returns every entry exactly once, oldest first, for any page size', () => {
    const service = busyService();
    const all = read<LedgerValue>(service, { op: 'ledger', limit: 1000 });
    assert.equal(all.entries.length, 63);
    assert.equal(all.nextCursor, null);
    assert.deepEqual(all.entries.map((e) => e.index), [...Array(63).keys()]);
    for (const limit of [1, 2, 7, 62, 63, 64]) assert.deepEqual(walkLedger(service, limit), all.entries, `limit ${limit}`);
  });
  it('a cursor stays valid as the ledger grows, and the next page then includes new entries', () => {
    const service = busyService();
    const page = read<LedgerValue>(service, { op: 'ledger', limit: 60 });
    ordered(service, depositOperation('alice', 1n, 1_000, issuer.privateKey));
    const rest = read<LedgerValue>(service, { op: 'ledger', cursor: page.nextCursor!, limit: 60 });
    assert.deepEqual(rest.entries.map((e) => e.index), [60, 61, 62, 63]);
    assert.equal(rest.nextCursor, null);
  });
});

describe('account ledger paging', () => {
  it('walking the cursors returns each account\'s entries exactly once, newest first', () => {
    const service = busyService();
    const global = walkLedger(service, 1000);
    for (const name of names) {
      const expected = global.filter((e) => involves(e, name)).reverse();
      const count = read<{ entries: number }>(service, { op: 'getAccount', accountId: name }).entries;
      assert.equal(expected.length, count);
      for (const limit of [1, 3, 10, count, count + 1]) assert.deepEqual(walkAccount(service, name, limit), expected, `${name}, limit ${limit}`);
    }
  });
  it('a transfer appears in both accounts\' ledgers, the register entry last', () => {
    const service = busyService();
    const alice = walkAccount(service, 'alice', 1000);
    assert.equal(alice.at(-1)!.type, 'register');
    const transfersToAlice = alice.filter((e) => e.type === 'transfer' && e.to === 'alice');
    assert.ok(transfersToAlice.length > 0);
  });
});

describe('paging at 100 000 entries', () => {
  const ENTRIES = 100_000;
  /** alice and bob, then deposits to alice alternating with transfers alice -> bob, built without signatures and restored. */
  function hugeService(): WalletService {
    const state = new WalletState();
    const at = (i: number) => ({ cid: i, timestampMs: 1_000 + i });
    state.register('alice', ed25519PublicKeyToRaw(keys[0]!.publicKey), at(0));
    state.register('bob', ed25519PublicKeyToRaw(keys[1]!.publicKey), at(1));
    for (let i = 2, nonce = 1; i < ENTRIES; i += 2, nonce++) {
      state.deposit('alice', 10n, nonce, at(i));
      state.transfer('alice', 'bob', 3n, nonce, at(i + 1));
    }
    assert.equal(state.ledgerLength, ENTRIES);
    const service = newService();
    service.restore(encodeSnapshot(state));
    return service;
  }

  /** Counts ledger reads made while `run` executes (proves a page does not touch the history). */
  function countEntryReads<T>(run: () => T): { value: T; reads: number } {
    const original = WalletState.prototype.entryAt;
    let reads = 0;
    WalletState.prototype.entryAt = function (this: WalletState, index: number) {
      reads += 1;
      return original.call(this, index);
    };
    try {
      return { value: run(), reads };
    } finally {
      WalletState.prototype.entryAt = original;
    }
  }

  const service = hugeService();

  it('serves a global page deep in the ledger from its cursor, reading only that page', () => {
    const cursor = encodeCursor('g', 99_990);
    const { value: page, reads } = countEntryReads(() => read<LedgerValue>(service, { op: 'ledger', cursor, limit: 5 }));
    assert.deepEqual(page.entries.map((e) => e.index), [99_990, 99_991, 99_992, 99_993, 99_994]);
    assert.deepEqual(page.entries[0], { index: 99_990, type: 'deposit', accountId: 'alice', amount: '10', nonce: 49_995, cid: 99_990, timestampMs: 100_990 });
    assert.equal(decodeCursor('g', page.nextCursor!), 99_995);
    assert.equal(reads, 5);
    const last = read<LedgerValue>(service, { op: 'ledger', cursor: page.nextCursor!, limit: 1000 });
    assert.deepEqual(last.entries.map((e) => e.index), [99_995, 99_996, 99_997, 99_998, 99_999]);
    assert.equal(last.nextCursor, null);
  });

  it('serves an account\'s newest page and a page from a deep cursor, reading only those entries', () => {
    const { value: newest, reads } = countEntryReads(() => read<AccountLedgerValue>(service, { op: 'accountLedger', accountId: 'bob', limit: 3 }));
    assert.deepEqual(newest.entries.map((e) => e.index), [99_999, 99_997, 99_995]);
    assert.equal(reads, 3);
    assert.equal(decodeCursor('a', newest.nextCursor!), 99_993);

    const deep = countEntryReads(() => read<AccountLedgerValue>(service, { op: 'accountLedger', accountId: 'bob', cursor: encodeCursor('a', 50_001), limit: 4 }));
    assert.deepEqual(deep.value.entries.map((e) => e.index), [50_001, 49_999, 49_997, 49_995]);
    assert.equal(deep.reads, 4);
    assert.equal(decodeCursor('a', deep.value.nextCursor!), 49_993);

    const oldest = read<AccountLedgerValue>(service, { op: 'accountLedger', accountId: 'bob', cursor: encodeCursor('a', 5), limit: 10 });
    assert.deepEqual(oldest.entries.map((e) => e.type), ['transfer', 'transfer', 'register']);
    assert.equal(oldest.nextCursor, null);
    const account = read<{ entries: number; balance: string }>(service, { op: 'getAccount', accountId: 'bob' });
    assert.equal(account.entries, 1 + (ENTRIES - 2) / 2);
    assert.equal(account.balance, String(3 * ((ENTRIES - 2) / 2)));
  });
});
