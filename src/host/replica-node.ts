/**
 * A replica process's I/O loop: the only place where a replica touches the network,
 * storage and the clock. It feeds authenticated frames and clock ticks to the pure
 * core (`Replica.step`) and carries out each `Ready`: persist first, then send.
 */
import { allocateBytes } from '../core/bytes.ts';
import { Replica } from '../core/replica.ts';
import { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { KeyObject } from 'node:crypto';
import type { Ready } from '../core/ready.ts';
import type { ReplicaDependencies, ReplicaOptions } from '../core/options.ts';
import type { Principal } from '../security/principal.ts';
import { TlsConnector, TlsServer, type TlsCredentials, type TransportLogger } from './transport/index.ts';
import type { ReplicaStorage } from './storage/replica-storage.ts';
import type { OutputInterceptor } from './output-interceptor.ts';
import { OutputSequencer } from './output-sequencer.ts';

/**
 * How long records that need not be durable before speaking (decisions, WRITE-phase
 * votes) wait for a write that must be, before they are written on their own (ms). Under
 * load the next ACCEPT record comes within a few ms and carries them; this bounds what a
 * crash of an idle replica can lose (it would catch up, fenced in its regency, see
 * mustPersistBeforeSpeaking).
 */
const DEFERRED_FLUSH_MS = 50;

/** Frames above this size (bytes) that fill at least half their buffer are not copied on receipt. */
const FRAME_KEPT_BYTES_MIN = 4096;

export interface ReplicaAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface ReplicaNodeOptions {
  readonly replica: ReplicaOptions;
  /** Where every member of the view listens for replicas and clients. */
  readonly addresses: readonly ReplicaAddress[];
  readonly tls: TlsCredentials;
  /** Clock tick period (ms): drives request timeouts and catch-up. Default 20 ms. */
  readonly tickMs?: number;
}

export interface ReplicaNodeDependencies extends ReplicaDependencies {
  readonly storage: ReplicaStorage;
  readonly logger: NodeLogger;
  readonly now?: () => number;
  /** Rewrites this replica's outputs (Byzantine behaviours, tests and benchmarks only). */
  readonly interceptor?: OutputInterceptor;
}

/** The subset of pino's logger the host uses. */
export interface NodeLogger extends TransportLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

/** The in-process channel between a replica and a client in the same process (see ReplicaNode.attachLocalClient). */
export interface LocalClientLink {
  /** Hands a client frame (an encoded REQUEST) to the replica, after this event-loop turn's socket flush. */
  send(bytes: Uint8Array): void;
  /** Detaches the client: later frames either way are dropped. */
  close(): void;
}

export class ReplicaNode {
  readonly core: Replica;
  private readonly server: TlsServer;
  /** Clients' signing keys, from their certificates (TLS) or given by attachLocalClient. */
  private readonly clientKeys = new Ed25519Verifier();
  /** Reply sinks of the clients in this process, by client id. */
  private readonly localClients = new Map<number, (bytes: Uint8Array) => void>();
  private readonly peers = new Map<number, TlsConnector>();
  private tickTimer: NodeJS.Timeout | null = null;
  /** Persist before you speak, in order (see OutputSequencer). */
  private readonly outputs: OutputSequencer;
  private readonly now: () => number;
  /** Dropped-input reasons, counted (a metric a reader can print). */
  readonly drops = new Map<string, number>();
  private readonly delayTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  port = 0;

  constructor(
    private readonly options: ReplicaNodeOptions,
    private readonly deps: ReplicaNodeDependencies,
  ) {
    // Clients' keys come from their certificates as they connect (for signed requests).
    const clientKeys = this.clientKeys;
    this.core = new Replica(options.replica, { ...deps, clientVerifier: clientKeys });
    this.now = deps.now ?? Date.now;
    this.outputs = new OutputSequencer(
      {
        persist: (records) => deps.storage.persist(records),
        send: (ready) => this.send(ready),
        fail: (e) => {
          // Losing durability would let this replica contradict itself after a crash: stop.
          deps.logger.error({ err: String(e) }, 'storage failed, stopping the replica');
          process.exit(70);
        },
      },
      DEFERRED_FLUSH_MS,
    );
    const view = options.replica.view;
    this.server = new TlsServer(options.tls, {
      logger: deps.logger,
      authorize: (p) => p.role === 'client' || view.members.includes(p.id),
      onFrame: (principal, frame) => this.onFrame(principal, frame),
      onConnect: (principal, connection) => {
        if (principal.role !== 'client' || !connection.peerPublicKey) return;
        try {
          clientKeys.setKey(principal.id, connection.peerPublicKey);
        } catch (e) {
          deps.logger.warn({ client: principal.id, err: String(e) }, 'client certificate key is not Ed25519: its signed requests will be refused');
        }
      },
    });
  }

  /** Listens on this replica's address and dials every other member. @returns the port listened on. */
  async start(): Promise<number> {
    const recovered = await this.deps.storage.load();
    // Before we speak: a crash from now on must not pass for a clean stop.
    if (recovered.cleanStop === true) await this.deps.storage.clearCleanStop();
    const replayed = this.core.recover(recovered);
    if (replayed > 0 || recovered.checkpoint) {
      this.deps.logger.info({ checkpoint: recovered.checkpoint?.cid ?? null, replayed, regency: this.core.regency, lastDecidedCid: this.core.lastDecidedCid }, 'recovered from storage');
    }
    const me = this.addressOf(this.options.replica.id);
    this.port = await this.server.listen(me.port, me.host);
    for (const a of this.options.addresses) {
      if (a.id === this.options.replica.id) continue;
      const c = new TlsConnector(this.options.tls, { logger: this.deps.logger });
      c.connect({ host: a.host, port: a.port, expected: { role: 'replica', id: a.id } });
      this.peers.set(a.id, c);
    }
    this.step({ type: 'tick', nowMs: this.now() });
    this.tickTimer = setInterval(() => this.step({ type: 'tick', nowMs: this.now() }), this.options.tickMs ?? 20);
    return this.port;
  }

  async close(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    const written = this.outputs.close(); // a clean stop keeps every record (see markCleanStop below)
    this.closed = true;
    for (const t of this.delayTimers) clearTimeout(t);
    this.delayTimers.clear();
    for (const c of this.peers.values()) c.close();
    await this.server.close();
    await written;
    // Every record is durable and nothing more will be sent: a restart need not be fenced.
    await this.deps.storage.markCleanStop();
    await this.deps.storage.close();
  }

  /**
   * Connects a client that runs in this process (the replica's own wallet gateway) without
   * TLS: its frames reach the core as a TLS client's would, and the replies for `clientId`
   * go to `deliver` instead of a socket. Both directions are asynchronous (requests after the
   * turn's socket flush, replies in a microtask), so neither side is re-entered. It is
   * authenticated by construction: only code in this
   * process holds the link, and the process is this replica (a faulty one could forge its
   * own gateway's traffic over TLS just as well). A loopback TLS hop costs a write, an
   * encryption, a wake-up and a decryption each way (≈ 0.2 ms for a 35 KB ledger page here,
   * docs/performance.md lever 38).
   * @param publicKey the client's certificate key, for its signed requests.
   * @throws Error if `clientId` is already attached, or the key is not Ed25519.
   */
  attachLocalClient(clientId: number, publicKey: KeyObject, deliver: (bytes: Uint8Array) => void): LocalClientLink {
    if (this.localClients.has(clientId)) throw new Error(`client ${clientId} is already attached to replica ${this.options.replica.id}`);
    this.clientKeys.setKey(clientId, publicKey);
    this.localClients.set(clientId, deliver);
    let attached = true;
    return {
      send: (bytes) => {
        // After the current callback and after this turn's socket flush (FrameWriter flushes in
        // a setImmediate queued by the first send): the client's frames to the other replicas
        // leave before this replica, if it leads, proposes the request, so that they receive
        // the request itself before the PROPOSE and need not check its signature.
        if (attached) queueMicrotask(() => setImmediate(() => attached && this.step({ type: 'client-message', clientId, bytes })));
      },
      close: () => {
        attached = false;
        if (this.localClients.get(clientId) === deliver) this.localClients.delete(clientId);
      },
    };
  }

  private addressOf(id: number): ReplicaAddress {
    const a = this.options.addresses.find((x) => x.id === id);
    if (!a) throw new Error(`no address for replica ${id}`);
    return a;
  }

  private onFrame(principal: Principal, frame: Buffer): void {
    // The frame is a view into a socket chunk or into the decoder's buffer, and the core
    // may keep parts of it. A large frame that fills most of its buffer (a batch the
    // decoder assembled from several chunks) is kept as it is: nobody writes to those
    // buffers, and copying a PROPOSE again cost 1–2 % of a follower's wall time at 1 KiB
    // per request (docs/performance.md, lever 27). Other frames are copied, small ones into a
    // shared slab (see allocateBytes), so that a small view does not pin a 16 KiB chunk.
    let bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    if (frame.byteLength <= FRAME_KEPT_BYTES_MIN || frame.byteLength * 2 < frame.buffer.byteLength) {
      bytes = allocateBytes(frame.length);
      bytes.set(frame);
    }
    if (principal.role === 'replica') {
      this.deps.interceptor?.onReceived(principal.id, bytes);
      this.step({ type: 'replica-message', from: principal.id, bytes });
    }
    else this.step({ type: 'client-message', clientId: principal.id, bytes });
  }

  private step(input: Parameters<Replica['step']>[0]): void {
    // Closing: the last records are being written and the stop may be marked clean, so no
    // input may produce new ones (frames still arrive until the server has closed).
    if (this.closed) return;
    this.core.step(input);
    let ready = this.core.takeReady();
    if (this.deps.interceptor) {
      const rewritten = this.deps.interceptor.rewrite(this.core, ready);
      ready = rewritten.ready;
      for (const d of rewritten.delayed) this.sendLater(d.delayMs, { ...ready, persist: [], events: [], messages: [...d.messages], replies: [...d.replies] });
    }
    this.observe(ready);
    this.outputs.submit(ready);
  }

  /** An interceptor's delayed outputs (e.g. a slow replica's): sent after `delayMs`, unless closed by then. */
  private sendLater(delayMs: number, ready: Ready): void {
    const timer = setTimeout(() => {
      this.delayTimers.delete(timer);
      if (!this.closed) this.outputs.after(() => this.send(ready));
    }, delayMs);
    this.delayTimers.add(timer);
  }

  private send(ready: Ready): void {
    for (const m of ready.messages) for (const to of m.to) this.peers.get(to)?.send(m.bytes);
    for (const r of ready.replies) {
      const local = this.localClients.get(r.clientId);
      if (local !== undefined) queueMicrotask(() => local(r.bytes));
      else this.server.send({ role: 'client', id: r.clientId }, r.bytes);
    }
  }

  private observe(ready: Ready): void {
    for (const e of ready.events) {
      switch (e.type) {
        case 'dropped': {
          const key = e.reason.replace(/\d+/g, 'N');
          this.drops.set(key, (this.drops.get(key) ?? 0) + 1);
          this.deps.logger.debug({ from: e.from, reason: e.reason }, 'dropped input');
          break;
        }
        case 'decided':
          break;
        default:
          this.deps.logger.info({ ...e }, e.type);
      }
    }
  }
}
