/**
 * Draws a whole run configuration from one seed: cluster size, service, timeouts,
 * clocks, network profile, partitions, which replicas are faulty and how (Byzantine
 * behaviours with triggers, twins, crashes), and the clients. `GenerateOptions` narrow
 * the space (a sweep of one behaviour, a planted bug, a known core bug left out); they
 * are part of what reproduces a run, so the replay command repeats them.
 */
import { MessageType } from '../core/messages.ts';
import type { PlantedBugs } from '../core/options.ts';
import { maxFaults } from '../core/view.ts';
import { CLIENT_BEHAVIOURS, REPLICA_BEHAVIOURS, type ByzantineClientSpec, type ClientBehaviourKind, type ReplicaBehaviour, type ReplicaBehaviourKind, type Trigger } from './byzantine/behaviours.ts';
import { BYZANTINE_CLIENT_BASE, type CrashEvent, type CrashRecovery, type FaultyReplica, type NetworkProfile, type PartitionEvent, type PartitionShape, type SimConfig, type SimMode } from './config.ts';
import { Prng } from './prng.ts';

export type FaultKind = 'byzantine' | 'twins' | 'crash';

export interface GenerateOptions {
  readonly mode?: SimMode;
  readonly plantedBugs?: PlantedBugs;
  /** Cluster size (default: 4, 7 or 10, mostly 4). */
  readonly n?: number;
  readonly service?: 'wallet' | 'append';
  /** Replica behaviours to draw from (default: all but 'collude'). */
  readonly behaviours?: readonly ReplicaBehaviourKind[];
  /** Kinds of faulty replicas to draw from (default: all). */
  readonly faultKinds?: readonly FaultKind[];
  /** Most faulty replicas (default f; in over-f mode it does not apply). */
  readonly faultsMax?: number;
  /** Whether Byzantine clients may appear (default true). */
  readonly byzantineClients?: boolean;
  /** Byzantine client behaviours to draw from (default: all). */
  readonly clientBehaviours?: readonly ClientBehaviourKind[];
  /**
   * Whether STOP messages may be lost (default true). When false there is no uniform
   * loss, partitions queue messages until they heal (like the TLS transport), and a
   * targeted loss never picks STOP — a configuration that avoids the trigger of known
   * core bug `stop-not-retransmitted` (docs/testing.md).
   */
  readonly stopLoss?: boolean;
  /** Whether partitions may happen (default true). */
  readonly partitions?: boolean;
  /** Forces signed-requests mode on or off (default: on in 40% of the runs). */
  readonly signedRequests?: boolean;
  /** Forces this targeted network loss in every run (default: drawn, in a quarter of the runs). */
  readonly targetedLoss?: { readonly type: number; readonly p: number };
  /** Whether correct replicas may crash and recover from their disks (default true). */
  readonly recovery?: boolean;
  /** Key material seed (default 0: keys are cached across runs). */
  readonly keySeed?: number;
}

/** Replica behaviours a run in 'safe' mode draws from by default. */
export const DEFAULT_BEHAVIOURS: readonly ReplicaBehaviourKind[] = REPLICA_BEHAVIOURS.filter((b) => b !== 'collude');

/**
 * The bound of the liveness phase (ms): a request waits one timeout before STOP; each
 * regency whose leader is faulty costs at most one synchronization timeout, which the
 * core backs off up to 2^6 request timeouts; at most f+1 leaders in a row can fail
 * (f faulty ones and one whose SYNC was lost before the heal). Plus slack for catch-up
 * and client retransmission.
 */
export function livenessBound(f: number, requestTimeoutMs: number, retransmitMs: number): number {
  return requestTimeoutMs + (f + 1) * requestTimeoutMs * 2 ** 6 + 4 * retransmitMs + 10_000;
}

/**
 * The configuration that `seed` describes under `options`: a pure function (the same
 * arguments always give the same configuration), drawn from forked PRNG streams.
 * @throws RangeError if `seed` is not a non-negative safe integer.
 */
