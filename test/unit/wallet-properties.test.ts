/**
 * Property tests over random histories (fast-check, fixed seed): the wallet agrees with
 * an obvious reference model, money is conserved (sum of balances = sum of deposits),
 * replicas fed the same requests give identical bytes, and snapshot → restore → snapshot
 * is the identity and leaves behaviour unchanged.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ed25519PublicKeyToRaw } from '../../src/crypto/ed25519.ts';
import { AMOUNT_MAX } from '../../src/wallet/amount.ts';
import { decodeResult, depositOperation, encodeOperation, registerOperation, transferOperation } from '../../src/wallet/client-ops.ts';
import type { WalletErrorCode } from '../../src/wallet/errors.ts';
import type { AccountValue, LedgerEntry, LedgerValue, WalletOperation } from '../../src/wallet/operations.ts';
import { WalletService } from '../../src/wallet/wallet-service.ts';

const SEED = 20_240_611;
const RUNS = 60;

function keyPair(seed: number) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const issuer = keyPair(100);
const NAMES = ['alice', 'bob', 'carol', 'dave'] as const;
/** Keys 0..3 are the natural owners; key 4 is a stranger. Which key registers an account is part of the history. */
const KEYS = [1, 2, 3, 4, 5].map(keyPair);

type Command =
  | { kind: 'register'; account: number; key: number }
  | { kind: 'deposit'; account: number; amount: bigint; nonce: number; forged: boolean }
  /** signer -1: the key with `from`'s index (its owner, unless another key registered it). */
  | { kind: 'transfer'; from: number; to: number; amount: bigint; nonce: number; signer: number }
  | { kind: 'read'; account: number; limit: number };

const account = fc.integer({ min: 0, max: NAMES.length - 1 });
const key = fc.oneof({ weight: 4, arbitrary: account }, { weight: 1, arbitrary: fc.constant(4) });
const amount = fc.oneof({ weight: 8, arbitrary: fc.bigInt(1n, 300n) }, { weight: 1, arbitrary: fc.constant(AMOUNT_MAX) }, { weight: 1, arbitrary: fc.constant(0n) });
const nonce = fc.integer({ min: 1, max: 12 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('register' as const), account, key }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deposit' as const), account, amount, nonce, forged: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: account, to: account, amount, nonce, signer: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: key }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), account, limit: fc.integer({ min: 1, max: 5 }) }) },
);
/** alice, bob and carol registered by their own keys and funded; dave is left for `register` (and UNKNOWN_ACCOUNT). */
const GENESIS: readonly Command[] = [0, 1, 2].flatMap((i): Command[] => [
  { kind: 'register', account: i, key: i },
  { kind: 'deposit', account: i, amount: 500n, nonce: 1, forged: false },
]);
const commands = fc.array(command, { minLength: 10, maxLength: 40 });
const history = commands.map((generated) => [...GENESIS, ...generated]);

function signerOf(c: { from: number; signer: number }): number {
  return c.signer === -1 ? c.from : c.signer;
}

function toOperation(c: Command): WalletOperation {
  switch (c.kind) {
    case 'register':
      return registerOperation(NAMES[c.account]!, KEYS[c.key]!);
    case 'deposit':
      return depositOperation(NAMES[c.account]!, c.amount, c.nonce, c.forged ? KEYS[0]!.privateKey : issuer.privateKey);
    case 'transfer':
      return transferOperation(NAMES[c.from]!, NAMES[c.to]!, c.amount, c.nonce, KEYS[signerOf(c)]!.privateKey);
    case 'read':
      return { op: 'accountLedger', accountId: NAMES[c.account]!, limit: c.limit };
  }
}

/** The obvious reference: what each command should do, written without any of the service's code. */
class Model {
  readonly accounts = new Map<string, { key: number; balance: bigint; transferNonce: number; depositNonce: number }>();
  deposited = 0n;
  apply(c: Command): WalletErrorCode | 'ok' {
    switch (c.kind) {
      case 'register': {
        if (this.accounts.has(NAMES[c.account]!)) return 'ACCOUNT_EXISTS';
        this.accounts.set(NAMES[c.account]!, { key: c.key, balance: 0n, transferNonce: 0, depositNonce: 0 });
        return 'ok';
      }
      case 'deposit': {
        if (c.amount === 0n) return 'INVALID_AMOUNT';
        const a = this.accounts.get(NAMES[c.account]!);
        if (a === undefined) return 'UNKNOWN_ACCOUNT';
        if (c.forged) return 'BAD_SIGNATURE';
        if (c.nonce <= a.depositNonce) return 'REPLAYED_REQUEST';
        a.balance += c.amount;
        a.depositNonce = c.nonce;
        this.deposited += c.amount;
        return 'ok';
      }
      case 'transfer': {
        if (c.amount === 0n) return 'INVALID_AMOUNT';
        if (c.from === c.to) return 'SELF_TRANSFER';
        const from = this.accounts.get(NAMES[c.from]!);
        if (from === undefined) return 'UNKNOWN_ACCOUNT';
        const to = this.accounts.get(NAMES[c.to]!);
        if (to === undefined) return 'UNKNOWN_ACCOUNT';
        if (signerOf(c) !== from.key) return 'BAD_SIGNATURE';
        if (c.nonce <= from.transferNonce) return 'REPLAYED_REQUEST';
        if (c.amount > from.balance) return 'INSUFFICIENT_FUNDS';
        from.balance -= c.amount;
        to.balance += c.amount;
        from.transferNonce = c.nonce;
        return 'ok';
      }
      case 'read':
        return this.accounts.has(NAMES[c.account]!) ? 'ok' : 'UNKNOWN_ACCOUNT';
    }
  }
}

