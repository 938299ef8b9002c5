/**
 * What each replica behaviour does to one outgoing unit (one message to one recipient,
 * or one reply to one client). A rewriter says which units it applies to; the proxy
 * checks the trigger only for those, then lets it return the units to send instead.
 */
import { decodeBatch, encodeBatch, encodeMessage, syncSignedBytes } from '../../core/codec.ts';
import { MessageType, type Message, type Propose, type StopData, type Sync, type Vote } from '../../core/messages.ts';
import { checkpointSigningMessage } from '../../core/checkpoint.ts';
import { encodeReplies } from '../../core/replies.ts';
import type { Replica } from '../../core/replica.ts';
import type { Hasher, Signer } from '../../crypto/signature.ts';
import type { Prng } from '../prng.ts';
import type { ReplicaBehaviour, ReplicaBehaviourKind } from './behaviours.ts';
import type { Coalition } from './coalition.ts';
import {
  alternativeBatch,
  fakeDecision,
  fakeWriteCertificate,
  garble,
  invalidBatch,
  resignStopData,
  resignVote,
  type InvalidBatchKind,
} from './rewrite.ts';

/** One message to one replica (`kind: 'replica'`) or one reply to one client. */
export interface Unit {
  readonly kind: 'replica' | 'reply';
  /** Replica id or client id. */
  readonly to: number;
  readonly bytes: Uint8Array;
  /** Extra delay before it leaves (ms). */
  readonly delayMs: number;
}

export interface ProxyContext {
  readonly id: number;
  readonly replica: Replica;
  readonly signer: Signer;
  readonly hash: Hasher;
  readonly rng: Prng;
  readonly coalition: Coalition | null;
  /** Ids of clients that exist (for forged requests). */
  readonly clientIds: readonly number[];
  /** Recent units this replica sent, and messages it received (for replays). */
  readonly sent: Unit[];
  readonly received: { from: number; bytes: Uint8Array }[];
  /** Per-(cid, regency) choices, so every recipient of one equivocation sees a consistent split. */
  readonly memo: Map<string, unknown>;
  /** Records a Byzantine action in the trace. */
  note(text: string): void;
}

export interface Rewriter {
  applies(m: Message | null, unit: Unit, ctx: ProxyContext): boolean;
  apply(unit: Unit, m: Message | null, ctx: ProxyContext, behaviour: ReplicaBehaviour): Unit[];
}

const withBytes = (unit: Unit, m: Message): Unit => ({ ...unit, bytes: encodeMessage(m) });

/** A changed SYNC, re-signed by this (faulty) leader: only its contents can give it away. */
function resignedSync(s: Sync, ctx: ProxyContext, changes: Partial<Pick<Sync, 'stopData' | 'cid' | 'value'>>): Sync {
  const m = { ...s, ...changes };
  return { ...m, signature: ctx.signer.sign(syncSignedBytes(m)) };
}
const isReplicaMsg = (unit: Unit): boolean => unit.kind === 'replica';
const isVote = (m: Message | null): m is Vote => m !== null && (m.type === MessageType.WRITE || m.type === MessageType.ACCEPT);

/** A memoised choice for (key): computed once per equivocation so all recipients agree on the split. */
function memo<T>(ctx: ProxyContext, key: string, make: () => T): T {
  if (ctx.memo.has(key)) return ctx.memo.get(key) as T;
  if (ctx.memo.size > 512) ctx.memo.clear();
  const v = make();
  ctx.memo.set(key, v);
  return v;
}

/** A non-empty proper subset of the other replicas (the ones shown the other value). */
function splitGroup(ctx: ProxyContext): Set<number> {
  const others = ctx.replica.view.members.filter((m) => m !== ctx.id);
  const shuffled = ctx.rng.shuffle(others);
  return new Set(shuffled.slice(0, ctx.rng.int(1, Math.max(1, others.length - 1))));
}

const silent: Rewriter = {
  applies: () => true,
  apply: () => [],
};

const silentLeader: Rewriter = {
  applies: (_m, _u, ctx) => ctx.replica.leader === ctx.id,
  apply: () => [],
};

const slow: Rewriter = {
  applies: () => true,
  apply: (unit, _m, _ctx, b) => [{ ...unit, delayMs: unit.delayMs + (b.delayMs ?? 500) }],
};

