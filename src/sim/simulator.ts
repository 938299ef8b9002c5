/**
 * The deterministic simulator (issue 4; TigerBeetle's VOPR, FoundationDB's simulation):
 * n real replica cores with the real wallet (or AppendService), correct clients on the
 * real ServiceProxy, Byzantine replicas and clients, a simulated network, disks and
 * clocks — all in one process, driven by one event queue and one seed.
 *
 * A run has two phases (style.md practice 12): the safety phase, with every fault on,
 * then the liveness phase, in which the network heals and crashed replicas restart;
 * every correct client must then finish within the configured bound. Checkers watch
 * the whole run (agreement, total order, exactly-once, validity, client results,
 * replicated state, accusations between correct replicas) and look at the final states
 * (wallet invariants, acknowledged entries).
 *
 * Determinism: all randomness comes from the config's seed through forked PRNG streams;
 * time is the event queue's; keys derive from `keySeed`; client promises are settled by
 * draining microtasks after each event that touches a client.
 */
import { sha256, Ed25519Verifier, ed25519PublicKeyToRaw, Ed25519Signer } from '../crypto/ed25519.ts';
import { DEFAULT_OPTIONS, type ReplicaOptions } from '../core/options.ts';
import type { Ready } from '../core/ready.ts';
import type { ReplicaInput } from '../core/replica.ts';
import type { ReplicatedService } from '../core/service.ts';
import { loneRequestSigningMessage } from '../core/signing.ts';
import type { KeyObject } from 'node:crypto';
import { makeView, type View } from '../core/view.ts';
import { ServiceProxy, type Timers } from '../client/service-proxy.ts';
import { WalletService } from '../wallet/wallet-service.ts';
import { AppendService } from './append-service.ts';
import { Coalition } from './byzantine/coalition.ts';
import { ByzantineClient } from './byzantine/client.ts';
import { ReplicaProxy } from './byzantine/replica-proxy.ts';
import type { Unit } from './byzantine/rewriters.ts';
import type { Violation } from './checkers/violations.ts';
import { RunObserver } from './observer.ts';
import { DriftClock } from './clock.ts';
import { CORRECT_CLIENT_BASE, describeConfig, type PartitionShape, type SimConfig } from './config.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork } from './network.ts';
import { Prng } from './prng.ts';
import { SimReplicaNode } from './replica-node.ts';
import { SimClient, type ClientHost } from './sim-client.ts';
import { MemoVerifier, simKeyPair } from './sim-crypto.ts';
import { Trace, summarizeMessage, type TraceLevel } from './trace.ts';
import { AppendWorkload } from './workload/append-workload.ts';
import { WalletWorkload } from './workload/wallet-workload.ts';
import type { Workload } from './workload/workload.ts';

/** Messages kept for a replica that is down ('queue' mode), like the transport's bounded queue. */
const HELD_FOR_RESTART_MAX = 10_000;

/** Local clocks start near this epoch (ms), offset per replica. */
const EPOCH_MS = 1_700_000_000_000;

export interface RunOptions {
  readonly trace?: TraceLevel;
  /** Stop at the first safety violation (sweeps); a replay runs to the end. Default true. */
  readonly stopOnViolation?: boolean;
  /** Most events one run may process (a runaway guard). Default 3 000 000. */
  readonly eventsMax?: number;
}

export interface RunStats {
  readonly simulatedMs: number;
  readonly events: number;
  readonly messages: number;
  readonly lost: number;
  readonly decisions: number;
  readonly operationsIssued: number;
  readonly operationsCompleted: number;
  readonly highestRegency: number;
  readonly byzantineActions: number;
  readonly restarts: number;
  readonly verifications: { readonly hits: number; readonly misses: number };
}

export interface RunResult {
  readonly config: SimConfig;
  /** True when no checker reported anything. */
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  /** Over-f mode: a safety violation is the expected detection, not a simulator failure. */
  readonly overF: boolean;
  readonly stats: RunStats;
  readonly wallMs: number;
  readonly trace: Trace;
}