export function generateConfig(seed: number, options: GenerateOptions = {}): SimConfig {
  const rng = new Prng(seed).fork('config');
  const mode = options.mode ?? 'safe';
  const n = options.n ?? rng.weighted([[4, 6], [7, 3], [10, 1]] as const);
  const f = maxFaults(n);
  const service = options.service ?? (rng.chance(0.85) ? 'wallet' : 'append');
  const requestTimeoutMs = rng.int(300, 1500);
  const safetyPhaseMs = rng.int(2000, 12_000);
  const drawn = networkProfile(rng.fork('network'), options.stopLoss ?? true);
  const network = options.targetedLoss ? { ...drawn, targetedLoss: options.targetedLoss } : drawn;
  const clientKinds = options.byzantineClients === false ? [] : (options.clientBehaviours ?? CLIENT_BEHAVIOURS);
  const clients = clientPlan(rng.fork('clients'), clientKinds);
  const faulty = faultyReplicas(rng.fork('faults'), n, f, mode, safetyPhaseMs, options);
  const config: SimConfig = {
    seed,
    mode,
    n,
    f,
    service,
    keySeed: options.keySeed ?? 0,
    replica: {
      requestTimeoutMs,
      batchRequestsMax: rng.pick([1, 2, 4, 16, 64]),
      catchUpIntervalMs: rng.int(100, 400),
      checkpointPeriod: rng.pick([4, 8, 16, 1024]),
      requireSignedRequests: options.signedRequests ?? rng.chance(0.4),
      ...(options.plantedBugs ? { plantedBugs: options.plantedBugs } : {}),
    },
    tickMs: rng.int(10, 60),
    tickJitter: 0.3,
    driftPpmMax: rng.pick([0, 100, 1000, 20_000]),
    clockOffsetMsMax: rng.pick([0, 50, 2000]),
    diskLatencyMs: [0, rng.pick([0, 1, 5])],
    network,
    healedNetwork: { ...network, delayMsMean: Math.min(network.delayMsMean, 10), spikeP: 0, lossP: 0, clientLossP: 0, targetedLoss: null },
    partitions: options.partitions === false ? [] : partitions(rng.fork('partitions'), n, safetyPhaseMs),
    partitionMode: options.stopLoss === false ? 'queue' : 'drop',
    faulty,
    crashRecoveries: options.recovery === false ? [] : crashRecoveries(rng.fork('recoveries'), n, faulty, safetyPhaseMs),
    clients,
    safetyPhaseMs,
    livenessBoundMs: livenessBound(f, requestTimeoutMs, clients.retransmitMs),
    settleMs: 2000,
    stateCheckPeriod: rng.pick([1, 4]),
  };
  // A client that sends two versions of one request is in the threat model only when
  // requests are signed (the default of wallet clusters): without signatures a replica
  // cannot tell which version the client sent to whom, and such a client can stall
  // ordering, as Aardvark showed for MAC-authenticated requests (Clement et al., NSDI
  // 2009). Unsigned mode, like BFT-SMaRt's default, assumes clients do not equivocate;
  // its runs keep every other Byzantine client kind (filtered after drawing, so that
  // every other seed's configuration stays what it was).
  if (config.replica.requireSignedRequests || options.clientBehaviours?.includes('conflicting-seq')) return config;
  return { ...config, clients: { ...clients, byzantine: clients.byzantine.filter((c) => c.kind !== 'conflicting-seq') } };
}

function networkProfile(rng: Prng, stopLoss: boolean): NetworkProfile {
  const targeted = [MessageType.PROPOSE, MessageType.WRITE, MessageType.ACCEPT, MessageType.STOPDATA, MessageType.SYNC, ...(stopLoss ? [MessageType.STOP] : [])];
  return {
    delayMsMin: rng.float(0.2, 3),
    delayMsMean: rng.pick([1, 5, 20, 50]),
    spikeP: rng.pick([0, 0.01, 0.05]),
    spikeMsMax: rng.pick([100, 1000]),
    lossP: stopLoss ? rng.pick([0, 0, 0.01, 0.05, 0.15]) : 0,
    clientLossP: rng.pick([0, 0.01, 0.05]),
    duplicateP: rng.pick([0, 0.02, 0.1]),
    targetedLoss: rng.chance(0.25) ? { type: rng.pick(targeted), p: rng.pick([0.2, 0.5, 0.8]) } : null,
  };
}

function partitions(rng: Prng, n: number, safetyPhaseMs: number): PartitionEvent[] {
  const count = rng.weighted([[0, 4], [1, 3], [2, 2], [3, 1]] as const);
  const out: PartitionEvent[] = [];
  // Non-overlapping: each partition heals before the next starts.
  let t = rng.int(0, Math.floor(safetyPhaseMs / 3));
  for (let i = 0; i < count && t < safetyPhaseMs - 100; i++) {
    const healAtMs = Math.min(safetyPhaseMs, t + rng.int(200, 4000));
    out.push({ atMs: t, healAtMs, shape: partitionShape(rng, n) });
    t = healAtMs + rng.int(100, 2000);
  }
  return out;
}

function partitionShape(rng: Prng, n: number): PartitionShape {
  const ids = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const kind = rng.weighted([['split', 2], ['isolate', 1], ['links', 1]] as const);
  if (kind === 'isolate') return { kind: 'split', groups: [[ids[0]!], ids.slice(1)] };
  if (kind === 'split') {
    const cut = rng.int(1, n - 1);
    return { kind: 'split', groups: [ids.slice(0, cut), ids.slice(cut)] };
  }
  const links: [number, number][] = [];
  for (let i = rng.int(1, 2 * n); i > 0; i--) {
    const a = rng.int(0, n - 1);
    const b = rng.int(0, n - 2);
    links.push([a, b >= a ? b + 1 : b]);
  }
  return { kind: 'links', cut: links };
}