const equivocate: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m?.type === MessageType.PROPOSE,
  apply(unit, m, ctx) {
    const p = m as Propose;
    const split = memo(ctx, `equivocate/${p.cid}/${p.regency}`, () => ({ groupB: splitGroup(ctx), alt: alternativeBatch(p.value, ctx.rng) }));
    if (!split.alt || !split.groupB.has(unit.to)) return [unit];
    ctx.note(`equivocates: PROPOSE cid=${p.cid} reg=${p.regency} to r${unit.to} with another batch`);
    return [withBytes(unit, { ...p, value: split.alt })];
  },
};

const INVALID_KINDS: readonly InvalidBatchKind[] = ['garbage', 'out-of-sequence', 'forged-request', 'backdated', 'unordered', 'repeated-request'];

const invalidPropose: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m?.type === MessageType.PROPOSE,
  apply(unit, m, ctx) {
    const p = m as Propose;
    const bad = memo(ctx, `invalid/${p.cid}/${p.regency}`, () => {
      const kind = ctx.rng.pick(INVALID_KINDS);
      ctx.note(`proposes an invalid batch (${kind}) for cid=${p.cid} reg=${p.regency}`);
      return invalidBatch(p.value, kind, ctx.rng, ctx.clientIds);
    });
    return [withBytes(unit, { ...p, value: bad })];
  },
};

const duplicatePropose: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m?.type === MessageType.PROPOSE,
  apply(unit, m, ctx) {
    const p = m as Propose;
    const variant = ctx.rng.int(0, 2);
    if (variant === 0) return [unit, unit];
    const d = decodeBatch(p.value);
    const batch = d.ok ? d.message : { timestampMs: 0, requests: [] };
    // Requests executed before: re-proposing them must be rejected, not executed twice.
    const old = ctx.replica.lastDecided ? decodeBatch(ctx.replica.lastDecided.value) : null;
    const requests = variant === 1 || !old?.ok ? [...batch.requests, ...batch.requests] : [...old.message.requests, ...batch.requests];
    ctx.note(`proposes duplicated requests for cid=${p.cid} to r${unit.to}`);
    const dup = withBytes(unit, { ...p, value: encodeBatch({ timestampMs: batch.timestampMs, requests }) });
    return ctx.rng.chance(0.5) ? [unit, dup] : [dup, unit];
  },
};

const conflictingVotes: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && isVote(m),
  apply(unit, m, ctx) {
    const v = m as Vote;
    const other = resignVote(v, ctx.signer, { digest: ctx.hash(ctx.rng.bytes(32)) });
    ctx.note(`sends a conflicting ${v.type === MessageType.WRITE ? 'WRITE' : 'ACCEPT'} cid=${v.cid} to r${unit.to}`);
    const conflicting = withBytes(unit, other);
    return ctx.rng.chance(0.5) ? [conflicting] : ctx.rng.chance(0.5) ? [unit, conflicting] : [conflicting, unit];
  },
};

const wrongRegency: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m !== null && (isVote(m) || m.type === MessageType.PROPOSE || m.type === MessageType.STOP),
  apply(unit, m, ctx) {
    const x = m as Vote | Propose | { type: typeof MessageType.STOP; from: number; regency: number };
    const regency = ctx.rng.chance(0.5) ? Math.max(0, x.regency - ctx.rng.int(1, 3)) : x.regency + ctx.rng.int(1, 20);
    if (regency === x.regency) return [unit];
    ctx.note(`rewrites regency ${x.regency} -> ${regency} in a message to r${unit.to}`);
    if (isVote(m)) return [withBytes(unit, resignVote(m, ctx.signer, { regency }))];
    return [withBytes(unit, { ...(x as Message & { regency: number }), regency } as Message)];
  },
};