type Phase = 'safety' | 'liveness' | 'over';

export class Simulation implements ClientHost {
  nowMs = 0;
  phase: Phase = 'safety';
  private readonly queue = new EventQueue();
  private readonly rng: Prng;
  private readonly view: View;
  private readonly network: SimNetwork;
  private readonly nodes: SimReplicaNode[] = [];
  private readonly nodesById = new Map<number, SimReplicaNode[]>();
  private readonly faultyIds: Set<number>;
  private readonly verifier: MemoVerifier;
  /** Clients' public keys (signed-requests mode). */
  private readonly clientVerifier: MemoVerifier;
  private readonly clients: SimClient[] = [];
  private readonly proxies: ServiceProxy[] = [];
  private readonly byzantineClients: ByzantineClient[] = [];
  private readonly livenessWaiters: (() => void)[] = [];
  private readonly issuedBytes = new WeakSet<Uint8Array>();
  private readonly heldForRestart = new Map<SimReplicaNode, (() => void)[]>();
  readonly trace: Trace;
  private readonly checks: RunObserver;
  private events = 0;
  /** When a correct replica last sent a message to another replica (quiescence detection). */
  private lastCorrectMessageMs = 0;
  /** Set when the liveness phase went quiet for good: the run stops early. */
  private stalledMs: number | null = null;
  private healMs: number;
  private clientsDoneMs: number | null = null;
  private readonly stopOnViolation: boolean;
  private readonly eventsMax: number;

  constructor(
    readonly config: SimConfig,
    options: RunOptions = {},
  ) {
    this.rng = new Prng(config.seed);
    this.trace = new Trace(options.trace ?? 'none');
    this.stopOnViolation = options.stopOnViolation ?? true;
    this.eventsMax = options.eventsMax ?? 3_000_000;
    this.view = makeView(Array.from({ length: config.n }, (_, i) => i), config.f);
    this.network = new SimNetwork(config.network, this.rng.fork('network'), config.partitionMode);
    this.faultyIds = new Set(config.faulty.map((x) => x.id));
    this.healMs = config.safetyPhaseMs;
    this.checks = new RunObserver(config, this.trace, (id) => this.faultyIds.has(id));
    const publicKeys = new Map(this.view.members.map((id) => [id, simKeyPair(config.keySeed, `replica/${id}`).publicKey]));
    this.verifier = new MemoVerifier(new Ed25519Verifier(publicKeys));
    const clientKeys = new Map<number, KeyObject>();
    for (let i = 0; i < config.clients.correct; i++) clientKeys.set(CORRECT_CLIENT_BASE + i, this.clientKey(CORRECT_CLIENT_BASE + i).publicKey);
    for (const b of config.clients.byzantine) clientKeys.set(b.clientId, this.clientKey(b.clientId).publicKey);
    this.clientVerifier = new MemoVerifier(new Ed25519Verifier(clientKeys));
    this.buildReplicas();
    this.buildClients();
  }

  // ------------------------------------------------------------------ construction

  /** A client's key: its wallet account key and, in signed-requests mode, its request key. */
  private clientKey(clientId: number): { privateKey: KeyObject; publicKey: KeyObject } {
    return simKeyPair(this.config.keySeed, `client/${clientId}`);
  }

  private replicaOptions(id: number): ReplicaOptions {
    const r = this.config.replica;
    return {
      ...DEFAULT_OPTIONS,
      id,
      view: this.view,
      requestTimeoutMs: r.requestTimeoutMs,
      batchRequestsMax: r.batchRequestsMax,
      catchUpIntervalMs: r.catchUpIntervalMs,
      checkpointPeriod: r.checkpointPeriod,
      requireSignedRequests: r.requireSignedRequests ?? false,
      ...(r.plantedBugs ? { plantedBugs: r.plantedBugs } : {}),
    };
  }

