/**
 * Frames waiting for a connection, bounded in bytes. When full, the OLDEST frames are dropped
 * to make room: for replica traffic the newest messages (current view/instance) matter most,
 * and the protocol retransmits or catches up on what is lost.
 */
import { FRAME_HEADER_BYTES } from './framing.ts';

export class FrameQueue {
  private readonly bytesMax: number;
  private frames: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  framesDropped = 0;

  /** @param bytesMax bound on queued bytes, each frame counted with its 4-byte header. */
  constructor(bytesMax: number) {
    if (!Number.isInteger(bytesMax) || bytesMax < 0) throw new RangeError(`queueBytesMax must be an integer >= 0, got ${bytesMax}`);
    this.bytesMax = bytesMax;
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Adds a frame, dropping the oldest ones while over the bound.
   * @returns false (and drops it) when the frame alone exceeds the bound.
   */
  push(frame: Uint8Array): boolean {
    const bytes = FRAME_HEADER_BYTES + frame.length;
    if (bytes > this.bytesMax) {
      this.framesDropped++;
      return false;
    }
    while (this.queuedBytes + bytes > this.bytesMax) this.dropOldest();
    this.frames.push(frame);
    this.queuedBytes += bytes;
    return true;
  }

  /** Removes and returns every queued frame, oldest first. */
  drain(): Uint8Array[] {
    const out = this.frames.slice(this.head);
    this.clear();
    return out;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private dropOldest(): void {
    const frame = this.frames[this.head] as Uint8Array;
    this.frames[this.head] = EMPTY; // release the memory now
    this.head++;
    this.queuedBytes -= FRAME_HEADER_BYTES + frame.length;
    this.framesDropped++;
    // Compact once the dead prefix dominates, so drops stay O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
