/**
 * Building a replica's replies: one Merkle tree per executed batch and one signature
 * over its root (merkle.ts), so signing costs one Ed25519 operation per batch rather
 * than per request, while every reply still carries checkable evidence.
 */
import { encodeMessage } from './codec.ts';
import { MessageType, type Request } from './messages.ts';
import { merkleLeaf, merkleTree, SINGLE_LEAF } from './merkle.ts';
import { replyRootSigningMessage, replySigningMessage } from './signing.ts';
import type { Hasher, Signer } from '../crypto/signature.ts';

/** The signature field when replies are authenticated by the client's channel only. */
const UNSIGNED = new Uint8Array(64);

export interface ReplySigning {
  readonly replicaId: number;
  readonly signer: Signer;
  readonly hash: Hasher;
  /** False: channel-authenticated replies (no tree, no signature). */
  readonly sign: boolean;
}

/** Encodes the replies to `requests` (in order) with `results`; one signature for all of them. */
export function encodeReplies(s: ReplySigning, requests: readonly Request[], results: readonly Uint8Array[]): Uint8Array[] {
  return encodeSigned(s, requests, results, false);
}

/**
 * Encodes the reply to one unordered request: the full result if the request names this
 * replica (or no one) as its replier, else the result's digest (`Request.replier`). The
 * signature covers the digest either way, so the client checks both forms alike.
 */
export function encodeUnorderedReply(s: ReplySigning, request: Request, result: Uint8Array): Uint8Array {
  const digestOnly = request.replier !== undefined && request.replier !== s.replicaId;
  return encodeSigned(s, [request], [digestOnly ? s.hash(result) : result], digestOnly)[0]!;
}

/** `bodies` are the results, or (`bodiesAreDigests`) their digests, which the signed leaves hold either way. */
function encodeSigned(s: ReplySigning, requests: readonly Request[], bodies: readonly Uint8Array[], bodiesAreDigests: boolean): Uint8Array[] {
  if (requests.length === 0) return [];
  if (!s.sign) return requests.map((r, i) => encodeReply(s.replicaId, r, bodies[i]!, bodiesAreDigests, SINGLE_LEAF, UNSIGNED));
  const leaves = requests.map((r, i) => {
    const digest = bodiesAreDigests ? bodies[i]! : s.hash(bodies[i]!);
    return merkleLeaf(s.hash, replySigningMessage(s.replicaId, r.clientId, r.session, r.seq, r.ordered, digest));
  });
  const { root, proofs } = merkleTree(s.hash, leaves);
  const signature = s.signer.sign(replyRootSigningMessage(s.replicaId, root));
  return requests.map((r, i) => encodeReply(s.replicaId, r, bodies[i]!, bodiesAreDigests, proofs[i]!, signature));
}

function encodeReply(replicaId: number, r: Request, result: Uint8Array, resultIsDigest: boolean, proof: typeof SINGLE_LEAF, signature: Uint8Array): Uint8Array {
  const reply = { type: MessageType.REPLY, replicaId, clientId: r.clientId, session: r.session, seq: r.seq, ordered: r.ordered, result, proof, signature } as const;
  return encodeMessage(resultIsDigest ? { ...reply, resultIsDigest } : reply);
}
