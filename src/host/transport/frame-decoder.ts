/**
 * Incremental decoder of length-prefixed frames from a byte stream whose chunk boundaries are
 * arbitrary (one frame split over many chunks, many frames in one chunk, or both).
 *
 * Cost: a frame that lies inside one chunk is delivered as a view of that chunk (no copy); a
 * frame spread over several chunks is copied once, when its last byte arrives. Partial chunks
 * are only appended to a list meanwhile, so a frame arriving one byte at a time is linear, not
 * quadratic. At most one partial frame (<= 4 + frameBytesMax bytes) is ever buffered: the
 * length is checked against frameBytesMax as soon as the header is complete, before any of the
 * body is kept.
 *
 * Delivered frames are views into the socket's chunks. Node never reuses those chunks, so a
 * frame stays valid, but it pins its chunk (up to ~16 KiB under TLS): copy frames you retain in
 * bulk for a long time.
 */
import { assertFrameBytesMax, FRAME_BYTES_MAX_DEFAULT, FRAME_HEADER_BYTES } from './framing.ts';

/** Why a stream was abandoned; after an error the decoder stays failed. */
export interface FrameDecodeError {
  readonly code: 'FRAME_TOO_LARGE';
  readonly frameBytes: number;
  readonly frameBytesMax: number;
  readonly reason: string;
}

export class FrameDecoder {
  private readonly frameBytesMax: number;
  /** Chunks of the current partial frame (header included), oldest first. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Body length of the current partial frame once its header is complete, else -1. */
  private pendingFrameBytes = -1;
  private failure: FrameDecodeError | null = null;

  /** @param frameBytesMax largest body length accepted, default 16 MiB. @throws RangeError for a bad bound. */
  constructor(frameBytesMax: number = FRAME_BYTES_MAX_DEFAULT) {
    assertFrameBytesMax(frameBytesMax);
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  /**
   * Consumes `chunk`, calling `onFrame` for every frame it completes, in order.
   * @returns null, or the error that ends this stream (the caller should close the connection);
   *   frames completed before the offending header are still delivered.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): FrameDecodeError | null {
    if (this.failure !== null) return this.failure;
    if (chunk.length === 0) return null;
    if (this.partsBytes === 0) return this.scan(chunk, onFrame);
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    if (this.pendingFrameBytes < 0) {
      if (this.partsBytes < FRAME_HEADER_BYTES) return null;
      this.pendingFrameBytes = this.readSplitHeader();
      if (this.pendingFrameBytes > this.frameBytesMax) return this.fail(this.pendingFrameBytes);
    }
    const frameEnd = FRAME_HEADER_BYTES + this.pendingFrameBytes;
    if (this.partsBytes < frameEnd) return null;
    // The frame is complete: copy exactly its bytes once, then scan what follows in the last chunk.
    const whole = Buffer.concat(this.parts, frameEnd);
    const rest = chunk.subarray(chunk.length - (this.partsBytes - frameEnd));
    this.parts = [];
    this.partsBytes = 0;
    this.pendingFrameBytes = -1;
    onFrame(whole.subarray(FRAME_HEADER_BYTES));
    return this.scan(rest, onFrame);
  }

  /** Frames that lie entirely in `chunk` are delivered as views; a trailing partial frame is kept. */
  private scan(chunk: Buffer, onFrame: (frame: Buffer) => void): FrameDecodeError | null {
    let offset = 0;
    while (chunk.length - offset >= FRAME_HEADER_BYTES) {
      const frameBytes = chunk.readUInt32BE(offset);
      if (frameBytes > this.frameBytesMax) return this.fail(frameBytes);
      const frameEnd = offset + FRAME_HEADER_BYTES + frameBytes;
      if (frameEnd > chunk.length) {
        this.pendingFrameBytes = frameBytes;
        break;
      }
      onFrame(chunk.subarray(offset + FRAME_HEADER_BYTES, frameEnd));
      offset = frameEnd;
    }
    if (offset < chunk.length) {
      this.parts.push(chunk.subarray(offset));
      this.partsBytes = chunk.length - offset;
    }
    return null;
  }

  /** Reads the 4-byte length when it straddles chunks (touches at most 4 of them). */
  private readSplitHeader(): number {
    let length = 0;
    let have = 0;
    for (const part of this.parts) {
      for (let i = 0; i < part.length && have < FRAME_HEADER_BYTES; i++, have++) length = length * 256 + (part[i] as number);
      if (have === FRAME_HEADER_BYTES) break;
    }
    return length;
  }

  private fail(frameBytes: number): FrameDecodeError {
    this.parts = [];
    this.partsBytes = 0;
    this.failure = {
      code: 'FRAME_TOO_LARGE',
      frameBytes,
      frameBytesMax: this.frameBytesMax,
      reason: `peer announced a ${frameBytes}-byte frame, above frameBytesMax ${this.frameBytesMax}`,
    };
    return this.failure;
  }
}

/** Header + body of one frame as a new Buffer (for tests and one-off writes; the hot path coalesces). */
export function encodeFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + frame.length);
  out.writeUInt32BE(frame.length, 0);
  out.set(frame, FRAME_HEADER_BYTES);
  return out;
}
