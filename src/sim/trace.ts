/**
 * The readable trace of a run: what a reader needs to understand a failure — faults
 * injected, decisions, regency changes, Byzantine actions, client operations and, at
 * the 'messages' level, every message delivered. Off in sweeps (it costs time); a
 * failing seed is replayed with it on.
 */
import { toHex } from '../core/bytes.ts';
import { decodeBatch, decodeMessage } from '../core/codec.ts';
import { MessageType, type Message } from '../core/messages.ts';

export type TraceLevel = 'none' | 'events' | 'messages';

export interface TraceLine {
  readonly atMs: number;
  readonly text: string;
}

export class Trace {
  readonly lines: TraceLine[] = [];

  constructor(
    readonly level: TraceLevel,
    /** Most lines kept (the oldest are dropped beyond it). */
    private readonly linesMax = 200_000,
  ) {}

  get events(): boolean {
    return this.level !== 'none';
  }

  get messages(): boolean {
    return this.level === 'messages';
  }

  add(atMs: number, text: string): void {
    if (this.level === 'none') return;
    if (this.lines.length >= this.linesMax) this.lines.shift();
    this.lines.push({ atMs, text });
  }

  /** The trace as text, one line per entry: "[   12.345s] text". */
  format(): string {
    return this.lines.map((l) => `[${(l.atMs / 1000).toFixed(3).padStart(10)}s] ${l.text}`).join('\n');
  }
}

const short = (bytes: Uint8Array): string => toHex(bytes).slice(0, 8);

/** A one-line summary of a protocol message, e.g. "PROPOSE cid=3 reg=0 reqs=2 #1a2b3c4d". */
export function summarizeMessage(bytes: Uint8Array, hash: (b: Uint8Array) => Uint8Array): string {
  const d = decodeMessage(bytes);
  if (!d.ok) return `undecodable (${d.reason})`;
  return summarize(d.message, hash);
}

function summarize(m: Message, hash: (b: Uint8Array) => Uint8Array): string {
  switch (m.type) {
    case MessageType.REQUEST:
      return `REQUEST c${m.clientId} ${m.session}/${m.seq}${m.ordered ? '' : ' unordered'} ${m.payload.length}B`;
    case MessageType.REPLY:
      return `REPLY from r${m.replicaId} c${m.clientId} ${m.session}/${m.seq} #${short(hash(m.result))}`;
    case MessageType.PROPOSE: {
      const b = decodeBatch(m.value);
      return `PROPOSE cid=${m.cid} reg=${m.regency} ${b.ok ? `reqs=${b.message.requests.length}` : 'malformed'} #${short(hash(m.value))}`;
    }
    case MessageType.WRITE:
    case MessageType.ACCEPT:
      return `${m.type === MessageType.WRITE ? 'WRITE' : 'ACCEPT'} cid=${m.cid} reg=${m.regency} #${short(m.digest)}`;
    case MessageType.STOP:
      return `STOP reg=${m.regency}`;
    case MessageType.STOPDATA:
      return `STOPDATA reg=${m.regency} decided=${m.lastDecided?.cid ?? '-'} cert=${m.writeCertificate ? `${m.writeCertificate.cid}@${m.writeCertificate.regency}#${short(hash(m.writeCertificate.value))}` : '-'}`;
    case MessageType.SYNC:
      return `SYNC reg=${m.regency} cid=${m.cid} stopdata=[${m.stopData.map((s) => s.from).join(',')}] #${short(hash(m.value))}`;
    case MessageType.DECISION_REQUEST:
      return `DECISION_REQUEST from cid=${m.fromCid}`;
    case MessageType.DECISION_REPLY:
      return `DECISION_REPLY cids=[${m.decisions.map((d) => d.cid).join(',')}]`;
    default: {
      const x = m as { type: number; cid?: number };
      return `type ${x.type}${x.cid !== undefined ? ` cid=${x.cid}` : ''}`;
    }
  }
}
