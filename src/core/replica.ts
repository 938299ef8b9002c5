/**
 * A Mod-SMaRt replica as a pure state machine (Sousa & Bessani, "From Byzantine
 * Consensus to BFT State Machine Replication: A Latency-Optimal Transformation",
 * EDCC 2012; BFT-SMaRt's TOMLayer, Acceptor and Synchronizer for behaviour).
 *
 * No I/O: `step(input)` takes a message from an authenticated peer, a client request
 * or a clock tick; `takeReady()` returns what to persist, send, and report. The same
 * code runs in real processes (src/host) and in the simulator (src/sim).
 *
 * Invariants:
 * - Instances are decided and executed strictly in cid order, one at a time.
 * - A replica sends at most one WRITE and one ACCEPT per (cid, regency).
 * - A value is decided only on a Byzantine quorum of matching ACCEPTs from distinct replicas
 *   (authenticated by their channels; their signatures are checked when the decision's
 *   proof is shown, proofs.ts).
 * - A regency is installed only on a Byzantine quorum of STOPs (or a SYNC proving one).
 * - Peer input never throws: bad messages are dropped with a reason in `events`.
 *
 * The handlers live beside this file: normal-case.ts (PROPOSE/WRITE/ACCEPT),
 * synchronization.ts (STOP/STOPDATA/SYNC), catch-up.ts (DECISION_REQUEST/REPLY).
 */
import { decodeBatch, decodeMessage, encodeMessage } from './codec.ts';
import { bytesEqual, detach, toHex } from './bytes.ts';
import { MessageType, type Batch, type Checkpoint, type Decision, type Message, type Sync, type ReplicaMessage, type Request, type WriteCertificate } from './messages.ts';
import type { ReplicaDependencies, ReplicaOptions } from './options.ts';
import { emptyReady, mustPersistBeforeSpeaking, type CoreEvent, type DurableRecord, type Ready } from './ready.ts';
import { Sessions } from './sessions.ts';
import { encodeReplies, encodeUnorderedReply, type ReplySigning } from './replies.ts';
import { requestLeaf, requestRootSigningMessage } from './signing.ts';
import { VerifiedRoots, merkleRootOf } from './merkle.ts';
import { byzantineQuorum, correctWitnesses, isMember, leaderOf, type View } from './view.ts';
import { onAccept, onPropose, onRequestArrived, onWrite, proposeIfLeader, resendAccept, type Round } from './normal-case.ts';
import { applyPendingSync, maybeRequestSync, onStop, onStopData, onSync, onSyncForward, onSyncRequest, resendStop, sendStop } from './synchronization.ts';
import { maybeRequestCatchUp, onDecisionReply, onDecisionRequest, requestCatchUp } from './catch-up.ts';
import { checkStability, isCheckpointCid, onCheckpoint, takeCheckpoint } from './checkpointing.ts';
import { onStateChunk, onStateChunkRequest, onStateRequest, onStateTransferTick, type Transfer } from './state-transfer.ts';
import type { LocalCheckpoint } from './checkpoint.ts';
import { recover, type RecoveredState } from './recovery.ts';
import { noteDecision, type DecisionProvenance, type LastDecisionProof } from './proofs.ts';

export type ReplicaInput =
  /** Bytes from a replica; `from` is the replica id its authenticated channel proved. */
  | { readonly type: 'replica-message'; readonly from: number; readonly bytes: Uint8Array }
  /** Bytes from a client; `clientId` is the client id its authenticated channel proved. */
  | { readonly type: 'client-message'; readonly clientId: number; readonly bytes: Uint8Array }
  /** The host's clock (ms); time only moves forward. */
  | { readonly type: 'tick'; readonly nowMs: number };

/** A proposed value held for the current instance: its bytes, SHA-256 digest and decoded batch. */
export interface HeldValue {
  readonly value: Uint8Array;
  readonly digest: Uint8Array;
  readonly batch: Batch;
}

