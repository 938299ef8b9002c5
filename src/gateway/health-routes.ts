/**
 * GET /health: whether this replica's gateway is up. Answered locally, without consensus,
 * so it says nothing about the cluster — only that this process serves HTTP.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Forwarder } from './forward.ts';
import { Health, HealthQuery } from './schemas.ts';

export interface HealthRoutesOptions {
  forwarder: Forwarder;
  replicaId?: number;
  /** Milliseconds clock; injectable so tests get a fixed uptime. */
  nowMs?: () => number;
  /** This replica's protocol status, when the gateway runs inside a replica process. */
  replicaStatus?: ReplicaStatusProvider;
}

/** @param withDigest also hash the service state (O(state)). */
export type ReplicaStatusProvider = (withDigest: boolean) => NonNullable<Health['replica']>;

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { forwarder, replicaId, replicaStatus, nowMs = Date.now }) => {
  const startedAtMs = nowMs();
  app.get('/health', {
    schema: { summary: 'Liveness of this gateway, and its replica\'s own protocol status (no consensus)', tags: ['health'], querystring: HealthQuery, response: { 200: Health } },
  }, async (request, reply) => {
    const body: Health = {
      status: 'ok',
      uptimeMs: Math.max(0, Math.floor(nowMs() - startedAtMs)),
      requestsInFlight: forwarder.requestsInFlight,
      requestsInFlightMax: forwarder.inFlightMax,
    };
    if (replicaId !== undefined) body.replicaId = replicaId;
    if (replicaStatus) body.replica = replicaStatus(request.query.digest === 'true');
    return reply.header('cache-control', 'no-store').send(body);
  });
};
