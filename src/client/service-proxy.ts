/**
 * The client side of Bulwark (BFT-SMaRt's ServiceProxy): sends each request to every
 * replica of the view, and returns once enough replicas sent matching, validly signed
 * replies — f+1 for an ordered request, a Byzantine quorum for an unordered read (which
 * falls back to ordering when replicas disagree or stay silent). With `unorderedFanout:
 * 'quorum'` a read goes first to just a Byzantine quorum of replicas, and to the others
 * only if those do not answer alike.
 *
 * Retransmission keeps a request alive until it is answered even after its caller timed
 * out: replicas execute a client's requests in sequence, so a request abandoned half-way
 * would block every later one.
 *
 * Timing is one periodic sweep per proxy (`sweepMs`), not two timers per request: with
 * about a thousand requests in flight, each request's two Timeout objects and closures
 * lived as long as the request (40–60 ms at peak), long enough to be copied by scavenges
 * and promoted. A deadline or retransmission therefore fires up to one sweep late.
 */
import type { Hasher, Signer, Verifier } from '../crypto/signature.ts';
import { requestLeaf, requestRootSigningMessage } from '../core/signing.ts';
import { VerifiedRoots, merkleTree } from '../core/merkle.ts';
import { decodeMessage, encodeMessage, peekReply } from '../core/codec.ts';
import { MessageType, type Reply, type Request } from '../core/messages.ts';
import { byzantineQuorum, correctWitnesses, type View } from '../core/view.ts';
import { BftError } from './errors.ts';
import { ReplyVoter, knownDigest, withLazyDigest, type VoteOutcome } from './reply-voter.ts';

