/** Adapts the BFT ServiceProxy to the gateway's WalletBackend: results plus the replicas' signed evidence. */
import type { ServiceProxy } from '../client/service-proxy.ts';
import type { VoteOutcome } from '../client/reply-voter.ts';
import type { VotedReply, WalletBackend } from '../gateway/index.ts';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** @param colocatedReplica the replica in the gateway's own process, if any (see VotedReply.fromColocatedReplica). */
export function toVotedReply(o: VoteOutcome, colocatedReplica?: number): VotedReply {
  return {
    result: o.result,
    ...(colocatedReplica !== undefined && o.voters.includes(colocatedReplica) ? { fromColocatedReplica: true } : {}),
    evidence: {
      clientId: o.evidence.clientId,
      session: o.evidence.session,
      seq: o.evidence.seq,
      ordered: o.evidence.ordered,
      resultDigest: b64u(o.evidence.resultDigest),
      replicas: o.evidence.signatures.map((s) => ({
        replicaId: s.replicaId,
        signature: b64u(s.signature),
        proof: { index: s.proof.index, leafCount: s.proof.leafCount, siblings: s.proof.siblings.map(b64u) },
      })),
    },
  };
}

/** @param colocatedReplica the replica in this process, whose result bytes need no shape check. */
export function proxyBackend(proxy: ServiceProxy, colocatedReplica?: number): WalletBackend {
  return {
    invokeOrdered: async (op) => toVotedReply(await proxy.invokeOrdered(op), colocatedReplica),
    invokeUnordered: async (op) => toVotedReply(await proxy.invokeUnordered(op), colocatedReplica),
  };
}