/** State of the consensus instance currently being decided (cid = lastDecidedCid + 1). */
export interface InstanceState {
  readonly cid: number;
  /** Values seen for this instance, by digest hex (from PROPOSE or SYNC), validated or not. */
  readonly values: Map<string, HeldValue>;
  /** The highest-regency write certificate obtained for this instance (survives regency changes). */
  writeCertificate: WriteCertificate | null;
  /** Per-regency voting state; replaced when the regency changes. */
  round: Round;
}

export class Replica {
  readonly id: number;
  view: View;
  readonly options: ReplicaOptions;
  readonly deps: ReplicaDependencies;

  nowMs = 0;
  regency = 0;
  /** True between installing a regency (quorum of STOPs) and processing its SYNC. */
  synchronizing = false;
  synchronizingSinceMs = 0;
  /** Consecutive regency changes without a decision: backs off the synchronization timeout. */
  failedRegencies = 0;
  /** Highest regency this replica sent STOP for. */
  stopSentRegency = 0;
  /** When this replica last (re)sent its STOP (ms). */
  lastStopSentMs = 0;
  /** A SYNC for an instance we have not reached yet (we lag): applied when we get there. */
  pendingSync: Sync | null = null;
  /** STOP senders per future regency (bounded by regenciesAheadMax). */
  readonly stops = new Map<number, Set<number>>();
  /** The last past regency each replica behind us was helped to (STOP echo or SYNC_FORWARD; synchronization.ts `helpLaggard`). */
  readonly stopEchoes = new Map<number, { regency: number; atMs: number }>();
  /** STOPDATAs collected per regency this replica leads. */
  readonly stopData = new Map<number, Map<number, import('./messages.ts').StopData>>();

  lastDecided: Decision | null = null;
  /** The state of `lastDecided`'s proof: checked or not, and what completes or replaces it (proofs.ts). */
  lastDecisionProof: LastDecisionProof | null = null;
  /** The latest decision whose proof was checked (shown in STOPDATA when `lastDecided`'s cannot be). */
  lastProvenDecision: Decision | null = null;
  /**
   * A write certificate for a decided instance we could not prove yet, kept to show in
   * STOPDATA until a decision we can prove replaces it (proofs.ts explains why).
   */
  fallbackCertificate: WriteCertificate | null = null;
  /**
   * Decisions for our next instances that others reported without a proof that checked out
   * (or before we reached them), by cid then sender (catch-up.ts): applied when one's proof
   * checks out, or when f+1 report the same value.
   */
  readonly reportedDecisions = new Map<number, Map<number, { readonly decision: Decision; checked: boolean }>>();
  lastTimestampMs = 0;
  /** Recent decisions by cid, for lagging replicas. */
  readonly decided = new Map<number, Decision>();
  instance: InstanceState;
  readonly sessions: Sessions;
  /** Request-tree roots whose client signature was verified (see requestSignatureValid); bounded. */
  private readonly verifiedRequestRoots = new VerifiedRoots(4096);

  /** Messages for future instances/regencies, re-examined after each state change. */
  held: { from: number; message: ReplicaMessage }[] = [];
  readonly heldPerSender = new Map<number, number>();
  /** Highest cid each replica was seen working on (drives catch-up). */
  readonly highestCidSeen = new Map<number, number>();
  /** Highest regency each replica was seen voting or proposing in (drives SYNC_REQUEST). */
  readonly highestRegencySeen = new Map<number, number>();
  lastSyncRequestMs = -Infinity;
  /** The SYNC that started our current regency, kept to forward to replicas that missed it. */
  lastSync: Sync | null = null;
  lastCatchUpMs = -Infinity;

