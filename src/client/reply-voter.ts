/**
 * Votes on the replies to one request (BFT-SMaRt's ServiceProxy reply comparison):
 * a result is accepted once `threshold` distinct replicas sent the same result bytes.
 * With digest replies (`Request.replier`, PBFT's TOCS 2002 §5.1.1) the others send the
 * result's digest: a result is accepted once `threshold` replicas vouched for the same
 * digest and the replier's full result has that digest.
 *
 * Signatures. A reply's sender is authenticated by its channel, so a vote counts without
 * its signature; the signatures matter only as evidence for a third party, which needs
 * `signaturesNeeded` of them (f+1: one correct replica among them). So a reply's signature
 * is checked on arrival while its result still has fewer checked signatures than that,
 * and later matching replies are counted by their channel, unchecked and left out of the
 * evidence. For ordered requests (threshold f+1) every vote is checked, as before; for an
 * unordered read (threshold 2f+1) f+1 are, which saves a client one Ed25519 verification
 * per read at n = 4 (the replica-side analogue is lever 36's ACCEPTs, docs/performance.md).
 * Pure: no I/O, no clock.
 */
import type { Hasher, Verifier } from '../crypto/signature.ts';
import { bytesEqual } from '../core/bytes.ts';
import type { Reply } from '../core/messages.ts';
import { replyRootSigningMessage, replySigningMessage } from '../core/signing.ts';
import { VerifiedRoots, merkleLeaf, merkleRootOf, type MerkleProof } from '../core/merkle.ts';

/** Evidence a third party can check: which replicas signed this result (each over its batch's reply-tree root). */
export interface ReplyEvidence {
  readonly clientId: number;
  readonly session: number;
  readonly seq: number;
  readonly ordered: boolean;
  readonly resultDigest: Uint8Array;
  readonly signatures: readonly { readonly replicaId: number; readonly signature: Uint8Array; readonly proof: MerkleProof }[];
}


/**
 * `fields` completed with a `resultDigest` (SHA-256 of `result`) computed on first read
 * and then kept. Why: in channel-authenticated mode nothing needs the digest unless the
 * caller asks for evidence, and a hash per operation was a visible share of the benchmark
 * client's CPU. `known` is used as is when the digest was computed anyway (signed
 * replies). `result` must not change afterwards. The digest is a getter on the prototype
 * (an object-literal getter cost ≈ 2.5 µs per object): a spread (`{...e}`) drops it.
 */
export function withLazyDigest(fields: Omit<ReplyEvidence, 'resultDigest'>, result: Uint8Array, hash: Hasher, known: Uint8Array | null = null): ReplyEvidence {
  return new LazyDigestEvidence(fields, result, hash, known);
}

class LazyDigestEvidence implements ReplyEvidence {
  readonly clientId: number;
  readonly session: number;
  readonly seq: number;
  readonly ordered: boolean;
  readonly signatures: ReplyEvidence['signatures'];
  constructor(fields: Omit<ReplyEvidence, 'resultDigest'>, private readonly result: Uint8Array, private readonly hash: Hasher, private digest: Uint8Array | null) {
    this.clientId = fields.clientId;
    this.session = fields.session;
    this.seq = fields.seq;
    this.ordered = fields.ordered;
    this.signatures = fields.signatures;
  }
  get resultDigest(): Uint8Array {
    return (this.digest ??= this.hash(this.result));
  }
  /** The digest if it is already known (computed or given), without computing it. */
  get knownDigest(): Uint8Array | null {
    return this.digest;
  }
}

/** `evidence`'s result digest if it is already known, else null: lets a copy reuse it instead of hashing again. */
export function knownDigest(evidence: ReplyEvidence): Uint8Array | null {
  return evidence instanceof LazyDigestEvidence ? evidence.knownDigest : evidence.resultDigest;
}

export interface VoteOutcome {
  readonly result: Uint8Array;
  readonly evidence: ReplyEvidence;
  /** Every replica whose reply vouched for the result, in arrival order (the evidence holds the checked subset). */
  readonly voters: readonly number[];
}

export type ReplyRejection = 'wrong-request' | 'not-a-replica' | 'bad-signature' | 'duplicate' | 'unexpected-digest';

export class ReplyVoter {
  /** Replicas that replied. */
  private readonly voted = new Set<number>();
  /**
   * Distinct results seen, each with the replicas that vouched for it. Usually one entry; at
   * most one per replica. With a verifier, `digest` is computed per reply (the signed message
   * needs it); without one, replies are grouped by their result bytes and the digest is
   * computed once, for the outcome (a SHA-256 and a hex key per reply were a visible share of
   * the benchmark client's CPU). With digest replies every entry has its digest, and its
   * result only once the replier's full reply arrived. `voters` are the replicas that
   * vouched for it; `signatures` holds the checked signatures among them (at most
   * `signaturesNeeded`).
   */
  private readonly results: { result: Uint8Array | null; digest: Uint8Array | null; voters: number[]; signatures: { replicaId: number; signature: Uint8Array; proof: MerkleProof }[] }[] = [];

