import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../src/host/transport/backoff.ts';
import { encodeFrame, FrameDecoder } from '../../src/host/transport/frame-decoder.ts';
import { FrameQueue } from '../../src/host/transport/frame-queue.ts';
import { FrameWriter, type FrameSink } from '../../src/host/transport/frame-writer.ts';

/** Deterministic PRNG (mulberry32) so every run splits the stream the same way. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function patternFrame(index: number, length: number): Buffer {
  const frame = Buffer.alloc(length);
  for (let i = 0; i < length; i++) frame[i] = (index * 31 + i) & 0xff;
  return frame;
}

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  for (const chunk of chunks) assert.equal(decoder.push(chunk, (f) => frames.push(Buffer.from(f))), null);
  return frames;
}

describe('FrameDecoder', () => {
  it('decodes a frame written one byte at a time', () => {
    const frame = patternFrame(1, 300);
    const wire = encodeFrame(frame);
    const chunks = [...wire].map((b) => Buffer.from([b]));
    const decoder = new FrameDecoder();
    assert.deepEqual(decodeAll(decoder, chunks), [frame]);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('decodes many frames coalesced in one chunk, including empty frames', () => {
    const frames = [patternFrame(0, 0), patternFrame(1, 5), patternFrame(2, 0), patternFrame(3, 1000)];
    const decoder = new FrameDecoder();
    assert.deepEqual(decodeAll(decoder, [Buffer.concat(frames.map(encodeFrame))]), frames);
  });

  it('decodes any split of a stream of mixed frames (seeded random chunking)', () => {
    const random = prng(42);
    for (let round = 0; round < 20; round++) {
      const frames = Array.from({ length: 200 }, (_, i) => patternFrame(i, random() < 0.1 ? Math.floor(random() * 70_000) : Math.floor(random() * 200)));
      const wire = Buffer.concat(frames.map(encodeFrame));
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < wire.length; ) {
        const size = random() < 0.3 ? 1 + Math.floor(random() * 5) : 1 + Math.floor(random() * 40_000);
        chunks.push(wire.subarray(offset, offset + size));
        offset += size;
      }
      const decoder = new FrameDecoder();
      assert.deepEqual(decodeAll(decoder, chunks), frames, `round ${round}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it('keeps a large frame fed byte by byte linear (no re-copying of the partial frame)', () => {
    const frame = patternFrame(7, 512 * 1024);
    const wire = encodeFrame(frame);
    const decoder = new FrameDecoder();
    const frames: Buffer[] = [];
    const startMs = performance.now();
    for (let i = 0; i < wire.length; i++) decoder.push(wire.subarray(i, i + 1), (f) => frames.push(f));
    const elapsedMs = performance.now() - startMs;
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(frame));
    // Quadratic copying would move ~1.4e11 bytes here (minutes); linear takes well under a second.
    assert.ok(elapsedMs < 3000, `took ${elapsedMs} ms`);
  });

  it('refuses a frame above frameBytesMax as soon as the header is complete, and stays failed', () => {
    const decoder = new FrameDecoder(1024);
    const ok = encodeFrame(patternFrame(0, 1024));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    const delivered: Buffer[] = [];
    assert.equal(decoder.push(ok, (f) => delivered.push(f)), null);
    assert.equal(decoder.push(header.subarray(0, 2), (f) => delivered.push(f)), null);
    const error = decoder.push(header.subarray(2), (f) => delivered.push(f));
    assert.equal(error?.code, 'FRAME_TOO_LARGE');
    assert.equal(error?.frameBytes, 1025);
    assert.match(error?.reason ?? '', /1025-byte frame, above frameBytesMax 1024/);
    assert.equal(decoder.bufferedBytes, 0, 'nothing of the oversize frame is kept');
    assert.equal(delivered.length, 1);
    assert.equal(decoder.push(ok, (f) => delivered.push(f))?.code, 'FRAME_TOO_LARGE');
    assert.equal(delivered.length, 1);
  });

  it('delivers the frames before an oversize header in the same chunk', () => {
    const decoder = new FrameDecoder(10);
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(0xffffffff);
    const delivered: Buffer[] = [];
    const error = decoder.push(Buffer.concat([encodeFrame(Buffer.from('hello')), bad]), (f) => delivered.push(f));
    assert.equal(error?.frameBytes, 0xffffffff);
    assert.deepEqual(delivered, [Buffer.from('hello')]);
  });
});

class FakeSink implements FrameSink {
  writableLength = 0;
  writes: Buffer[] = [];
  corked = 0;
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
  write(data: Uint8Array): boolean {
    assert.ok(this.corked > 0, 'writes happen corked');
    this.writes.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return true;
  }
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

describe('FrameWriter', () => {
  it('coalesces the small frames of one turn into one write', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, 1 << 30);
    const frames = Array.from({ length: 1000 }, (_, i) => patternFrame(i, i % 100));
    for (const frame of frames) assert.equal(writer.send(frame), true);
    assert.equal(sink.writes.length, 0, 'nothing written before the turn ends');
    await nextTick();
    assert.equal(sink.writes.length, 1);
    assert.deepEqual(decodeAll(new FrameDecoder(), sink.writes), frames);
    assert.equal(writer.stats.framesSent, 1000);
  });

  it('writes large frames without copying them, keeping the order', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, 1 << 30);
    const big = patternFrame(1, 100_000);
    const frames = [patternFrame(0, 10), big, patternFrame(2, 10), patternFrame(3, 10)];
    for (const frame of frames) writer.send(frame);
    await nextTick();
    assert.equal(sink.writes.length, 4, 'small run, header, big body, small run');
    assert.equal(sink.writes[2]?.buffer, big.buffer, 'body is the caller’s buffer');
    assert.deepEqual(decodeAll(new FrameDecoder(), sink.writes), frames);
  });

  it('drops the newest frame once queued + socket-buffered bytes would pass the bound', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, 100);
    assert.equal(writer.send(Buffer.alloc(46)), true); // 50 bytes with header
    assert.equal(writer.send(Buffer.alloc(46)), true); // 100
    assert.equal(writer.send(Buffer.alloc(0)), false); // 104 > 100
    assert.equal(writer.stats.framesDropped, 1);
    await nextTick();
    sink.writableLength = 100; // the kernel has not taken them yet
    assert.equal(writer.send(Buffer.alloc(0)), false);
    sink.writableLength = 0;
    assert.equal(writer.send(Buffer.alloc(0)), true);
  });
});

describe('FrameQueue', () => {
  it('drops the oldest frames to stay within its byte bound', () => {
    const queue = new FrameQueue(30);
    for (let i = 0; i < 5; i++) assert.equal(queue.push(Buffer.from([i, i, i, i, i, i])), true); // 10 bytes each
    assert.equal(queue.bytes, 30);
    assert.equal(queue.framesDropped, 2);
    assert.deepEqual(queue.drain().map((f) => f[0]), [2, 3, 4]);
    assert.equal(queue.push(Buffer.alloc(27)), false, 'a frame larger than the bound alone');
    assert.equal(queue.length, 0);
  });

  it('stays correct across many drops (compaction)', () => {
    const queue = new FrameQueue(4 * 10);
    for (let i = 0; i < 10_000; i++) queue.push(Buffer.from(Uint32Array.of(i).buffer));
    assert.deepEqual(queue.drain().map((f) => Buffer.from(f).readUInt32LE(0)), [9995, 9996, 9997, 9998, 9999]);
  });
});

describe('Backoff', () => {
  it('doubles from min to max with jitter in [delay/2, delay], and resets', () => {
    const top = new Backoff(50, 2000, () => 0.999999);
    assert.deepEqual(Array.from({ length: 8 }, () => top.nextDelayMs()), [50, 100, 200, 400, 800, 1600, 2000, 2000]);
    const bottom = new Backoff(50, 2000, () => 0);
    assert.deepEqual(Array.from({ length: 3 }, () => bottom.nextDelayMs()), [25, 50, 100]);
    top.reset();
    assert.equal(top.nextDelayMs(), 50);
  });
});