  /** Our own recent checkpoints by cid (the stable one and any newer). */
  readonly checkpoints = new Map<number, LocalCheckpoint>();
  /** Signed CHECKPOINT reports near our position, by cid then sender. */
  readonly checkpointReports = new Map<number, Map<number, Checkpoint>>();
  stableCheckpoint: LocalCheckpoint | null = null;
  /** Latest verified CHECKPOINT report per replica past our position: state-transfer offers. */
  readonly offers = new Map<number, Checkpoint>();
  transfer: Transfer | null = null;
  /** True while replaying the durable log at start: nothing is persisted or sent again. */
  recovering = false;
  /** Set by recovery: the first tick asks the others for decisions we missed while down. */
  askForDecisionsAtStart = false;
  /** Set by recovery: the first tick sends again the ACCEPT we had sent in the current round (see `resendAccept`). */
  resendAcceptAtStart = false;
  /**
   * Unordered reads wait until this instance is decided here (-1: none wait). Set by
   * recovery when we restarted with an ACCEPT in an undecided instance: that instance may
   * have been decided and answered before the crash, so our state may be older than what a
   * client was told (see `answerUnordered`).
   */
  readsHeldUntilCid = -1;
  /** Unordered reads waiting for `readsHeldUntilCid` (at most `pendingTotalMax`). */
  private readonly heldReads: { readonly clientId: number; readonly request: Request }[] = [];
  /**
   * A record this replica had to make durable before speaking has been (or was recovered):
   * a restart will find durable state and fence itself, so WRITE-phase vote records may
   * be deferred from now on (see `mustPersistBeforeSpeaking`).
   */
  durablyStarted = false;
  /**
   * The regency this replica recovered after a crash, or -1: it sends no PROPOSE and no
   * WRITE in it, since it may have sent some whose records were deferred and lost
   * (recovery.ts). Not set after a clean stop.
   */
  fencedRegency = -1;
  /** When this replica last decided an instance (ms). */
  lastProgressMs = 0;

  private ready: Ready = emptyReady();
  private readonly selfQueue: ReplicaMessage[] = [];
  private replaying = false;

  constructor(options: ReplicaOptions, deps: ReplicaDependencies) {
    if (!isMember(options.view, options.id)) throw new Error(`replica ${options.id} is not a member of view ${options.view.id}`);
    this.id = options.id;
    this.view = options.view;
    this.options = options;
    this.deps = deps;
    this.sessions = new Sessions(options.pendingPerClientMax, options.pendingTotalMax, options.repliesKeptPerClient);
    this.instance = this.newInstance(0);
  }

  // ------------------------------------------------------------ public API

  /** Feeds one input. Never throws for bad peer input. */
  step(input: ReplicaInput): void {
    switch (input.type) {
      case 'tick':
        this.onTick(input.nowMs);
        break;
      case 'client-message':
        this.onClientBytes(input.clientId, input.bytes);
        break;
      case 'replica-message':
        this.onReplicaBytes(input.from, input.bytes);
        break;
    }
    this.drainSelf();
    if (this.heldReads.length > 0 && this.lastDecidedCid >= this.readsHeldUntilCid) this.answerHeldReads();
  }

  /** Restores durable state after a restart; call before the first step (see recovery.ts). */
  recover(state: RecoveredState): number {
    return recover(this, state);
  }

  /** Forgets pending outputs (recovery replays the log silently). */
  discardOutputs(): void {
    this.ready = emptyReady();
    this.selfQueue.length = 0;
  }

  /** Returns (and clears) everything the host must do. */
  takeReady(): Ready {
    const r = this.ready;
    this.ready = emptyReady();
    return r;
  }

  get lastDecidedCid(): number {
    return this.instance.cid - 1;
  }

  get stableCheckpointCid(): number {
    return this.stableCheckpoint?.cid ?? -1;
  }

  get leader(): number {
    return leaderOf(this.view, this.regency);
  }

  get quorum(): number {
    return byzantineQuorum(this.view) - (this.options.plantedBugs?.quorumTooSmall ? 1 : 0);
  }

  get witnesses(): number {
    return correctWitnesses(this.view);
  }

