/**
 * Byzantine behaviours for a real replica process, applied by a proxy around an honest
 * core's outputs (malachite's engine-byzantine idea): the core stays honest code.
 * Used by the benchmark's Byzantine scenario and by integration tests.
 */
import { decodeMessage, encodeMessage } from '../core/codec.ts';
import { MessageType } from '../core/messages.ts';
import type { Ready } from '../core/ready.ts';
import { replyRootSigningMessage, replySigningMessage } from '../core/signing.ts';
import { merkleLeaf, SINGLE_LEAF } from '../core/merkle.ts';
import type { Hasher, Signer } from '../crypto/signature.ts';

export const BYZANTINE_BEHAVIOURS = ['wrong-results', 'silent'] as const;
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

const enc = new TextEncoder();

/**
 * Rewrites a Ready according to `behaviour`:
 * - wrong-results: every reply carries a different result, correctly signed by this replica
 *   (so only voting, not signature checks, can catch it);
 * - silent: sends nothing at all (a crashed-but-connected replica).
 */
export function applyByzantine(behaviour: ByzantineBehaviour, ready: Ready, replicaId: number, signer: Signer, hash: Hasher): Ready {
  if (behaviour === 'silent') return { ...ready, messages: [], replies: [] };
  const replies = ready.replies.map((r) => {
    const d = decodeMessage(r.bytes);
    if (!d.ok || d.message.type !== MessageType.REPLY) return r;
    const m = d.message;
    const result = enc.encode(`{"ok":false,"error":{"code":"LIE","message":"replica ${replicaId} lies"}}`);
    // A valid one-leaf reply tree over the lie: only voting can catch it.
    const root = merkleLeaf(hash, replySigningMessage(replicaId, m.clientId, m.session, m.seq, m.ordered, hash(result)));
    const signature = signer.sign(replyRootSigningMessage(replicaId, root));
    return { clientId: r.clientId, bytes: encodeMessage({ ...m, result, proof: SINGLE_LEAF, signature }) };
  });
  return { ...ready, replies };
}
