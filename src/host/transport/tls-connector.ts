/**
 * Keeps one outbound mutual-TLS 1.3 connection to one peer (a replica dialling another
 * replica, or a client dialling a replica), redialling with bounded exponential backoff until
 * closed.
 *
 * The peer is accepted only if its certificate chains to the cluster CA, matches the host
 * dialled (SubjectAltName), and names exactly the `expected` principal: a replica-2 listening
 * where replica-1 was expected is refused.
 *
 * Sending: while connected, frames go to the connection (coalesced per turn, bounded by
 * queueBytesMax; over it the newest frame is dropped). While disconnected, frames wait in a
 * queue bounded by queueBytesMax that drops the OLDEST frames when full, and is flushed in order
 * on the next connect. Delivery is at most once: frames already handed to a connection that
 * then breaks are lost; the protocol above retransmits.
 *
 * Under TLS 1.3 a client whose certificate the server refuses completes its side of the
 * handshake and only then sees the connection close, without an error. So backoff is reset
 * only once a connection has proved healthy (a frame arrived, or it stayed up for stableMs);
 * a connection that closes before that counts in stats.closedBeforeHealthy and sets lastError.
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { commonNameOf, principalKey, principalOf, samePrincipal, type Principal } from '../../security/principal.ts';
import { Backoff } from './backoff.ts';
import { Connection } from './connection.ts';
import { FrameQueue } from './frame-queue.ts';
import { assertFrameBytesMax, FRAME_BYTES_MAX_DEFAULT } from './framing.ts';
import { defaultTransportLogger, type TransportLogger } from './logger.ts';
import { secureOptions, type TlsCredentials } from './tls-credentials.ts';

export interface TlsConnectorOptions extends TlsCredentials {
  /** Largest frame either side may send. Default 16 MiB. */
  readonly frameBytesMax?: number;
  /** Bound on bytes waiting to be sent (queue while disconnected; send buffer while connected). Default 16 MiB. */
  readonly queueBytesMax?: number;
  /** First redial delay. Default 50 ms. */
  readonly backoffMsMin?: number;
  /** Largest redial delay. Default 2000 ms. */
  readonly backoffMsMax?: number;
  /** TCP connect + TLS handshake must finish within this. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** A connection open this long without a frame still counts as healthy. Default 2000 ms. */
  readonly stableMs?: number;
}

export interface TlsConnectorDependencies {
  /** A frame from the peer (e.g. a reply); `frame` is a view (see FrameDecoder). */
  onFrame?(principal: Principal, frame: Buffer, connection: Connection): void;
  onConnect?(principal: Principal, connection: Connection): void;
  onDisconnect?(principal: Principal, connection: Connection, reason: string): void;
  readonly logger?: TransportLogger;
  /** Jitter source for backoff; default Math.random. */
  readonly random?: () => number;
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  /** The principal the server's certificate must name. */
  readonly expected: Principal;
}

export interface TlsConnectorStats {
  dialAttempts: number;
  connects: number;
  disconnects: number;
  /** Connections that closed after the handshake but before proving healthy (see the module comment). */
  closedBeforeHealthy: number;
  /** Frames dropped while disconnected (oldest first) or refused after close(). Connected drops are in connection.stats. */
  framesDropped: number;
}

export class TlsConnector {
  private readonly options: TlsConnectorOptions;
  private readonly deps: TlsConnectorDependencies;
  private readonly logger: TransportLogger;
  private readonly frameBytesMax: number;
  private readonly queueBytesMax: number;
  private readonly backoff: Backoff;
  private readonly queue: FrameQueue;
  private target: ConnectTarget | null = null;
  private socket: TLSSocket | null = null;
  private connection: Connection | null = null;
  private healthyConnection = false;
  private redialTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastErrorText: string | null = null;
  /** Callers of whenConnected() waiting for the next connect (or for close). */
  private readonly connectWaiters = new Set<(error: Error | null) => void>();
  private readonly counters: TlsConnectorStats = { dialAttempts: 0, connects: 0, disconnects: 0, closedBeforeHealthy: 0, framesDropped: 0 };

