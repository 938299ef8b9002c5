/**
 * The normal case of Mod-SMaRt's VP-Consensus (Sousa & Bessani, EDCC 2012, §4, Alg. 1):
 * the leader PROPOSEs a batch for instance cid; each replica that validates it sends a
 * signed WRITE; on a Byzantine quorum of matching WRITEs it sends a signed ACCEPT; on a
 * Byzantine quorum of matching ACCEPTs the value is decided and executed.
 *
 * Vote signatures are checked lazily. A vote's sender is already authenticated by its
 * channel (the host only hands the core messages from the replica that sent them), so a
 * signature matters only where a vote is shown to others: in a write certificate or a
 * decision proof. WRITEs are counted on receipt and their signatures checked when a quorum
 * of matching ones forms; one that fails the check is dropped and the quorum waits for
 * another, so a write certificate holds checked votes only. ACCEPTs are not checked at all
 * to decide: a decision's proof is checked when it is shown (proofs.ts). With n = 4 this is
 * 2 verifications per instance instead of 6.
 */
import { encodeBatch, decodeBatch } from './codec.ts';
import { toHex } from './bytes.ts';
import { MessageType, type Batch, type Propose, type ReplicaMessage, type Request, type SignedVote, type Vote } from './messages.ts';
import type { Replica } from './replica.ts';
import { voteSigningMessage } from './signing.ts';
import { leaderOf } from './view.ts';
import { keepSpareAccept } from './proofs.ts';

/** Voting state of one instance in one regency. */
export interface Round {
  readonly regency: number;
  /** Digest (hex) of the proposal this replica validated and WROTE in this regency. */
  proposalDigest: string | null;
  /**
   * A proposal waiting for requests this replica has not yet received from their clients:
   * its digest and the keys (`requestKey`) of the requests still missing. Why the keys: a
   * request arriving is checked against them instead of re-validating the whole batch,
   * which made a follower's cost per instance quadratic in the batch size.
   */
  awaiting: { readonly propose: Propose; readonly digest: Uint8Array; readonly missing: Set<string> } | null;
  /** Votes by sender, as received. WRITE signatures are checked only when a quorum needs them (`quorumOf`), ACCEPT signatures only when a proof is shown (proofs.ts). */
  readonly writes: Map<number, Vote>;
  readonly accepts: Map<number, Vote>;
  /** The votes of `writes` and `accepts` whose signature was checked (or that are our own). */
  readonly verified: Set<Vote>;
  /** Set on the leader once it proposed (or synchronized) a value in this regency. */
  proposeSent?: boolean;
  acceptSent: boolean;
  writeSent: boolean;
}

/**
 * Decides whether a normal-case message can be handled now.
 * @returns 'now', 'held' (future instance or regency, kept for later) or 'dropped'.
 */
function admit(replica: Replica, m: ReplicaMessage & { cid: number; regency: number }, name: string): 'now' | 'held' | 'dropped' {
  const from = `replica ${m.from}`;
  if (m.from !== replica.id) {
    const seen = replica.highestCidSeen.get(m.from) ?? -1;
    if (m.cid > seen) replica.highestCidSeen.set(m.from, m.cid);
    if (m.regency > (replica.highestRegencySeen.get(m.from) ?? 0)) replica.highestRegencySeen.set(m.from, m.regency);
  }
  const cid = replica.instance.cid;
  if (m.cid < cid) {
    replica.drop(from, `${name} for instance ${m.cid}, already decided (at ${cid})`);
    return 'dropped';
  }
  // Votes for the instance of a SYNC we are catching up to are kept even beyond the window:
  // they will not be sent again, and without them that instance cannot be decided.
  const forPendingSync = replica.pendingSync !== null && m.cid === replica.pendingSync.cid && m.regency === replica.pendingSync.regency;
  if (m.cid > cid + replica.options.instancesAheadMax && !forPendingSync) {
    replica.drop(from, `${name} for instance ${m.cid} is out of range (at ${cid}, window ${replica.options.instancesAheadMax})`);
    return 'dropped';
  }
  if (m.regency < replica.regency) {
    replica.drop(from, `${name} from stale regency ${m.regency} (at ${replica.regency})`);
    return 'dropped';
  }
  if (m.regency > replica.regency + replica.options.regenciesAheadMax) {
    replica.drop(from, `${name} from regency ${m.regency} is out of range (at ${replica.regency})`);
    return 'dropped';
  }
  if (m.cid > cid || m.regency > replica.regency || replica.synchronizing) return replica.hold(m.from, m) ? 'held' : 'dropped';
  return 'now';
}

