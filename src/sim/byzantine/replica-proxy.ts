/**
 * The proxy around a faulty replica's honest core (style.md practice 13): it sees the
 * core's inputs (to remember messages for replays) and rewrites its outputs according
 * to the configured behaviours, each gated by its trigger. The core itself is never
 * modified, so every behaviour is "an honest replica whose messages were tampered with"
 * — exactly what a Byzantine replica holding its own key can do.
 */
import { decodeMessage } from '../../core/codec.ts';
import type { Message } from '../../core/messages.ts';
import type { OutboundMessage, OutboundReply } from '../../core/ready.ts';
import type { Replica } from '../../core/replica.ts';
import type { Hasher, Signer } from '../../crypto/signature.ts';
import type { Prng } from '../prng.ts';
import { describeBehaviour, type ReplicaBehaviour } from './behaviours.ts';
import type { Coalition } from './coalition.ts';
import { REWRITERS, type ProxyContext, type Unit } from './rewriters.ts';
import { fires } from './triggers.ts';

/** Most remembered messages for replays (sent and received each). */
const HISTORY_MAX = 256;

export interface ReplicaProxyDependencies {
  readonly signer: Signer;
  readonly hash: Hasher;
  readonly rng: Prng;
  readonly coalition: Coalition | null;
  readonly clientIds: readonly number[];
  readonly note: (text: string) => void;
}

export class ReplicaProxy {
  private readonly sent: Unit[] = [];
  private readonly received: { from: number; bytes: Uint8Array }[] = [];
  private readonly memo = new Map<string, unknown>();
  /** Actions taken, by behaviour (for the run's statistics). */
  readonly actions = new Map<string, number>();

  constructor(
    readonly id: number,
    readonly behaviours: readonly ReplicaBehaviour[],
    private readonly deps: ReplicaProxyDependencies,
  ) {}

  describe(): string {
    return this.behaviours.map(describeBehaviour).join(' + ');
  }

  /** Remembers a message this replica received (replays may re-send it). */
  onReceived(from: number, bytes: Uint8Array): void {
    remember(this.received, { from, bytes });
  }

  /** Rewrites one Ready's outputs. @returns the units to send (with extra delays). */
  rewrite(replica: Replica, messages: readonly OutboundMessage[], replies: readonly OutboundReply[]): Unit[] {
    let units: Unit[] = [];
    for (const m of messages) for (const to of m.to) units.push({ kind: 'replica', to, bytes: m.bytes, delayMs: 0 });
    for (const r of replies) units.push({ kind: 'reply', to: r.clientId, bytes: r.bytes, delayMs: 0 });
    const ctx = this.context(replica);
    for (const b of this.behaviours) units = units.flatMap((u) => this.applyOne(b, u, ctx));
    for (const u of units) if (u.kind === 'replica') remember(this.sent, u);
    return units;
  }

  private applyOne(b: ReplicaBehaviour, unit: Unit, ctx: ProxyContext): Unit[] {
    const rw = REWRITERS[b.kind];
    const decoded = decodeMessage(unit.bytes);
    const m: Message | null = decoded.ok ? decoded.message : null;
    if (!rw.applies(m, unit, ctx)) return [unit];
    const at = m as { cid?: number; regency?: number } | null;
    if (!fires(b.trigger, this.deps.rng, at?.cid ?? ctx.replica.instance.cid, at?.regency ?? ctx.replica.regency)) return [unit];
    this.actions.set(b.kind, (this.actions.get(b.kind) ?? 0) + 1);
    return rw.apply(unit, m, ctx, b);
  }

  private context(replica: Replica): ProxyContext {
    return {
      id: this.id,
      replica,
      signer: this.deps.signer,
      hash: this.deps.hash,
      rng: this.deps.rng,
      coalition: this.deps.coalition,
      clientIds: this.deps.clientIds,
      sent: this.sent,
      received: this.received,
      memo: this.memo,
      note: (text) => this.deps.note(`r${this.id} [byzantine] ${text}`),
    };
  }
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY_MAX) list.splice(0, list.length - HISTORY_MAX);
}
