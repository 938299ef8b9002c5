/**
 * An in-process cluster of real `Replica` cores on a deterministic message queue, for
 * protocol tests: every message is delivered in FIFO order unless a filter drops or
 * rewrites it, and time moves only when `advance(ms)` is called.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../crypto/ed25519.ts';
import { decodeMessage, encodeMessage } from '../core/codec.ts';
import { MessageType, type Message, type Reply, type Request } from '../core/messages.ts';
import { DEFAULT_OPTIONS, type ReplicaOptions } from '../core/options.ts';
import type { CoreEvent } from '../core/ready.ts';
import { Replica } from '../core/replica.ts';
import type { ReplicatedService } from '../core/service.ts';
import { makeView, type View } from '../core/view.ts';
import { AppendService } from './append-service.ts';

export interface Envelope {
  readonly from: number;
  readonly to: number;
  bytes: Uint8Array;
}

/** Returns the envelope to deliver (possibly rewritten) or null to drop it. */
export type NetworkFilter = (e: Envelope) => Envelope | null;

export interface LocalClusterOptions {
  readonly n: number;
  readonly f?: number;
  readonly replica?: Partial<ReplicaOptions>;
  readonly service?: () => ReplicatedService;
}

export class LocalCluster {
  readonly view: View;
  readonly replicas: Replica[] = [];
  readonly services: ReplicatedService[] = [];
  readonly keys: { privateKey: KeyObject; publicKey: KeyObject }[] = [];
  readonly events: { replica: number; event: CoreEvent }[] = [];
  /** Replies received by clients, by client id. */
  readonly replies = new Map<number, Reply[]>();
  readonly crashed = new Set<number>();
  filter: NetworkFilter = (e) => e;
  nowMs = 1_000_000;
  private queue: Envelope[] = [];

  constructor(options: LocalClusterOptions) {
    const members = Array.from({ length: options.n }, (_, i) => i);
    this.view = makeView(members, options.f ?? Math.floor((options.n - 1) / 3));
    for (const _ of members) this.keys.push(generateKeyPairSync('ed25519'));
    const verifier = new Ed25519Verifier(new Map(members.map((m) => [m, this.keys[m]!.publicKey])));
    for (const id of members) {
      const service = options.service ? options.service() : new AppendService();
      this.services.push(service);
      this.replicas.push(
        new Replica(
          { ...DEFAULT_OPTIONS, ...options.replica, id, view: this.view },
          { service, signer: new Ed25519Signer(this.keys[id]!.privateKey), verifier, hash: sha256 },
        ),
      );
    }
    this.tick();
  }

  /** Sends a client request to the given replicas (default: all). */
  clientSend(request: Omit<Request, 'type'>, to: readonly number[] = this.view.members): void {
    const bytes = encodeMessage({ type: MessageType.REQUEST, ...request });
    for (const id of to) this.stepReplica(id, { type: 'client-message', clientId: request.clientId, bytes });
  }

  /** Injects raw bytes as if replica `from` sent them to `to`. */
  inject(from: number, to: number, bytes: Uint8Array): void {
    this.stepReplica(to, { type: 'replica-message', from, bytes });
  }

  /** Delivers queued messages until the network is quiet (or `maxMessages`). @returns messages delivered. */
  run(maxMessages = 100_000): number {
    let delivered = 0;
    while (this.queue.length > 0 && delivered < maxMessages) {
      const e = this.filter(this.queue.shift()!);
      if (!e || this.crashed.has(e.to)) continue;
      delivered++;
      this.stepReplica(e.to, { type: 'replica-message', from: e.from, bytes: e.bytes });
    }
    return delivered;
  }

  /** Moves the clock by `ms` in steps of `stepMs`, ticking every live replica and running the network. */
  advance(ms: number, stepMs = 50): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.nowMs += stepMs;
      this.tick();
      this.run();
    }
  }

  crash(id: number): void {
    this.crashed.add(id);
  }

  lastDecidedCids(): number[] {
    return this.replicas.map((r) => r.lastDecidedCid);
  }

  droppedReasons(replica?: number): string[] {
    return this.events.filter((e) => e.event.type === 'dropped' && (replica === undefined || e.replica === replica)).map((e) => (e.event as { reason: string }).reason);
  }

  private tick(): void {
    for (const r of this.replicas) if (!this.crashed.has(r.id)) this.stepReplica(r.id, { type: 'tick', nowMs: this.nowMs });
  }

  private stepReplica(id: number, input: Parameters<Replica['step']>[0]): void {
    if (this.crashed.has(id)) return;
    const replica = this.replicas[id]!;
    replica.step(input);
    const ready = replica.takeReady();
    for (const event of ready.events) this.events.push({ replica: id, event });
    for (const m of ready.messages) for (const to of m.to) this.queue.push({ from: id, to, bytes: m.bytes });
    for (const r of ready.replies) {
      const decoded = decodeMessage(r.bytes);
      if (!decoded.ok || decoded.message.type !== MessageType.REPLY) throw new Error('replica produced a malformed reply');
      const list = this.replies.get(r.clientId) ?? [];
      list.push(decoded.message);
      this.replies.set(r.clientId, list);
    }
  }
}

export function decode(bytes: Uint8Array): Message {
  const d = decodeMessage(bytes);
  if (!d.ok) throw new Error(d.reason);
  return d.message;
}
