/**
 * Canonical binary reading and writing for protocol messages.
 *
 * Why hand-written layouts: consensus digests and signatures need identical bytes on
 * every replica (no key-order or Map-order accidents), and fixed layouts encode and
 * decode several times faster than JSON or MessagePack (shared/libraries.md).
 * Integers are big-endian; "u53" is an 8-byte unsigned integer that must fit in a
 * JavaScript safe integer.
 */

/** Thrown by `ByteReader` on malformed input; decoders turn it into a rejection reason. */
export class DecodeError extends Error {}

/**
 * One scratch buffer shared by every writer that finds it free. Why: a fresh 256-byte
 * buffer (and DataView) per encoded message was ≈ 10 % of the core's CPU in profiles and
 * a large part of its GC; a finished message is copied out at its exact size instead,
 * into a slab (`allocateBytes`, below).
 * A writer created while another holds the scratch (nested encoding) gets its own buffer.
 * A writer abandoned by an exception before `finish()` (an encoder bug: out-of-range field)
 * keeps the scratch: later writers then use their own buffers, slower but still correct.
 */
const SCRATCH_BYTES = 64 * 1024;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchView = new DataView(scratch.buffer);
let scratchBusy = false;
const EMPTY = new Uint8Array(0);

/**
 * Where finished messages (and received frames) are copied to: shared 8 KiB slabs, as
 * Node's Buffer pool does, for 1 B to 4 KiB. Why: a typed array with its own off-heap
 * backing store costs ≈ 1 µs to allocate and collect here (`new Uint8Array(110)`: 913 ns;
 * a slab view: 86 ns). V8 keeps arrays of ≤ 64 bytes on its heap, which is cheap to
 * allocate, but taking a view of one (`subarray`, as every decoder does, or `.buffer`)
 * first moves it off the heap at the same ≈ 1 µs, so small messages come from slabs too.
 * The price, the same as Buffer's: a message kept for long keeps its whole slab (≤ 8 KiB)
 * alive; long-lived holders (the reply cache) copy what they keep.
 */
const SLAB_BYTES = 8 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * `bytes` as an array that does not keep much more than itself alive: a copy when it is a
 * small view into a larger buffer (a slab, a received frame), else `bytes` itself. For what
 * is kept for long (decisions, cached replies): a kept view keeps its whole buffer alive.
 * A view that covers at least half of its buffer (a large batch in the frame it came in) is
 * kept as it is: copying it would cost more than the memory it pins. Copies of ≤ 64 bytes
 * live on V8's heap, which is cheap. Callers pass bytes nobody writes to afterwards (frames
 * and encoder outputs are never reused).
 */
export function detach(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength <= 64) return bytes.slice();
  return bytes.byteLength * 2 >= bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** A zero-filled array of `length` bytes, from a slab when it pays (see above). */