/** PROPOSE: validate the leader's batch and WRITE it (Alg. 1, lines "upon PROPOSE"). */
export function onPropose(replica: Replica, m: Propose): void {
  if (admit(replica, m, 'PROPOSE') !== 'now') return;
  const from = `replica ${m.from}`;
  if (m.from !== leaderOf(replica.view, m.regency)) return replica.drop(from, `PROPOSE from a replica that is not the leader of regency ${m.regency}`);
  const round = replica.instance.round;
  const digest = replica.deps.hash(m.value);
  const digestHex = toHex(digest);
  if (round.proposalDigest !== null) {
    return replica.drop(from, round.proposalDigest === digestHex ? 'duplicate PROPOSE' : `leader equivocated: second PROPOSE for instance ${m.cid} in regency ${m.regency}`);
  }
  const decoded = decodeBatch(m.value, replica.options.limits);
  if (!decoded.ok) return replica.drop(from, `PROPOSE: ${decoded.reason}`);
  const batch = decoded.message;
  replica.instance.values.set(digestHex, { value: m.value, digest, batch });
  const cid = replica.instance.cid;
  tryDecide(replica); // ACCEPTs may have arrived before the value
  if (replica.instance.cid !== cid) return;
  const invalid = validateBatch(replica, batch);
  if (invalid) return replica.drop(from, `invalid PROPOSE for instance ${m.cid}: ${invalid}`);
  const signed = replica.options.requireSignedRequests;
  if (signed && !batch.requests.every((r) => replica.sessions.hasPending(r) || replica.requestSignatureValid(r))) {
    return replica.drop(from, `invalid PROPOSE for instance ${m.cid}: a request without a valid client signature`);
  }
  // Validity: only requests received from their clients are written. Wait for them
  // (clients send to every replica and retransmit), or for f+1 WRITEs of this value: at
  // least one is from a correct replica, which received every request from its client.
  // Without that second way out, a Byzantine client that sends a request to some
  // replicas only, or two requests under one seq, blocks the instance forever.
  const missing = signed ? null : missingRequests(replica, batch);
  if (missing) {
    round.awaiting = { propose: m, digest, missing };
    writeIfVouched(replica);
    return;
  }
  writeValue(replica, digest);
  tryDecide(replica);
}

/**
 * A proposal we validated but hold requests of that we never received: WRITE it once
 * f+1 replicas (so at least one correct one) WROTE the same value in this round.
 */
function writeIfVouched(replica: Replica): void {
  const round = replica.instance.round;
  const awaiting = round.awaiting;
  if (!awaiting || round.writeSent) return;
  if (!quorumOf(replica, round.writes, toHex(awaiting.digest), replica.witnesses, 'WRITE')) return;
  round.awaiting = null;
  writeValue(replica, awaiting.digest);
  tryDecide(replica);
}

/**
 * A request arrived from its client: if it is the last one a waiting proposal lacked,
 * validate that proposal again (once) and WRITE it.
 */
export function onRequestArrived(replica: Replica, request: Request): void {
  const awaiting = replica.instance.round.awaiting;
  if (!awaiting || !awaiting.missing.delete(requestKey(request)) || awaiting.missing.size > 0) return;
  replica.instance.round.awaiting = null;
  onPropose(replica, awaiting.propose);
}

/** The keys of the batch's requests this replica has not received from their clients, or null if none. */
function missingRequests(replica: Replica, batch: Batch): Set<string> | null {
  let missing: Set<string> | null = null;
  for (const r of batch.requests) if (!replica.sessions.hasPending(r)) (missing ??= new Set()).add(requestKey(r));
  return missing;
}

/** Identifies a request within a batch (a client has one request per session and seq). */
function requestKey(r: Request): string {
  return `${r.clientId}/${r.session}/${r.seq}`;
}

/** Checks a proposed batch against this replica's state (not request presence). @returns a reason or null. */
export function validateBatch(replica: Replica, batch: Batch): string | null {
  if (batch.timestampMs < replica.lastTimestampMs) return `timestamp ${batch.timestampMs} before the previous batch's ${replica.lastTimestampMs}`;
  return replica.sessions.checkSequence(batch.requests);
}

