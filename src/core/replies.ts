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
  if (requests.length === 0) return [];
  if (!s.sign) return requests.map((r, i) => encodeReply(s.replicaId, r, results[i]!, SINGLE_LEAF, UNSIGNED));
  const leaves = requests.map((r, i) => merkleLeaf(s.hash, replySigningMessage(s.replicaId, r.clientId, r.session, r.seq, r.ordered, s.hash(results[i]!))));
  const { root, proofs } = merkleTree(s.hash, leaves);
  const signature = s.signer.sign(replyRootSigningMessage(s.replicaId, root));
  return requests.map((r, i) => encodeReply(s.replicaId, r, results[i]!, proofs[i]!, signature));
}

function encodeReply(replicaId: number, r: Request, result: Uint8Array, proof: typeof SINGLE_LEAF, signature: Uint8Array): Uint8Array {
  return encodeMessage({ type: MessageType.REPLY, replicaId, clientId: r.clientId, session: r.session, seq: r.seq, ordered: r.ordered, result, proof, signature });
}
