/**
 * JSON text written by hand for the one place where JSON.stringify is the bottleneck: ledger
 * pages. Every replica builds each page it serves (a 300-entry page is ≈ 35 KB), and on this
 * machine JSON.stringify of its entry objects took ≈ 270 µs, most of it formatting the
 * timestamps: an integer above 2^30 is a heap double, and V8 prints those through its
 * general double-to-string path (≈ 200 ns each against ≈ 10 ns for a small integer).
 * docs/performance.md, lever 39.
 *
 * The text must be byte-for-byte what JSON.stringify would write (replies are voted on, and
 * replicas of other builds must agree): tested against it in wallet-units.test.ts.
 */
import type { LedgerEntry } from './operations.ts';

/** A value already serialized as JSON; `encodeOutcome` writes `text` as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

const ZEROS = ['', '0', '00', '000', '0000', '00000'];
const SMALL_MAX = 0x3fffffff;
const MILLION = 1_000_000;

/**
 * Decimal text of a non-negative safe integer, equal to `String(x)`, built from integers
 * below 2^30 (V8 prints those, and caches them, fast).
 * @throws RangeError if `x` is not a non-negative safe integer (a caller's bug: ledger
 *   fields are checked when the entry is appended).
 */
export function safeIntegerText(x: number): string {
  if (x <= SMALL_MAX && x >= 0 && Number.isInteger(x)) return String(x | 0);
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`not a non-negative safe integer: ${x}`);
  // Exact: x / 10^6 is correctly rounded, and for x < 2^53 a quotient just below an integer
  // k is at least 10^-6 below it, more than half an ulp of k (< 2^33): it never rounds up to
  // k. high * 10^6 <= x < 2^53 is exact too.
  const high = Math.floor(x / MILLION);
  const low = x - high * MILLION;
  const lowText = String(low | 0);
  return safeIntegerText(high) + ZEROS[6 - lowText.length]! + lowText;
}

/**
 * `JSON.stringify(entry)` for an entry as WalletState.entryAt builds it (keys in the order of
 * the LedgerEntry types), written directly. No string needs escaping: account ids match
 * ACCOUNT_ID_PATTERN, public keys are base64url and amounts decimal digits.
 * @throws RangeError if an integer field is not a non-negative safe integer.
 */
export function ledgerEntryJson(e: LedgerEntry): string {
  const head = '{"index":' + safeIntegerText(e.index) + ',"type":"' + e.type + '"';
  const tail = ',"cid":' + safeIntegerText(e.cid) + ',"timestampMs":' + safeIntegerText(e.timestampMs) + '}';
  switch (e.type) {
    case 'register':
      return head + ',"accountId":"' + e.accountId + '","publicKey":"' + e.publicKey + '"' + tail;
    case 'deposit':
      return head + ',"accountId":"' + e.accountId + '","amount":"' + e.amount + '","nonce":' + safeIntegerText(e.nonce) + tail;
    case 'transfer':
      return head + ',"from":"' + e.from + '","to":"' + e.to + '","amount":"' + e.amount + '","nonce":' + safeIntegerText(e.nonce) + tail;
  }
}
