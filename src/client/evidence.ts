/**
 * Checks the evidence a gateway attaches to a response, so a client that does not trust
 * the replica it talks to can tell whether f+1 replicas really vouched for the result.
 */
import type { Hasher, Verifier } from '../crypto/signature.ts';
import { bytesEqual } from '../core/bytes.ts';
import { replyRootSigningMessage, replySigningMessage } from '../core/signing.ts';
import { merkleLeaf, merkleRootOf } from '../core/merkle.ts';

/** The JSON shape of `evidence` in gateway responses (binary fields base64url). */
export interface EvidenceJson {
  clientId: number;
  session: number;
  seq: number;
  ordered: boolean;
  /**
   * The exact result bytes the replicas signed (base64url). Absent in compact evidence
   * (`Prefer: evidence=compact`): the client rebuilds them from the body's `data` text.
   */
  result?: string;
  resultDigest: string;
  /** Each replica's signature over its batch's reply-tree root, and this reply's path to it. */
  replicas: { replicaId: number; signature: string; proof: { index: number; leafCount: number; siblings: string[] } }[];
}

/**
 * @param needed how many distinct replicas must have signed (f+1 for ordered results).
 * @param rebuilt for compact evidence (no `result`): the signed bytes as the client rebuilt
 *   them from the body; checked against `resultDigest` like `result` would be.
 * @returns the verified result bytes, or throws an Error saying what is wrong (also when
 *   the evidence has no `result` and nothing was rebuilt).
 */
export function verifyEvidence(e: EvidenceJson, verifier: Verifier, hash: Hasher, needed: number, rebuilt?: Uint8Array): Uint8Array {
  const result = e.result !== undefined ? Buffer.from(e.result, 'base64url') : rebuilt;
  if (result === undefined) throw new Error('evidence: no result bytes (compact evidence, and the caller rebuilt none from the body)');
  const digest = hash(result);
  if (!bytesEqual(digest, Buffer.from(e.resultDigest, 'base64url'))) throw new Error('evidence: resultDigest is not the SHA-256 of result');
  const good = new Set<number>();
  for (const r of e.replicas) {
    const leaf = merkleLeaf(hash, replySigningMessage(r.replicaId, e.clientId, e.session, e.seq, e.ordered, digest));
    const proof = { index: r.proof.index, leafCount: r.proof.leafCount, siblings: r.proof.siblings.map((s) => Buffer.from(s, 'base64url')) };
    const root = merkleRootOf(hash, leaf, proof);
    if (root.length === 0 || !verifier.verify(r.replicaId, replyRootSigningMessage(r.replicaId, root), Buffer.from(r.signature, 'base64url'))) {
      throw new Error(`evidence: replica ${r.replicaId}'s signature does not verify`);
    }
    good.add(r.replicaId);
  }
  if (good.size < needed) throw new Error(`evidence: ${good.size} replicas signed, ${needed} needed`);
  return result;
}
