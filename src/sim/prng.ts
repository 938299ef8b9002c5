/**
 * The simulator's only source of randomness: xoshiro128** seeded through splitmix32.
 *
 * Every random choice of a run comes from one seed. Components draw from their own
 * stream (`fork(label)`), derived from the seed and a label without consuming the
 * parent's stream, so adding a draw in one component does not shift every other
 * component's choices (a minimised configuration stays comparable to the original).
 * Never Math.random: a run must replay bit for bit.
 */

/** A seed is any non-negative safe integer. */
export type Seed = number;

function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return { state: next, value: z >>> 0 };
}

/** FNV-1a over the UTF-16 code units of `text` (labels are short ASCII). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** What this stream was seeded with: forks derive from it, not from the stream's position. */
  private readonly seed: Seed;
  private readonly salt: number;

  /** @throws RangeError unless `seed` is a non-negative safe integer. */
  constructor(seed: Seed, salt = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`a seed is a non-negative safe integer, got ${seed}`);
    this.seed = seed;
    this.salt = salt >>> 0;
    const lo = (seed >>> 0) ^ this.salt;
    const hi = Math.floor(seed / 2 ** 32) ^ Math.imul(this.salt, 0x27d4eb2d);
    let s = splitmix32(lo ^ rotl(hi, 16));
    this.a = s.value;
    s = splitmix32(s.state ^ hi);
    this.b = s.value;
    s = splitmix32(s.state);
    this.c = s.value;
    s = splitmix32(s.state);
    this.d = s.value;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1; // xoshiro's one forbidden state
  }

  /** An independent stream named `label`, derived from this stream's seed (not its position). */
  fork(label: string): Prng {
    return new Prng(this.seed, Math.imul(rotl(this.salt, 13) ^ fnv1a(label), 0x9e3779b1) ^ fnv1a(label));
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`empty range [${min}, ${max}]`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** A uniformly chosen element. @throws RangeError for an empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An element chosen with the given non-negative weights. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** An exponentially distributed float with the given mean. */
  exponential(meanValue: number): number {
    return -Math.log(1 - this.next()) * meanValue;
  }

  /** `count` random bytes. */
  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i += 4) {
      const v = this.u32();
      for (let k = 0; k < 4 && i + k < count; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }
}
