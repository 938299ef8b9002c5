/**
 * Coalescing, bounded frame writer for one socket.
 *
 * Why: one write() per small frame costs 10x the throughput of one write per event-loop turn
 * (measured here: 0.3-0.6 M vs 4-8 M msg/s over TCP). Frames sent are queued and flushed
 * either on process.nextTick ('tick': at the end of the current callback) or, for the real
 * connections, once per event-loop iteration ('immediate': in the check phase, after every
 * socket that epoll reported readable has been handled). The latter matters because a write
 * to a loopback TCP socket is expensive here (TLS record + syscall + waking the peer, 10-50 µs):
 * a replica or client that hears from several peers in one iteration then sends each peer one
 * write instead of one per incoming chunk. Small frames are copied, with their headers, into
 * one buffer; a large frame is written as its own header + body (no copy); all under one
 * cork/uncork, so the socket sees a single writev.
 *
 * Bound: the bytes queued here plus the socket's own write buffer never exceed
 * `sendBufferBytesMax`; a frame that would pass it is dropped (the newest is dropped: older
 * frames are already in the socket) and counted. A peer that does not read cannot make us grow.
 *
 * The caller must not modify a frame after send(): it is read at flush time.
 */
import { FRAME_HEADER_BYTES } from './framing.ts';

/** The part of a net.Socket the writer uses (a fake in tests). */
export interface FrameSink {
  readonly writableLength: number;
  cork(): void;
  uncork(): void;
  write(data: Uint8Array): boolean;
}

/** Frames at most this long are copied into the coalesced buffer; longer ones are written as they are. */
const COPY_FRAME_BYTES_MAX = 16 * 1024;
/** Size of one coalesced buffer; a turn with more small frames writes several. */
const COALESCE_BYTES_MAX = 256 * 1024;

export interface FrameWriterStats {
  framesSent: number;
  bytesSent: number;
  framesDropped: number;
  writeCalls: number;
}

/** When queued frames are written: end of the current callback, or end of the event-loop iteration. */
export type FlushSchedule = 'tick' | 'immediate';

/** Writers with frames waiting for the shared end-of-iteration flush. */
const pendingImmediate = new Set<FrameWriter>();
let immediateScheduled = false;

function flushPendingImmediate(): void {
  immediateScheduled = false;
  let failure: unknown = null;
  for (const writer of pendingImmediate) {
    pendingImmediate.delete(writer);
    // One writer's failure must not leave the others waiting for a flush that never comes.
    try {
      writer.flush();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== null) throw failure;
}

export class FrameWriter {
  private readonly sink: FrameSink;
  private readonly schedule: FlushSchedule;
  private readonly sendBufferBytesMax: number;
  private queue: Uint8Array[] = [];
  private queueBytes = 0;
  private flushScheduled = false;
  private stopped = false;
  readonly stats: FrameWriterStats = { framesSent: 0, bytesSent: 0, framesDropped: 0, writeCalls: 0 };

  /**
   * @param sendBufferBytesMax bound on queued + socket-buffered bytes (headers included).
   * @param schedule when queued frames are written (see the module comment); default 'tick'.
   */
  constructor(sink: FrameSink, sendBufferBytesMax: number, schedule: FlushSchedule = 'tick') {
    this.sink = sink;
    this.schedule = schedule;
    this.sendBufferBytesMax = sendBufferBytesMax;
  }

  /** Bytes waiting here or in the socket's buffer. */
  get bufferedBytes(): number {
    return this.queueBytes + this.sink.writableLength;
  }

  /**
   * Queues `frame` for this turn's flush.
   * @returns false when the frame was dropped: writer stopped, or the send buffer bound would be passed.
   */
  send(frame: Uint8Array): boolean {
    const bytes = FRAME_HEADER_BYTES + frame.length;
    if (this.stopped || this.bufferedBytes + bytes > this.sendBufferBytesMax) {
      this.stats.framesDropped++;
      return false;
    }
    this.queue.push(frame);
    this.queueBytes += bytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.schedule === 'tick') {
        process.nextTick(() => this.flush());
      } else {
        pendingImmediate.add(this);
        if (!immediateScheduled) {
          immediateScheduled = true;
          setImmediate(flushPendingImmediate);
        }
      }
    }
    return true;
  }

  /** Drops what is queued and refuses further frames (the socket is going away). */
  stop(): void {
    this.stopped = true;
    pendingImmediate.delete(this);
    this.queue = [];
    this.queueBytes = 0;
  }

  /** Writes everything queued now. Called when scheduled; safe to call directly. */
  flush(): void {
    this.flushScheduled = false;
    pendingImmediate.delete(this);
    if (this.stopped || this.queue.length === 0) return;
    const frames = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    this.sink.cork();
    try {
      this.writeAll(frames);
    } finally {
      this.sink.uncork();
    }
  }

  private writeAll(frames: readonly Uint8Array[]): void {
    let batch: Buffer | null = null;
    let batchUsed = 0;
    const writeBatch = () => {
      if (batch !== null && batchUsed > 0) this.write(batch.subarray(0, batchUsed));
      batch = null;
      batchUsed = 0;
    };
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as Uint8Array;
      const bytes = FRAME_HEADER_BYTES + frame.length;
      this.stats.framesSent++;
      this.stats.bytesSent += bytes;
      if (frame.length > COPY_FRAME_BYTES_MAX) {
        writeBatch();
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        header.writeUInt32BE(frame.length, 0);
        this.write(header);
        this.write(frame);
        continue;
      }
      if (batch === null || batchUsed + bytes > (batch as Buffer).length) {
        writeBatch();
        batch = Buffer.allocUnsafe(Math.max(bytes, Math.min(COALESCE_BYTES_MAX, this.remainingBytes(frames, i))));
      }
      const b = batch as Buffer;
      b.writeUInt32BE(frame.length, batchUsed);
      b.set(frame, batchUsed + FRAME_HEADER_BYTES);
      batchUsed += bytes;
    }
    writeBatch();
  }

  /** Bytes of the small frames from `from` up to the next large one (sizes the next batch buffer). */
  private remainingBytes(frames: readonly Uint8Array[], from: number): number {
    let total = 0;
    for (let i = from; i < frames.length && total < COALESCE_BYTES_MAX; i++) {
      const length = (frames[i] as Uint8Array).length;
      if (length > COPY_FRAME_BYTES_MAX) break;
      total += FRAME_HEADER_BYTES + length;
    }
    return total;
  }

  private write(data: Uint8Array): void {
    this.stats.writeCalls++;
    this.sink.write(data);
  }
}