function trigger(rng: Prng): Trigger {
  const kind = rng.weighted([['always', 4], ['probability', 4], ['instance', 1], ['regency', 1]] as const);
  if (kind === 'always') return { kind };
  if (kind === 'probability') return { kind, p: rng.pick([0.1, 0.3, 0.7]) };
  if (kind === 'instance') return { kind, cid: rng.int(0, 10) };
  return { kind, regency: rng.int(0, 3) };
}

function behaviour(rng: Prng, kind: ReplicaBehaviourKind): ReplicaBehaviour {
  return kind === 'slow' ? { kind, trigger: trigger(rng), delayMs: rng.int(50, 3000) } : { kind, trigger: trigger(rng) };
}

function crashes(rng: Prng, safetyPhaseMs: number): CrashEvent[] {
  const out: CrashEvent[] = [];
  let t = rng.int(0, Math.floor(safetyPhaseMs / 2));
  for (let i = rng.int(1, 2); i > 0 && t < safetyPhaseMs; i--) {
    const restartAtMs = rng.chance(0.7) ? t + rng.int(100, 3000) : null;
    out.push({ atMs: t, restartAtMs });
    if (restartAtMs === null) break;
    t = restartAtMs + rng.int(200, 3000);
  }
  return out;
}

function faultyReplicas(rng: Prng, n: number, f: number, mode: SimMode, safetyPhaseMs: number, options: GenerateOptions): FaultyReplica[] {
  const most = Math.min(f, options.faultsMax ?? f);
  const count = mode === 'over-f' ? rng.int(f + 1, Math.min(n - 1, 2 * f)) : rng.weighted([[0, 1], [Math.min(1, most), 2], [most, 3]] as const);
  const ids = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count);
  const allowed = options.behaviours ?? DEFAULT_BEHAVIOURS;
  const kinds = options.faultKinds ?? ['byzantine', 'twins', 'crash'];
  return ids.map((id): FaultyReplica => {
    if (mode === 'over-f') {
      const extra = allowed.length > 0 && rng.chance(0.3) ? [behaviour(rng, rng.pick(allowed))] : [];
      return { id, behaviours: [{ kind: 'collude', trigger: { kind: 'always' } }, ...extra], twins: null, crashes: [] };
    }
    const kind = rng.weighted(kinds.map((k) => [k, k === 'byzantine' ? 7 : k === 'twins' ? 1 : 2] as const));
    if (kind === 'twins' || (kind === 'byzantine' && allowed.length === 0)) {
      const others = rng.shuffle(Array.from({ length: n }, (_, i) => i).filter((x) => x !== id));
      const cut = rng.int(1, others.length - 1);
      return { id, behaviours: [], twins: { groupA: others.slice(0, cut), groupB: others.slice(cut) }, crashes: [] };
    }
    if (kind === 'crash') return { id, behaviours: [], twins: null, crashes: crashes(rng, safetyPhaseMs) };
    const picked = rng.shuffle(allowed).slice(0, rng.weighted([[1, 3], [2, 2], [3, 1]] as const));
    return { id, behaviours: picked.map((k) => behaviour(rng, k)), twins: null, crashes: rng.chance(0.15) ? crashes(rng, safetyPhaseMs) : [] };
  });
}

function crashRecoveries(rng: Prng, n: number, faulty: readonly FaultyReplica[], safetyPhaseMs: number): CrashRecovery[] {
  if (!rng.chance(0.3)) return [];
  const correct = rng.shuffle(Array.from({ length: n }, (_, i) => i).filter((id) => !faulty.some((x) => x.id === id)));
  return correct.slice(0, rng.int(1, Math.min(2, correct.length))).map((id) => ({ id, crashes: crashes(rng, safetyPhaseMs) }));
}

function clientPlan(rng: Prng, kinds: readonly ClientBehaviourKind[]): SimConfig['clients'] {
  const count = kinds.length > 0 ? rng.weighted([[0, 6], [1, 3], [2, 1]] as const) : 0;
  const specs: ByzantineClientSpec[] = [];
  for (let i = 0; i < count; i++) specs.push({ clientId: BYZANTINE_CLIENT_BASE + i, kind: rng.pick(kinds), everyMs: rng.int(100, 2000) });
  return {
    correct: rng.int(1, 4),
    safetyOps: rng.int(2, 12),
    livenessOps: rng.int(1, 4),
    thinkMsMax: rng.pick([0, 50, 300]),
    retransmitMs: rng.int(200, 1000),
    readP: 0.15,
    byzantine: specs,
  };
}