  // ------------------------------------------------------------ outputs used by handlers

  emit(event: CoreEvent): void {
    this.ready.events.push(event);
  }

  drop(from: string, reason: string): void {
    this.emit({ type: 'dropped', from, reason });
  }

  /** Sends to every other member and delivers to ourselves after the current handler. */
  broadcast(message: ReplicaMessage): void {
    this.sendTo(this.others(), message);
    this.selfQueue.push(message);
  }

  sendTo(to: readonly number[], message: ReplicaMessage): void {
    if (to.length > 0) this.ready.messages.push({ to, bytes: encodeMessage(message) });
  }

  /** Adds a durable record to this step's Ready (not during recovery: it is already on disk). */
  persist(record: DurableRecord): void {
    if (this.recovering) return;
    this.ready.persist.push(record);
    if (mustPersistBeforeSpeaking(record)) this.durablyStarted = true;
  }

  persistRegency(regency: number): void {
    this.persist({ kind: 'regency', regency });
  }

  others(): number[] {
    return this.view.members.filter((m) => m !== this.id);
  }

  newInstance(cid: number): InstanceState {
    return { cid, values: new Map(), writeCertificate: null, round: newRound(this.regency) };
  }

  /**
   * Holds a message that is for a future instance or regency (bounded per sender).
   * @returns false if the sender's hold budget is exhausted (the message is dropped).
   */
  hold(from: number, message: ReplicaMessage): boolean {
    const n = this.heldPerSender.get(from) ?? 0;
    if (n >= this.options.heldPerSenderMax) {
      this.drop(`replica ${from}`, `too many held messages (${n})`);
      return false;
    }
    this.heldPerSender.set(from, n + 1);
    this.held.push({ from, message });
    return true;
  }

  /** Re-examines held messages after the instance or regency changed. */
  replayHeld(): void {
    if (this.replaying) return;
    this.replaying = true;
    try {
      let progressed = true;
      while (progressed && this.held.length > 0) {
        const before = this.instance.cid * 1e6 + this.regency;
        const held = this.held;
        this.held = [];
        this.heldPerSender.clear();
        for (const h of held) this.dispatch(h.from, h.message);
        this.drainSelf();
        progressed = this.instance.cid * 1e6 + this.regency !== before;
      }
    } finally {
      this.replaying = false;
    }
  }

  // ------------------------------------------------------------ execution