  private makeService(): () => ReplicatedService {
    if (this.config.service === 'append') return () => new AppendService();
    const issuerPublicKey = ed25519PublicKeyToRaw(simKeyPair(this.config.keySeed, 'issuer').publicKey);
    return () => new WalletService({ issuerPublicKey });
  }

  private buildReplicas(): void {
    const c = this.config;
    const clockRng = this.rng.fork('clocks');
    const coalition = c.mode === 'over-f' ? new Coalition(c.faulty.map((x) => x.id)) : null;
    const clientIds = Array.from({ length: c.clients.correct }, (_, i) => CORRECT_CLIENT_BASE + i);
    const makeService = this.makeService();
    const all = new Set(this.view.members);
    for (const id of this.view.members) {
      const fault = c.faulty.find((x) => x.id === id);
      const signer = new Ed25519Signer(simKeyPair(c.keySeed, `replica/${id}`).privateKey);
      const deps = { signer, verifier: this.verifier, hash: sha256, clientVerifier: this.clientVerifier };
      const proxy =
        fault && fault.behaviours.length > 0
          ? new ReplicaProxy(id, fault.behaviours, { signer, hash: sha256, rng: this.rng.fork(`byzantine/${id}`), coalition, clientIds, note: (t) => this.note(t) })
          : null;
      const groups = fault?.twins ? [new Set(fault.twins.groupA), new Set(fault.twins.groupB)] : [all];
      const list: SimReplicaNode[] = [];
      groups.forEach((peers, i) => {
        const clock = new DriftClock(EPOCH_MS + clockRng.float(-c.clockOffsetMsMax, c.clockOffsetMsMax), clockRng.float(-c.driftPpmMax, c.driftPpmMax));
        const name = groups.length > 1 ? `r${id}${'ab'[i]}` : `r${id}`;
        const node = new SimReplicaNode({ name, id, options: this.replicaOptions(id), makeService, deps, clock, proxy, peers, faulty: fault !== undefined });
        list.push(node);
        this.nodes.push(node);
      });
      this.nodesById.set(id, list);
    }
  }

  private buildClients(): void {
    const c = this.config;
    const timers: Timers = {
      setTimeout: (fn, ms) => this.queue.schedule(this.nowMs + ms, fn, true),
      clearTimeout: (h) => {
        if (h && typeof h === 'object' && 'cancelled' in h) (h as { cancelled: boolean }).cancelled = true;
      },
    };
    const correctIds = Array.from({ length: c.clients.correct }, (_, i) => CORRECT_CLIENT_BASE + i);
    const issuer = simKeyPair(c.keySeed, 'issuer');
    for (const clientId of correctIds) {
      // Half the clients read with digest replies, from a replier that may be faulty.
      const replierRng = this.rng.fork(`replier/${clientId}`);
      const replier = replierRng.chance(0.5) ? replierRng.pick(this.view.members) : undefined;
      // Half send their reads to a quorum first, as gateways do (lever 45), so that silent,
      // lagging and lying replicas meet that path too.
      const quorumFirst = this.rng.fork(`fanout/${clientId}`).chance(0.5);
      const proxy = new ServiceProxy(
        {
          clientId,
          ...(replier !== undefined ? { unorderedReplier: replier } : {}),
          ...(quorumFirst ? { unorderedFanout: 'quorum' as const } : {}),
          view: this.view,
          session: 1 + this.rng.fork(`session/${clientId}`).int(0, 1_000_000),
          invokeTimeoutMs: 3_600_000,
          retransmitMs: c.clients.retransmitMs,
          unorderedTimeoutMs: c.clients.retransmitMs,
          ...(c.replica.requireSignedRequests ? { requestSigner: new Ed25519Signer(this.clientKey(clientId).privateKey) } : {}),
        },
        {
          transport: { send: (replicaId, bytes) => this.clientSend(clientId, replicaId, bytes, true) },
          verifier: this.verifier,
          hash: sha256,
          timers,
        },
      );
      const rng = this.rng.fork(`client/${clientId}`);
      const workload: Workload =
        c.service === 'wallet'
          ? new WalletWorkload({ clientId, keyPair: this.clientKey(clientId), issuerPrivateKey: issuer.privateKey, peers: correctIds, readP: c.clients.readP }, rng.fork('workload'), this.checks.wallet)
          : new AppendWorkload(clientId, c.clients.readP, rng.fork('workload'), this.checks.append);
      this.proxies.push(proxy);
      this.clients.push(new SimClient(clientId, proxy, workload, c.clients, this, { liveness: this.checks.liveness, replies: this.checks.replies, execution: this.checks.execution }, rng));
    }
    for (const spec of c.clients.byzantine) {
      const requestSigner = c.replica.requireSignedRequests ? new Ed25519Signer(this.clientKey(spec.clientId).privateKey) : null;
      this.byzantineClients.push(
        new ByzantineClient(spec, {
          replicas: this.view.members,
          correctClients: correctIds,
          rng: this.rng.fork(`byzantine-client/${spec.clientId}`),
          strangerKey: simKeyPair(c.keySeed, `stranger/${spec.clientId}`),
          issuerKey: issuer.privateKey,
          requestsSigned: requestSigner !== null,
          signRequest: (r) => requestSigner?.sign(loneRequestSigningMessage(sha256, r.clientId, r.session, r.seq, r.ordered, sha256(r.payload))) ?? null,
          send: (replicaId, bytes) => this.clientSend(spec.clientId, replicaId, bytes, false),
          issued: (bytes) => this.checks.execution.onIssued(bytes),
          note: (t) => this.note(t),
        }),
      );
    }
  }

