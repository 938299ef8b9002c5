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
  /** The exact result bytes the replicas signed (base64url). */
  result: string;
  resultDigest: string;
  /** Each replica's signature over its batch's reply-tree root, and this reply's path to it. */
  replicas: { replicaId: number; signature: string; proof: { index: number; leafCount: number; siblings: string[] } }[];
}

/**
 * @param needed how many distinct replicas must have signed (f+1 for ordered results).
 * @returns the verified result bytes, or throws an Error saying what is wrong.
 */
export function verifyEvidence(e: EvidenceJson, verifier: Verifier, hash: Hasher, needed: number): Uint8Array {
  const result = Buffer.from(e.result, 'base64url');
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
