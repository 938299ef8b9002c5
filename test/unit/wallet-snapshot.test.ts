/**
 * Snapshot and restore: canonical bytes, restore(snapshot()) is the identity, a restored
 * replica behaves like the original, and malformed snapshots are refused with a clear
 * error that leaves the current state untouched.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519PublicKeyToRaw } from '../../src/crypto/ed25519.ts';
import { AMOUNT_MAX } from '../../src/wallet/amount.ts';
import { decodeResult, depositOperation, encodeOperation, registerOperation, transferOperation } from '../../src/wallet/client-ops.ts';
import type { WalletOperation } from '../../src/wallet/operations.ts';
import { WalletService } from '../../src/wallet/wallet-service.ts';

function keyPair(seed: number) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const issuer = keyPair(100);
const alice = keyPair(1);
const bob = keyPair(2);

function newService(): WalletService {
  return new WalletService({ issuerPublicKey: ed25519PublicKeyToRaw(issuer.publicKey) });
}
function ordered(service: WalletService, op: WalletOperation, cid: number): Uint8Array {
  return service.executeOrdered(encodeOperation(op), { cid, indexInBatch: 0, clientId: 1, seq: cid, timestampMs: 1_700_000_000_000 + cid });
}

/** register alice, bob; deposit 100 to alice; transfer 30 alice -> bob. */
function smallService(): WalletService {
  const service = newService();
  const ops = [
    registerOperation('alice', alice),
    registerOperation('bob', bob),
    depositOperation('alice', 100n, 1, issuer.privateKey),
    transferOperation('alice', 'bob', 30n, 1, alice.privateKey),
  ];
  ops.forEach((op, i) => assert.equal(decodeResult(ordered(service, op, i + 1)).ok, true));
  return service;
}

/** Hand-written snapshot bytes in the documented layout, for crafting invalid ones. */
class SnapshotBuilder {
  private readonly parts: Buffer[] = [Buffer.from('BWLT'), Buffer.of(1)];
  private count = 0;
  private u64(value: bigint | number): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(value));
    return b;
  }
  private id(value: string): Buffer {
    return Buffer.concat([Buffer.of(Buffer.byteLength(value, 'latin1')), Buffer.from(value, 'latin1')]);
  }
  private head(type: number, cid: bigint | number = 1): Buffer {
    this.count += 1;
    return Buffer.concat([Buffer.of(type), this.u64(cid), this.u64(1000)]);
  }
  register(accountId: string, key = alice, cid: bigint | number = 1): this {
    this.parts.push(this.head(1, cid), this.id(accountId), Buffer.from(ed25519PublicKeyToRaw(key.publicKey)));
    return this;
  }
  deposit(accountId: string, amount: bigint, nonce: bigint | number): this {
    this.parts.push(this.head(2), this.id(accountId), this.u64(amount), this.u64(nonce));
    return this;
  }
  transfer(from: string, to: string, amount: bigint, nonce: number): this {
    this.parts.push(this.head(3), this.id(from), this.id(to), this.u64(amount), this.u64(nonce));
    return this;
  }
  raw(bytes: Buffer, entries = 0): this {
    this.parts.push(bytes);
    this.count += entries;
    return this;
  }
  build(): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.count);
    return Buffer.concat([this.parts[0]!, this.parts[1]!, count, ...this.parts.slice(2)]);
  }
}

describe('snapshot bytes', () => {
  it('of an empty wallet are the 9-byte header', () => {
    assert.deepEqual(Buffer.from(newService().snapshot()), Buffer.from('42574c540100000000', 'hex'));
  });
  it('follow the documented layout (hand-built bytes equal the service\'s)', () => {
    const expected = new SnapshotBuilder()
      .register('alice', alice)
      .register('bob', bob)
      .deposit('alice', 100n, 1)
      .transfer('alice', 'bob', 30n, 1)
      .build();
    const service = newService();
    service.restore(expected);
    assert.deepEqual(Buffer.from(service.snapshot()), Buffer.from(expected));
    const account = decodeResult<{ balance: string }>(service.executeUnordered(encodeOperation({ op: 'getAccount', accountId: 'bob' }), { clientId: 1, seq: 1 }));
    assert.deepEqual(account.ok && account.value.balance, '30');
  });
  it('restore(snapshot()) then snapshot() gives identical bytes, on the same and on a fresh replica', () => {
    const service = smallService();
    const bytes = service.snapshot();
    service.restore(bytes);
    assert.deepEqual(service.snapshot(), bytes);
    const fresh = newService();
    fresh.restore(bytes);
    assert.deepEqual(fresh.snapshot(), bytes);
  });
  it('a restored replica answers reads and later requests with identical bytes', () => {
    const original = smallService();
    const restored = newService();
    restored.restore(original.snapshot());
    const next: WalletOperation[] = [
      transferOperation('alice', 'bob', 30n, 1, alice.privateKey), // replay
      transferOperation('bob', 'alice', 5n, 1, bob.privateKey),
      { op: 'ledger', limit: 100 },
      { op: 'accountLedger', accountId: 'alice', limit: 2 },
      { op: 'getAccount', accountId: 'alice' },
    ];
    next.forEach((op, i) => assert.deepEqual(ordered(restored, op, 10 + i), ordered(original, op, 10 + i)));
    assert.deepEqual(restored.snapshot(), original.snapshot());
  });
});

