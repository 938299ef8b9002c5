/**
 * The configuration of one simulated run. Everything in it is drawn from the run's seed
 * (`generate.ts`), so the seed alone reproduces the run; tests may also build one by hand.
 * Times are simulated milliseconds since the start of the run.
 */
import type { PlantedBugs } from '../core/options.ts';
import type { ByzantineClientSpec, ReplicaBehaviour } from './byzantine/behaviours.ts';

/** Faults within the tolerance (f or fewer faulty replicas), or deliberately more than f. */
export type SimMode = 'safe' | 'over-f';

export interface NetworkProfile {
  /** Smallest one-way delay (ms). */
  readonly delayMsMin: number;
  /** Mean of the exponential part added to delayMsMin (ms): independent draws reorder messages. */
  readonly delayMsMean: number;
  /** Probability that a message is delayed by an extra spike. */
  readonly spikeP: number;
  /** Largest spike (ms), drawn uniformly. */
  readonly spikeMsMax: number;
  /** Probability that a replica-to-replica message is lost. */
  readonly lossP: number;
  /** Probability that a client<->replica message is lost. */
  readonly clientLossP: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateP: number;
  /**
   * An adversarial network that loses one kind of replica message more often (e.g.
   * ACCEPTs, so that a value is decided by some replicas only): message type and loss
   * probability, or null.
   */
  readonly targetedLoss: { readonly type: number; readonly p: number } | null;
}

export type PartitionShape =
  /** Replicas split into groups; no message crosses groups. */
  | { readonly kind: 'split'; readonly groups: readonly (readonly number[])[] }
  /** Only the listed directed links are cut (a hears b, b does not hear a). */
  | { readonly kind: 'links'; readonly cut: readonly (readonly [number, number])[] };

export interface PartitionEvent {
  readonly atMs: number;
  readonly healAtMs: number;
  readonly shape: PartitionShape;
}

export interface CrashEvent {
  readonly atMs: number;
  /** When it comes back (null: stays down until the liveness phase). */
  readonly restartAtMs: number | null;
}

export interface TwinsSpec {
  /** Replica ids the first twin exchanges messages with; the second twin gets the others. */
  readonly groupA: readonly number[];
  readonly groupB: readonly number[];
}

export interface FaultyReplica {
  readonly id: number;
  readonly behaviours: readonly ReplicaBehaviour[];
  /** Runs as two honest replicas with the same id and key (DiemBFT's Twins). */
  readonly twins: TwinsSpec | null;
  readonly crashes: readonly CrashEvent[];
}

/** A correct replica that crashes and restarts from its simulated disk (a benign fault, not counted against f). */
export interface CrashRecovery {
  readonly id: number;
  readonly crashes: readonly CrashEvent[];
}

export interface ClientPlan {
  /** Correct clients (they use the real ServiceProxy). */
  readonly correct: number;
  /** Ordered operations a correct client issues during the safety phase (at most). */
  readonly safetyOps: number;
  /** Operations each correct client must complete in the liveness phase. */
  readonly livenessOps: number;
  /** Largest pause between two operations of one client (ms). */
  readonly thinkMsMax: number;
  /** ServiceProxy retransmission period (ms). */
  readonly retransmitMs: number;
  /** Probability that an operation is an unordered read (falls back to ordering). */
  readonly readP: number;
  readonly byzantine: readonly ByzantineClientSpec[];
}

export interface SimConfig {
  readonly seed: number;
  readonly mode: SimMode;
  readonly n: number;
  readonly f: number;
  readonly service: 'wallet' | 'append';
  /** Key material is derived from this (0 in sweeps, so keys are cached across runs). */
  readonly keySeed: number;
  readonly replica: {
    readonly requestTimeoutMs: number;
    readonly batchRequestsMax: number;
    readonly catchUpIntervalMs: number;
    readonly checkpointPeriod: number;
    /** Clients sign every request and replicas check it (the core's signed-requests mode). */
    readonly requireSignedRequests?: boolean;
    readonly plantedBugs?: PlantedBugs;
  };
  /** Period of each replica's clock tick (ms), jittered by up to ±tickJitter of it. */
  readonly tickMs: number;
  readonly tickJitter: number;
  /** Largest clock drift (parts per million) and offset (ms) of a replica's local clock. */
  readonly driftPpmMax: number;
  readonly clockOffsetMsMax: number;
  /** Disk write latency range (ms): outputs wait for their durable records (persist before you speak). */
  readonly diskLatencyMs: readonly [number, number];
  readonly network: NetworkProfile;
  /** The network of the liveness phase: no loss, no partitions. */
  readonly healedNetwork: NetworkProfile;
  readonly partitions: readonly PartitionEvent[];
  /**
   * What a partition does to a message on a cut link: 'drop' it (a lossy network), or
   * 'queue' it until the partition heals (the TLS transport's reconnect queue).
   */
  readonly partitionMode: 'drop' | 'queue';
  readonly faulty: readonly FaultyReplica[];
  /** Correct replicas that crash and recover from disk (`Replica.recover`). */
  readonly crashRecoveries: readonly CrashRecovery[];
  readonly clients: ClientPlan;
  /** The safety phase (faults on) lasts this long; then the network heals. */
  readonly safetyPhaseMs: number;
  /** After the heal, every correct client's operation must complete within this bound (ms). */
  readonly livenessBoundMs: number;
  /** After the last client finishes, the run continues this long so lagging replicas catch up. */
  readonly settleMs: number;
  /** Every this many instances, correct replicas' service snapshots are compared. */
  readonly stateCheckPeriod: number;
}

/** The number of replicas counted against f: Byzantine, twins, crashed (a restart is amnesiac). */
export function faultyCount(config: SimConfig): number {
  return config.faulty.length;
}

/** Client ids: correct clients from 100, Byzantine ones from 200 (replica ids are 0..n-1). */
export const CORRECT_CLIENT_BASE = 100;
export const BYZANTINE_CLIENT_BASE = 200;

/** One-line description for traces and reports. */
export function describeConfig(c: SimConfig): string {
  const planted = c.replica.plantedBugs ? Object.keys(c.replica.plantedBugs).filter((k) => (c.replica.plantedBugs as Record<string, unknown>)[k]) : [];
  return [
    `seed ${c.seed}`,
    `mode ${c.mode}`,
    `n=${c.n} f=${c.f}`,
    c.service,
    `clients ${c.clients.correct}+${c.clients.byzantine.length} byzantine`,
    `timeout ${c.replica.requestTimeoutMs}ms`,
    c.replica.requireSignedRequests ? 'signed requests' : '',
    `tick ${c.tickMs}ms`,
    `loss ${c.network.lossP.toFixed(3)} dup ${c.network.duplicateP.toFixed(3)}${c.network.targetedLoss ? ` (type ${c.network.targetedLoss.type} lost with p=${c.network.targetedLoss.p})` : ''}`,
    c.partitionMode === 'queue' ? 'partitions queue messages' : '',
    `${c.partitions.length} partitions`,
    planted.length ? `planted ${planted.join(',')}` : '',
  ]
    .filter((x) => x !== '')
    .join(', ');
}
