/**
 * Assembles the gateway: problem plugin, OpenAPI plugin, then the routes (order matters:
 * both root plugins must see the routes being added).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WalletBackend } from './backend.ts';
import { Forwarder } from './forward.ts';
import { healthRoutes, type ReplicaStatusProvider } from './health-routes.ts';
import { openApiPlugin } from './openapi-plugin.ts';
import { clientErrorHandler, problemPlugin } from './problem-plugin.ts';
import { walletRoutes } from './wallet-routes.ts';

/** Largest request body accepted (64 KiB); a wallet operation is well under 1 KiB. */
export const BODY_BYTES_MAX_DEFAULT = 64 * 1024;
/** Most requests waiting for the cluster at once before the gateway answers 503. */
export const IN_FLIGHT_MAX_DEFAULT = 1024;
/** A request must arrive whole within this time (slow-client protection). */
export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
/** Longest path parameter the router accepts; longer ones are 404s. Above the 64-char account id so those get a precise 400. */
const PARAM_CHARS_MAX = 256;

export interface GatewayOptions {
  backend: WalletBackend;
  /** This replica's id, reported by /health. */
  replicaId?: number;
  /** This replica's own protocol status for /health (when the gateway runs in a replica process). */
  replicaStatus?: ReplicaStatusProvider;
  /** A pino-compatible logger, `true` for Fastify's default pino logger, or false/absent for none. */
  logger?: FastifyBaseLogger | boolean;
  bodyBytesMax?: number;
  inFlightMax?: number;
  requestTimeoutMs?: number;
}

/**
 * Builds the gateway without a socket (use `app.inject`, or `startGateway` for HTTPS).
 * @returns the Fastify instance; call `await app.ready()` (inject does it) and `app.close()`.
 * @throws Error for invalid options (e.g. inFlightMax < 1).
 */
export function buildGateway(options: GatewayOptions): FastifyInstance {
  const app = Fastify(fastifyOptions(options));
  installGateway(app, options);
  return app;
}

/** Fastify server options for the gateway (everything but TLS). */
export function fastifyOptions(options: GatewayOptions): FastifyServerOptions {
  const logger = options.logger ?? false;
  return {
    bodyLimit: options.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT,
    requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT,
    // HEAD would be answered by running the GET, i.e. a cluster round trip for no body.
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: PARAM_CHARS_MAX },
    clientErrorHandler,
    ...(typeof logger === 'object' ? { loggerInstance: logger } : { logger }),
  };
}

/**
 * Registers the gateway's plugins on `app`, in the order they must run.
 * @throws Error for invalid options (e.g. inFlightMax < 1).
 */
export function installGateway(app: FastifyInstance, options: GatewayOptions): void {
  const forwarder = new Forwarder(options.backend, options.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT);
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.register(problemPlugin);
  typed.register(openApiPlugin);
  typed.register(healthRoutes, {
    forwarder,
    ...(options.replicaId === undefined ? {} : { replicaId: options.replicaId }),
    ...(options.replicaStatus ? { replicaStatus: options.replicaStatus } : {}),
  });
  typed.register(walletRoutes, { forwarder });
}
