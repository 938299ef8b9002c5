/**
 * The key alphabet shared by every backend, checked before anything is applied so that
 * a bad batch is rejected whole.
 *
 * Keys are 1..KEY_CHARS_MAX printable ASCII characters (0x20–0x7E). Every backend then
 * orders them identically: JavaScript string comparison, SQLite's BINARY collation and
 * Redis' lexicographic sorted sets all reduce to bytewise comparison on ASCII.
 * Range bounds may be any ASCII string (0x00–0x7F) up to KEY_CHARS_MAX + 1 characters,
 * so `KEY_END` ('\x7f') is an upper bound above every key.
 *
 * Within one batch, every backend applies operations in this order: deleteRanges,
 * then deletes, then puts (in array order, so the last put of a key wins). A put
 * therefore survives a delete of the same key in the same batch.
 */
import { StorageInputError } from './errors.ts';
import type { KvWrite } from './kv.ts';

export const KEY_CHARS_MAX = 1024;
/** An exclusive upper bound greater than every valid key: `range(prefix, prefix + KEY_END)` spans a prefix. */
export const KEY_END = '\x7f';

/**
 * Test-only fault injection, accepted by every backend's options: called with the
 * operation's index (0-based, in apply order) just before each operation of a batch
 * is applied or queued. If it throws, the batch must leave nothing behind and `write`
 * rejects with that error.
 */
export type FaultHook = (opIndex: number) => void;

/** The FaultHook used when none is given. */
export const noFault: FaultHook = () => {};

const KEY_RE = /^[\x20-\x7e]+$/;
const BOUND_RE = /^[\x00-\x7f]*$/;

/** @throws StorageInputError unless `key` is 1..KEY_CHARS_MAX printable ASCII characters. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > KEY_CHARS_MAX || !KEY_RE.test(key)) {
    throw new StorageInputError(`invalid key ${describe(key)}: keys are 1..${KEY_CHARS_MAX} printable ASCII characters`);
  }
}

/** @throws StorageInputError unless `bound` is an ASCII string of at most KEY_CHARS_MAX + 1 characters. */
export function assertBound(bound: unknown): asserts bound is string {
  if (typeof bound !== 'string' || bound.length > KEY_CHARS_MAX + 1 || !BOUND_RE.test(bound)) {
    throw new StorageInputError(`invalid range bound ${describe(bound)}: bounds are ASCII strings of at most ${KEY_CHARS_MAX + 1} characters`);
  }
}

/** @throws StorageInputError unless `limit` is undefined or a non-negative safe integer. */
export function assertLimit(limit: unknown): void {
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)) {
    throw new StorageInputError(`invalid range limit ${describe(limit)}: a non-negative integer or undefined`);
  }
}

/**
 * Checks a whole batch before any of it is applied.
 * @returns the number of operations (puts + deletes + deleteRanges).
 * @throws StorageInputError naming the first bad key, bound or value.
 */
export function assertBatch(batch: KvWrite): number {
  if (typeof batch !== 'object' || batch === null) throw new StorageInputError('a batch must be an object');
  let ops = 0;
  for (const entry of batch.puts ?? []) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new StorageInputError('a put must be a [key, value] pair');
    assertKey(entry[0]);
    if (!(entry[1] instanceof Uint8Array)) throw new StorageInputError(`value for key ${JSON.stringify(entry[0])} must be a Uint8Array`);
    ops++;
  }
  for (const key of batch.deletes ?? []) {
    assertKey(key);
    ops++;
  }
  for (const entry of batch.deleteRanges ?? []) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new StorageInputError('a deleteRange must be a [from, to) pair');
    assertBound(entry[0]);
    assertBound(entry[1]);
    ops++;
  }
  return ops;
}

function describe(x: unknown): string {
  if (typeof x !== 'string') return `(${typeof x})`;
  return x.length > 40 ? `${JSON.stringify(x.slice(0, 40))}… (${x.length} chars)` : JSON.stringify(x);
}