export interface ProxyTransport {
  /** Sends bytes to one replica, best effort (the transport reconnects underneath). */
  send(replicaId: number, bytes: Uint8Array): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` once the current turn of the event loop is done (default: setImmediate; timers without it: setTimeout 0). */
  defer?(fn: () => void): void;
}

export interface ServiceProxyOptions {
  /** This client's id (the one its certificate names). */
  readonly clientId: number;
  readonly view: View;
  /** Session number; must grow across restarts of the same client id. Default: Date.now(). */
  readonly session?: number;
  /** An invocation fails with BFT_TIMEOUT after this long. Default 10 000 ms. */
  readonly invokeTimeoutMs?: number;
  /** Resend to replicas that have not replied after this long. Default 1000 ms. */
  readonly retransmitMs?: number;
  /** An unordered read that has no quorum after this long is ordered instead. Default 1000 ms. */
  readonly unorderedTimeoutMs?: number;
  /** Ordered requests in flight at once (must not exceed the replicas' pendingPerClientMax). Default 128. */
  readonly outstandingMax?: number;
  /**
   * Check each reply's signature (default true). Off for clusters whose replicas do not
   * sign replies: replies are then authenticated by their TLS channels only.
   */
  readonly verifyReplies?: boolean;
  /** Signs every ordered request with this client's key (clusters that require signed requests; unordered reads are not signed). */
  readonly requestSigner?: Signer;
  /**
   * Unordered reads ask this replica for the full result and the others for its digest
   * (PBFT's digest replies, TOCS 2002 §5.1.1): one copy of a large result crosses the
   * network instead of n. Choose the closest replica (a gateway's own). If it does not
   * answer, the read falls back to ordering like any read without a quorum. Default: none
   * (every replica sends the full result).
   */
  readonly unorderedReplier?: number;
  /**
   * The replica that runs in this client's own process (a wallet gateway's replica). Its
   * reply signatures are not verified: if that replica is faulty, so is this client, and
   * checking its signatures protects nothing. Its signatures still go into the evidence,
   * for a third party to check. Default: none (every reply is verified).
   */
  readonly colocatedReplica?: number;
  /**
   * Which replicas an unordered read is sent to first. 'all' (default, as BFT-SMaRt): every
   * replica. 'quorum': a Byzantine quorum of them (2f+1 of 3f+1): the replier, then the
   * following members in view order, leaving out replicas that recently stayed silent or
   * disagreed while enough others remain. The read goes to the rest as soon as every replica
   * asked has answered without a quorum of matching replies, or after `unorderedSpreadMs`.
   * It needs the same quorum of matching replies either way; the other f replicas are just
   * not asked to do the work (a 300-entry ledger page is built by three replicas instead of
   * four). The "preferred quorum" of Q/U (Abd-El-Malek et al., SOSP 2005) and HQ (Cowling
   * et al., OSDI 2006), applied to reads. One timer per read while it waits on its first
   * quorum, cleared with the answer (reads are far fewer in flight than ordered requests).
   */
  readonly unorderedFanout?: 'all' | 'quorum';
  /** With `unorderedFanout: 'quorum'`, how long a read waits for the first quorum before it goes to every replica (ms). Default 20. */
  readonly unorderedSpreadMs?: number;
}

export interface ServiceProxyDependencies {
  readonly transport: ProxyTransport;
  /** Replica public keys, to check reply signatures. */
  readonly verifier: Verifier;
  readonly hash: Hasher;
  readonly timers?: Timers;
}

interface Pending {
  readonly voter: ReplyVoter;
  /** The encoded request; null while it waits for its turn's signature (`signTurn`). */
  bytes: Uint8Array | null;
  readonly replied: Set<number>;
  resolve: ((o: VoteOutcome) => void) | null;
  reject: ((e: Error) => void) | null;
  /** The sweep (`ServiceProxy.sweeps`) at which it is resent to replicas that have not replied. */
  retransmitAtSweep: number;
  /** The sweep at which its caller gets BFT_TIMEOUT. */
  readonly deadlineAtSweep: number;
  readonly timeoutMs: number;
  /** A read sent to a first quorum only (`unorderedFanout: 'quorum'`): the replicas asked; null once it went to all. */
  askedFirst: readonly number[] | null;
  /** The timer that sends such a read to the other replicas, or null. */
  spreadTimer: unknown;
}

export class ServiceProxy {
  readonly clientId: number;
  readonly session: number;
  private readonly view: View;
  private readonly members: ReadonlySet<number>;
  private readonly timers: Timers;
  private readonly invokeTimeoutMs: number;
  private readonly retransmitMs: number;
  private readonly unorderedTimeoutMs: number;
  private readonly outstandingMax: number;
  private readonly verifyReplies: boolean;
  /** `deps.verifier`, except that it takes the colocated replica's signatures as they are. */
  private readonly replyVerifier: Verifier;
  private nextSeq = 0;
  private nextUnorderedSeq = 0;
  private readonly ordered = new Map<number, Pending>();
  private readonly unordered = new Map<number, Pending>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  /** Period of the sweep that retransmits and times out requests (ms). */
  private readonly sweepMs: number;
  /** Sweeps run so far: the proxy's clock for deadlines and retransmissions. */
  private sweeps = 0;
  /** The pending sweep timer, or null while nothing is in flight. */
  private sweepTimer: unknown = null;
  private readonly verifiedRoots = new VerifiedRoots();
  private readonly unorderedSpreadMs: number;
  /**
   * Replicas left out of a read's first quorum while enough others remain: each stayed
   * silent until a read was spread, or answered a read with a result the quorum did not
   * vouch for. A replica leaves this set when it vouches for a read's result again.
   */
  private readonly slowReaders = new Set<number>();
  private readonly defer: (fn: () => void) => void;
  /**
   * Ordered requests waiting for their turn's signature (lever 42): all that `invoke` sends
   * in one turn of the event loop are signed together, one signature over the root of a
   * Merkle tree of their `requestSigningMessage`s, each sent with its path.
   */
  private turn: { readonly p: Pending; readonly request: Request }[] = [];
  /** Replies dropped, by reason (for diagnostics). */
  readonly rejectedReplies = new Map<string, number>();

  constructor(
    private readonly options: ServiceProxyOptions,
    private readonly deps: ServiceProxyDependencies,
  ) {
    this.clientId = options.clientId;
    this.session = options.session ?? Date.now();
    this.view = options.view;
    this.members = new Set(options.view.members);
    this.timers = deps.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), defer: (fn) => setImmediate(fn) };
    const timers = this.timers;
    this.defer = timers.defer?.bind(timers) ?? ((fn) => timers.setTimeout(fn, 0));
    this.invokeTimeoutMs = options.invokeTimeoutMs ?? 10_000;
    this.retransmitMs = options.retransmitMs ?? 1000;
    this.unorderedTimeoutMs = options.unorderedTimeoutMs ?? 1000;
    this.outstandingMax = options.outstandingMax ?? 128;
    this.unorderedSpreadMs = options.unorderedSpreadMs ?? 20;
    this.verifyReplies = options.verifyReplies ?? true;
    if (options.unorderedReplier !== undefined && !this.members.has(options.unorderedReplier)) {
      throw new RangeError(`unorderedReplier ${options.unorderedReplier} is not a member of view ${options.view.id}`);
    }
    const colocated = options.colocatedReplica;
    if (colocated !== undefined && !this.members.has(colocated)) throw new RangeError(`colocatedReplica ${colocated} is not a member of view ${options.view.id}`);
    this.replyVerifier = colocated === undefined ? deps.verifier : { verify: (id, message, signature) => id === colocated || deps.verifier.verify(id, message, signature) };
    // A tenth of the shortest period: deadlines and retransmissions are at most 10 % late.
    this.sweepMs = Math.max(1, Math.floor(Math.min(this.retransmitMs, this.unorderedTimeoutMs, this.invokeTimeoutMs) / 10));
  }

  /**
   * Orders and executes `payload`; resolves with the result f+1 replicas agree on.
   * @throws BftError BFT_TIMEOUT after invokeTimeoutMs, BFT_CLOSED if the proxy closes first.
   */
  invokeOrdered(payload: Uint8Array): Promise<VoteOutcome> {
    // Not an async function: with room in the window (the common case) the caller gets the
    // request's own promise, without a wrapping promise and its extra microtasks.
    if (this.closed || this.ordered.size >= this.outstandingMax) return this.invokeOrderedWhenRoom(payload);
    try {
      return this.invokeOrderedNow(payload);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Sends `payload` as the next ordered request; the caller has checked that the window has room. */
  private invokeOrderedNow(payload: Uint8Array): Promise<VoteOutcome> {
    return this.invoke(this.ordered, ++this.nextSeq, true, payload, correctWitnesses(this.view), this.invokeTimeoutMs);
  }

  /** `invokeOrdered` once the window has room. */
  private async invokeOrderedWhenRoom(payload: Uint8Array): Promise<VoteOutcome> {
    if (this.closed) throw new BftError('BFT_CLOSED', 'the service proxy is closed');
    while (this.ordered.size >= this.outstandingMax) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closed) throw new BftError('BFT_CLOSED', 'the service proxy is closed');
    return this.invokeOrderedNow(payload);
  }

  /**
   * Reads without ordering (BFT-SMaRt invokeUnordered): needs a Byzantine quorum of
   * matching replies, else falls back to `invokeOrdered`.
   */
  async invokeUnordered(payload: Uint8Array): Promise<VoteOutcome> {
    if (this.closed) throw new BftError('BFT_CLOSED', 'the service proxy is closed');
    const seq = ++this.nextUnorderedSeq;
    try {
      return await this.invoke(this.unordered, seq, false, payload, byzantineQuorum(this.view), this.unorderedTimeoutMs);
    } catch (e) {
      if (e instanceof BftError && e.code === 'BFT_CLOSED') throw e;
      return this.invokeOrdered(payload);
    }
  }

  /**
   * Feeds a frame received from replica `replicaId` (its channel authenticated it). `bytes`
   * may be a view into a socket buffer: what the caller gets back is copied out of it.
   */
  onReplyBytes(replicaId: number, bytes: Uint8Array): void {
    // A reply to a request already answered (or never sent) needs no decoding: ignore it.
    const header = peekReply(bytes);
    if (header) {
      if (header.session !== this.session) return this.count('reply for another session');
      if (!(header.ordered ? this.ordered : this.unordered).has(header.seq)) return;
    }
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) return this.count(`malformed: ${decoded.reason}`);
    const m = decoded.message;
    if (m.type !== MessageType.REPLY) return this.count(`unexpected message type ${m.type}`);
    if (m.replicaId !== replicaId) return this.count('reply claims another replica');
    this.onReply(m);
  }

  /** Rejects everything in flight with BFT_CLOSED and stops all timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const table of [this.ordered, this.unordered]) {
      for (const [seq, p] of table) this.finish(table, seq, p, null, new BftError('BFT_CLOSED', 'the service proxy closed'));
    }
    for (const w of this.waiting.splice(0)) w();
    if (this.sweepTimer !== null) this.timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Requests in flight (ordered, unordered). */
  get inFlight(): { ordered: number; unordered: number } {
    return { ordered: this.ordered.size, unordered: this.unordered.size };
  }

  private invoke(table: Map<number, Pending>, seq: number, ordered: boolean, payload: Uint8Array, threshold: number, timeoutMs: number): Promise<VoteOutcome> {
    // Only ordered requests are signed: a replica authenticates an unordered read by this
    // client's channel (see Replica.onClientBytes), and a read that falls back to ordering is
    // sent again as a new ordered request, signed then. Signed requests leave at the end of
    // the turn, signed together (`signTurn`).
    const signer = ordered ? this.options.requestSigner : undefined;
    const replier = ordered ? undefined : this.options.unorderedReplier;
    const request: Request = {
      type: MessageType.REQUEST, clientId: this.clientId, session: this.session, seq, ordered, payload,
      ...(replier !== undefined ? { replier } : {}),
    };
    const bytes = signer ? null : encodeMessage(request);
    return new Promise<VoteOutcome>((resolve, reject) => {
      const p: Pending = {
        // Evidence needs f+1 checked signatures (one correct replica); a read's further votes count by their channel (ReplyVoter).
        voter: new ReplyVoter({ clientId: this.clientId, session: this.session, seq, ordered }, this.members, threshold, this.verifyReplies ? this.replyVerifier : null, this.deps.hash, this.verifiedRoots, replier, Math.min(threshold, correctWitnesses(this.view))),
        bytes,
        replied: new Set(),
        resolve,
        reject,
        retransmitAtSweep: this.sweepAfter(this.retransmitMs),
        deadlineAtSweep: this.sweepAfter(timeoutMs),
        timeoutMs,
        askedFirst: null,
        spreadTimer: null,
      };
      table.set(seq, p);
      if (signer) {
        this.turn.push({ p, request });
        if (this.turn.length === 1) this.defer(() => this.signTurn(signer));
      } else if (!ordered && this.options.unorderedFanout === 'quorum' && byzantineQuorum(this.view) < this.view.members.length) {
        p.askedFirst = this.firstReadQuorum(seq);
        this.sendTo(p, p.askedFirst);
        p.spreadTimer = this.timers.setTimeout(() => this.spreadRead(seq, p, true), this.unorderedSpreadMs);
      } else this.sendTo(p, this.view.members);
      if (this.sweepTimer === null) this.scheduleSweep();
    });
  }

  /** The first sweep at least `ms` from now (the next sweep may come at any time before `sweepMs`). */
  private sweepAfter(ms: number): number {
    return this.sweeps + Math.ceil(ms / this.sweepMs) + 1;
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.timers.setTimeout(() => this.sweep(), this.sweepMs);
  }

  /** Times out and retransmits what is due; runs while anything is in flight. */
  private sweep(): void {
    this.sweepTimer = null;
    if (this.closed) return;
    const now = ++this.sweeps;
    this.sweepTable(this.ordered, true, now);
    this.sweepTable(this.unordered, false, now);
    if (this.ordered.size + this.unordered.size > 0) this.scheduleSweep();
  }

  private sweepTable(table: Map<number, Pending>, ordered: boolean, now: number): void {
    // forEach, not for-of: no [key, value] pair allocated per request per sweep.
    table.forEach((p, seq) => {
      if (p.reject && now >= p.deadlineAtSweep) this.onDeadline(table, seq, p, ordered);
      if (table.get(seq) === p && now >= p.retransmitAtSweep) {
        this.sendTo(p, this.view.members);
        p.retransmitAtSweep = this.sweepAfter(this.retransmitMs);
      }
    });
  }

  /**
   * The replicas a read is sent to first (`unorderedFanout: 'quorum'`): a Byzantine quorum,
   * starting at the replier (or, without one, at a member that rotates with `seq`) and
   * following the view's order, skipping `slowReaders` unless too few others remain.
   */
  private firstReadQuorum(seq: number): number[] {
    const members = this.view.members;
    const replier = this.options.unorderedReplier;
    const start = replier === undefined ? seq % members.length : members.indexOf(replier);
    const inOrder = members.map((_, i) => members[(start + i) % members.length]!);
    const quorum = byzantineQuorum(this.view);
    const chosen = inOrder.filter((id) => id === replier || !this.slowReaders.has(id)).slice(0, quorum);
    for (const id of inOrder) if (chosen.length < quorum && !chosen.includes(id)) chosen.push(id);
    return chosen;
  }

  /**
   * Sends a read that went to a first quorum to the other replicas. `timedOut`: its first
   * quorum's silent replicas become `slowReaders` (left out of the next reads' first quorums).
   */
  private spreadRead(seq: number, p: Pending, timedOut: boolean): void {
    p.spreadTimer = null;
    const asked = p.askedFirst;
    if (asked === null || this.unordered.get(seq) !== p) return;
    p.askedFirst = null;
    if (timedOut) for (const id of asked) if (!p.replied.has(id)) this.slowReaders.add(id);
    this.sendTo(p, this.view.members.filter((id) => !asked.includes(id)));
  }

  private sendTo(p: Pending, replicas: readonly number[]): void {
    const bytes = p.bytes;
    if (bytes === null) return; // still waiting for its turn's signature
    for (const id of replicas) if (!p.replied.has(id)) this.deps.transport.send(id, bytes);
  }

  /**
   * Signs the ordered requests `invoke` queued in this turn with one signature, over the
   * root of the Merkle tree of their `requestSigningMessage`s, and sends each with its path
   * (lever 42). Requests answered or abandoned meanwhile (close) are left out.
   */
  private signTurn(signer: Signer): void {
    const turn = this.turn.filter((t) => this.ordered.get(t.request.seq) === t.p);
    this.turn = [];
    if (turn.length === 0) return;
    const hash = this.deps.hash;
    const leaves = turn.map(({ request: r }) => requestLeaf(hash, r.clientId, r.session, r.seq, r.ordered, hash(r.payload)));
    const { root, proofs } = merkleTree(hash, leaves);
    const signature = signer.sign(requestRootSigningMessage(this.clientId, root));
    turn.forEach((t, i) => {
      t.p.bytes = encodeMessage({ ...t.request, signature, proof: proofs[i]! });
      this.sendTo(t.p, this.view.members);
    });
  }

  private onDeadline(table: Map<number, Pending>, seq: number, p: Pending, ordered: boolean): void {
    const reject = p.reject;
    if (!reject) return;
    p.resolve = p.reject = null;
    const err = new BftError('BFT_TIMEOUT', `no ${ordered ? 'f+1' : 'quorum of'} matching replies within ${p.timeoutMs} ms (${p.voter.replies} replies)`);
    // An ordered request stays in the table and keeps being retransmitted: later
    // requests of this client cannot execute before it.
    if (!ordered) this.finish(table, seq, p, null, null);
    reject(err);
  }

  private onReply(m: Reply): void {
    const table = m.ordered ? this.ordered : this.unordered;
    if (m.session !== this.session) return this.count('reply for another session');
    const p = table.get(m.seq);
    if (!p) return; // late reply for an answered request: normal
    const outcome = p.voter.add(m);
    if (typeof outcome === 'string') return this.count(outcome);
    p.replied.add(m.replicaId);
    if (outcome) {
      if (!m.ordered && this.options.unorderedFanout === 'quorum') this.noteReadVoters(p, outcome);
      return this.finish(table, m.seq, p, outcome, null);
    }
    if (!m.ordered && p.voter.undecidable) return this.finish(table, m.seq, p, null, new BftError('BFT_UNAVAILABLE', 'replicas disagree on an unordered read'));
    // Every replica of the first quorum answered, and not alike: ask the others now.
    if (p.askedFirst !== null && p.askedFirst.every((id) => p.replied.has(id))) {
      if (p.spreadTimer !== null) this.timers.clearTimeout(p.spreadTimer);
      this.spreadRead(m.seq, p, false);
    }
  }

  /** After a read's outcome: its voters are good readers again; who answered otherwise is slow. */
  private noteReadVoters(p: Pending, outcome: VoteOutcome): void {
    for (const id of outcome.voters) this.slowReaders.delete(id);
    for (const id of p.replied) if (!outcome.voters.includes(id)) this.slowReaders.add(id);
  }

  private finish(table: Map<number, Pending>, seq: number, p: Pending, outcome: VoteOutcome | null, error: Error | null): void {
    table.delete(seq);
    if (p.spreadTimer !== null) this.timers.clearTimeout(p.spreadTimer);
    p.spreadTimer = null;
    if (outcome && p.resolve) p.resolve(detached(outcome, this.deps.hash));
    else if (error && p.reject) p.reject(error);
    p.resolve = p.reject = null;
    if (table === this.ordered) this.waiting.shift()?.();
  }

  private count(reason: string): void {
    this.rejectedReplies.set(reason, (this.rejectedReplies.get(reason) ?? 0) + 1);
  }
}

/**
 * The outcome with its bytes copied: replies are decoded from views into the transport's
 * read buffers (no copy per reply), and a result kept by the caller must not pin them.
 */
function detached(o: VoteOutcome, hash: Hasher): VoteOutcome {
  const e = o.evidence;
  const result = o.result.slice();
  return {
    result,
    voters: o.voters,
    evidence: withLazyDigest({
      clientId: e.clientId,
      session: e.session,
      seq: e.seq,
      ordered: e.ordered,
      signatures: e.signatures.map((s) => ({ replicaId: s.replicaId, signature: s.signature.slice(), proof: { ...s.proof, siblings: s.proof.siblings.map((x) => x.slice()) } })),
    }, result, hash, knownDigest(e)),
  };
}