  /**
   * @param replier the replica asked for the full result (digest replies); the others
   *   must send digests. Undefined: every replica sends the full result.
   * @param signaturesNeeded checked signatures the evidence must carry (f+1), at most
   *   `threshold`; default `threshold` (every vote checked). Ignored without a verifier.
   * @throws RangeError if `signaturesNeeded` is not an integer in [1, threshold].
   */
  constructor(
    private readonly request: { clientId: number; session: number; seq: number; ordered: boolean },
    private readonly replicas: ReadonlySet<number>,
    private readonly threshold: number,
    private readonly verifier: Verifier | null,
    private readonly hash: Hasher,
    private readonly verified: VerifiedRoots = new VerifiedRoots(),
    private readonly replier?: number,
    private readonly signaturesNeeded: number = threshold,
  ) {
    if (!Number.isInteger(signaturesNeeded) || signaturesNeeded < 1 || signaturesNeeded > threshold) {
      throw new RangeError(`signaturesNeeded must be an integer in [1, ${threshold}], got ${signaturesNeeded}`);
    }
  }

  /** Number of distinct replicas that replied. */
  get replies(): number {
    return this.voted.size;
  }

  /**
   * True once no result can still be accepted: none can reach the threshold with the
   * replicas yet to reply, or (digest replies) the one that can has no full result and the
   * replier already sent another.
   */
  get undecidable(): boolean {
    const waiting = this.replicas.size - this.voted.size;
    for (const v of this.results) {
      if (v.voters.length + waiting < this.threshold) continue;
      if (v.result !== null || this.replier === undefined || !this.voted.has(this.replier)) return false;
    }
    return waiting < this.threshold;
  }

  /**
   * Adds one reply. @returns the outcome once the threshold is met, a rejection reason,
   * or null while still waiting.
   */
  add(reply: Reply): VoteOutcome | ReplyRejection | null {
    const q = this.request;
    if (reply.clientId !== q.clientId || reply.session !== q.session || reply.seq !== q.seq || reply.ordered !== q.ordered) return 'wrong-request';
    if (!this.replicas.has(reply.replicaId)) return 'not-a-replica';
    if (this.voted.has(reply.replicaId)) return 'duplicate';
    const digestOnly = reply.resultIsDigest === true;
    // A digest stands for a vote only next to the replier's full result: the replier owes
    // the full result, and without a replier nobody may send a digest. (A full reply from
    // another replica is accepted: it costs its sender, not the vote.)
    if (digestOnly && (this.replier === undefined || reply.replicaId === this.replier)) return 'unexpected-digest';
    const digest: Uint8Array | null = digestOnly ? reply.result : this.replier !== undefined || this.verifier ? this.hash(reply.result) : null;
    // Equal digests <=> equal results (SHA-256), so matching on the bytes is the same vote.
    let entry: (typeof this.results)[number] | undefined;
    for (const e of this.results) {
      if (digest !== null ? e.digest !== null && bytesEqual(e.digest, digest) : e.result !== null && bytesEqual(e.result, reply.result)) {
        entry = e;
        break;
      }
    }
    // Without a verifier, replies are trusted as far as their TLS channel authenticates them;
    // with one, a signature is checked only while the evidence still needs it (module comment).
    const verifier = this.verifier;
    const checked = verifier !== null && digest !== null && (entry === undefined || entry.signatures.length < this.signaturesNeeded);
    if (checked) {
      const leaf = merkleLeaf(this.hash, replySigningMessage(reply.replicaId, q.clientId, q.session, q.seq, q.ordered, digest));
      const root = merkleRootOf(this.hash, leaf, reply.proof);
      if (root.length === 0) return 'bad-signature';
      if (!this.verified.has(reply.replicaId, root, reply.signature)) {
        if (!verifier.verify(reply.replicaId, replyRootSigningMessage(reply.replicaId, root), reply.signature)) return 'bad-signature';
        this.verified.add(reply.replicaId, root, reply.signature);
      }
    }
    this.voted.add(reply.replicaId);
    if (!entry) this.results.push((entry = { result: digestOnly ? null : reply.result, digest, voters: [], signatures: [] }));
    else if (!digestOnly) entry.result ??= reply.result;
    entry.voters.push(reply.replicaId);
    if (checked || this.verifier === null) entry.signatures.push({ replicaId: reply.replicaId, signature: reply.signature, proof: reply.proof });
    if (entry.voters.length < this.threshold || entry.result === null) return null;
    const signatures = entry.signatures.slice().sort(byReplicaId);
    return {
      result: entry.result,
      voters: entry.voters.slice(),
      evidence: withLazyDigest({ clientId: q.clientId, session: q.session, seq: q.seq, ordered: q.ordered, signatures }, entry.result, this.hash, entry.digest),
    };
  }
}

function byReplicaId(a: { replicaId: number }, b: { replicaId: number }): number {
  return a.replicaId - b.replicaId;
}
