/**
 * Mod-SMaRt's synchronization phase, i.e. leader change (Sousa & Bessani, EDCC 2012,
 * §5, Alg. 2; BFT-SMaRt's Synchronizer): a replica whose request timed out sends
 * STOP(r+1); f+1 STOPs make a replica join; a Byzantine quorum of STOPs installs
 * regency r+1, whose leader collects a quorum of signed STOPDATAs, chooses the value
 * that must be preserved (certificates.ts `chooseSyncValue`) and sends SYNC; every
 * replica re-checks the SYNC and resumes the normal case with that proposal.
 */
import { encodeBatch, stopDataSignedBytes, decodeBatch, syncSignedBytes } from './codec.ts';
import { bytesEqual, toHex } from './bytes.ts';
import { checkStopData, chooseSyncValue, type CertificateContext } from './certificates.ts';
import { MessageType, type Stop, type StopData, type Sync, type SyncForward, type SyncRequest } from './messages.ts';
import { newRound, type Replica } from './replica.ts';
import { onPropose, proposeIfLeader, signedVote, tryDecide, writeValue } from './normal-case.ts';
import { leaderOf } from './view.ts';
import { applyDecision, requestCatchUp } from './catch-up.ts';
import { stopDataClaims } from './proofs.ts';

function certContext(replica: Replica): CertificateContext {
  return { view: replica.view, verifier: replica.deps.verifier, hash: replica.deps.hash };
}

/** Broadcasts STOP(regency) once (Alg. 2: on timeout, or on f+1 STOPs). */
export function sendStop(replica: Replica, regency: number, reason: string): void {
  if (regency <= replica.stopSentRegency) return;
  replica.stopSentRegency = regency;
  replica.lastStopSentMs = replica.nowMs;
  replica.emit({ type: 'stop-sent', regency, reason });
  replica.broadcast({ type: MessageType.STOP, from: replica.id, regency });
}

/** Sends our STOP again to the others (they drop duplicates; a replica that missed it counts it now). */
export function resendStop(replica: Replica): void {
  replica.lastStopSentMs = replica.nowMs;
  replica.failedRegencies++;
  replica.sendTo(replica.others(), { type: MessageType.STOP, from: replica.id, regency: replica.stopSentRegency });
}

/** STOP: count distinct senders per future regency; join on f+1; install on a quorum. */
export function onStop(replica: Replica, m: Stop): void {
  const from = `replica ${m.from}`;
  if (m.regency <= replica.regency) {
    if (m.from !== replica.id) helpLaggard(replica, m);
    return replica.drop(from, `STOP for regency ${m.regency}, not after the current ${replica.regency}`);
  }
  if (m.regency > replica.regency + replica.options.regenciesAheadMax) return replica.drop(from, `STOP for regency ${m.regency} is out of range`);
  let senders = replica.stops.get(m.regency);
  if (!senders) replica.stops.set(m.regency, (senders = new Set()));
  if (senders.has(m.from)) return replica.drop(from, `duplicate STOP for regency ${m.regency}`);
  senders.add(m.from);
  if (senders.size >= replica.witnesses) sendStop(replica, m.regency, `${senders.size} replicas asked for regency ${m.regency}`);
  if (senders.size >= replica.quorum) installRegency(replica, m.regency);
}

/**
 * A STOP for a regency we already reached: its sender missed the leader change. If we
 * hold the SYNC of that regency or a later one, hand it over (it proves itself). If not
 * (we installed our regency on a quorum of STOPs and its leader never sent a SYNC), echo
 * the STOP: we have left every regency before ours, so we support the one it asks for.
 * Without the echo, laggards whose STOPs we dropped and we, asking for the next regency,
 * can each be fewer than a quorum forever (found by the simulator, seeds 151 and 202).
 *
 * Help is rate-limited per sender (`mayHelp`): a laggard climbs through regencies in
 * increasing order, so a STOP asks for help at once only if it asks for a higher regency
 * than the last one we helped that sender with, or a request timeout has passed since.
 */
