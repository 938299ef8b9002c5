/**
 * One authenticated TLS connection carrying frames, on either side (accepted by TlsServer or
 * dialled by TlsConnector). It owns the socket: decodes incoming frames, coalesces outgoing
 * ones, and reports exactly one close with the first reason that caused it.
 */
import type { KeyObject } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Principal } from '../../security/principal.ts';
import { FrameDecoder } from './frame-decoder.ts';
import { FrameWriter } from './frame-writer.ts';
import type { TransportLogger } from './logger.ts';

export interface ConnectionOptions {
  readonly frameBytesMax: number;
  /** Bound on bytes queued for sending plus the socket's write buffer; beyond it frames are dropped. */
  readonly sendBufferBytesMax: number;
}

export interface ConnectionEvents {
  onFrame(frame: Buffer, connection: Connection): void;
  /** Called once, after the socket closed; `reason` is the first cause recorded. */
  onClose(reason: string, connection: Connection): void;
  /** Where protocol violations by the peer (oversize frame) are reported. */
  readonly logger: TransportLogger;
}

export interface ConnectionStats {
  framesReceived: number;
  bytesReceived: number;
  /** 'data' events (reads handed to us by the socket). */
  chunksReceived: number;
  readonly sent: FrameWriter['stats'];
}

const KEEPALIVE_DELAY_MS = 15_000;

export class Connection {
  /** The peer, from its certificate. */
  readonly principal: Principal;
  /** The public key of the peer's certificate (checks what the peer signs, e.g. its requests). */
  readonly peerPublicKey: KeyObject | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly openedAtMs = Date.now();
  private readonly socket: TLSSocket;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly events: ConnectionEvents;
  private closeReason: string | null = null;
  private finished = false;
  readonly stats: ConnectionStats;

  constructor(socket: TLSSocket, principal: Principal, options: ConnectionOptions, events: ConnectionEvents) {
    this.socket = socket;
    this.principal = principal;
    this.peerPublicKey = socket.getPeerX509Certificate()?.publicKey ?? null;
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort ?? 0;
    this.events = events;
    this.decoder = new FrameDecoder(options.frameBytesMax);
    this.writer = new FrameWriter(socket, options.sendBufferBytesMax, 'immediate');
    this.stats = { framesReceived: 0, bytesReceived: 0, chunksReceived: 0, sent: this.writer.stats };
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => this.recordReason(`socket error: ${error.code ?? error.message}`));
    socket.on('end', () => this.recordReason('peer closed the connection'));
    socket.once('close', () => this.onSocketClose());
  }

  /** True once close/destroy was requested or the socket closed; sends are then dropped. */
  get closed(): boolean {
    return this.closeReason !== null || this.finished;
  }

  /** Bytes accepted by send() and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.writer.bufferedBytes;
  }

  /**
   * Queues a frame (flushed, coalesced, at the end of this event-loop turn). Do not modify
   * `frame` afterwards.
   * @returns false if it was dropped: connection closed, or the send buffer bound reached.
   */
  send(frame: Uint8Array): boolean {
    if (this.closed) {
      this.writer.stats.framesDropped++;
      return false;
    }
    return this.writer.send(frame);
  }

  /** Closes now, dropping anything not yet written. */
  destroy(reason: string): void {
    this.recordReason(reason);
    this.writer.stop();
    this.socket.destroy();
  }

  /** The reason the connection closed or is closing, or null while open. */
  get reason(): string | null {
    return this.closeReason;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.stats.bytesReceived += chunk.length;
    this.stats.chunksReceived++;
    const error = this.decoder.push(chunk, (frame) => {
      if (this.closed) return; // a handler closed us mid-chunk: deliver nothing more
      this.stats.framesReceived++;
      this.events.onFrame(frame, this);
    });
    if (error !== null) {
      this.events.logger.warn(
        { principal: `${this.principal.role}-${this.principal.id}`, remote: `${this.remoteAddress}:${this.remotePort}`, code: error.code, frameBytes: error.frameBytes, frameBytesMax: error.frameBytesMax },
        `closing connection: ${error.reason}`,
      );
      this.destroy(error.reason);
    }
  }

  private recordReason(reason: string): void {
    if (this.closeReason === null) this.closeReason = reason;
  }

  private onSocketClose(): void {
    this.finished = true;
    this.recordReason('connection closed');
    this.writer.stop();
    this.events.onClose(this.closeReason as string, this);
  }
}
