/**
 * Wallet memory and ledger-page cost at scale (issue 5): a replica's wallet state holding
 * ACCOUNTS accounts and ENTRIES ledger entries, its heap and RSS, and what a 300-entry page
 * of the global ledger and of one account's ledger costs at that size and at 10 000 entries.
 *
 *   node --expose-gc --import tsx bench/wallet-memory.ts [accounts, default 1000000] [entries, default 10000000]
 *
 * The state is filled through `WalletState`'s mutators — what a replica's execution does after
 * the owner's signature checked out — without signing and verifying 10 M operations (that is
 * 22 CPU-minutes of Ed25519 here, and it is measured by `bench wallet`); every owner's key is
 * then parsed once, as verifying a transfer from each account would. So the memory is the
 * state's, and the page cost is the real read path (`WalletService.executeUnordered`: parse,
 * query, JSON). Prints only.
 */
import { loadavg } from 'node:os';
import { encodeOperation, ledgerOperation, accountLedgerOperation } from '../src/wallet/index.ts';
import { WalletService } from '../src/wallet/wallet-service.ts';
import { encodeCursor } from '../src/wallet/cursor.ts';
import type { WalletState } from '../src/wallet/state.ts';

const PAGE = 300;
const ISSUER = new Uint8Array(32).fill(7); // any 32 bytes import as an Ed25519 public key

/** The service's state, to fill it without signatures (see the header). */
function stateOf(service: WalletService): WalletState {
  return (service as unknown as { state: WalletState }).state;
}

/** Fills `state` with `accounts` accounts (each registered and funded) and transfers up to `entries` entries. acct-0 is in every 20th transfer. */
function fill(state: WalletState, accounts: number, entries: number): void {
  const key = new Uint8Array(32);
  const id = (i: number) => `acct-${i}`;
  const nonces = new Uint32Array(accounts);
  let cid = 0;
  const position = () => ({ cid: cid++ >> 10, timestampMs: 1_700_000_000_000 + (cid >> 10) });
  for (let i = 0; i < accounts; i++) {
    new DataView(key.buffer).setUint32(0, i);
    state.register(id(i), key, position());
  }
  for (let i = 0; i < accounts; i++) state.deposit(id(i), 1_000_000n, 1, position());
  for (let t = 0; state.ledgerLength < entries; t++) {
    const from = t % 20 === 0 ? 0 : t % accounts;
    let to = t % 20 === 0 ? 1 + (t % (accounts - 1)) : (t * 7 + 1) % accounts;
    if (to === from) to = (to + 1) % accounts;
    state.transfer(id(from), id(to), 1n, ++nonces[from]!, position());
  }
}

/** Median µs of `runs` calls of `f`. */
function medianUs(runs: number, f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

function pages(service: WalletService, entries: number): { global: number; account: number } {
  const mid = Math.floor(entries / 2);
  // A page from the middle of the global ledger and acct-0's newest page.
  const globalOp = encodeOperation(ledgerOperation(PAGE, encodeCursor('g', mid)));
  const accountOp = encodeOperation(accountLedgerOperation('acct-0', PAGE));
  const ctx = { clientId: 1, seq: 1 };
  const check = (bytes: Uint8Array) => {
    const r = JSON.parse(Buffer.from(bytes).toString()) as { ok: boolean; value?: { entries: unknown[] }; error?: unknown };
    if (!r.ok || r.value!.entries.length !== PAGE) throw new Error(`page query failed: ${Buffer.from(bytes).toString().slice(0, 200)}`);
  };
  check(service.executeUnordered(globalOp, ctx));
  check(service.executeUnordered(accountOp, ctx));
  return { global: medianUs(200, () => service.executeUnordered(globalOp, ctx)), account: medianUs(200, () => service.executeUnordered(accountOp, ctx)) };
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

const accounts = Number(process.argv[2] ?? 1_000_000);
const entries = Number(process.argv[3] ?? 10_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

console.log(`wallet memory: ${accounts} accounts, ${entries} entries; load average ${loadavg()[0]!.toFixed(1)}; node ${process.version}`);
const small = new WalletService({ issuerPublicKey: ISSUER });
fill(stateOf(small), 1000, 10_000);
const smallPages = pages(small, 10_000);
console.log(`10 000 entries (1 000 accounts): global page ${smallPages.global.toFixed(0)} µs, account page ${smallPages.account.toFixed(0)} µs (median of 200, ${PAGE} entries, JSON included)`);

gc();
const base = process.memoryUsage();
const t0 = Date.now();
const big = new WalletService({ issuerPublicKey: ISSUER });
fill(stateOf(big), accounts, entries);
// Owner keys are verified from the account's raw 32 bytes (libsodium), so verifying a transfer
// from every account adds no memory: nothing is parsed or cached per key.
const fillS = (Date.now() - t0) / 1000;
gc();
const after = process.memoryUsage();
const bigPages = pages(big, entries);
console.log(`${entries} entries (${accounts} accounts), filled in ${fillS.toFixed(0)} s: global page ${bigPages.global.toFixed(0)} µs, account page ${bigPages.account.toFixed(0)} µs`);
// The ledger's columns are typed arrays: V8 counts them as external memory, not heap.
const stateBytes = after.heapUsed - base.heapUsed + (after.external - base.external);
console.log(`memory after GC: the state ${mib(stateBytes)} MiB (heap +${mib(after.heapUsed - base.heapUsed)}, external +${mib(after.external - base.external)}), ${(stateBytes / entries).toFixed(0)} bytes per entry; process RSS ${mib(after.rss)} MiB`);