function helpLaggard(replica: Replica, m: Stop): void {
  if (!mayHelp(replica, m.from, m.regency)) return;
  const sync = replica.lastSync;
  if (sync && sync.regency >= m.regency) {
    replica.sendTo([m.from], { type: MessageType.SYNC_FORWARD, from: replica.id, sync });
    return;
  }
  replica.sendTo([m.from], { type: MessageType.STOP, from: replica.id, regency: m.regency });
}

/**
 * Whether a STOP from `from` for the past `regency` may be answered now, and if so records
 * the answer. Two replicas that both passed a regency would otherwise echo each other's
 * echo forever, and a Byzantine replica replaying its old STOPs of alternating regencies
 * (1, 2, 1, 3, …) would get an answer for each: with a replay per answer it received, that
 * grew without bound in simulated zero time (simulator seed 3583, docs/simulator-bugs.md
 * §11). Answers per sender per request timeout are now at most one per regency we passed.
 */
function mayHelp(replica: Replica, from: number, regency: number): boolean {
  const last = replica.stopEchoes.get(from);
  if (last && regency <= last.regency && replica.nowMs - last.atMs < replica.options.requestTimeoutMs) return false;
  replica.stopEchoes.set(from, { regency, atMs: replica.nowMs });
  return true;
}

/** Moves to `regency` and sends this replica's signed STOPDATA to its leader. */
function installRegency(replica: Replica, regency: number): void {
  replica.regency = regency;
  replica.synchronizing = true;
  replica.synchronizingSinceMs = replica.nowMs;
  if (replica.stopSentRegency < regency) replica.stopSentRegency = regency;
  for (const r of [...replica.stops.keys()]) if (r <= regency) replica.stops.delete(r);
  for (const r of [...replica.stopData.keys()]) if (r < regency) replica.stopData.delete(r);
  replica.instance.round = newRound(regency);
  replica.persistRegency(regency);
  const leader = leaderOf(replica.view, regency);
  replica.emit({ type: 'regency-installed', regency, leader });
  const claims = stopDataClaims(replica);
  const writeCertificate = replica.options.plantedBugs?.forgetWriteCertificates ? null : claims.writeCertificate;
  const unsigned = { from: replica.id, regency, lastDecided: claims.lastDecided, writeCertificate };
  const stopData: StopData = { type: MessageType.STOPDATA, ...unsigned, signature: replica.deps.signer.sign(stopDataSignedBytes(unsigned)) };
  if (leader === replica.id) onStopData(replica, stopData);
  else replica.sendTo([leader], stopData);
  replica.replayHeld();
}

/** STOPDATA (at the new leader): collect a quorum of valid ones, then SYNC. */
export function onStopData(replica: Replica, m: StopData): void {
  const from = `replica ${m.from}`;
  if (leaderOf(replica.view, m.regency) !== replica.id) return replica.drop(from, `STOPDATA for regency ${m.regency}, which this replica does not lead`);
  if (m.regency < replica.regency) return replica.drop(from, `STOPDATA for stale regency ${m.regency}`);
  if (m.regency > replica.regency + replica.options.regenciesAheadMax) return replica.drop(from, `STOPDATA for regency ${m.regency} is out of range`);
  let collected = replica.stopData.get(m.regency);
  if (!collected) replica.stopData.set(m.regency, (collected = new Map()));
  if (collected.has(m.from)) return replica.drop(from, `duplicate STOPDATA for regency ${m.regency}`);
  const invalid = checkStopData(certContext(replica), m);
  if (invalid) return replica.drop(from, invalid);
  collected.set(m.from, m);
  maybeSendSync(replica, m.regency);
}

function maybeSendSync(replica: Replica, regency: number): void {
  const collected = replica.stopData.get(regency);
  if (regency !== replica.regency || !replica.synchronizing || !collected || collected.size < replica.quorum) return;
  if (replica.instance.round.proposeSent) return;
  replica.instance.round.proposeSent = true;
  const stopData = [...collected.values()].sort((a, b) => a.from - b.from).slice(0, replica.quorum);
  const choice = chooseSyncValue(stopData);
  let value = choice.bound;
  if (!value) {
    // Free choice. Only a leader that is up to date can fill a batch that continues
    // every client's sequence; a lagging leader proposes an empty batch.
    const requests = replica.instance.cid === choice.cid ? replica.takeProposable(replica.options.batchRequestsMax) : [];
    // Not before the batch of the highest proven decision, which a lagging leader has not executed yet.
    const provenMs = choice.highestDecision ? replica.decodeDecidedValue(choice.highestDecision.value).timestampMs : 0;
    value = encodeBatch({ timestampMs: Math.max(replica.nowMs, replica.lastTimestampMs, provenMs), requests });
  }
  const unsigned = { from: replica.id, regency, stopData, cid: choice.cid, value };
  const sync: Sync = { type: MessageType.SYNC, ...unsigned, signature: replica.deps.signer.sign(syncSignedBytes(unsigned)) };
  replica.broadcast(sync);
}