describe('malformed snapshots', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /truncated/],
    ['bad magic', Buffer.concat([Buffer.from('XXXX'), Buffer.from('0100000000', 'hex')]), /magic/],
    ['unknown version', Buffer.from('42574c540200000000', 'hex'), /version 2/],
    ['trailing bytes', Buffer.concat([Buffer.from('42574c540100000000', 'hex'), Buffer.of(0)]), /1 trailing bytes/],
    ['more entries announced than present', new SnapshotBuilder().register('alice').raw(Buffer.alloc(0), 1).build(), /entry 1: truncated/],
    ['unknown entry type', new SnapshotBuilder().raw(Buffer.concat([Buffer.of(9), Buffer.alloc(16)]), 1).build(), /entry 0: unknown entry type 9/],
    ['account registered twice', new SnapshotBuilder().register('alice').register('alice', bob).build(), /entry 1: .*registered twice/],
    ['malformed account id', new SnapshotBuilder().register('al ice').build(), /entry 0: .*malformed account id/],
    ['non-ASCII account id', new SnapshotBuilder().register('al\u00e9').build(), /entry 0: .*malformed account id/],
    ['empty account id', new SnapshotBuilder().register('').build(), /entry 0: .*malformed account id/],
    ['deposit to an unknown account', new SnapshotBuilder().deposit('alice', 5n, 1).build(), /entry 0: .*unknown account/],
    ['zero deposit', new SnapshotBuilder().register('alice').deposit('alice', 0n, 1).build(), /entry 1: .*out of range/],
    ['deposit above AMOUNT_MAX', new SnapshotBuilder().register('alice').deposit('alice', AMOUNT_MAX + 1n, 1).build(), /entry 1: .*out of range/],
    ['deposit nonce not increasing', new SnapshotBuilder().register('alice').deposit('alice', 5n, 2).deposit('alice', 5n, 2).build(), /entry 2: .*nonce 2 not above 2/],
    ['nonce above 2^53 - 1', new SnapshotBuilder().register('alice').deposit('alice', 5n, 2n ** 53n).build(), /entry 1: nonce .* above/],
    ['cid above 2^53 - 1', new SnapshotBuilder().register('alice', alice, 2n ** 60n).build(), /entry 0: cid .* above/],
    ['overdraft', new SnapshotBuilder().register('alice').register('bob', bob).deposit('alice', 5n, 1).transfer('alice', 'bob', 6n, 1).build(), /entry 3: .*exceeds the balance/],
    ['self transfer', new SnapshotBuilder().register('alice').deposit('alice', 5n, 1).transfer('alice', 'alice', 1n, 1).build(), /entry 2: .*self transfer/],
    ['transfer nonce zero', new SnapshotBuilder().register('alice').register('bob', bob).deposit('alice', 5n, 1).transfer('alice', 'bob', 1n, 0).build(), /entry 3: .*nonce 0/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`refuses ${name} with a clear error, keeping the current state`, () => {
      const service = smallService();
      const before = service.snapshot();
      assert.throws(() => service.restore(bytes), (error: Error) => {
        assert.match(error.message, /^malformed wallet snapshot: /);
        assert.match(error.message, reason);
        return true;
      });
      assert.deepEqual(service.snapshot(), before);
    });
  }
  it('refuses every truncation of a valid snapshot', () => {
    const bytes = smallService().snapshot();
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(() => newService().restore(bytes.subarray(0, length)), /^Error: malformed wallet snapshot: /, `length ${length}`);
    }
  });
});