  /** @throws RangeError for bad bounds. */
  constructor(options: TlsConnectorOptions, deps: TlsConnectorDependencies = {}) {
    this.options = options;
    this.deps = deps;
    this.logger = deps.logger ?? defaultTransportLogger();
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    assertFrameBytesMax(this.frameBytesMax);
    this.queueBytesMax = options.queueBytesMax ?? 16 * 1024 * 1024;
    this.queue = new FrameQueue(this.queueBytesMax);
    this.backoff = new Backoff(options.backoffMsMin ?? 50, options.backoffMsMax ?? 2000, deps.random);
  }

  /**
   * Starts keeping a connection to `target`; returns at once (watch onConnect / `connected`).
   * @throws Error if already started or closed; PkiError for an invalid expected principal.
   */
  connect(target: ConnectTarget): void {
    if (this.closed) throw new Error('connector is closed');
    if (this.target !== null) throw new Error(`connector already started for ${principalKey(this.target.expected)}`);
    commonNameOf(target.expected); // validates
    this.target = target;
    this.dial();
  }

  /**
   * True once our side of the TLS handshake completed. Under TLS 1.3 that is before the server
   * has judged our certificate, so a refused client is briefly "connected" (and onConnect fires)
   * before the close; see `healthy`.
   */
  get connected(): boolean {
    return this.connection !== null && !this.connection.closed;
  }

  /** Connected, and the connection has proved itself (a frame arrived, or it stayed up stableMs). */
  get healthy(): boolean {
    return this.connected && this.healthyConnection;
  }