  /**
   * Executes a decided instance (cid must be lastDecidedCid + 1), replies to clients,
   * and moves on to the next instance. Called only with a decided value: a quorum of
   * ACCEPTs counted here, a checked proof, or f+1 replicas reporting it.
   * @param digest SHA-256 of `decision.value` when the caller already has it (else computed).
   * @param provenance whether the proof was checked, and what completes or replaces it if
   *   not (proofs.ts); by default unchecked, with nothing kept.
   */
  executeDecision(decision: Decision, batch: Batch, digest: Uint8Array | null = null, provenance: DecisionProvenance = { proven: false }): void {
    if (decision.cid !== this.instance.cid) throw new Error(`bug: executing cid ${decision.cid} while at ${this.instance.cid}`);
    const invalid = this.sessions.checkSequence(batch.requests);
    // A decided batch was validated by at least f+1 correct replicas against the same
    // state, so a sequence error here means more than f Byzantine replicas.
    if (invalid !== null) throw new Error(`safety violated: decided batch ${decision.cid} is invalid here: ${invalid}`);
    const results = batch.requests.map((request, indexInBatch) =>
      this.deps.service.executeOrdered(request.payload, { cid: decision.cid, indexInBatch, clientId: request.clientId, seq: request.seq, timestampMs: batch.timestampMs }),
    );
    const replies = encodeReplies(this.replySigning, batch.requests, results);
    batch.requests.forEach((request, i) => {
      this.sessions.recordExecuted(request, replies[i]!);
      if (!this.recovering) this.ready.replies.push({ clientId: request.clientId, bytes: replies[i]! });
    });
    // The certificate we hold for the decided value, if any (proofs.ts). Usually the very
    // bytes we decided (the same held value), so no comparison of a large batch.
    const own = this.instance.writeCertificate;
    const certificate = own && own.cid === decision.cid && (own.value === decision.value || bytesEqual(own.value, decision.value)) ? own : null;
    // Kept for up to decisionsKept instances: hold copies, not views into received frames
    // and slabs (each view would keep its whole buffer alive that long).
    decision = { cid: decision.cid, regency: decision.regency, value: detach(decision.value), accepts: decision.accepts.map((a) => ({ from: a.from, signature: detach(a.signature) })) };
    this.lastDecided = decision;
    digest ??= this.deps.hash(decision.value);
    noteDecision(this, toHex(digest), provenance, certificate);
    this.lastTimestampMs = batch.timestampMs;
    this.decided.set(decision.cid, decision);
    if (this.decided.size > this.options.decisionsKept) this.decided.delete(this.decided.keys().next().value as number);
    this.persist({ kind: 'decision', decision });
    this.failedRegencies = 0;
    this.lastProgressMs = this.nowMs;
    this.emit({ type: 'decided', cid: decision.cid, regency: decision.regency, requests: batch.requests.length, digestHex: this.lastDecisionProof!.digestHex });
    this.instance = this.newInstance(decision.cid + 1);
    if (isCheckpointCid(this, decision.cid)) {
      takeCheckpoint(this, decision.cid);
      checkStability(this, decision.cid);
    }
    if (this.pendingSync) applyPendingSync(this);
  }

  get replySigning(): ReplySigning {
    return { replicaId: this.id, signer: this.deps.signer, hash: this.deps.hash, sign: this.options.signReplies };
  }

  // ------------------------------------------------------------ inputs

  private onTick(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    if (this.synchronizing) {
      const timeoutMs = this.options.requestTimeoutMs * 2 ** Math.min(this.failedRegencies, 6);
      if (this.nowMs - this.synchronizingSinceMs > timeoutMs && this.stopSentRegency <= this.regency) {
        this.failedRegencies++;
        sendStop(this, this.regency + 1, `no SYNC for regency ${this.regency} within ${timeoutMs} ms`);
      }
    } else {
      let oldest = this.sessions.oldestArrivalMs();
      // Only when some request is halfway to its timeout: one scan of pending per tick otherwise.
      if (this.options.requireSignedRequests && oldest !== null && this.nowMs - oldest > this.options.requestTimeoutMs / 2 && this.checkAgingSignatures()) {
        oldest = this.sessions.oldestArrivalMs();
      }
      if (oldest !== null && this.nowMs - oldest > this.options.requestTimeoutMs && this.stopSentRegency <= this.regency) {
        sendStop(this, this.regency + 1, `a request waited more than ${this.options.requestTimeoutMs} ms`);
      }
    }
    // STOPs can be lost (a partition, a replica that was down): while we wait for a quorum
    // of STOPs for the regency we asked for, ask again after each (backed-off) timeout.
    if (this.stopSentRegency > this.regency) {
      const retryMs = this.options.requestTimeoutMs * 2 ** Math.min(this.failedRegencies, 6);
      if (this.nowMs - this.lastStopSentMs > retryMs) resendStop(this);
    }
    if (this.askForDecisionsAtStart) {
      this.askForDecisionsAtStart = false;
      requestCatchUp(this, this.others(), true);
    }
    if (this.resendAcceptAtStart) {
      this.resendAcceptAtStart = false;
      resendAccept(this);
    }
    maybeRequestCatchUp(this);
    maybeRequestSync(this);
    onStateTransferTick(this);
  }