const forge: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m !== null,
  apply(unit, m, ctx) {
    const r = ctx.replica;
    const others = r.view.members.filter((x) => x !== ctx.id);
    const msg = m as Message;
    const variant = ctx.rng.int(0, 3);
    if (variant === 0 && isVote(msg)) {
      ctx.note(`forges a ${msg.type === MessageType.WRITE ? 'WRITE' : 'ACCEPT'} signature to r${unit.to}`);
      return [withBytes(unit, { ...msg, signature: ctx.rng.bytes(64) })];
    }
    if (variant === 1 && 'from' in msg) {
      const claimed = ctx.rng.pick(others);
      ctx.note(`claims to be r${claimed} in a message to r${unit.to}`);
      return [unit, withBytes(unit, { ...msg, from: claimed } as Message)];
    }
    if (variant === 2) {
      // A decision proof for the recipient's next instance that does not check out.
      const cid = r.instance.cid;
      const value = encodeBatch({ timestampMs: r.lastTimestampMs + 1, requests: [] });
      ctx.note(`sends a fake DECISION_REPLY for cid=${cid} to r${unit.to}`);
      const reply = { type: MessageType.DECISION_REPLY, from: ctx.id, checkpointCid: r.stableCheckpointCid, decisions: [fakeDecision(cid, r.regency, value, r.view.members, r.quorum, ctx.rng)] } as Message;
      return [unit, withBytes(unit, reply)];
    }
    if (msg.type === MessageType.STOPDATA) {
      const cid = (msg.lastDecided?.cid ?? -1) + 1;
      const value = encodeBatch({ timestampMs: r.lastTimestampMs + 7, requests: [] });
      ctx.note(`sends STOPDATA with a fake write certificate to r${unit.to}`);
      return [withBytes(unit, resignStopData(msg, ctx.signer, { writeCertificate: fakeWriteCertificate(cid, Math.max(0, msg.regency - 1), value, r.view.members, r.quorum, ctx.rng) }))];
    }
    if (msg.type === MessageType.SYNC && msg.stopData.length > 0) {
      const forged = { ...msg.stopData[0]!, signature: ctx.rng.bytes(64) } as StopData;
      ctx.note(`sends SYNC with a forged STOPDATA to r${unit.to}`);
      return [withBytes(unit, resignedSync(msg, ctx, { stopData: [forged, ...msg.stopData.slice(1)] }))];
    }
    return [unit];
  },
};

const garbleRw: Rewriter = {
  applies: (_m, u) => isReplicaMsg(u),
  apply(unit, _m, ctx) {
    ctx.note(`garbles a message to r${unit.to}`);
    return [{ ...unit, bytes: garble(unit.bytes, ctx.rng) }];
  },
};

const replay: Rewriter = {
  applies: (_m, u) => isReplicaMsg(u),
  apply(unit, _m, ctx) {
    const out = [unit];
    const count = ctx.rng.int(1, 3);
    for (let i = 0; i < count; i++) {
      const useReceived = ctx.received.length > 0 && ctx.rng.chance(0.3);
      if (useReceived) out.push({ ...unit, bytes: ctx.rng.pick(ctx.received).bytes });
      else if (ctx.sent.length > 0) out.push({ ...unit, bytes: ctx.rng.pick(ctx.sent).bytes });
    }
    if (out.length > 1) ctx.note(`replays ${out.length - 1} old message(s) to r${unit.to}`);
    return out;
  },
};

const wrongStopData: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m?.type === MessageType.STOPDATA,
  apply(unit, m, ctx) {
    const s = m as StopData;
    const variant = ctx.rng.int(0, 2);
    if (variant === 0) {
      ctx.note(`STOPDATA reg=${s.regency} hides its decision and write certificate`);
      return [withBytes(unit, resignStopData(s, ctx.signer, { lastDecided: null, writeCertificate: null }))];
    }
    if (variant === 1 || !s.lastDecided) {
      ctx.note(`STOPDATA reg=${s.regency} hides its write certificate`);
      return [withBytes(unit, resignStopData(s, ctx.signer, { writeCertificate: null }))];
    }
    const older = ctx.replica.decided.get(s.lastDecided.cid - ctx.rng.int(1, 3)) ?? null;
    ctx.note(`STOPDATA reg=${s.regency} backdates its last decision to ${older?.cid ?? 'none'}`);
    return [withBytes(unit, resignStopData(s, ctx.signer, { lastDecided: older, writeCertificate: null }))];
  },
};

