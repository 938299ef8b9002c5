/**
 * One simulated replica process: the real core, its service, its simulated disk and
 * clock, and — if it is faulty — the Byzantine proxy around it. A crash discards the
 * process (and what its disk had not made durable); a restart builds a new one.
 *
 * Restart is in one place (`restart`), in one of two ways:
 * - 'recover': the core replays what its disk made durable (`Replica.recover`), like a
 *   real process restarting on its store — a benign fault, the replica stays correct;
 * - 'amnesiac': a fresh core with empty state that rejoins by catch-up, as if its disk
 *   were lost — it may contradict its earlier votes, so it is counted against f.
 */
import { Replica, type ReplicaInput } from '../core/replica.ts';
import type { ReplicaDependencies, ReplicaOptions } from '../core/options.ts';
import type { ReplicatedService } from '../core/service.ts';
import type { ReplicaProxy } from './byzantine/replica-proxy.ts';
import type { DriftClock } from './clock.ts';
import { SimDisk } from './disk.ts';

export interface ReplicaNodeSpec {
  /** Node name in traces: "r2", or "r2a"/"r2b" for twins. */
  readonly name: string;
  readonly id: number;
  readonly options: ReplicaOptions;
  /** Builds a fresh service (at start and on each restart). */
  readonly makeService: () => ReplicatedService;
  readonly deps: Omit<ReplicaDependencies, 'service'>;
  readonly clock: DriftClock;
  readonly proxy: ReplicaProxy | null;
  /** Replica ids this node exchanges messages with (twins see only their group; others: all). */
  readonly peers: ReadonlySet<number>;
  /** Counted against f (Byzantine, twin, or crashed and restarted). */
  readonly faulty: boolean;
}

export class SimReplicaNode {
  replica: Replica;
  service: ReplicatedService;
  readonly disk = new SimDisk();
  alive = true;
  /** Bumped on every restart: outputs of a crashed incarnation are never released. */
  incarnation = 0;
  /** Set when the core threw: the node stops (a real process would exit). */
  halted: string | null = null;
  restarts = 0;

  constructor(readonly spec: ReplicaNodeSpec) {
    this.service = spec.makeService();
    this.replica = new Replica(spec.options, { ...spec.deps, service: this.service });
  }

  get name(): string {
    return this.spec.name;
  }

  get id(): number {
    return this.spec.id;
  }

  /** True if this node can take input now. */
  get running(): boolean {
    return this.alive && this.halted === null;
  }

  /** Feeds one input to the core. @throws whatever the core throws (the simulator records it). */
  step(input: ReplicaInput): void {
    if (input.type === 'replica-message') this.spec.proxy?.onReceived(input.from, input.bytes);
    this.replica.step(input);
  }

  /** The process stops at `nowMs`: pending disk writes are lost, in-flight outputs are never sent. */
  crash(nowMs: number): void {
    this.alive = false;
    this.incarnation++;
    this.disk.crash(nowMs);
  }

  /**
   * The process starts again (see the file comment for the two modes).
   * @returns how many decisions recovery re-executed (0 when amnesiac).
   * @throws whatever `Replica.recover` throws for contradictory durable state.
   */
  restart(mode: 'recover' | 'amnesiac'): number {
    this.service = this.spec.makeService();
    this.replica = new Replica(this.spec.options, { ...this.spec.deps, service: this.service });
    this.alive = true;
    this.halted = null;
    this.incarnation++;
    this.restarts++;
    if (mode === 'amnesiac') {
      this.disk.durable.length = 0; // the disk is gone with the memory
      return 0;
    }
    const executed = this.replica.recover(this.disk.recoveredState());
    this.replica.takeReady(); // recovery replays silently: nothing of it is sent or observed again
    return executed;
  }
}
