/**
 * Validation of the quorum certificates that leader change and catch-up rely on:
 * decision proofs (a Byzantine quorum of signed ACCEPTs), write certificates (a
 * Byzantine quorum of signed WRITEs) and STOPDATA messages. Each returns null when
 * valid or the reason it is not.
 */
import type { Hasher, Verifier } from '../crypto/signature.ts';
import { stopDataSignedBytes } from './codec.ts';
import { MessageType, type Decision, type SignedVote, type StopData, type WriteCertificate } from './messages.ts';
import { voteSigningMessage } from './signing.ts';
import { byzantineQuorum, isMember, type View } from './view.ts';

export interface CertificateContext {
  readonly view: View;
  readonly verifier: Verifier;
  readonly hash: Hasher;
}

function checkVotes(
  ctx: CertificateContext,
  type: typeof MessageType.WRITE | typeof MessageType.ACCEPT,
  cid: number,
  regency: number,
  value: Uint8Array,
  votes: readonly SignedVote[],
): string | null {
  const name = type === MessageType.WRITE ? 'WRITE' : 'ACCEPT';
  const quorum = byzantineQuorum(ctx.view);
  const signers = new Set<number>();
  for (const v of votes) {
    if (!isMember(ctx.view, v.from)) return `${name} from non-member ${v.from}`;
    if (signers.has(v.from)) return `two ${name}s from replica ${v.from}`;
    signers.add(v.from);
  }
  if (signers.size < quorum) return `${signers.size} ${name}s, fewer than the quorum ${quorum}`;
  const message = voteSigningMessage(type, cid, regency, ctx.hash(value));
  for (const v of votes) if (!ctx.verifier.verify(v.from, message, v.signature)) return `bad ${name} signature from replica ${v.from}`;
  return null;
}

/** Checks a decision proof: a quorum of distinct members' valid ACCEPT signatures over this value. */
export function checkDecision(ctx: CertificateContext, d: Decision): string | null {
  return checkVotes(ctx, MessageType.ACCEPT, d.cid, d.regency, d.value, d.accepts);
}

/** Checks a write certificate: a quorum of distinct members' valid WRITE signatures over this value. */
export function checkWriteCertificate(ctx: CertificateContext, c: WriteCertificate): string | null {
  return checkVotes(ctx, MessageType.WRITE, c.cid, c.regency, c.value, c.writes);
}

/** Checks a STOPDATA's signature and the certificates it carries. */
export function checkStopData(ctx: CertificateContext, s: StopData): string | null {
  if (!isMember(ctx.view, s.from)) return `STOPDATA from non-member ${s.from}`;
  if (!ctx.verifier.verify(s.from, stopDataSignedBytes(s), s.signature)) return `bad STOPDATA signature from replica ${s.from}`;
  if (s.lastDecided) {
    const reason = checkDecision(ctx, s.lastDecided);
    if (reason) return `STOPDATA from ${s.from}: last decided instance ${s.lastDecided.cid}: ${reason}`;
  }
  const c = s.writeCertificate;
  if (c) {
    // Usually the instance right after the last decision. Later is legitimate too: a replica
    // that installed a checkpoint (state transfer, recovery) holds no decision proof for it.
    // Earlier is not: a correct replica keeps a write certificate only for its current instance.
    const expectedCid = (s.lastDecided?.cid ?? -1) + 1;
    if (c.cid < expectedCid) return `STOPDATA from ${s.from}: write certificate for instance ${c.cid}, before ${expectedCid}`;
    if (c.regency >= s.regency) return `STOPDATA from ${s.from}: write certificate from regency ${c.regency}, not before ${s.regency}`;
    const reason = checkWriteCertificate(ctx, c);
    if (reason) return `STOPDATA from ${s.from}: write certificate: ${reason}`;
  }
  return null;
}

/**
 * What a new leader must propose, computed identically by every replica from the
 * STOPDATAs in a SYNC (Mod-SMaRt's synchronization phase, §5 of the EDCC 2012 paper;
 * the choice of the highest-regency certificate follows PBFT's view change).
 *
 * The next instance is one past the highest decided instance any STOPDATA proves, or
 * the highest instance any STOPDATA holds a write certificate for, whichever is later.
 * If any STOPDATA holds a write certificate for that instance, the value of the one
 * from the highest regency is bound: it may have been decided, so it must be proposed.
 * @param stopData STOPDATAs already checked with `checkStopData`.
 */
export function chooseSyncValue(stopData: readonly StopData[]): { cid: number; bound: Uint8Array | null; highestDecision: Decision | null } {
  let highestDecision: Decision | null = null;
  for (const s of stopData) if (s.lastDecided && (!highestDecision || s.lastDecided.cid > highestDecision.cid)) highestDecision = s.lastDecided;
  // A valid write certificate for instance c shows that f+1 correct replicas had decided
  // c - 1 (they WRITE only in their current instance), so c is a floor too.
  let cid = (highestDecision?.cid ?? -1) + 1;
  for (const s of stopData) if (s.writeCertificate && s.writeCertificate.cid > cid) cid = s.writeCertificate.cid;
  let best: WriteCertificate | null = null;
  for (const s of stopData) {
    const c = s.writeCertificate;
    if (c && c.cid === cid && (!best || c.regency > best.regency)) best = c;
  }
  return { cid, bound: best?.value ?? null, highestDecision };
}
