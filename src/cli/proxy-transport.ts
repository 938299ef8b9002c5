/**
 * Connects a ServiceProxy to every replica over mutual TLS (one TlsConnector each) and
 * routes the replies back into it (as views of the received frames: the proxy copies out
 * only what it returns, instead of every reply being copied on arrival). A replica in the
 * same process may be reached through an in-process link instead (ReplicaNode.attachLocalClient).
 */
import type { ClusterConfig } from './cluster-config.ts';
import { ServiceProxy, type ServiceProxyOptions } from '../client/service-proxy.ts';
import { TlsConnector, type TlsCredentials, type TransportLogger } from '../host/transport/index.ts';
import { Ed25519Verifier, sha256 } from '../crypto/ed25519.ts';
import { publicKeyOf } from '../security/pki.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeView } from '../core/view.ts';
import type { LocalClientLink } from '../host/replica-node.ts';

/** A replica in the proxy's own process, reached without TLS. */
export interface ColocatedReplicaLink {
  readonly replicaId: number;
  /** Attaches the proxy to it: `deliver` receives that replica's replies. */
  attach(deliver: (bytes: Uint8Array) => void): LocalClientLink;
}

export interface ConnectedProxy {
  readonly proxy: ServiceProxy;
  /**
   * Resolves once the TLS connection to every replica is up (see TlsConnector.whenConnected).
   * @throws Error (rejects) naming a replica not connected within timeoutMs (ms)
   */
  whenConnected(timeoutMs: number): Promise<void>;
  /** Closes the proxy and its connections. */
  close(): void;
}

/** Public keys of the cluster's replicas, read from their certificates in the PKI directory. */
export function replicaVerifier(config: ClusterConfig): Ed25519Verifier {
  return new Ed25519Verifier(new Map(config.replicas.map((r) => [r.id, publicKeyOf(readFileSync(join(config.pkiDir, `replica-${r.id}.crt`), 'utf8'))])));
}

export function connectProxy(
  config: ClusterConfig,
  credentials: TlsCredentials,
  options: Omit<ServiceProxyOptions, 'view'>,
  logger?: TransportLogger,
  colocated?: ColocatedReplicaLink,
): ConnectedProxy {
  const connectors = new Map<number, TlsConnector>();
  const view = makeView(config.replicas.map((r) => r.id), config.f);
  let local: LocalClientLink | null = null;
  const localId = colocated?.replicaId;
  const proxy = new ServiceProxy(
    { ...options, view },
    { transport: { send: (id, bytes) => (id === localId ? local?.send(bytes) : connectors.get(id)?.send(bytes)) }, verifier: replicaVerifier(config), hash: sha256 },
  );
  if (colocated) local = colocated.attach((bytes) => proxy.onReplyBytes(colocated.replicaId, bytes));
  for (const r of config.replicas) {
    if (r.id === localId) continue;
    const c = new TlsConnector(credentials, { ...(logger ? { logger } : {}), onFrame: (principal, frame) => proxy.onReplyBytes(principal.id, new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)) });
    c.connect({ host: r.host, port: r.port, expected: { role: 'replica', id: r.id } });
    connectors.set(r.id, c);
  }
  return {
    proxy,
    whenConnected: async (timeoutMs) => void (await Promise.all([...connectors.values()].map((c) => c.whenConnected(timeoutMs)))),
    close: () => {
      proxy.close();
      local?.close();
      for (const c of connectors.values()) c.close();
    },
  };
}
