/**
 * The wallet's 300-entry ledger page in one process: what each replica pays to build it and
 * what a reader pays to parse it. A ledger of 900 entries (registers, deposits, transfers,
 * timestamps of today's size), then, for the page of entries 300..599:
 *   - `build`: the page as the wallet builds it (`onLedger` + `encodeOutcome`, lever 39);
 *   - `stringify`: the same bytes the way the wallet built them before lever 39
 *     (`JSON.stringify` of the entry objects);
 *   - `parse`: `JSON.parse` of the page, what the gateway skips for its own replica's
 *     results (lever 40) and what every HTTPS client still pays.
 *
 *   node --import tsx bench/ledger-page.ts
 *
 * Prints µs per page, the median of 7 rounds of 2 000 after a warm-up. Used for
 * docs/performance.md (eleventh session).
 */
import assert from 'node:assert/strict';
import { WalletState } from '../src/wallet/state.ts';
import { onLedger } from '../src/wallet/queries.ts';
import { encodeOutcome } from '../src/wallet/results.ts';
import type { ParsedLedger } from '../src/wallet/parse-request.ts';
import { medianNanosPerCall } from './timing.ts';

const ENTRIES_PER_KIND = 300;
const PAGES_PER_ROUND = 2000;
const T0 = 1_763_860_000_000;

const state = new WalletState();
const key = new Uint8Array(32).fill(7);
let cid = 0;
const at = () => ({ cid: ++cid, timestampMs: T0 + cid });
for (let i = 0; i < ENTRIES_PER_KIND; i++) state.register(`acct-${i}`, key, at());
for (let i = 0; i < ENTRIES_PER_KIND; i++) state.deposit(`acct-${i}`, 1000n + BigInt(i), 1, at());
for (let i = 0; i < ENTRIES_PER_KIND; i++) state.transfer(`acct-${i}`, `acct-${(i + 1) % ENTRIES_PER_KIND}`, 10n, 1, at());

const request = { op: 'ledger', cursorIndex: 300, limit: 300 } as ParsedLedger;
const utf8 = new TextEncoder();
const build = () => encodeOutcome(onLedger(state, request));
const nextCursor = (JSON.parse(new TextDecoder().decode(build())) as { value: { nextCursor: string } }).value.nextCursor;
const stringify = () => {
  const entries = [];
  for (let i = 300; i < 600; i++) entries.push(state.entryAt(i));
  return utf8.encode(JSON.stringify({ ok: true, value: { entries, nextCursor } }));
};
const page = new TextDecoder().decode(build());
assert.equal(page, new TextDecoder().decode(stringify()), 'both ways write the same bytes');
const parse = () => JSON.parse(page) as unknown;

console.log(`page of 300 entries, ${page.length} bytes`);
for (const [name, fn] of [['build', build], ['stringify', stringify], ['parse', parse]] as const) {
  console.log(`${name.padEnd(10)} ${(medianNanosPerCall(fn, PAGES_PER_ROUND) / 1000).toFixed(0).padStart(5)} µs per page`);
}
