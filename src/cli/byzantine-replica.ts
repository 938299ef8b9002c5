/**
 * Byzantine behaviours for a real replica process (issue 4, "real-process Byzantine
 * modes"): the simulator's behaviours (src/sim/byzantine/, pure code) applied by the same
 * proxy around an honest core's outputs — malachite's engine-byzantine idea: the core
 * stays honest code, and the proxy does what a faulty replica holding its own key could
 * do to its messages. It plugs into the host as an `OutputInterceptor` (wired here in
 * cli/, since the host may not depend on the simulator). Used by the benchmark's
 * Byzantine scenario and by integration tests.
 */
import type { Ready, OutboundMessage, OutboundReply } from '../core/ready.ts';
import type { Replica } from '../core/replica.ts';
import type { InterceptedOutputs, OutputInterceptor } from '../host/output-interceptor.ts';
import type { Hasher, Signer } from '../crypto/signature.ts';
import { REPLICA_BEHAVIOURS, type ReplicaBehaviour, type ReplicaBehaviourKind } from '../sim/byzantine/behaviours.ts';
import { ReplicaProxy } from '../sim/byzantine/replica-proxy.ts';
import { Prng } from '../sim/prng.ts';

/** Every replica behaviour but `collude`, which needs several faulty replicas acting as one. */
export const BYZANTINE_BEHAVIOURS = REPLICA_BEHAVIOURS.filter((k): k is Exclude<ReplicaBehaviourKind, 'collude'> => k !== 'collude');
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

/** Extra delay of every output for `slow` (ms): beyond a short request timeout, not beyond a leader change. */
export const SLOW_DELAY_MS = 300;

export interface ByzantineOutputsOptions {
  readonly behaviour: ByzantineBehaviour;
  readonly replicaId: number;
  readonly signer: Signer;
  readonly hash: Hasher;
  /** Seed of the behaviour's random choices (which replicas see which value, …). */
  readonly seed?: number;
  /** Where to note each Byzantine action (a log line). */
  readonly note?: (text: string) => void;
}

/** The Byzantine proxy of one real replica: feed it what the replica receives, pass its Readys through `rewrite`. */
export class ByzantineOutputs implements OutputInterceptor {
  private readonly proxy: ReplicaProxy;

  constructor(options: ByzantineOutputsOptions) {
    const behaviour: ReplicaBehaviour = { kind: options.behaviour, trigger: { kind: 'always' }, ...(options.behaviour === 'slow' ? { delayMs: SLOW_DELAY_MS } : {}) };
    this.proxy = new ReplicaProxy(options.replicaId, [behaviour], {
      signer: options.signer,
      hash: options.hash,
      rng: new Prng(options.seed ?? options.replicaId + 1).fork('byzantine'),
      coalition: null,
      clientIds: [],
      note: options.note ?? (() => undefined),
    });
  }

  /** Remembers a message the replica received from another replica (for `replay`). */
  onReceived(from: number, bytes: Uint8Array): void {
    this.proxy.onReceived(from, bytes);
  }

  /** Rewrites the messages and replies of `ready` (persist records and events are untouched). */
  rewrite(core: Replica, ready: Ready): InterceptedOutputs {
    const units = this.proxy.rewrite(core, ready.messages, ready.replies);
    const byDelay = new Map<number, { messages: OutboundMessage[]; replies: OutboundReply[] }>();
    for (const u of units) {
      let group = byDelay.get(u.delayMs);
      if (!group) byDelay.set(u.delayMs, (group = { messages: [], replies: [] }));
      if (u.kind === 'replica') group.messages.push({ to: [u.to], bytes: u.bytes });
      else group.replies.push({ clientId: u.to, bytes: u.bytes });
    }
    const now = byDelay.get(0) ?? { messages: [], replies: [] };
    byDelay.delete(0);
    return {
      ready: { ...ready, messages: now.messages, replies: now.replies },
      delayed: [...byDelay].map(([delayMs, g]) => ({ delayMs, ...g })),
    };
  }
}
