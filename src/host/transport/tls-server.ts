/**
 * Accepts mutual-TLS 1.3 connections from replicas and clients and carries frames.
 *
 * A peer is admitted only if (1) its certificate chains to the cluster CA (node:tls, with
 * rejectUnauthorized), (2) the certificate names a principal (`replica-<id>` / `client-<id>`),
 * and (3) `authorize(principal)` agrees. One connection per principal: a newer connection
 * replaces the older one (the peer restarted or redialled), and the old one is reported
 * disconnected before the new one is reported connected.
 *
 * Thin host adapter: frames are opaque bytes; no protocol logic here.
 */
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { principalKey, principalOf, type Principal } from '../../security/principal.ts';
import { Connection } from './connection.ts';
import { assertFrameBytesMax, FRAME_BYTES_MAX_DEFAULT } from './framing.ts';
import { defaultTransportLogger, type TransportLogger } from './logger.ts';
import { secureOptions, type TlsCredentials } from './tls-credentials.ts';

export interface TlsServerOptions extends TlsCredentials {
  /** Largest frame a peer may announce; a larger one closes its connection. Default 16 MiB. */
  readonly frameBytesMax?: number;
  /** Per connection, bytes queued for sending plus the socket's buffer; beyond it replies are dropped. Default 64 MiB. */
  readonly sendBufferBytesMax?: number;
  /** A TCP connection that has not completed the TLS handshake by then is dropped. Default 10 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Simultaneous TCP connections, handshaking ones included; more are refused by the kernel accept path. Default 1024. */
  readonly connectionsMax?: number;
}

export interface TlsServerHandlers {
  /** A frame from an admitted peer; `frame` is a view (see FrameDecoder). Reply with `connection.send`. */
  onFrame(principal: Principal, frame: Buffer, connection: Connection): void;
  onConnect?(principal: Principal, connection: Connection): void;
  onDisconnect?(principal: Principal, connection: Connection, reason: string): void;
  /** Which principals may connect; default: any principal with a certificate from the cluster CA. */
  authorize?(principal: Principal): boolean;
}

export interface TlsServerDependencies extends TlsServerHandlers {
  readonly logger?: TransportLogger;
}

export interface TlsServerStats {
  connectionsAccepted: number;
  /** Handshake completed but the certificate names no principal, or authorize() said no. */
  connectionsRefused: number;
  /** Handshakes that failed: certificate not from the CA, wrong TLS version, timeout... */
  handshakesFailed: number;
  connectionsReplaced: number;
}

export class TlsServer {
  private readonly server: Server;
  private readonly deps: TlsServerDependencies;
  private readonly logger: TransportLogger;
  private readonly frameBytesMax: number;
  private readonly sendBufferBytesMax: number;
  /** Admitted connections by principal key; at most one each. */
  private readonly connections = new Map<string, Connection>();
  /** Every TCP socket, handshaking or not, so close() leaves nothing behind. Bounded by connectionsMax. */
  private readonly sockets = new Set<Socket>();
  /** Connections already reported disconnected (replaced), whose socket close must not report again. */
  private readonly reported = new WeakSet<Connection>();
  private closing = false;
  readonly stats: TlsServerStats = { connectionsAccepted: 0, connectionsRefused: 0, handshakesFailed: 0, connectionsReplaced: 0 };

