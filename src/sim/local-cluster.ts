/**
 * An in-process cluster of real `Replica` cores on a deterministic message queue, for
 * protocol tests: every message is delivered in FIFO order unless a filter drops or
 * rewrites it, and time moves only when `advance(ms)` is called.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../crypto/ed25519.ts';
import { decodeMessage, encodeMessage } from '../core/codec.ts';
import { MessageType, type Decision, type Message, type Reply, type Request } from '../core/messages.ts';
import { DEFAULT_OPTIONS, type ReplicaOptions } from '../core/options.ts';
import type { CoreEvent, DurableRecord } from '../core/ready.ts';
import type { RecoveredState } from '../core/recovery.ts';
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
  /** Client public keys, for clusters that require signed requests. */
  readonly clientKeys?: ReadonlyMap<number, KeyObject>;
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
  /** What each replica persisted, in order (a simple disk that never loses a Ready). */
  readonly disks: DurableRecord[][] = [];
  private readonly options: LocalClusterOptions;
  private readonly verifier: Ed25519Verifier;
  filter: NetworkFilter = (e) => e;
  nowMs = 1_000_000;
  private queue: Envelope[] = [];

  constructor(options: LocalClusterOptions) {
    const members = Array.from({ length: options.n }, (_, i) => i);
    this.view = makeView(members, options.f ?? Math.floor((options.n - 1) / 3));
    for (const _ of members) this.keys.push(generateKeyPairSync('ed25519'));
    this.options = options;
    this.verifier = new Ed25519Verifier(new Map(members.map((m) => [m, this.keys[m]!.publicKey])));
    for (const id of members) {
      this.disks.push([]);
      const { replica, service } = this.makeReplica(id);
      this.services.push(service);
      this.replicas.push(replica);
    }
    this.tick();
  }

  private makeReplica(id: number): { replica: Replica; service: ReplicatedService } {
    const service = this.options.service ? this.options.service() : new AppendService();
    const replica = new Replica(
      { ...DEFAULT_OPTIONS, ...this.options.replica, id, view: this.view },
      {
        service,
        signer: new Ed25519Signer(this.keys[id]!.privateKey),
        verifier: this.verifier,
        hash: sha256,
        ...(this.options.clientKeys ? { clientVerifier: new Ed25519Verifier(this.options.clientKeys) } : {}),
      },
    );
    return { replica, service };
  }

  /**
   * Restarts replica `id` as a new process: from what it persisted, or with an empty
   * disk when `wipe` is set (a replica whose disk was lost). `cleanStop`: it had stopped
   * cleanly (the host's clean-stop mark), so it is not fenced in its regency.
   */
  restart(id: number, wipe = false, cleanStop = false): void {
    if (wipe) this.disks[id] = [];
    const { replica, service } = this.makeReplica(id);
    replica.recover({ ...recoveredState(this.disks[id]!), cleanStop });
    this.replicas[id] = replica;
    this.services[id] = service;
    this.crashed.delete(id);
    this.stepReplica(id, { type: 'tick', nowMs: this.nowMs });
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
    this.disks[id]!.push(...ready.persist);
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

/** What a restarting replica reads back from a list of persisted records (DurableStorage's semantics). */
export function recoveredState(records: readonly DurableRecord[]): RecoveredState {
  let regency = 0;
  let votes: RecoveredState['votes'] = null;
  let stable = -1;
  const checkpoints = new Map<number, Uint8Array>();
  const decisions = new Map<number, Decision>();
  for (const r of records) {
    if (r.kind === 'regency') regency = Math.max(regency, r.regency);
    else if (r.kind === 'votes') votes = r.votes;
    else if (r.kind === 'checkpoint') checkpoints.set(r.cid, r.bytes);
    else if (r.kind === 'stable-checkpoint') stable = Math.max(stable, r.cid);
    else decisions.set(r.decision.cid, r.decision);
  }
  const latest = Math.max(-1, ...[...checkpoints.keys()].filter((c) => c >= stable));
  const checkpoint = latest >= 0 ? { cid: latest, bytes: checkpoints.get(latest)! } : null;
  const after = [...decisions.values()].filter((d) => d.cid >= latest).sort((a, b) => a.cid - b.cid); // the checkpoint's own decision too (a proof)
  return { regency, checkpoint, decisions: after, votes };
}

export function decode(bytes: Uint8Array): Message {
  const d = decodeMessage(bytes);
  if (!d.ok) throw new Error(d.reason);
  return d.message;
}
