/**
 * Observing a replica process from outside for benchmarks: its memory (from
 * /proc/<pid>/status, Linux only) and the events in its pino JSON log.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set size now, bytes. */
  readonly rssBytes: number;
  /** Peak resident set size over the process's life (VmHWM), bytes. */
  readonly peakRssBytes: number;
}

/** Reads VmRSS and VmHWM of `pid`. @returns null if the process is gone (or not Linux). */
export function readProcMemory(pid: number): ProcMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/**
 * Samples a process's memory every `intervalMs` and keeps the highest values seen
 * (VmHWM is already a peak; sampling VmRSS too guards against a kernel without it).
 */
export class MemorySampler {
  private timer: NodeJS.Timeout | null;
  peakRssBytes = 0;
  lastRssBytes = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const m = readProcMemory(this.pid);
    if (!m) return;
    this.lastRssBytes = m.rssBytes;
    this.peakRssBytes = Math.max(this.peakRssBytes, m.peakRssBytes, m.rssBytes);
  }

  /** Takes a last sample and stops. @returns the peak RSS in bytes. */
  stop(): number {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.peakRssBytes;
  }
}

/** One pino log line: `time` (epoch ms), `msg`, and the event's fields. */
export type LogRecord = { readonly time: number; readonly msg: string } & Record<string, unknown>;

/**
 * Reads a replica's log file from a byte offset on (the launcher appends across
 * restarts), so only the records of the current run are seen. Lines that are not JSON
 * (e.g. a crash trace) are kept as `{ msg: '<raw>', time: NaN }`.
 */
export class LogTail {
  private offset: number;
  private partial = '';
  readonly records: LogRecord[] = [];

  /** @param fromEnd start at the file's current end (true) or at its beginning. */
  constructor(
    private readonly path: string,
    fromEnd = true,
  ) {
    this.offset = fromEnd ? LogTail.size(path) : 0;
  }

  private static size(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }

  /** Reads what was appended since the last call. @returns the new records. */
  poll(): LogRecord[] {
    const size = LogTail.size(this.path);
    if (size <= this.offset) return [];
    const fd = openSync(this.path, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buf.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    const fresh: LogRecord[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        fresh.push(JSON.parse(line) as LogRecord);
      } catch {
        fresh.push({ time: Number.NaN, msg: line });
      }
    }
    this.records.push(...fresh);
    return fresh;
  }

  /** The first record (of this run) whose `msg` is `msg`, after polling. */
  find(msg: string): LogRecord | undefined {
    this.poll();
    return this.records.find((r) => r.msg === msg);
  }

  /** Every record whose `msg` is `msg`, after polling. */
  all(msg: string): LogRecord[] {
    this.poll();
    return this.records.filter((r) => r.msg === msg);
  }
}

/** CPU time (user + system) `pid` has used so far, ms; null if the process is gone. Assumes 100 clock ticks per second (Linux default). */
export function readProcCpuMs(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}