  private onClientBytes(clientId: number, bytes: Uint8Array): void {
    const from = `client ${clientId}`;
    const decoded = decodeMessage(bytes, this.options.limits);
    if (!decoded.ok) return this.drop(from, decoded.reason);
    const m = decoded.message;
    if (m.type !== MessageType.REQUEST) return this.drop(from, `clients may only send REQUEST, got type ${m.type}`);
    if (m.clientId !== clientId) return this.drop(from, `request claims client ${m.clientId} on client ${clientId}'s channel`);
    if (!m.ordered) {
      // An unordered read is authenticated by its client's channel, even in signed-requests
      // mode, and its signature (if any) is not checked: it changes no state, no other
      // replica ever sees it, and its reply goes back on that channel. A signature proves a
      // request to replicas that did not receive it (a PROPOSE), which a read never needs;
      // a read that finds no quorum is sent again as a new, signed, ordered request.
      if (this.lastDecidedCid >= this.readsHeldUntilCid) return this.answerUnordered(clientId, m);
      if (this.heldReads.length >= this.options.pendingTotalMax) return this.drop(from, `unordered request ${m.seq}: ${this.heldReads.length} reads already wait for instance ${this.readsHeldUntilCid}`);
      this.heldReads.push({ clientId, request: m });
      return;
    }
    const signed = this.options.requireSignedRequests;
    if (signed && !m.signature) return this.drop(from, `request ${m.session}/${m.seq}: missing client signature`);
    // An ordered request's signature is checked later, once, where it matters (takeProposable,
    // checkAgingSignatures): its client's channel already proves where it came from.
    const admission = this.sessions.admit(m, this.nowMs, !signed);
    switch (admission) {
      case 'new':
        proposeIfLeader(this);
        // A proposal may have been waiting for this very request.
        onRequestArrived(this, m);
        return;
      case 'duplicate':
        return;
      case 'executed': {
        const cached = this.sessions.get(clientId)?.replies.get(m.seq);
        if (cached) this.ready.replies.push({ clientId, bytes: cached });
        return;
      }
      default:
        return this.drop(from, `request ${m.session}/${m.seq} not admitted: ${admission}`);
    }
  }

  /**
   * Answers an unordered read from the current state (BFT-SMaRt's invokeUnordered): the
   * client needs a Byzantine quorum of matching replies, so a read sees every operation
   * whose reply a client accepted, as long as no correct replica answers from a state it
   * lost. Hence `readsHeldUntilCid` after a restart.
   */
  private answerUnordered(clientId: number, m: Request): void {
    const result = this.deps.service.executeUnordered(m.payload, { clientId, seq: m.seq });
    this.ready.replies.push({ clientId, bytes: encodeUnorderedReply(this.replySigning, m, result) });
  }

  private answerHeldReads(): void {
    this.readsHeldUntilCid = -1;
    for (const { clientId, request } of this.heldReads.splice(0)) this.answerUnordered(clientId, request);
  }

  private onReplicaBytes(from: number, bytes: Uint8Array): void {
    if (!isMember(this.view, from) || from === this.id) return this.drop(`replica ${from}`, 'sender is not another member of the view');
    const decoded = decodeMessage(bytes, this.options.limits);
    if (!decoded.ok) return this.drop(`replica ${from}`, decoded.reason);
    const m: Message = decoded.message;
    if (m.type === MessageType.REQUEST || m.type === MessageType.REPLY) return this.drop(`replica ${from}`, `replicas may not send type ${m.type}`);
    if (m.from !== from) return this.drop(`replica ${from}`, `message claims sender ${m.from}`);
    this.dispatch(from, m);
  }

