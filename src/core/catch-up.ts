/**
 * Catch-up of a replica that fell a few instances behind: it asks others for decided
 * instances (DECISION_REQUEST) and applies each one whose proof — a Byzantine quorum of
 * signed ACCEPTs — checks out, or that f+1 replicas report with the same value (at least
 * one of them is correct). The second way is needed because replicas decide before
 * checking their proofs (proofs.ts): a faulty accepter's bad signature can leave a decided
 * instance with no proof anywhere. A lie alone is never applied. Instances older than what
 * replicas keep in memory need state transfer (checkpoints).
 */
import { checkDecision } from './certificates.ts';
import { bytesEqual } from './bytes.ts';
import { MessageType, type Decision, type DecisionReply, type DecisionRequest } from './messages.ts';
import type { Replica } from './replica.ts';
import { proposeIfLeader } from './normal-case.ts';
import { requestState } from './state-transfer.ts';

/** Executes `decision` if it is for our current instance and its proof is valid. @returns whether applied. */
export function applyDecision(replica: Replica, decision: Decision): boolean {
  if (decision.cid !== replica.instance.cid) return false;
  const invalid = checkDecision({ view: replica.view, verifier: replica.deps.verifier, hash: replica.deps.hash }, decision);
  if (invalid) return false;
  replica.executeDecision(decision, replica.decodeDecidedValue(decision.value), null, { proven: true });
  return true;
}

/** Asks `from` (other replicas) for the decisions after our last one, at most once per catchUpIntervalMs. */
export function requestCatchUp(replica: Replica, from: readonly number[], force = false): void {
  if (!force && replica.nowMs - replica.lastCatchUpMs < replica.options.catchUpIntervalMs) return;
  replica.lastCatchUpMs = replica.nowMs;
  const to = from.filter((id) => id !== replica.id);
  replica.emit({ type: 'catch-up-requested', fromCid: replica.instance.cid });
  replica.sendTo(to, { type: MessageType.DECISION_REQUEST, from: replica.id, fromCid: replica.instance.cid });
}

/** On a tick: if f+1 replicas are working on our instance or later and we made no progress lately, catch up. */
export function maybeRequestCatchUp(replica: Replica): void {
  const ahead: number[] = [];
  // At or past our instance: they may have decided it without us (we were in another regency, or cut off).
  for (const [id, cid] of replica.highestCidSeen) if (cid >= replica.instance.cid) ahead.push(id);
  if (ahead.length >= replica.witnesses && replica.nowMs - replica.lastProgressMs >= replica.options.catchUpIntervalMs) requestCatchUp(replica, ahead);
}

/** DECISION_REQUEST: answer with the consecutive decisions we still hold from `fromCid`. */
export function onDecisionRequest(replica: Replica, m: DecisionRequest): void {
  const decisions: Decision[] = [];
  for (let cid = m.fromCid; decisions.length < replica.options.limits.decisionsPerReplyMax; cid++) {
    const d = replica.decided.get(cid);
    if (!d) break;
    decisions.push(d);
  }
  if (decisions.length === 0 && replica.stableCheckpointCid < m.fromCid) return;
  replica.sendTo([m.from], { type: MessageType.DECISION_REPLY, from: replica.id, checkpointCid: replica.stableCheckpointCid, decisions });
}

/**
 * DECISION_REPLY: apply, in order, each decision for our current instance whose proof is
 * valid; keep the others as reports, applied once f+1 replicas report the same value.
 */
export function onDecisionReply(replica: Replica, m: DecisionReply): void {
  if (m.decisions.length === 0 && m.checkpointCid >= replica.instance.cid) {
    // The decisions we need were truncated behind a stable checkpoint: fetch the state.
    requestState(replica, replica.instance.cid, `replica ${m.from} no longer holds instance ${replica.instance.cid}`);
    return;
  }
  let applied = 0;
  for (const d of [...m.decisions].sort((a, b) => a.cid - b.cid)) {
    if (d.cid < replica.instance.cid) continue;
    if (d.cid === replica.instance.cid && applyDecision(replica, d)) {
      applied += 1 + applyReported(replica); // reports kept for the instances after it
      continue;
    }
    // Not an accusation: a correct replica serves its decisions before checking their proofs.
    const checked = d.cid === replica.instance.cid;
    if (checked) replica.drop(`replica ${m.from}`, `DECISION_REPLY: the proof of instance ${d.cid} does not check out; kept as one report of its value`);
    if (!keepReport(replica, m.from, d, checked)) break;
    applied += applyReported(replica);
  }
  if (applied > 0) {
    replica.replayHeld();
    proposeIfLeader(replica);
  }
}

/**
 * Keeps `from`'s report of decision `d` (its proof did not check out, or it is for a later
 * instance than ours and not checked yet), if `d` is within the next decisionsPerReplyMax
 * instances. Bounded: one report per sender per instance.
 * @param checked whether `d`'s proof was already checked (and failed).
 * @returns false if `d` is beyond that window.
 */
function keepReport(replica: Replica, from: number, d: Decision, checked: boolean): boolean {
  const cid = replica.instance.cid;
  if (d.cid >= cid + replica.options.limits.decisionsPerReplyMax) return false;
  for (const c of replica.reportedDecisions.keys()) if (c < cid) replica.reportedDecisions.delete(c);
  let reports = replica.reportedDecisions.get(d.cid);
  if (!reports) replica.reportedDecisions.set(d.cid, (reports = new Map()));
  reports.set(from, { decision: d, checked });
  return true;
}

/**
 * Applies, in order, decisions for our current instance that a report proves (its proof,
 * checked once, is valid) or that f+1 replicas report with the same value. @returns how many.
 */
function applyReported(replica: Replica): number {
  let applied = 0;
  for (;;) {
    const cid = replica.instance.cid;
    const reports = replica.reportedDecisions.get(cid);
    if (!reports) return applied;
    let proven = false;
    for (const r of reports.values()) {
      if (r.checked) continue;
      r.checked = true;
      if ((proven = applyDecision(replica, r.decision))) break;
    }
    if (!proven) {
      const all = [...reports.values()].map((r) => r.decision);
      const agreed = all.find((d) => all.filter((e) => bytesEqual(e.value, d.value)).length >= replica.witnesses);
      if (!agreed) return applied;
      replica.executeDecision(agreed, replica.decodeDecidedValue(agreed.value));
    }
    replica.reportedDecisions.delete(cid);
    applied++;
  }
}
