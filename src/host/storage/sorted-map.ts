/**
 * An ordered string → bytes map for the in-memory backend: keys kept sorted in chunks
 * of at most CHUNK_KEYS_MAX, so lookups are two binary searches and an insert or
 * delete moves at most one chunk (appends at the end — the common case for a log —
 * touch only the last chunk). Ordering is JavaScript string comparison, which equals
 * bytewise order on the ASCII keys the storage contract allows.
 */

const CHUNK_KEYS_MAX = 512;

export class SortedMap {
  /** @param chunkKeysMax keys per chunk before it splits (small values let tests exercise splits). */
  constructor(private readonly chunkKeysMax = CHUNK_KEYS_MAX) {}


  /** Non-empty chunks, each sorted, every key of chunk i < every key of chunk i+1. */
  private readonly keyChunks: string[][] = [];
  private readonly valueChunks: Uint8Array[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): Uint8Array | undefined {
    const c = this.chunkFor(key);
    if (c < 0) return undefined;
    const keys = this.keyChunks[c]!;
    const i = lowerBound(keys, key);
    return keys[i] === key ? this.valueChunks[c]![i] : undefined;
  }

  /** @returns the previous value, or undefined if the key was absent. */
  set(key: string, value: Uint8Array): Uint8Array | undefined {
    if (this.keyChunks.length === 0) {
      this.keyChunks.push([key]);
      this.valueChunks.push([value]);
      this.count = 1;
      return undefined;
    }
    let c = this.chunkFor(key);
    if (c < 0) c = this.keyChunks.length - 1; // beyond every key: append to the last chunk
    const keys = this.keyChunks[c]!;
    const values = this.valueChunks[c]!;
    const i = lowerBound(keys, key);
    if (keys[i] === key) {
      const previous = values[i];
      values[i] = value;
      return previous;
    }
    keys.splice(i, 0, key);
    values.splice(i, 0, value);
    this.count++;
    if (keys.length > this.chunkKeysMax) {
      const half = keys.length >>> 1;
      this.keyChunks.splice(c + 1, 0, keys.splice(half));
      this.valueChunks.splice(c + 1, 0, values.splice(half));
    }
    return undefined;
  }

  /** @returns the removed value, or undefined if the key was absent. */
  delete(key: string): Uint8Array | undefined {
    const c = this.chunkFor(key);
    if (c < 0) return undefined;
    const keys = this.keyChunks[c]!;
    const i = lowerBound(keys, key);
    if (keys[i] !== key) return undefined;
    const [previous] = this.valueChunks[c]!.splice(i, 1);
    keys.splice(i, 1);
    this.count--;
    if (keys.length === 0) {
      this.keyChunks.splice(c, 1);
      this.valueChunks.splice(c, 1);
    }
    return previous;
  }

  /**
   * Up to `max` entries with key in [from, to) — or (from, to) when `exclusiveFrom` —
   * in key order.
   */
  page(from: string, exclusiveFrom: boolean, to: string, max: number): [string, Uint8Array][] {
    const out: [string, Uint8Array][] = [];
    let c = this.chunkFor(from);
    if (c < 0) return out;
    let i = lowerBound(this.keyChunks[c]!, from);
    for (; c < this.keyChunks.length && out.length < max; c++, i = 0) {
      const keys = this.keyChunks[c]!;
      const values = this.valueChunks[c]!;
      for (; i < keys.length && out.length < max; i++) {
        const key = keys[i]!;
        if (key >= to) return out;
        if (exclusiveFrom && key === from) continue;
        out.push([key, values[i]!]);
      }
    }
    return out;
  }

  /** Index of the first chunk whose last key is >= key, or -1 if every key is < key. */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.keyChunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.keyChunks[mid]!;
      if (chunk[chunk.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.keyChunks.length ? lo : -1;
  }
}

/** First index i with keys[i] >= key (keys.length if none). */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
