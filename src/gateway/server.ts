/**
 * Serves the gateway over HTTPS, TLS 1.3 only (TLS 1.2 and older clients are refused in the
 * handshake).
 */
import { isIPv6 } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyHttpsOptions, type FastifyInstance } from 'fastify';
import { fastifyOptions, installGateway, type GatewayOptions } from './app.ts';

export interface GatewayTls {
  /** This replica's server certificate (PEM), optionally followed by intermediates. */
  certPem: string;
  /** Its private key (PEM, PKCS#8). */
  keyPem: string;
  /** CA certificate(s) (PEM): completes the chain the server sends to clients. */
  caPem?: string;
}

export interface StartGatewayOptions extends GatewayOptions {
  tls: GatewayTls;
  /** Interface to bind, e.g. '127.0.0.1'. */
  host: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
}

export interface RunningGateway {
  /** e.g. 'https://127.0.0.1:8443' (the port actually bound). */
  url: string;
  /** Stops accepting, lets in-flight requests finish, and closes. */
  close(): Promise<void>;
}

/**
 * Starts the HTTPS gateway.
 * @throws Error when the certificate or key is invalid or the address cannot be bound.
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { tls, host, port } = options;
  const https = {
    cert: tls.certPem,
    key: tls.keyPem,
    ...(tls.caPem === undefined ? {} : { ca: tls.caPem }),
    minVersion: 'TLSv1.3' as const,
  };
  // fastifyOptions is typed for node:http (clientErrorHandler's socket); the options are the same for https.
  const app = Fastify({ ...fastifyOptions(options), https } as FastifyHttpsOptions<HttpsServer>);
  // The plugins are typed for node:http's server; https.Server is the same to them at run time.
  installGateway(app as unknown as FastifyInstance, options);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const hostPart = isIPv6(host) ? `[${host}]` : host;
  return {
    url: `https://${hostPart}:${boundPort}`,
    close: async () => {
      await app.close();
    },
  };
}