  /**
   * Resolves once `connected` holds (at once if it already does). A tool that times requests
   * waits for this first, so that a storm of handshakes is not counted as latency: here
   * about 900 connections (128 clients × 7 replicas) take about 3 s of the two cores to set up.
   * @param timeoutMs how long to wait (ms)
   * @throws Error (rejects) after timeoutMs, with the last connection error if any, or if the
   *   connector is closed first
   */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('connector is closed'));
    return new Promise((resolve, reject) => {
      const done = (error: Error | null) => {
        clearTimeout(timer);
        this.connectWaiters.delete(done);
        if (error === null) resolve();
        else reject(error);
      };
      const peer = this.target === null ? 'a peer' : principalKey(this.target.expected);
      const timer = setTimeout(() => done(new Error(`not connected to ${peer} within ${timeoutMs} ms${this.lastErrorText === null ? '' : `: ${this.lastErrorText}`}`)), timeoutMs);
      this.connectWaiters.add(done);
    });
  }

  /** Why the last attempt or connection failed, or null. */
  get lastError(): string | null {
    return this.lastErrorText;
  }

  get stats(): Readonly<TlsConnectorStats> {
    return { ...this.counters, framesDropped: this.counters.framesDropped + this.queue.framesDropped };
  }

  /** Frames waiting for a connection. */
  get queuedFrames(): number {
    return this.queue.length;
  }

  /**
   * Sends `frame` now (coalesced per turn) or queues it until connected. Do not modify it afterwards.
   * @returns false if the frame was dropped (closed, or the frame alone exceeds queueBytesMax,
   *   or the connected send buffer is full); true if sent or queued (queuing may drop older frames).
   * @throws RangeError when the frame exceeds frameBytesMax (the peer would refuse it: a caller bug).
   */
  send(frame: Uint8Array): boolean {
    if (frame.length > this.frameBytesMax) throw new RangeError(`frame of ${frame.length} bytes exceeds frameBytesMax ${this.frameBytesMax}`);
    if (this.closed) {
      this.counters.framesDropped++;
      return false;
    }
    if (this.connection !== null && !this.connection.closed) return this.connection.send(frame);
    return this.queue.push(frame);
  }

  /** Stops redialling and closes the connection; resolves when the socket has closed. */
  close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    this.queue.clear();
    for (const done of this.connectWaiters) done(new Error('connector closed while waiting for a connection'));
    const socket = this.socket;
    if (socket === null || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      if (this.connection !== null) this.connection.destroy('connector closed');
      else socket.destroy();
    });
  }

  private dial(): void {
    const target = this.target;
    if (this.closed || target === null) return;
    this.counters.dialAttempts++;
    this.healthyConnection = false;
    const socket = connect({
      ...secureOptions(this.options),
      host: target.host,
      port: target.port,
      rejectUnauthorized: true,
      checkServerIdentity: (hostname, cert) => this.checkServer(hostname, cert, target),
    });
    this.socket = socket;
    socket.setTimeout(this.options.connectTimeoutMs ?? 5000, () => socket.destroy(new Error('connect/handshake timed out')));
    const onError = (error: NodeJS.ErrnoException) => this.setLastError(error.code !== undefined && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message);
    const onEarlyClose = () => this.onDialFailed();
    socket.on('error', onError);
    socket.once('close', onEarlyClose);
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      socket.off('close', onEarlyClose);
      this.onSecureConnect(socket, target);
    });
  }

  private checkServer(hostname: string, cert: PeerCertificate, target: ConnectTarget): Error | undefined {
    const hostError = checkServerIdentity(hostname, cert);
    if (hostError !== undefined) return hostError;
    try {
      const principal = principalOf(new X509Certificate(cert.raw));
      if (samePrincipal(principal, target.expected)) return undefined;
      return new Error(`server at ${target.host}:${target.port} is ${principalKey(principal)}, expected ${principalKey(target.expected)}`);
    } catch (error) {
      return error as Error;
    }
  }

  private onSecureConnect(socket: TLSSocket, target: ConnectTarget): void {
    if (this.closed) return void socket.destroy();
    const principal = target.expected;
    const connection = new Connection(
      socket,
      principal,
      { frameBytesMax: this.frameBytesMax, sendBufferBytesMax: this.queueBytesMax },
      {
        onFrame: (frame, c) => {
          if (!this.healthyConnection) this.markHealthy();
          this.deps.onFrame?.(principal, frame, c);
        },
        onClose: (reason, c) => this.onConnectionClosed(c, reason),
        logger: this.logger,
      },
    );
    this.connection = connection;
    this.counters.connects++;
    this.stableTimer = setTimeout(() => this.markHealthy(), this.options.stableMs ?? 2000);
    this.logger.debug({ principal: principalKey(principal), remote: `${target.host}:${target.port}` }, 'connected');
    for (const frame of this.queue.drain()) connection.send(frame);
    this.deps.onConnect?.(principal, connection);
    for (const done of this.connectWaiters) done(null);
  }

  private markHealthy(): void {
    this.healthyConnection = true;
    this.backoff.reset();
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }

  private onConnectionClosed(connection: Connection, reason: string): void {
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.stableTimer = null;
    this.connection = null;
    this.socket = null;
    this.counters.disconnects++;
    if (!this.healthyConnection && !this.closed) {
      this.counters.closedBeforeHealthy++;
      this.setLastError(`connection closed right after the handshake (${reason}); the server may have refused our certificate`);
    } else if (!this.closed) {
      this.setLastError(reason);
    }
    this.logger.debug({ principal: principalKey(connection.principal), reason }, 'disconnected');
    this.deps.onDisconnect?.(connection.principal, connection, reason);
    this.scheduleRedial();
  }

  private onDialFailed(): void {
    this.socket = null;
    this.scheduleRedial();
  }

  private scheduleRedial(): void {
    if (this.closed || this.redialTimer !== null) return;
    const delayMs = this.backoff.nextDelayMs();
    this.redialTimer = setTimeout(() => {
      this.redialTimer = null;
      this.dial();
    }, delayMs);
  }

  private setLastError(text: string): void {
    if (text !== this.lastErrorText) this.logger.debug({ principal: this.target === null ? null : principalKey(this.target.expected), error: text }, 'connection attempt failed');
    this.lastErrorText = text;
  }

  private clearTimers(): void {
    if (this.redialTimer !== null) clearTimeout(this.redialTimer);
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.redialTimer = null;
    this.stableTimer = null;
  }
}