/** Sends this replica's signed WRITE for `digest` in the current round. */
export function writeValue(replica: Replica, digest: Uint8Array): void {
  const round = replica.instance.round;
  if (round.writeSent) return;
  // Restarted in this regency: we may have WRITTEN another value here before the crash.
  if (round.regency === replica.fencedRegency) return;
  round.proposalDigest = toHex(digest);
  round.writeSent = true;
  persistVotes(replica);
  replica.broadcast(signedVote(replica, MessageType.WRITE, replica.instance.cid, round.regency, digest));
  tryAccept(replica);
}

export function signedVote(replica: Replica, type: typeof MessageType.WRITE | typeof MessageType.ACCEPT, cid: number, regency: number, digest: Uint8Array): Vote {
  return { type, from: replica.id, cid, regency, digest, signature: replica.deps.signer.sign(voteSigningMessage(type, cid, regency, digest)) };
}

/** WRITE: record a signed vote; on a quorum for the value we wrote, ACCEPT it. */
export function onWrite(replica: Replica, m: Vote): void {
  if (!recordVote(replica, m, replica.instance.round.writes, 'WRITE')) return;
  writeIfVouched(replica);
  tryAccept(replica);
}

/**
 * ACCEPT: record a vote; on a quorum for a value we hold, decide. A late ACCEPT for the
 * instance we just decided may complete its proof (proofs.ts).
 */
export function onAccept(replica: Replica, m: Vote): void {
  if (m.cid === replica.instance.cid - 1 && keepSpareAccept(replica, m)) return;
  if (!recordVote(replica, m, replica.instance.round.accepts, 'ACCEPT')) return;
  tryDecide(replica);
}

function recordVote(replica: Replica, m: Vote, votes: Map<number, Vote>, name: string): boolean {
  if (admit(replica, m, name) !== 'now') return false;
  const from = `replica ${m.from}`;
  const previous = votes.get(m.from);
  if (previous) {
    replica.drop(from, toHex(previous.digest) === toHex(m.digest) ? `duplicate ${name}` : `conflicting ${name} for instance ${m.cid} in regency ${m.regency}`);
    return false;
  }
  votes.set(m.from, m);
  if (m.from === replica.id) replica.instance.round.verified.add(m);
  return true;
}

/**
 * At least `needed` votes for `digestHex` with checked signatures, sorted by sender, or
 * null. Checks unchecked matching votes only until `needed` are checked; a vote whose
 * signature fails is removed (its sender may vote again) and reported as dropped.
 */
function quorumOf(replica: Replica, votes: Map<number, Vote>, digestHex: string, needed: number, name: string): SignedVote[] | null {
  const verified = replica.instance.round.verified;
  const matching: Vote[] = [];
  for (const v of votes.values()) if (toHex(v.digest) === digestHex) matching.push(v);
  if (matching.length < needed) return null;
  // Checked votes first, so that no more signatures are verified than the quorum needs.
  matching.sort((a, b) => Number(verified.has(b)) - Number(verified.has(a)) || a.from - b.from);
  const out: SignedVote[] = [];
  for (const v of matching) {
    if (out.length === needed) break;
    if (!verified.has(v)) {
      if (!replica.deps.verifier.verify(v.from, voteSigningMessage(v.type, v.cid, v.regency, v.digest), v.signature)) {
        votes.delete(v.from);
        replica.drop(`replica ${v.from}`, `bad ${name} signature`);
        continue;
      }
      verified.add(v);
    }
    out.push({ from: v.from, signature: v.signature });
  }
  return out.length === needed ? out.sort((a, b) => a.from - b.from) : null;
}

function tryAccept(replica: Replica): void {
  const inst = replica.instance;
  const round = inst.round;
  if (round.acceptSent || round.proposalDigest === null) return;
  const writes = quorumOf(replica, round.writes, round.proposalDigest, replica.quorum, 'WRITE');
  if (!writes) return;
  const value = inst.values.get(round.proposalDigest);
  if (!value) throw new Error('bug: wrote a value that is not stored');
  inst.writeCertificate = { cid: inst.cid, regency: round.regency, value: value.value, writes };
  round.acceptSent = true;
  persistVotes(replica);
  replica.broadcast(signedVote(replica, MessageType.ACCEPT, inst.cid, round.regency, value.digest));
}

/**
 * Decides when a quorum of ACCEPTs from distinct replicas matches a value we hold (even one
 * we did not validate: a quorum did). Their signatures are not checked here (proofs.ts):
 * the decision keeps a quorum of them as its proof (ours first) and the rest as spares.
 */
