/**
 * The cluster configuration file (`cluster.json`): which replicas exist, where they
 * listen, and where the PKI lives. Membership is data: a later reconfiguration writes
 * a new view here rather than changing constants.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ClusterConfigSchema = Type.Object(
  {
    /** Byzantine faults tolerated; replicas.length must be >= 3f+1. */
    f: Type.Integer({ minimum: 0 }),
    /** PKI directory (CA, replica and client certificates, issuer key), relative to this file. */
    pkiDir: Type.String({ minLength: 1 }),
    replicas: Type.Array(
      Type.Object(
        {
          id: Type.Integer({ minimum: 0 }),
          host: Type.String({ minLength: 1 }),
          /** Port for replicas and BFT clients (mutual TLS). */
          port: Port,
          /** Port of the HTTPS wallet API. */
          apiPort: Port,
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    /** Request timeout before asking for a new leader (ms). */
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 50 })),
    /** Most requests per batch. */
    batchRequestsMax: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Instances between checkpoints. */
    checkpointPeriod: Type.Optional(Type.Integer({ minimum: 2 })),
    /** Where replicas keep their state: the embedded store (default), Redis, or memory. */
    storage: Type.Optional(
      Type.Union([
        Type.Object({ kind: Type.Literal('embedded'), fsync: Type.Optional(Type.Union([Type.Literal('always'), Type.Literal('batch')])) }, { additionalProperties: false }),
        Type.Object({ kind: Type.Literal('redis'), url: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        Type.Object({ kind: Type.Literal('memory') }, { additionalProperties: false }),
      ]),
    ),
    /** Folder for embedded stores and storage keys, relative to this file (default "data"). */
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Encrypt stored state (XChaCha20-Poly1305, encrypted-kv.ts) under a per-replica key (default true). */
    encryptAtRest: Type.Optional(Type.Boolean()),
    /** The replicated service: the wallet (default, with its HTTPS API) or a no-op for `bench micro`. */
    service: Type.Optional(
      Type.Union([
        Type.Object({ kind: Type.Literal('wallet') }, { additionalProperties: false }),
        Type.Object({ kind: Type.Literal('noop'), replyBytes: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      ]),
    ),
    /** Sign every reply (default true); off = channel-authenticated replies, BFT-SMaRt's default. */
    signReplies: Type.Optional(Type.Boolean()),
    /** Every request must be signed by its client and checked by every replica (default false). */
    requireSignedRequests: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type ClusterConfig = Static<typeof ClusterConfigSchema>;

/** The client id the gateway of replica `replicaId` uses towards the cluster. */
export const gatewayClientId = (replicaId: number): number => 1000 + replicaId;

/**
 * Reads and validates a cluster file. `pkiDir` is resolved against the file's folder.
 * @throws Error naming the first invalid field.
 */
export function loadClusterConfig(path: string): ClusterConfig {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Value.Check(ClusterConfigSchema, raw)) {
    const first = [...Value.Errors(ClusterConfigSchema, raw)][0];
    throw new Error(`${path}: invalid cluster configuration at ${first?.instancePath || '/'}: ${first?.message ?? 'unknown error'}`);
  }
  const config = raw as ClusterConfig;
  if (config.replicas.length < 3 * config.f + 1) throw new Error(`${path}: ${config.replicas.length} replicas cannot tolerate f = ${config.f}`);
  return { ...config, pkiDir: resolve(dirname(path), config.pkiDir), dataDir: resolve(dirname(path), config.dataDir ?? 'data') };
}