  // ------------------------------------------------------------------ client host

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.queue.schedule(this.nowMs + ms, resolve, true));
  }

  untilLiveness(): Promise<void> {
    if (this.phase !== 'safety') return Promise.resolve();
    return new Promise((resolve) => this.livenessWaiters.push(resolve));
  }

  note(text: string): void {
    if (this.trace.events) this.trace.add(this.nowMs, text);
  }

  // ------------------------------------------------------------------ the run

  /** Runs the simulation to its end. @returns the outcome; never throws for a protocol failure. */
  async run(): Promise<RunResult> {
    const wallStart = performance.now();
    this.note(describeConfig(this.config));
    for (const f of this.config.faulty) this.note(`r${f.id} is faulty: ${this.describeFault(f.id)}`);
    for (const r of this.config.crashRecoveries) this.note(`r${r.id} (correct) crashes and recovers: ${r.crashes.map((c) => `at ${c.atMs}ms${c.restartAtMs !== null ? `, back at ${c.restartAtMs}ms` : ''}`).join('; ')}`);
    this.scheduleScenario();
    for (const node of this.nodes) this.scheduleTick(node, node.incarnation);
    // Clients run as promise chains on the simulated clock. They are not awaited at the
    // end: one asleep on a timer that will never fire simply stays pending.
    for (const c of this.clients) void c.run();
    await this.loop();
    this.phase = 'over';
    for (const p of this.proxies) p.close();
    await new Promise((r) => setImmediate(r));
    this.checks.finish(this.nodes, this.healMs, this.nowMs, this.stalledMs !== null);
    return this.result(performance.now() - wallStart);
  }

  private async loop(): Promise<void> {
    for (;;) {
      const event = this.queue.pop();
      if (!event) return;
      if (event.cancelled) continue;
      if (event.atMs > this.endMs()) {
        this.nowMs = Math.max(this.nowMs, this.endMs());
        return;
      }
      this.nowMs = event.atMs;
      this.events++;
      event.run();
      if (event.touchesClient) await new Promise((r) => setImmediate(r));
      if (this.stopOnViolation && this.checks.violations.safetyBroken) return;
      if (this.events >= this.eventsMax) {
        this.checks.violations.report('liveness', this.nowMs, `the run exceeded ${this.eventsMax} events (a message storm?)`);
        return;
      }
      if (this.clientsDoneMs === null && this.phase === 'liveness' && this.clients.every((c) => c.done)) {
        this.clientsDoneMs = this.nowMs;
        this.note('every correct client is done; settling');
      }
      if (this.clientsDoneMs === null && this.isStalled()) {
        this.stalledMs = this.nowMs;
        this.note(`stalled: no correct replica sent anything for ${this.quiescentMs()} ms while clients wait`);
        return;
      }
    }
  }

  /**
   * The longest a correct replica can stay silent and still act later: its timers are the
   * request timeout, the synchronization timeout (backed off up to 2^6 request timeouts),
   * catch-up and state transfer (a few seconds). Silence beyond that, with a healed network
   * and clients waiting, is a stall for good: the run ends early (it costs minutes of ticks).
   */
  private quiescentMs(): number {
    return 66 * this.config.replica.requestTimeoutMs + 10_000;
  }

  private isStalled(): boolean {
    return this.phase === 'liveness' && this.config.mode === 'safe' && this.nowMs - Math.max(this.lastCorrectMessageMs, this.healMs) > this.quiescentMs();
  }

  /** When the run stops: after the settle time once clients are done, or at the liveness deadline. */
  private endMs(): number {
    if (this.clientsDoneMs !== null) return this.clientsDoneMs + this.config.settleMs;
    if (this.config.mode === 'over-f') return this.healMs + 60_000;
    return this.checks.liveness.deadlineMs(this.healMs) + 1;
  }

  private scheduleScenario(): void {
    const c = this.config;
    for (const p of c.partitions) {
      this.queue.schedule(p.atMs, () => {
        this.network.partition(p.shape, this.view.members);
        this.note(`partition: ${describeShape(p.shape)}`);
      });
      this.queue.schedule(Math.min(p.healAtMs, c.safetyPhaseMs), () => {
        this.network.heal();
        this.note('partition healed');
      });
    }
    for (const f of [...c.faulty, ...c.crashRecoveries]) {
      for (const crash of f.crashes) {
        this.queue.schedule(crash.atMs, () => this.crash(f.id));
        if (crash.restartAtMs !== null && crash.restartAtMs < c.safetyPhaseMs) this.queue.schedule(crash.restartAtMs, () => this.restart(f.id));
      }
    }
    for (const b of this.byzantineClients) this.scheduleByzantineClient(b);
    this.queue.schedule(c.safetyPhaseMs, () => this.startLivenessPhase(), true);
  }

  private startLivenessPhase(): void {
    this.phase = 'liveness';
    this.healMs = this.nowMs;
    this.network.heal();
    this.network.setProfile(this.config.healedNetwork);
    this.note('=== liveness phase: network healed, crashed replicas restart ===');
    for (const node of this.nodes) if (!node.alive) this.restart(node.id);
    for (const w of this.livenessWaiters.splice(0)) w();
  }

  private scheduleByzantineClient(b: ByzantineClient): void {
    const rng = this.rng.fork(`byzantine-client-timing/${b.spec.clientId}`);
    const next = (): void => {
      if (this.phase === 'over') return;
      b.act();
      this.queue.schedule(this.nowMs + rng.exponential(b.spec.everyMs), next);
    };
    this.queue.schedule(rng.exponential(b.spec.everyMs), next);
  }

  private crash(id: number): void {
    for (const node of this.nodesById.get(id)!) if (node.alive) node.crash(this.nowMs);
    this.note(`r${id} crashes`);
  }

  /** Restarts a crashed replica: faulty ones come back amnesiac, correct ones recover from their disk. */
  private restart(id: number): void {
    for (const node of this.nodesById.get(id)!) {
      if (node.alive) continue;
      const mode = node.spec.faulty ? 'amnesiac' : 'recover';
      let executed = 0;
      try {
        executed = node.restart(mode);
      } catch (e) {
        this.onCoreThrew(node, e);
        continue;
      }
      this.checks.onRecovered(node);
      this.scheduleTick(node, node.incarnation);
      const held = this.heldForRestart.get(node) ?? [];
      this.heldForRestart.delete(node);
      for (const resend of held) resend();
      this.note(mode === 'amnesiac' ? `${node.name} restarts amnesiac (empty state, rejoins by catch-up)` : `${node.name} restarts and recovers from its disk: ${executed} decisions replayed, at instance ${node.replica.instance.cid}, regency ${node.replica.regency}`);
    }
  }

  // ------------------------------------------------------------------ replicas

  private scheduleTick(node: SimReplicaNode, incarnation: number): void {
    const c = this.config;
    const tick = (): void => {
      if (node.incarnation !== incarnation || !node.alive) return;
      this.stepNode(node, { type: 'tick', nowMs: node.spec.clock.localMs(this.nowMs) });
      this.queue.schedule(this.nowMs + c.tickMs * (1 + c.tickJitter * (2 * this.rng.next() - 1)), tick);
    };
    // The first tick at once: a replica's clock must be set before its first input.
    if (this.nowMs === 0 && node.restarts === 0) tick();
    else this.queue.schedule(this.nowMs, tick);
  }

  private stepNode(node: SimReplicaNode, input: ReplicaInput): void {
    if (!node.running) return;
    try {
      node.step(input);
    } catch (e) {
      this.onCoreThrew(node, e);
      return;
    }
    const ready = node.replica.takeReady();
    this.checks.observe(node, ready, this.nowMs);
    const c = this.config;
    const releaseMs = node.disk.write(ready.persist, this.nowMs, this.rng.float(c.diskLatencyMs[0], c.diskLatencyMs[1]));
    const units = node.spec.proxy ? node.spec.proxy.rewrite(node.replica, ready.messages, ready.replies) : plainUnits(ready);
    if (units.length === 0) return;
    const incarnation = node.incarnation;
    if (releaseMs <= this.nowMs) this.release(node, units);
    else
      this.queue.schedule(releaseMs, () => {
        if (node.incarnation === incarnation && node.running) this.release(node, units);
      });
  }

  /** Sends a Ready's units once its records are durable (persist before you speak). */
  private release(node: SimReplicaNode, units: readonly Unit[]): void {
    for (const u of units) {
      if (u.kind === 'replica') {
        if (node.spec.peers.has(u.to)) this.replicaSend(node, u.to, u.bytes, u.delayMs);
      } else this.replySend(node, u.to, u.bytes, u.delayMs);
    }
  }

  private replicaSend(from: SimReplicaNode, to: number, bytes: Uint8Array, extraMs: number): void {
    if (!from.spec.faulty) this.lastCorrectMessageMs = this.nowMs;
    for (const target of this.nodesById.get(to) ?? []) {
      if (!target.spec.peers.has(from.id)) continue; // a twin hears only its own group
      this.linkSend(from, target, bytes, extraMs);
    }
  }

  private linkSend(from: SimReplicaNode, target: SimReplicaNode, bytes: Uint8Array, extraMs: number): void {
    for (const delayMs of this.network.replicaLink(from.id, target.id, () => this.linkSend(from, target, bytes, 0), bytes[0])) {
      this.queue.schedule(this.nowMs + extraMs + delayMs, () => {
        if (!target.alive && this.config.partitionMode === 'queue') return this.holdForRestart(target, () => this.linkSend(from, target, bytes, 0));
        if (!target.running) return;
        if (this.trace.messages) this.trace.add(this.nowMs, `${from.name} -> ${target.name} ${summarizeMessage(bytes, sha256)}`);
        this.stepNode(target, { type: 'replica-message', from: from.id, bytes });
      });
    }
  }

  /**
   * 'queue' mode: like the TLS connector's reconnect queue, a message for a replica that
   * is down waits until it restarts (at most `HELD_FOR_RESTART_MAX` per replica, oldest dropped).
   */
  private holdForRestart(target: SimReplicaNode, resend: () => void): void {
    const list = this.heldForRestart.get(target) ?? [];
    list.push(resend);
    if (list.length > HELD_FOR_RESTART_MAX) list.shift();
    this.heldForRestart.set(target, list);
  }

  private replySend(from: SimReplicaNode, clientId: number, bytes: Uint8Array, extraMs: number): void {
    const proxy = this.proxies[clientId - CORRECT_CLIENT_BASE];
    if (clientId < CORRECT_CLIENT_BASE || !proxy) return; // Byzantine clients ignore replies
    for (const delayMs of this.network.clientLink()) {
      this.queue.schedule(this.nowMs + extraMs + delayMs, () => proxy.onReplyBytes(from.id, bytes), true);
    }
  }

  private clientSend(clientId: number, replicaId: number, bytes: Uint8Array, correct: boolean): void {
    if (correct && !this.issuedBytes.has(bytes)) {
      this.issuedBytes.add(bytes);
      this.checks.execution.onIssued(bytes);
    }
    for (const target of this.nodesById.get(replicaId) ?? []) {
      for (const delayMs of this.network.clientLink()) {
        this.queue.schedule(this.nowMs + delayMs, () => {
          if (this.trace.messages) this.trace.add(this.nowMs, `client ${clientId} -> ${target.name} ${summarizeMessage(bytes, sha256)}`);
          this.stepNode(target, { type: 'client-message', clientId, bytes });
        });
      }
    }
  }

  private onCoreThrew(node: SimReplicaNode, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    node.halted = message;
    this.checks.onCoreThrew(node, message, this.nowMs);
  }

  private result(wallMs: number): RunResult {
    const count = this.network.counts;
    let byzantineActions = 0;
    const proxies = new Set(this.nodes.map((n) => n.spec.proxy)); // twins share one proxy
    for (const p of proxies) for (const v of p?.actions.values() ?? []) byzantineActions += v;
    return {
      config: this.config,
      ok: this.checks.violations.count === 0,
      violations: this.checks.violations.list,
      overF: this.config.mode === 'over-f',
      stats: {
        simulatedMs: this.nowMs,
        events: this.events,
        messages: count.sent,
        lost: count.lost + count.cutOff,
        decisions: this.checks.agreement.highestCid + 1,
        operationsIssued: this.checks.liveness.operations.length,
        operationsCompleted: this.checks.liveness.completed,
        highestRegency: this.checks.highestRegency,
        byzantineActions,
        restarts: this.nodes.reduce((s, n) => s + n.restarts, 0),
        verifications: { hits: this.verifier.hits, misses: this.verifier.misses },
      },
      wallMs,
      trace: this.trace,
    };
  }

  private describeFault(id: number): string {
    const f = this.config.faulty.find((x) => x.id === id)!;
    const parts: string[] = [];
    const proxy = this.nodesById.get(id)![0]!.spec.proxy;
    if (proxy) parts.push(proxy.describe());
    if (f.twins) parts.push(`twins (a talks to ${f.twins.groupA.join(',')}; b to ${f.twins.groupB.join(',')})`);
    for (const c of f.crashes) parts.push(`crash at ${c.atMs}ms${c.restartAtMs !== null ? `, restart at ${c.restartAtMs}ms` : ''}`);
    return parts.join('; ') || 'faulty (no behaviour)';
  }
}

function plainUnits(ready: Ready): Unit[] {
  const units: Unit[] = [];
  for (const m of ready.messages) for (const to of m.to) units.push({ kind: 'replica', to, bytes: m.bytes, delayMs: 0 });
  for (const r of ready.replies) units.push({ kind: 'reply', to: r.clientId, bytes: r.bytes, delayMs: 0 });
  return units;
}

function describeShape(s: PartitionShape): string {
  if (s.kind === 'split') return s.groups.map((g) => `{${g.join(',')}}`).join(' | ');
  return `cut ${s.cut.map(([a, b]) => `${a}->${b}`).join(', ')}`;
}

/** Runs one configuration. */
export function simulate(config: SimConfig, options: RunOptions = {}): Promise<RunResult> {
  return new Simulation(config, options).run();
}
