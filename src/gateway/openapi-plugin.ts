/**
 * OpenAPI plugin: the OpenAPI 3 document at GET /openapi.json, made by @fastify/swagger from
 * the routes' TypeBox schemas, and the interactive page at /docs (@fastify/swagger-ui).
 *
 * Registered at the root (skip-override) and before the routes: @fastify/swagger collects
 * routes with an onRoute hook, which only sees routes added after it.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

export interface OpenApiOptions {
  /** The API's version in the document's `info`. */
  apiVersion?: string;
}

const openApiPlugin: FastifyPluginAsync<OpenApiOptions> = async (app: FastifyInstance, { apiVersion = '0.1.0' }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Bulwark wallet API',
        version: apiVersion,
        description:
          'Every Bulwark replica serves this API. Behind it, the replica is a BFT client of the cluster: an answer ' +
          'is what f+1 replicas agreed on, and `evidence` carries their signatures so a client need not trust the ' +
          'replica it asked. Users sign their operations themselves; replicas verify the signatures. Errors are ' +
          'RFC 9457 problems (application/problem+json) with a stable `code`. A request with ' +
          '`Prefer: evidence=compact` gets evidence without `result` (the signed bytes) whenever they are ' +
          '`{"ok":true,"value":` + the body\'s `data` text + `}`, which halves a ledger page; the answer then ' +
          'carries `Preference-Applied: evidence=compact`.',
      },
      tags: [
        { name: 'accounts', description: 'Registration, deposits and account state' },
        { name: 'transfers', description: 'Moving funds between accounts' },
        { name: 'ledger', description: 'Ledger pages' },
        { name: 'health', description: 'Liveness of this gateway' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
Object.assign(openApiPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'bulwark-openapi' });
export { openApiPlugin };