  /** @throws RangeError for a bad frameBytesMax. */
  constructor(options: TlsServerOptions, deps: TlsServerDependencies) {
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    assertFrameBytesMax(this.frameBytesMax);
    this.sendBufferBytesMax = options.sendBufferBytesMax ?? 64 * 1024 * 1024;
    this.deps = deps;
    this.logger = deps.logger ?? defaultTransportLogger();
    this.server = createServer({
      ...secureOptions(options),
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    });
    this.server.maxConnections = options.connectionsMax ?? 1024;
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('secureConnection', (socket: TLSSocket) => this.admit(socket));
    this.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.stats.handshakesFailed++;
      // A refused client certificate surfaces as "socket hang up": node destroyed the socket
      // itself after the handshake; the verification error is kept in authorizationError.
      const fields: Record<string, unknown> = { code: error.code, error: error.message };
      if (socket.authorizationError !== undefined && socket.authorizationError !== null) fields['authorizationError'] = String(socket.authorizationError);
      if (socket.remoteAddress !== undefined) fields['remote'] = `${socket.remoteAddress}:${socket.remotePort}`;
      this.logger.warn(fields, 'TLS handshake refused');
    });
    this.server.on('error', (error) => this.logger.warn({ error: error.message }, 'TLS server error'));
  }

  /**
   * Starts accepting.
   * @param port 0 for an ephemeral port.
   * @returns the port actually bound.
   * @throws (rejects) the listen error, e.g. EADDRINUSE.
   */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /** The admitted connection of `principal`, if any. */
  connectionOf(principal: Principal): Connection | undefined {
    return this.connections.get(principalKey(principal));
  }

  /** Admitted connections, one per principal. */
  openConnections(): Connection[] {
    return [...this.connections.values()];
  }

  /**
   * Sends a frame to `principal` on its current connection.
   * @returns false when that principal is not connected or the frame was dropped.
   */
  send(principal: Principal, frame: Uint8Array): boolean {
    return this.connectionOf(principal)?.send(frame) ?? false;
  }

  /** Stops listening and closes every connection; resolves when the listening socket is closed. */
  close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    for (const connection of this.connections.values()) connection.destroy('server closing');
    for (const socket of this.sockets) socket.destroy();
    return closed;
  }

  private track(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private admit(socket: TLSSocket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const refuse = (reason: string, fields: Record<string, unknown> = {}) => {
      this.stats.connectionsRefused++;
      this.logger.warn({ remote, reason, ...fields }, 'connection refused');
      socket.destroy();
    };
    if (this.closing) return void socket.destroy();
    const cert = socket.getPeerX509Certificate();
    if (!socket.authorized || cert === undefined) return refuse(`peer not authorized: ${String(socket.authorizationError ?? 'no certificate')}`);
    let principal: Principal;
    try {
      principal = principalOf(cert);
    } catch (error) {
      return refuse((error as Error).message, { subject: cert.subject });
    }
    if (this.deps.authorize !== undefined && !this.deps.authorize(principal)) {
      return refuse(`${principalKey(principal)} is not allowed on this server`);
    }
    const connection = new Connection(
      socket,
      principal,
      { frameBytesMax: this.frameBytesMax, sendBufferBytesMax: this.sendBufferBytesMax },
      { onFrame: (frame, c) => this.deps.onFrame(principal, frame, c), onClose: (reason, c) => this.onClose(c, reason), logger: this.logger },
    );
    this.replaceExisting(principal);
    this.connections.set(principalKey(principal), connection);
    this.stats.connectionsAccepted++;
    this.logger.debug({ remote, principal: principalKey(principal) }, 'peer connected');
    this.deps.onConnect?.(principal, connection);
  }

  private replaceExisting(principal: Principal): void {
    const old = this.connections.get(principalKey(principal));
    if (old === undefined) return;
    this.stats.connectionsReplaced++;
    this.connections.delete(principalKey(principal));
    const reason = 'replaced by a newer connection of the same principal';
    old.destroy(reason);
    this.reported.add(old);
    this.logger.info({ principal: principalKey(principal) }, reason);
    this.deps.onDisconnect?.(principal, old, reason);
  }

  private onClose(connection: Connection, reason: string): void {
    const key = principalKey(connection.principal);
    if (this.connections.get(key) === connection) this.connections.delete(key);
    if (this.reported.has(connection)) return;
    this.logger.debug({ principal: key, reason }, 'peer disconnected');
    this.deps.onDisconnect?.(connection.principal, connection, reason);
  }
}