function newService(): WalletService {
  return new WalletService({ issuerPublicKey: ed25519PublicKeyToRaw(issuer.publicKey) });
}
/** Runs `ops` as consecutive decided requests starting at consensus instance `cidStart`, returning the reply bytes. */
function run(service: WalletService, ops: readonly Uint8Array[], cidStart = 1): Uint8Array[] {
  return ops.map((bytes, i) => service.executeOrdered(bytes, { cid: cidStart + i, indexInBatch: 0, clientId: 3, seq: i, timestampMs: 1_700_000_000_000 + 10 * i }));
}
function read<T>(service: WalletService, op: WalletOperation): T {
  const result = decodeResult<T>(service.executeUnordered(encodeOperation(op), { clientId: 3, seq: 0 }));
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}
function allEntries(service: WalletService): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: LedgerValue = read<LedgerValue>(service, cursor === null ? { op: 'ledger', limit: 7 } : { op: 'ledger', cursor, limit: 7 });
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return entries;
}
const fcOptions = { seed: SEED, numRuns: RUNS, endOnFailure: true };

describe('random histories', () => {
  it('every reply agrees with the reference model, and balances match it', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(history, (commands) => {
        const service = newService();
        const model = new Model();
        commands.forEach((c, i) => {
          const expected = model.apply(c);
          outcomes.set(`${c.kind} ${expected}`, (outcomes.get(`${c.kind} ${expected}`) ?? 0) + 1);
          const reply = decodeResult(run(service, [encodeOperation(toOperation(c))], i + 1)[0]!);
          assert.equal(reply.ok ? 'ok' : reply.error.code, expected, `command ${i}: ${JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
        });
        for (const [name, a] of model.accounts) {
          const value = read<AccountValue>(service, { op: 'getAccount', accountId: name });
          assert.equal(value.balance, a.balance.toString());
          assert.equal(value.lastTransferNonce, a.transferNonce);
          assert.equal(value.lastDepositNonce, a.depositNonce);
        }
      }),
      fcOptions,
    );
    // the histories must exercise success and every failure the model knows, or the property proves little
    for (const outcome of ['register ok', 'register ACCOUNT_EXISTS', 'deposit ok', 'deposit BAD_SIGNATURE', 'deposit REPLAYED_REQUEST', 'deposit UNKNOWN_ACCOUNT',
      'transfer ok', 'transfer INSUFFICIENT_FUNDS', 'transfer REPLAYED_REQUEST', 'transfer BAD_SIGNATURE', 'transfer SELF_TRANSFER', 'transfer INVALID_AMOUNT', 'read ok']) {
      assert.ok((outcomes.get(outcome) ?? 0) >= 5, `${outcome}: ${outcomes.get(outcome) ?? 0} times in ${JSON.stringify([...outcomes])}`);
    }
  });

  it('conserves money: the sum of balances equals the sum of deposits in the ledger', () => {
    fc.assert(
      fc.property(history, (commands) => {
        const service = newService();
        run(service, commands.map((c) => encodeOperation(toOperation(c))));
        const entries = allEntries(service);
        const deposits = entries.reduce((sum, e) => (e.type === 'deposit' ? sum + BigInt(e.amount) : sum), 0n);
        const accounts = entries.filter((e) => e.type === 'register').map((e) => read<AccountValue>(service, { op: 'getAccount', accountId: (e as { accountId: string }).accountId }));
        const balances = accounts.reduce((sum, a) => sum + BigInt(a.balance), 0n);
        assert.equal(balances, deposits);
        for (const a of accounts) assert.ok(BigInt(a.balance) >= 0n);
        assert.deepEqual(entries.map((e) => e.index), [...entries.keys()]);
      }),
      fcOptions,
    );
  });

  it('two replicas fed the same requests return identical reply and snapshot bytes', () => {
    fc.assert(
      fc.property(history, (commands) => {
        const requests = commands.map((c) => encodeOperation(toOperation(c)));
        const [a, b] = [newService(), newService()];
        assert.deepEqual(run(a, requests), run(b, requests));
        assert.deepEqual(a.snapshot(), b.snapshot());
        const reads: WalletOperation[] = [{ op: 'ledger', limit: 1000 }, ...NAMES.map((accountId) => ({ op: 'getAccount' as const, accountId }))];
        for (const op of reads) {
          const bytes = encodeOperation(op);
          assert.deepEqual(a.executeUnordered(bytes, { clientId: 1, seq: 1 }), b.executeUnordered(bytes, { clientId: 2, seq: 9 }));
        }
      }),
      fcOptions,
    );
  });

  it('snapshot → restore → snapshot is identical, and the restored replica then behaves the same', () => {
    fc.assert(
      fc.property(history, commands, (prefix, suffix) => {
        const original = newService();
        run(original, prefix.map((c) => encodeOperation(toOperation(c))));
        const bytes = original.snapshot();
        const restored = newService();
        run(restored, [encodeOperation(registerOperation('zed', KEYS[4]!))]); // state that restore must discard
        restored.restore(bytes);
        assert.deepEqual(restored.snapshot(), bytes);
        const later = suffix.map((c) => encodeOperation(toOperation(c)));
        assert.deepEqual(run(restored, later, 1_000), run(original, later, 1_000));
        assert.deepEqual(restored.snapshot(), original.snapshot());
      }),
      fcOptions,
    );
  });
});
