/**
 * Restart from durable state: the replica installs its latest checkpoint, re-executes
 * the decided log after it (rebuilding sessions and cached replies, sending nothing),
 * returns to the regency it had reached and restores its votes in the current instance,
 * so it never contradicts what it said before the crash. Votes it may have sent without a
 * durable record (WRITE-phase records may be deferred) cannot be restored: after a crash it
 * sends no PROPOSE and no WRITE in the recovered regency (`Replica.fencedRegency`); after a
 * clean stop nothing was lost and it is not fenced. Whatever it missed while down comes
 * later from catch-up or state transfer.
 */
import { bytesEqual, toHex } from './bytes.ts';
import { decodeBatch, type VoteState } from './codec.ts';
import { checkpointSigningMessage, decodeCheckpoint } from './checkpoint.ts';
import { MessageType, type Decision } from './messages.ts';
import { newRound, type Replica } from './replica.ts';
import { markStable } from './checkpointing.ts';

export interface RecoveredState {
  /** Highest regency persisted (0 if none). */
  readonly regency: number;
  /** The latest checkpoint this replica persisted, if any. */
  readonly checkpoint: { readonly cid: number; readonly bytes: Uint8Array } | null;
  /**
   * Decided instances from the checkpoint's own instance on (that one, if still stored, is
   * kept as a proof, not executed), ascending; may stop early (a torn tail is simply shorter).
   */
  readonly decisions: readonly Decision[];
  readonly votes: VoteState | null;
  /**
   * The replica stopped cleanly: every record it kept back was written before it stopped,
   * so nothing it said can have been lost and it is not fenced. Absent after a crash.
   */
  readonly cleanStop?: boolean;
}

/**
 * Applies `state` to a freshly constructed replica, before its first step.
 * @returns how many decisions were re-executed.
 * @throws Error if the replica already ran, or if the durable state contradicts itself
 *   in a way a torn write cannot explain (e.g. a checkpoint that does not decode).
 */
export function recover(replica: Replica, state: RecoveredState): number {
  if (replica.lastDecidedCid !== -1 || replica.nowMs !== 0) throw new Error('recover() must run before the first step');
  replica.recovering = true;
  let executed = 0;
  try {
    if (state.checkpoint) installOwnCheckpoint(replica, state.checkpoint.cid, state.checkpoint.bytes);
    for (const d of state.decisions) {
      if (d.cid < replica.instance.cid) {
        // The decision our checkpoint ends with: not executed again, but kept as the proof
        // we show others (catch-up, STOPDATA). After a crash of every replica, the others
        // may hold nothing else that proves it: their decision records could be deferred.
        if (d.cid === replica.instance.cid - 1) keepDecisionProof(replica, d);
        continue;
      }
      if (d.cid > replica.instance.cid) break; // a gap: the rest comes from the others
      const batch = decodeBatch(d.value, replica.options.limits);
      if (!batch.ok) break; // a damaged tail: stop here, catch up later
      replica.executeDecision(d, batch.message);
      executed++;
    }
    replica.regency = Math.max(replica.regency, state.regency);
    replica.stopSentRegency = replica.regency;
    replica.instance.round = newRound(replica.regency);
    if (state.votes) restoreVotes(replica, state.votes);
    // An ACCEPT we sent may be all that is left of a decided instance (normal-case.ts,
    // resendAccept): send it again at the first tick.
    replica.resendAcceptAtStart = replica.instance.round.acceptSent;
    // If that instance was decided, clients may have been told its results, which our state
    // lacks: unordered reads wait until we decide it (replica.ts, answerUnordered).
    if (state.votes?.accepted && state.votes.cid >= replica.instance.cid) replica.readsHeldUntilCid = state.votes.cid;
    if (!isFirstStart(state)) {
      replica.durablyStarted = true;
      // After a crash, WRITE-phase records may have been deferred and lost: whatever we WROTE
      // or PROPOSED in this regency is unknown, so we send neither in it
      // (mustPersistBeforeSpeaking). After a clean stop nothing was lost.
      if (state.cleanStop !== true && !replica.options.plantedBugs?.noRestartFence) replica.fencedRegency = replica.regency;
    }
    // Others may have decided more while we were down, and may stay quiet: ask at the first tick.
    replica.askForDecisionsAtStart = true;
  } finally {
    replica.recovering = false;
  }
  replica.discardOutputs(); // replies and records of the replay are not sent or written again
  return executed;
}

/**
 * Nothing durable: a first start. A replica that ran keeps at least one record that had to
 * be durable before it spoke (`Replica.durablyStarted`), and none of those is deleted.
 */
function isFirstStart(state: RecoveredState): boolean {
  return state.regency === 0 && state.checkpoint === null && state.decisions.length === 0 && state.votes === null;
}

function keepDecisionProof(replica: Replica, d: Decision): void {
  replica.lastDecided = d;
  replica.lastDecisionProof = { proven: false, digestHex: toHex(replica.deps.hash(d.value)), spares: new Map(), direct: false };
  replica.decided.set(d.cid, d);
}

function installOwnCheckpoint(replica: Replica, cid: number, bytes: Uint8Array): void {
  const c = decodeCheckpoint(bytes);
  if (c.cid !== cid) throw new Error(`stored checkpoint ${cid} holds instance ${c.cid}`);
  replica.deps.service.restore(c.serviceSnapshot);
  replica.sessions.restore(c.sessions);
  replica.lastTimestampMs = c.lastTimestampMs;
  replica.instance = replica.newInstance(cid + 1);
  const digest = replica.deps.hash(bytes);
  const signature = replica.deps.signer.sign(checkpointSigningMessage(cid, digest, bytes.length));
  replica.checkpoints.set(cid, { cid, digest, bytes, report: { type: MessageType.CHECKPOINT, from: replica.id, cid, digest, byteLength: bytes.length, signature } });
  markStable(replica, cid);
}

function restoreVotes(replica: Replica, v: VoteState): void {
  const inst = replica.instance;
  if (v.cid === inst.cid - 1) keepDecidedCertificate(replica, v);
  if (v.cid !== inst.cid) return; // votes for an instance already decided: nothing more to keep
  if (v.writeCertificate && v.writeCertificate.cid === inst.cid) inst.writeCertificate = v.writeCertificate;
  if (v.regency !== replica.regency) return;
  const round = inst.round;
  round.proposeSent = true; // a restarted leader must not propose a second value in this regency
  if (v.written) {
    const batch = decodeBatch(v.written, replica.options.limits);
    if (batch.ok) {
      const digest = replica.deps.hash(v.written);
      const hex = toHex(digest);
      inst.values.set(hex, { value: v.written, digest, batch: batch.message });
      round.proposalDigest = hex;
      round.writeSent = true;
    }
  }
  round.acceptSent = v.accepted;
}

/**
 * Our last record of votes is for the instance we last decided: its write certificate is
 * what our STOPDATA shows if that decision's proof does not check out (proofs.ts), as it
 * would have before the restart. Kept only if it is for the decided value.
 */
function keepDecidedCertificate(replica: Replica, v: VoteState): void {
  const d = replica.lastDecided;
  const c = v.writeCertificate;
  if (!d || !c || c.cid !== d.cid || !bytesEqual(c.value, d.value)) return;
  replica.fallbackCertificate = c;
}