  /** One handler per message type (normal-case.ts, synchronization.ts, catch-up.ts). */
  dispatch(from: number, m: ReplicaMessage): void {
    switch (m.type) {
      case MessageType.PROPOSE:
        return onPropose(this, m);
      case MessageType.WRITE:
        return onWrite(this, m);
      case MessageType.ACCEPT:
        return onAccept(this, m);
      case MessageType.STOP:
        return onStop(this, m);
      case MessageType.STOPDATA:
        return onStopData(this, m);
      case MessageType.SYNC:
        return onSync(this, m);
      case MessageType.DECISION_REQUEST:
        return onDecisionRequest(this, m);
      case MessageType.DECISION_REPLY:
        return onDecisionReply(this, m);
      case MessageType.CHECKPOINT:
        return onCheckpoint(this, m);
      case MessageType.STATE_REQUEST:
        return onStateRequest(this, m);
      case MessageType.STATE_CHUNK_REQUEST:
        return onStateChunkRequest(this, m);
      case MessageType.STATE_CHUNK:
        return onStateChunk(this, m);
      case MessageType.SYNC_REQUEST:
        return onSyncRequest(this, m);
      case MessageType.SYNC_FORWARD:
        return onSyncForward(this, m);
    }
  }

  private drainSelf(): void {
    while (this.selfQueue.length > 0) this.dispatch(this.id, this.selfQueue.shift()!);
  }

  /**
   * Pending requests for the leader to propose, at most `max`, in each client's sequence. In
   * signed-requests mode each one's client signature is checked here if it was not yet (so each
   * request is verified by the leader, and by the replicas that did not receive it, rather than
   * by every replica on receipt); one that fails is dropped, with its client's later requests
   * left behind the gap.
   */
  takeProposable(max: number): Request[] {
    for (;;) {
      const requests = this.sessions.takeOrderable(max);
      if (!this.options.requireSignedRequests) return requests;
      const dropped = this.sessions.verify(requests, (r) => this.requestSignatureValid(r));
      for (const r of dropped) this.drop(`client ${r.clientId}`, `request ${r.session}/${r.seq}: bad client signature`);
      if (dropped.length === 0) return requests;
    }
  }

  /**
   * Before a pending request's timeout can make us ask for a leader change, check the
   * signatures of those halfway there: a client must not be able to depose a correct leader
   * with requests the leader rightly refuses to propose. @returns whether any was dropped.
   */
  private checkAgingSignatures(): boolean {
    const aging = this.sessions.unverifiedSince(this.nowMs - this.options.requestTimeoutMs / 2);
    if (aging.length === 0) return false;
    const dropped = this.sessions.verify(aging, (r) => this.requestSignatureValid(r));
    for (const r of dropped) this.drop(`client ${r.clientId}`, `request ${r.session}/${r.seq}: bad client signature`);
    return dropped.length > 0;
  }

  /**
   * True if `r` carries a valid signature of its client (signed-requests mode): over the
   * root its Merkle proof leads to from its leaf (the leaf itself without a proof). A root
   * verified once with the same signature is not verified again, so a client's requests of
   * one turn cost one verification (lever 42).
   */
  requestSignatureValid(r: Request): boolean {
    if (!r.signature || !this.deps.clientVerifier) return false;
    const hash = this.deps.hash;
    const leaf = requestLeaf(hash, r.clientId, r.session, r.seq, r.ordered, hash(r.payload));
    const root = r.proof ? merkleRootOf(hash, leaf, r.proof) : leaf;
    if (root.length === 0) return false;
    if (this.verifiedRequestRoots.has(r.clientId, root, r.signature)) return true;
    if (!this.deps.clientVerifier.verify(r.clientId, requestRootSigningMessage(r.clientId, root), r.signature)) return false;
    this.verifiedRequestRoots.add(r.clientId, root, r.signature);
    return true;
  }

  /** Decodes a value already known to be well formed (it carries a valid quorum). */
  decodeDecidedValue(value: Uint8Array): Batch {
    const b = decodeBatch(value, this.options.limits);
    if (!b.ok) throw new Error(`safety violated: a value with a quorum certificate does not decode: ${b.reason}`);
    return b.message;
  }
}

export function newRound(regency: number): Round {
  return { regency, proposalDigest: null, awaiting: null, writes: new Map(), accepts: new Map(), verified: new Set(), writeSent: false, acceptSent: false };
}

