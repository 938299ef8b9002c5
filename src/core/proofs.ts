/**
 * Decision proofs, checked when they are shown rather than when deciding.
 *
 * A replica decides instance c on a Byzantine quorum of matching ACCEPTs counted by sender:
 * each came over its sender's mutually authenticated channel, and a faulty replica's vote is
 * its own to give, so the decision is safe without their signatures (PBFT with MACs and
 * BFT-SMaRt decide this way; Castro & Liskov, OSDI 1999, §4; Sousa & Bessani, EDCC 2012, §4).
 * The signatures matter only where the decision is shown to someone who did not see the
 * votes: the last decision in a STOPDATA (leader change) and, when no f+1 replicas agree on
 * it, a decision served in catch-up. So they are checked then, off the normal case: two
 * Ed25519 verifications fewer per instance per replica.
 *
 * What makes this more than skipping a check is a proof that does not verify, because a
 * faulty accepter signed its ACCEPT badly. The decision stands; its proof is completed from
 * the spare ACCEPTs (those that arrived beyond the quorum, or after the decision). If none
 * completes it, the replica shows in STOPDATA the latest decision it can prove and a write
 * certificate it kept for that purpose (`Replica.fallbackCertificate`).
 *
 * Why the certificate: leader change is safe because every correct replica that ACCEPTed a
 * decided instance c shows, in any later STOPDATA, a proof of an instance ≥ c or a write
 * certificate for one (`chooseSyncValue` then never picks c freely). With proofs checked
 * late, a faulty replica whose bad signature is in every correct replica's quorum would
 * leave them all with neither once they moved on to c + 1, and a leader change could
 * choose c again. So a replica that decides an instance it cannot prove yet keeps the
 * certificate it holds for the decided value, and keeps it (through later decisions it
 * cannot prove either, which it may not have ACCEPTed) until a decision it can prove
 * replaces it. A replica that needs such a decision in catch-up takes it from f+1
 * replicas reporting the same value (catch-up.ts).
 */
import { detach, toHex } from './bytes.ts';
import { MessageType, type Decision, type SignedVote, type Vote, type WriteCertificate } from './messages.ts';
import type { Replica } from './replica.ts';
import { voteSigningMessage } from './signing.ts';

/** How a decision was reached, for `Replica.executeDecision`. */
export interface DecisionProvenance {
  /** Every signature in the decision's proof was checked (catch-up, SYNC) or is our own. */
  readonly proven: boolean;
  /** Matching ACCEPTs of the deciding regency beyond the proof's quorum. */
  readonly spares?: readonly SignedVote[];
  /**
   * The proof's ACCEPTs came to us from their signers (we decided on them), so a bad
   * signature among them accuses its signer. Not so for a decision others reported in
   * catch-up, or read back from our store.
   */
  readonly direct?: boolean;
}

/** What a replica knows about the proof of its last decision. */
export interface LastDecisionProof {
  /** Whether `Replica.lastDecided`'s proof has been checked. */
  proven: boolean;
  /** Digest (hex) of the last decided value, to match late ACCEPTs against. */
  digestHex: string;
  /** ACCEPTs for the last decided value and regency not in its proof, by sender. */
  readonly spares: Map<number, Uint8Array>;
  /** See `DecisionProvenance.direct` (spares always come from their signers). */
  readonly direct: boolean;
}

/**
 * Records how the decision just executed (`replica.lastDecided`) stands: a checked proof
 * drops the fallback certificate; an unchecked one keeps `certificate` (the one we hold
 * for the decided value, if any), or else the fallback we had.
 */
export function noteDecision(replica: Replica, digestHex: string, provenance: DecisionProvenance, certificate: WriteCertificate | null): void {
  const spares = new Map((provenance.spares ?? []).map((v) => [v.from, detach(v.signature)]));
  replica.lastDecisionProof = { proven: provenance.proven, digestHex, spares, direct: provenance.direct === true };
  if (provenance.proven) {
    replica.lastProvenDecision = replica.lastDecided;
    replica.fallbackCertificate = null;
  } else if (certificate) {
    replica.fallbackCertificate = certificate;
  }
}

/**
 * Keeps a late ACCEPT for the instance we last decided, if its proof is still unchecked and
 * the vote matches it (same regency and value): a spare to complete the proof with.
 * @returns whether the vote was kept (else the caller drops it as for a decided instance).
 */
export function keepSpareAccept(replica: Replica, m: Vote): boolean {
  const d = replica.lastDecided;
  const p = replica.lastDecisionProof;
  if (!d || !p || p.proven || m.cid !== d.cid || m.regency !== d.regency || toHex(m.digest) !== p.digestHex) return false;
  if (p.spares.has(m.from) || d.accepts.some((a) => a.from === m.from)) return false;
  p.spares.set(m.from, detach(m.signature)); // a view into the received frame would pin it
  return true;
}

/**
 * Checks the proof of our last decision, completing it from spare ACCEPTs if one of its
 * signatures fails. On success the checked proof replaces the decision's (in `lastDecided`
 * and `decided`) and the kept certificate is dropped.
 * @returns whether `replica.lastDecided` now holds a checked proof (false if there is none).
 */
export function proveLastDecision(replica: Replica): boolean {
  const d = replica.lastDecided;
  const p = replica.lastDecisionProof;
  if (!d || !p) return false;
  if (p.proven) return true;
  const message = voteSigningMessage(MessageType.ACCEPT, d.cid, d.regency, replica.deps.hash(d.value));
  const candidates = [...d.accepts.map((v) => ({ v, direct: p.direct })), ...[...p.spares].map(([from, signature]) => ({ v: { from, signature }, direct: true }))];
  const valid: SignedVote[] = [];
  for (const { v, direct } of candidates) {
    if (valid.length === replica.quorum) break;
    if (valid.some((x) => x.from === v.from)) continue;
    if (replica.deps.verifier.verify(v.from, message, v.signature)) valid.push(v);
    // Only a vote its signer sent us accuses it; one relayed in catch-up may have been altered on the way.
    else if (direct) replica.drop(`replica ${v.from}`, `bad ACCEPT signature for decided instance ${d.cid}`);
  }
  if (valid.length < replica.quorum) return false;
  const proven: Decision = { cid: d.cid, regency: d.regency, value: d.value, accepts: valid.sort((a, b) => a.from - b.from) };
  replica.lastDecided = proven;
  if (replica.decided.has(d.cid)) replica.decided.set(d.cid, proven);
  replica.lastProvenDecision = proven;
  replica.fallbackCertificate = null;
  p.proven = true;
  p.spares.clear();
  return true;
}

/**
 * What our STOPDATA claims: the latest decision we can prove, and the write certificate
 * that binds what we may have accepted. Normally that is our last decision and the
 * certificate of our current instance. If the last decision's proof cannot be completed,
 * it is the latest decision we did prove and, when we hold no certificate for the current
 * instance, the fallback certificate (see the module comment).
 */
export function stopDataClaims(replica: Replica): { lastDecided: Decision | null; writeCertificate: WriteCertificate | null } {
  const lastDecided = replica.lastDecided === null || proveLastDecision(replica) ? replica.lastDecided : replica.lastProvenDecision;
  const writeCertificate = replica.instance.writeCertificate ?? replica.fallbackCertificate;
  // A certificate for an instance the proof covers adds nothing (and STOPDATA may not carry it).
  if (writeCertificate && lastDecided && writeCertificate.cid <= lastDecided.cid) return { lastDecided, writeCertificate: null };
  return { lastDecided, writeCertificate };
}