export function tryDecide(replica: Replica): void {
  const inst = replica.instance;
  const round = inst.round;
  const byValue = new Map<string, Vote[]>();
  for (const v of round.accepts.values()) {
    const hex = toHex(v.digest);
    const group = byValue.get(hex);
    if (group) group.push(v);
    else byValue.set(hex, [v]);
  }
  // At most one value can have a quorum of distinct senders in a regency (2 quorums > n).
  for (const [hex, matching] of byValue) {
    if (matching.length < replica.quorum) continue;
    const held = inst.values.get(hex);
    if (!held) return; // decided elsewhere on a value we never received: catch-up fetches it
    matching.sort((a, b) => Number(round.verified.has(b)) - Number(round.verified.has(a)) || a.from - b.from);
    const chosen = matching.slice(0, replica.quorum);
    const accepts = chosen.map((a) => ({ from: a.from, signature: a.signature })).sort((a, b) => a.from - b.from);
    const spares = matching.slice(replica.quorum).map((a) => ({ from: a.from, signature: a.signature }));
    const proven = chosen.every((a) => round.verified.has(a));
    replica.executeDecision({ cid: inst.cid, regency: round.regency, value: held.value, accepts }, held.batch, held.digest, { proven, spares, direct: true });
    replica.replayHeld();
    proposeIfLeader(replica);
    return;
  }
}

/**
 * Sends again, to every replica, the ACCEPT this replica sent in the current round before a
 * restart: the same signed vote (Ed25519 signatures are deterministic), so no new claim.
 * Why: since decisions need not be durable before the replies leave (ready.ts), a crash of
 * every replica can leave an instance that was decided, and answered, only as the
 * accepters' durable ACCEPT records. Without traffic nothing would decide it again, and
 * the replicas would agree on a state without it. Each accepter restarts with that record,
 * or with the decision (an accepter whose checkpoint ends with the instance keeps its
 * decision as a proof, recovery.ts), and then the others catch up from it; so a quorum of
 * resent ACCEPTs, or a catch-up, decides it again at once. A replica that still holds the
 * first copy drops the second as a duplicate (`recordVote`), so resending is harmless.
 */
export function resendAccept(replica: Replica): void {
  const inst = replica.instance;
  const round = inst.round;
  if (!round.acceptSent || round.proposalDigest === null) return;
  const value = inst.values.get(round.proposalDigest);
  if (!value) return;
  // To ourselves too: the round restored that we sent it, not the vote itself.
  replica.broadcast(signedVote(replica, MessageType.ACCEPT, inst.cid, round.regency, value.digest));
}

/**
 * Persists what we voted in this instance: a restarted replica must never WRITE or ACCEPT
 * differently in the same regency, and must still hold the write certificate its ACCEPT
 * was based on. The ACCEPT-phase record is durable before the ACCEPT leaves; a WRITE-phase
 * record may follow its WRITE, once a restart is sure to fence us (`mustPersistBeforeSpeaking`).
 */
function persistVotes(replica: Replica): void {
  const inst = replica.instance;
  const round = inst.round;
  const written = round.proposalDigest !== null ? (inst.values.get(round.proposalDigest)?.value ?? null) : null;
  const votes = { cid: inst.cid, regency: round.regency, written, accepted: round.acceptSent, writeCertificate: inst.writeCertificate };
  replica.persist({ kind: 'votes', votes, mayDefer: !round.acceptSent && replica.durablyStarted });
}

/** The leader proposes the next batch when the current instance has no proposal yet. */
export function proposeIfLeader(replica: Replica): void {
  // A leader still catching up to its own SYNC's instance proposes nothing (its SYNC is the proposal).
  if (replica.synchronizing || replica.leader !== replica.id || replica.pendingSync) return;
  // Restarted in this regency: we may have proposed another value here before the crash.
  if (replica.regency === replica.fencedRegency) return;
  const round = replica.instance.round;
  if (round.proposeSent || round.proposalDigest !== null || round.awaiting) return;
  const requests = replica.takeProposable(replica.options.batchRequestsMax);
  if (requests.length === 0) return;
  round.proposeSent = true;
  const value = encodeBatch({ timestampMs: Math.max(replica.nowMs, replica.lastTimestampMs), requests });
  replica.broadcast({ type: MessageType.PROPOSE, from: replica.id, cid: replica.instance.cid, regency: replica.regency, value });
}