/** SYNC: re-check the leader's choice, adopt the regency and resume the normal case. */
export function onSync(replica: Replica, m: Sync): void {
  const from = `replica ${m.from}`;
  if (m.from !== leaderOf(replica.view, m.regency)) return replica.drop(from, `SYNC from a replica that does not lead regency ${m.regency}`);
  if (m.regency < replica.regency || (m.regency === replica.regency && !replica.synchronizing)) return replica.drop(from, `SYNC for regency ${m.regency}, already synchronized`);
  // No upper bound on the regency: a SYNC proves itself (a quorum of signed STOPDATAs for it),
  // and a replica that missed several leader changes must be able to jump to the current one.
  if (m.from !== replica.id && !replica.deps.verifier.verify(m.from, syncSignedBytes(m), m.signature)) return replica.drop(from, `bad SYNC signature for regency ${m.regency}`);
  const invalid = checkSync(replica, m);
  if (invalid) return replica.drop(from, `invalid SYNC for regency ${m.regency}: ${invalid}`);
  const choice = chooseSyncValue(m.stopData);

  if (m.regency > replica.regency) {
    replica.regency = m.regency;
    replica.persistRegency(m.regency);
    replica.emit({ type: 'regency-installed', regency: m.regency, leader: m.from });
  }
  replica.synchronizing = false;
  replica.lastSync = m;
  if (replica.stopSentRegency < m.regency) replica.stopSentRegency = m.regency;
  for (const r of [...replica.stops.keys()]) if (r <= m.regency) replica.stops.delete(r);
  replica.stopData.delete(m.regency);
  replica.sessions.restartTimers(replica.nowMs);
  replica.emit({ type: 'synchronized', regency: m.regency, cid: m.cid, bound: choice.bound !== null });

  // Catch up to the highest decision the quorum proves.
  if (choice.highestDecision && choice.highestDecision.cid === replica.instance.cid) applyDecision(replica, choice.highestDecision);
  if (replica.instance.cid < m.cid) {
    // We lag: keep the SYNC's proposal aside (not in the bounded hold queue) and apply it
    // when catch-up brings us to its instance; meanwhile we propose nothing (applyPendingSync).
    replica.instance.round = newRound(m.regency);
    replica.pendingSync = m;
    requestCatchUp(replica, m.stopData.map((s) => s.from), true);
  } else if (replica.instance.cid === m.cid) {
    startSyncedRound(replica, m, choice.bound !== null);
  } else {
    // We already decided the SYNC's instance (it reaches us late, or forwarded).
    replica.instance.round = newRound(m.regency);
    if (replica.instance.cid === m.cid + 1) voteForOwnDecision(replica, m);
  }
  replica.replayHeld();
  proposeIfLeader(replica);
}

/** SYNC_REQUEST: a replica that missed a leader change asks for the SYNC we processed. */
export function onSyncRequest(replica: Replica, m: SyncRequest): void {
  const sync = replica.lastSync;
  if (!sync || sync.regency < m.regency) return replica.drop(`replica ${m.from}`, `SYNC_REQUEST for regency ${m.regency}: none held here`);
  replica.sendTo([m.from], { type: MessageType.SYNC_FORWARD, from: replica.id, sync });
}

/** SYNC_FORWARD: another replica's copy of a leader's signed SYNC; checked like the original. */
export function onSyncForward(replica: Replica, m: SyncForward): void {
  if (m.sync.regency <= replica.regency) return; // we already are there
  // Checked here too, so that a garbled copy is blamed on the forwarder, not on the leader.
  if (!replica.deps.verifier.verify(m.sync.from, syncSignedBytes(m.sync), m.sync.signature)) return replica.drop(`replica ${m.from}`, `forwarded a SYNC for regency ${m.sync.regency} with a bad signature`);
  onSync(replica, m.sync);
}

