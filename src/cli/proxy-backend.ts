/** Adapts the BFT ServiceProxy to the gateway's WalletBackend: results plus the replicas' signed evidence. */
import type { ServiceProxy } from '../client/service-proxy.ts';
import type { VoteOutcome } from '../client/reply-voter.ts';
import type { VotedReply, WalletBackend } from '../gateway/index.ts';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

export function toVotedReply(o: VoteOutcome): VotedReply {
  return {
    result: o.result,
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

export function proxyBackend(proxy: ServiceProxy): WalletBackend {
  return {
    invokeOrdered: async (op) => toVotedReply(await proxy.invokeOrdered(op)),
    invokeUnordered: async (op) => toVotedReply(await proxy.invokeUnordered(op)),
  };
}