export function allocateBytes(length: number): Uint8Array {
  if (length === 0 || length > SLAB_BYTES / 2) return new Uint8Array(length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += (length + 7) & ~7; // 8-byte aligned, like Buffer's pool
  return out;
}

/** Appends fields to a growing buffer; `finish()` returns exactly the written bytes. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private shared: boolean;

  /** `initialBytes`: the expected size; an own buffer of this size is used when it exceeds SLAB_BYTES / 2 or the scratch is taken. */
  constructor(initialBytes = 256) {
    // A writer expected to pass a slab's share (bulk: a batch, a PROPOSE) starts with its own
    // buffer of the expected size, which `finish` returns without copying; smaller ones use
    // the scratch and are copied out at their exact size.
    this.shared = !scratchBusy && initialBytes <= SLAB_BYTES / 2;
    if (this.shared) {
      scratchBusy = true;
      this.buf = scratch;
      this.view = scratchView;
    } else {
      this.buf = new Uint8Array(initialBytes);
      this.view = new DataView(this.buf.buffer);
    }
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 64);
    while (size < this.pos + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.release();
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Gives the scratch back (idempotent). */
  private release(): void {
    if (this.shared) {
      this.shared = false;
      scratchBusy = false;
    }
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.pos, value);
    this.pos += 1;
    return this;
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
    this.reserve(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
    return this;
  }

  u53(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u53 out of range: ${value}`);
    this.reserve(8);
    this.view.setUint32(this.pos, Math.floor(value / 2 ** 32));
    this.view.setUint32(this.pos + 4, value >>> 0);
    this.pos += 8;
    return this;
  }

  /** Raw bytes with no length prefix (fixed-size fields such as digests). */
  raw(bytes: Uint8Array): this {
    const n = bytes.length;
    this.reserve(n);
    // TypedArray.set has a fixed cost that a loop beats for short fields (ids, digests).
    if (n <= 32) for (let i = 0; i < n; i++) this.buf[this.pos + i] = bytes[i] as number;
    else this.buf.set(bytes, this.pos);
    this.pos += n;
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /**
   * The written bytes. From the shared scratch: an exact-size copy; from an own buffer: a
   * view of it (no copy). Do not write after finishing.
   */
  finish(): Uint8Array {
    if (!this.shared) return this.buf.subarray(0, this.pos);
    const out = allocateBytes(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.release();
    this.buf = EMPTY;
    this.pos = 0;
    return out;
  }
}

/** Reads fields in order; every read checks bounds and throws `DecodeError` when the input is short. */
export class ByteReader {
  // Integers are assembled from bytes rather than read through a DataView: one DataView
  // per decoded message was a visible allocation in profiles, and readers are short-lived.
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  private need(bytes: number, what: string): void {
    if (this.pos + bytes > this.buf.length) throw new DecodeError(`truncated ${what}: need ${bytes} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u53(what = 'u53'): number {
    this.need(8, what);
    const hi = readU32(this.buf, this.pos);
    const lo = readU32(this.buf, this.pos + 4);
    if (hi > 0x1fffff) throw new DecodeError(`${what} exceeds 2^53`);
    this.pos += 8;
    return hi * 2 ** 32 + lo;
  }

  /** Fixed-size raw bytes (a view, not a copy). */
  raw(length: number, what = 'bytes'): Uint8Array {
    this.need(length, what);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Length-prefixed bytes, at most `maxBytes` long (a view, not a copy). */
  bytes(maxBytes: number, what = 'bytes'): Uint8Array {
    const length = this.u32(`${what} length`);
    if (length > maxBytes) throw new DecodeError(`${what} is ${length} bytes, more than the ${maxBytes} allowed`);
    return this.raw(length, what);
  }

  /** A count prefix (u32) bounded by `max`. */
  count(max: number, what: string): number {
    const n = this.u32(`${what} count`);
    if (n > max) throw new DecodeError(`${what} count ${n} exceeds the maximum ${max}`);
    return n;
  }

  /** Current offset: lets a decoder take the exact signed prefix of a message. */
  offset(): number {
    return this.pos;
  }

  /** The bytes [from, current offset) as a view. */
  slice(from: number): Uint8Array {
    return this.buf.subarray(from, this.pos);
  }

  end(what: string): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${this.buf.length - this.pos} trailing bytes after ${what}`);
  }
}

/** Big-endian u32 at `at`; the caller has checked the bounds. */
function readU32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

/**
 * Node's Buffer.compare (a memcmp) when the runtime has it. Why: comparing 1 KiB payloads
 * byte by byte in JavaScript (a proposed request against the one its client sent) was
 * ~6 % of a follower's CPU with 1 KiB requests. The core stays free of Node imports.
 */
const nativeCompare = (globalThis as { Buffer?: { compare(a: Uint8Array, b: Uint8Array): number } }).Buffer?.compare;

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length >= 64 && nativeCompare) return nativeCompare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The two lowercase hex digits of each byte value, as UTF-16 code units: [2b] and [2b + 1]. */
const HEX_CODES = (() => {
  const digits = '0123456789abcdef';
  const codes = new Uint16Array(512);
  for (let b = 0; b < 256; b++) {
    codes[2 * b] = digits.charCodeAt(b >> 4);
    codes[2 * b + 1] = digits.charCodeAt(b & 15);
  }
  return codes;
})();
/** Reused for digests (32 bytes) and anything up to 64 bytes. */
const hexScratch = new Uint16Array(128);

/**
 * Lowercase hex, for map keys and logs. Built as one flat string from a table: digests are
 * turned into map keys several times per consensus instance, and the per-byte
 * `toString(16).padStart` with `+=` it replaces cost ≈ 2.3 µs per 32-byte digest (a rope
 * that each Map lookup then flattens and hashes) against ≈ 1 µs.
 */
export function toHex(bytes: Uint8Array): string {
  const units = bytes.length * 2;
  const out = units <= hexScratch.length ? hexScratch.subarray(0, units) : new Uint16Array(units);
  for (let i = 0; i < bytes.length; i++) {
    const at = (bytes[i] as number) * 2;
    out[2 * i] = HEX_CODES[at] as number;
    out[2 * i + 1] = HEX_CODES[at + 1] as number;
  }
  // Chunked: fromCharCode.apply takes its argument list on the stack.
  if (units <= 8192) return String.fromCharCode.apply(null, out as unknown as number[]);
  let s = '';
  for (let i = 0; i < units; i += 8192) s += String.fromCharCode.apply(null, out.subarray(i, i + 8192) as unknown as number[]);
  return s;
}