/**
 * On a tick: if f+1 replicas are working in a later regency than ours, a leader change
 * happened without us (we were down or cut off): ask them for its SYNC.
 */
export function maybeRequestSync(replica: Replica): void {
  const ahead: number[] = [];
  for (const [id, regency] of replica.highestRegencySeen) if (regency > replica.regency) ahead.push(id);
  if (ahead.length < replica.witnesses || replica.nowMs - replica.lastSyncRequestMs < replica.options.catchUpIntervalMs) return;
  replica.lastSyncRequestMs = replica.nowMs;
  replica.sendTo(ahead, { type: MessageType.SYNC_REQUEST, from: replica.id, regency: replica.regency + 1 });
}

/** Every replica recomputes what the leader had to choose; a SYNC that differs is rejected. */
function checkSync(replica: Replica, m: Sync): string | null {
  const senders = new Set<number>();
  for (const s of m.stopData) {
    if (s.regency !== m.regency) return `STOPDATA from ${s.from} is for regency ${s.regency}`;
    if (senders.has(s.from)) return `two STOPDATAs from ${s.from}`;
    senders.add(s.from);
    const reason = checkStopData(certContext(replica), s);
    if (reason) return reason;
  }
  if (senders.size < replica.quorum) return `${senders.size} STOPDATAs, fewer than the quorum ${replica.quorum}`;
  const choice = chooseSyncValue(m.stopData);
  if (m.cid !== choice.cid) return `proposal for instance ${m.cid}, but the STOPDATAs lead to ${choice.cid}`;
  if (choice.bound && !bytesEqual(choice.bound, m.value)) return `the proposal is not the value bound by the highest write certificate`;
  if (!choice.bound) {
    const b = decodeBatch(m.value, replica.options.limits);
    if (!b.ok) return b.reason;
  }
  return null;
}

/** Called when we reach a new instance: starts the round of a SYNC we received while lagging. */
export function applyPendingSync(replica: Replica): void {
  const m = replica.pendingSync;
  if (!m) return;
  if (m.regency !== replica.regency || m.cid < replica.instance.cid) {
    replica.pendingSync = null; // superseded by a later regency, or decided without us
    return;
  }
  if (m.cid !== replica.instance.cid) return;
  replica.pendingSync = null;
  startSyncedRound(replica, m, chooseSyncValue(m.stopData).bound !== null);
}

/** The SYNC's proposal starts the new regency's round for our current instance. */
function startSyncedRound(replica: Replica, m: Sync, bound: boolean): void {
  const inst = replica.instance;
  inst.round = newRound(m.regency);
  inst.round.proposeSent = true;
  if (!bound) {
    // A freely chosen value is validated like any PROPOSE.
    onPropose(replica, { type: MessageType.PROPOSE, from: m.from, cid: m.cid, regency: m.regency, value: m.value });
    return;
  }
  // A bound value carries a write certificate: f+1 correct replicas validated it against
  // this same state, so it is written without waiting for its requests.
  const digest = replica.deps.hash(m.value);
  inst.values.set(toHex(digest), { value: m.value, digest, batch: replica.decodeDecidedValue(m.value) });
  writeValue(replica, digest);
  tryDecide(replica);
}

/**
 * We already decided the SYNC's instance (we were one ahead of the quorum): the bound
 * value must be ours; vote for it again in the new regency so the others can decide.
 */
function voteForOwnDecision(replica: Replica, m: Sync): void {
  const mine = replica.decided.get(m.cid);
  if (!mine) return; // we installed a checkpoint past it: nothing to vote with
  if (!bytesEqual(mine.value, m.value)) {
    replica.drop(`replica ${m.from}`, `SYNC proposes for instance ${m.cid} a value other than the one decided here`);
    return;
  }
  const digest = replica.deps.hash(m.value);
  const others = replica.others();
  replica.sendTo(others, signedVote(replica, MessageType.WRITE, m.cid, m.regency, digest));
  replica.sendTo(others, signedVote(replica, MessageType.ACCEPT, m.cid, m.regency, digest));
}