const wrongSync: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m?.type === MessageType.SYNC,
  apply(unit, m, ctx) {
    const s = m as Sync;
    const plan = memo(ctx, `sync/${s.regency}`, () => ({ variant: ctx.rng.int(0, 5), groupB: splitGroup(ctx), alt: alternativeBatch(s.value, ctx.rng) }));
    switch (plan.variant) {
      case 0:
        if (!plan.groupB.has(unit.to) || !plan.alt) return [unit];
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} proposes another value`);
        return [withBytes(unit, resignedSync(s, ctx, { value: plan.alt }))];
      case 1:
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} carries too few STOPDATAs`);
        return [withBytes(unit, resignedSync(s, ctx, { stopData: s.stopData.slice(1) }))];
      case 2:
        if (s.stopData.length === 0) return [unit];
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} repeats a STOPDATA`);
        return [withBytes(unit, resignedSync(s, ctx, { stopData: [s.stopData[0]!, ...s.stopData.slice(0, s.stopData.length - 1)] }))];
      case 3:
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} names instance ${s.cid + 1}`);
        return [withBytes(unit, resignedSync(s, ctx, { cid: s.cid + 1 }))];
      case 4:
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} proposes garbage`);
        return [withBytes(unit, resignedSync(s, ctx, { value: ctx.rng.bytes(ctx.rng.int(1, 64)) }))];
      default:
        if (!plan.alt) return [unit];
        ctx.note(`SYNC reg=${s.regency} to r${unit.to} proposes another value`);
        return [withBytes(unit, resignedSync(s, ctx, { value: plan.alt }))];
    }
  },
};

const LIE = new TextEncoder().encode('{"ok":false,"error":{"code":"INTERNAL","message":"a Byzantine replica lies"}}');

const wrongResults: Rewriter = {
  applies: (m, u) => u.kind === 'reply' && m?.type === MessageType.REPLY,
  apply(unit, m, ctx) {
    const r = m as Extract<Message, { type: typeof MessageType.REPLY }>;
    const result = ctx.rng.chance(0.5) ? LIE : ctx.rng.bytes(ctx.rng.int(1, 40));
    // Signed (or not) exactly as this replica signs its honest replies, with its own key.
    const request = { type: MessageType.REQUEST, clientId: r.clientId, session: r.session, seq: r.seq, ordered: r.ordered, payload: new Uint8Array(0) } as const;
    const [bytes] = encodeReplies(ctx.replica.replySigning, [request], [result]);
    ctx.note(`replies to client ${r.clientId} ${r.session}/${r.seq} with a wrong result`);
    return [{ ...unit, bytes: bytes! }];
  },
};

const corruptCheckpoint: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m !== null && (m.type === MessageType.CHECKPOINT || m.type === MessageType.STATE_CHUNK),
  apply(unit, m, ctx) {
    if (m?.type === MessageType.CHECKPOINT) {
      const digest = ctx.hash(ctx.rng.bytes(32));
      ctx.note(`reports a false checkpoint digest for cid=${m.cid} to r${unit.to}`);
      return [withBytes(unit, { ...m, digest, signature: ctx.signer.sign(checkpointSigningMessage(m.cid, digest, m.byteLength)) })];
    }
    if (m?.type === MessageType.STATE_CHUNK && m.bytes.length > 0) {
      const bytes = Uint8Array.from(m.bytes);
      const at = ctx.rng.int(0, bytes.length - 1);
      bytes[at] = bytes[at]! ^ 0x5a;
      ctx.note(`serves a corrupted state chunk ${m.cid}/${m.index} to r${unit.to}`);
      return [withBytes(unit, { ...m, bytes })];
    }
    return [unit];
  },
};

/** Over-f collusion: equivocate as leader, and vote to each replica for the value it was shown. */
const collude: Rewriter = {
  applies: (m, u) => isReplicaMsg(u) && m !== null && (m.type === MessageType.PROPOSE || isVote(m)),
  apply(unit, m, ctx) {
    const c = ctx.coalition;
    if (!c) return [unit];
    if (m?.type === MessageType.PROPOSE) {
      if (!c.has(m.cid, m.regency)) {
        const alt = alternativeBatch(m.value, ctx.rng);
        if (!alt) return [unit];
        const correct = ctx.replica.view.members.filter((x) => !c.members.has(x));
        const groupB = new Set(ctx.rng.shuffle(correct).slice(0, Math.max(1, Math.floor(correct.length / 2))));
        c.assign(m.cid, m.regency, groupB, m.value, alt);
        ctx.note(`coalition splits cid=${m.cid} reg=${m.regency}: r${[...groupB].join(',r')} get another batch`);
      }
      const value = c.valueFor(m.cid, m.regency, unit.to)!;
      return [withBytes(unit, { ...m, value })];
    }
    const v = m as Vote;
    const value = c.valueFor(v.cid, v.regency, unit.to);
    if (!value) return [unit];
    return [withBytes(unit, resignVote(v, ctx.signer, { digest: ctx.hash(value) }))];
  },
};

export const REWRITERS: Record<ReplicaBehaviourKind, Rewriter> = {
  silent,
  'silent-leader': silentLeader,
  slow,
  equivocate,
  'invalid-propose': invalidPropose,
  'duplicate-propose': duplicatePropose,
  'conflicting-votes': conflictingVotes,
  'wrong-regency': wrongRegency,
  forge,
  garble: garbleRw,
  replay,
  'wrong-stopdata': wrongStopData,
  'wrong-sync': wrongSync,
  'wrong-results': wrongResults,
  'corrupt-checkpoint': corruptCheckpoint,
  collude,
};
