/**
 * Composition root of one replica process: the Mod-SMaRt core with the wallet service,
 * its TLS transport and storage, and the HTTPS wallet API whose backend is a BFT client
 * of the whole cluster (so even this replica's own API needs f+1 matching replies).
 */
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { DEFAULT_OPTIONS } from '../core/options.ts';
import { makeView } from '../core/view.ts';
import { Ed25519Signer, ed25519PublicKeyToRaw, sha256 } from '../crypto/ed25519.ts';
import { ReplicaNode } from '../host/replica-node.ts';
import { openReplicaStorage } from '../host/storage/open-storage.ts';
import { ByzantineOutputs, type ByzantineBehaviour } from './byzantine-replica.ts';
import { loadIdentity, publicKeyOf } from '../security/pki.ts';
import { WalletService } from '../wallet/index.ts';
import { NoopService } from '../noop/noop-service.ts';
import { startGateway, type RunningGateway } from '../gateway/index.ts';
import { gatewayClientId, type ClusterConfig } from './cluster-config.ts';
import { connectProxy, replicaVerifier, type ConnectedProxy } from './proxy-transport.ts';
import { proxyBackend } from './proxy-backend.ts';

export interface RunningReplica {
  readonly node: ReplicaNode;
  /** The HTTPS wallet API (absent for the no-op benchmark service). */
  readonly gateway: RunningGateway | null;
  close(): Promise<void>;
}

/** Starts replica `id` of `config` and its HTTPS API. @throws if its identity or ports are unusable. */
export async function runReplica(config: ClusterConfig, id: number, byzantine?: ByzantineBehaviour): Promise<RunningReplica> {
  const me = config.replicas.find((r) => r.id === id);
  if (!me) throw new Error(`replica ${id} is not in the cluster configuration`);
  const logger = pino({ name: `replica-${id}`, level: process.env['BULWARK_LOG_LEVEL'] ?? 'info' });
  const identity = loadIdentity(config.pkiDir, 'replica', id);
  const issuerPublicKey = ed25519PublicKeyToRaw(createPublicKey(readFileSync(join(config.pkiDir, 'issuer.pub'), 'utf8')));
  const view = makeView(config.replicas.map((r) => r.id), config.f);
  const service = config.service?.kind === 'noop' ? new NoopService(config.service.replyBytes) : new WalletService({ issuerPublicKey });
  const storage = await openReplicaStorage(config.storage ?? { kind: 'embedded' }, {
    replicaId: id,
    dataDir: config.dataDir ?? join(config.pkiDir, '..', 'data'),
    encrypt: config.encryptAtRest ?? true,
    redisPrefix: `bulwark:${config.replicas.map((r) => r.port).join('-')}:`,
    warn: (fields, message) => logger.warn(fields, message),
  });
  const signer = new Ed25519Signer(identity.keyPem);
  const node = new ReplicaNode(
    {
      replica: {
        ...DEFAULT_OPTIONS,
        id,
        view,
        ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
        ...(config.batchRequestsMax ? { batchRequestsMax: config.batchRequestsMax } : {}),
        ...(config.checkpointPeriod ? { checkpointPeriod: config.checkpointPeriod } : {}),
        ...(config.signReplies === false ? { signReplies: false } : {}),
        ...(config.requireSignedRequests ? { requireSignedRequests: true } : {}),
      },
      addresses: config.replicas,
      tls: identity,
    },
    {
      service,
      signer,
      verifier: replicaVerifier(config),
      hash: sha256,
      storage,
      logger,
      ...(byzantine ? { interceptor: new ByzantineOutputs({ behaviour: byzantine, replicaId: id, signer, hash: sha256, note: (text) => logger.debug({ byzantine }, text) }) } : {}),
    },
  );
  await node.start();
  if (config.service?.kind === 'noop') {
    logger.info({ replica: id, port: me.port, service: 'noop' }, 'replica started');
    return { node, gateway: null, close: () => node.close() };
  }
  const clientId = gatewayClientId(id);
  const clientIdentity = loadIdentity(config.pkiDir, 'client', clientId);
  const client: ConnectedProxy = connectProxy(
    config,
    clientIdentity,
    {
      clientId,
      // Reads ask this process's own replica for the full result, the others for its
      // digest: a 300-entry ledger page crosses one TLS link instead of four.
      unorderedReplier: id,
      // ...and go first to a quorum of replicas (this one and the next 2f), not to all:
      // the other f do not build the page unless the quorum's answers fall short.
      unorderedFanout: 'quorum',
      // Its own replica's reply signatures are not checked: that replica and this gateway
      // share a process, so neither can be faulty without the other.
      colocatedReplica: id,
      ...(config.requireSignedRequests ? { requestSigner: new Ed25519Signer(clientIdentity.keyPem) } : {}),
    },
    logger,
    // Its own replica is reached in-process, not over a loopback TLS connection.
    { replicaId: id, attach: (deliver) => node.attachLocalClient(clientId, publicKeyOf(clientIdentity.certPem), deliver) },
  );
  const gateway = await startGateway({
    backend: proxyBackend(client.proxy, id),
    replicaId: id,
    replicaStatus: (withDigest) => ({
      regency: node.core.regency,
      leader: node.core.leader,
      lastDecidedCid: node.core.lastDecidedCid,
      stableCheckpointCid: node.core.stableCheckpointCid,
      ...(withDigest ? { stateDigest: Buffer.from(sha256(service.snapshot())).toString('base64url') } : {}),
    }),
    tls: { certPem: identity.certPem, keyPem: identity.keyPem, caPem: identity.caPem },
    host: me.host,
    port: me.apiPort,
  });
  logger.info({ replica: id, port: me.port, api: gateway.url, byzantine: byzantine ?? null }, 'replica started');
  return {
    node,
    gateway,
    close: async () => {
      await gateway.close();
      client.close();
      await node.close();
    },
  };
}
