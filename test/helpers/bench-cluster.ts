/**
 * A real local cluster for benchmarks: n replica processes on a free port range in a
 * temporary folder, BFT clients (ServiceProxy over mutual TLS) with their own
 * certificates, and cheap status reads. Everything it starts is stopped by `close()`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startLocalCluster, type LocalClusterHandle } from '../../src/cli/local-cluster.ts';
import type { ClusterConfig } from '../../src/cli/cluster-config.ts';
import { connectProxy, type ConnectedProxy } from '../../src/cli/proxy-transport.ts';
import { loadIdentity } from '../../src/security/pki.ts';
import { Ed25519Signer } from '../../src/crypto/ed25519.ts';
import type { ServiceProxy } from '../../src/client/service-proxy.ts';
import { decodeResult, encodeOperation } from '../../src/wallet/client-ops.ts';
import type { WalletOperation, WalletResult } from '../../src/wallet/operations.ts';
import type { ReplicaStatus } from './transfers.ts';

/** First id of the benchmark's BFT clients (gateways use 1000 + replica id). */
export const BENCH_CLIENT_ID_BASE = 2000;

export interface BenchClusterOptions {
  readonly replicas?: number;
  readonly checkpointPeriod?: number;
  readonly storage?: ClusterConfig['storage'];
  /** BFT clients to connect (ids BENCH_CLIENT_ID_BASE ..). Default 1. */
  readonly bftClients?: number;
  /** Ordered requests each BFT client keeps in flight at most (≤ the replicas' pendingPerClientMax, 256). Default 256. */
  readonly outstandingPerClient?: number;
  /** BFT clients resend an unanswered request after this long (ms). Default 1000, the proxy's own default. */
  readonly retransmitMs?: number;
  /**
   * Replicas accept only requests their client signed (each replica verifies every one).
   * Default: the launcher's default (on for the wallet since ac88ccc); the BFT clients
   * sign whenever the cluster requires it.
   */
  readonly requireSignedRequests?: boolean;
  /** pino level of the replica processes; 'info' shows the state-transfer events. */
  readonly logLevel?: string;
}

export interface BenchCluster {
  readonly dir: string;
  readonly cluster: LocalClusterHandle;
  readonly issuer: KeyObject;
  /** Connected BFT clients; `proxies[i]` has client id BENCH_CLIENT_ID_BASE + i. */
  readonly proxies: ServiceProxy[];
  /** Replica `id`'s protocol status from its /health (without the state digest unless asked: that hashes the whole state). */
  status(id: number, digest?: boolean): Promise<ReplicaStatus>;
  /** Copies the replicas' logs to a new temporary folder (kept after close, for diagnosis). @returns its path. */
  keepLogs(): string;
  /** Stops replicas and clients and removes the folder. Idempotent: every call resolves once the first has finished. */
  close(): Promise<void>;
}

/** True if `port` can be bound on 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A base port such that base .. base + count - 1 are all free now (random in 20000..39999,
 * so concurrent test suites with fixed ports are unlikely to collide).
 * @throws Error after 50 unlucky tries.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (20_000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Starts the cluster, waits until every replica's API answers, and connects the BFT clients. */
export async function startBenchCluster(o: BenchClusterOptions = {}): Promise<BenchCluster> {
  const replicas = o.replicas ?? 4;
  const clientCount = o.bftClients ?? 1;
  const clientIds = Array.from({ length: clientCount }, (_, i) => BENCH_CLIENT_ID_BASE + i);
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
  const base = await freePortRange(2 * replicas);
  let cluster: LocalClusterHandle | undefined;
  const connected: ConnectedProxy[] = [];
  let agent: Agent | undefined;
  let closing: Promise<void> | undefined;
  // Every caller (a signal handler, the script's finally) waits for the same, complete close.
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const c of connected) c.close();
      await agent?.close();
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    cluster = await startLocalCluster({
      dir,
      replicas,
      basePort: base,
      apiBasePort: base + replicas,
      extraClients: clientIds,
      requestTimeoutMs: 10_000,
      ...(o.checkpointPeriod ? { checkpointPeriod: o.checkpointPeriod } : {}),
      ...(o.storage ? { storage: o.storage } : {}),
      ...(o.requireSignedRequests !== undefined ? { requireSignedRequests: o.requireSignedRequests } : {}),
      env: { BULWARK_LOG_LEVEL: o.logLevel ?? 'info' },
    });
    await cluster.waitHealthy(60_000);
    const config = cluster.config;
    for (const clientId of clientIds) {
      const identity = loadIdentity(config.pkiDir, 'client', clientId);
      connected.push(
        connectProxy(config, identity, {
          clientId,
          outstandingMax: o.outstandingPerClient ?? 256,
          invokeTimeoutMs: 600_000,
          retransmitMs: o.retransmitMs ?? 1000,
          ...(config.requireSignedRequests ? { requestSigner: new Ed25519Signer(identity.keyPem) } : {}),
        }),
      );
    }
    agent = new Agent({ connect: { ca: cluster.caPem } });
    const issuer = createPrivateKey(readFileSync(join(config.pkiDir, 'issuer.key'), 'utf8'));
    const urls = cluster.urls;
    const a = agent;
    return {
      dir,
      cluster,
      issuer,
      proxies: connected.map((c) => c.proxy),
      status: async (id, digest = false) => {
        const res = await request(`${urls[id]}/health${digest ? '?digest=true' : ''}`, { dispatcher: a, headersTimeout: 30_000, bodyTimeout: 30_000 });
        const body = (await res.body.json()) as { replica: ReplicaStatus };
        return body.replica;
      },
      keepLogs: () => {
        const kept = mkdtempSync(join(tmpdir(), 'bulwark-bench-logs-'));
        cpSync(join(dir, 'logs'), kept, { recursive: true });
        return kept;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Orders one wallet operation through `proxy` and decodes the result the f+1 replicas
 * agreed on. @throws BftError (timeout, closed); wallet errors come back as `{ ok: false }`.
 */
export async function invokeWallet<T = unknown>(proxy: ServiceProxy, op: WalletOperation): Promise<WalletResult<T>> {
  const outcome = await proxy.invokeOrdered(encodeOperation(op));
  return decodeResult<T>(outcome.result);
}

/** Like invokeWallet, but a wallet error is thrown (with its code) instead of returned. */
export async function mustInvoke<T = unknown>(proxy: ServiceProxy, op: WalletOperation): Promise<T> {
  const r = await invokeWallet<T>(proxy, op);
  if (!r.ok) throw new Error(`${op.op} failed: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

/**
 * Runs `job(0) .. job(count - 1)` with at most `concurrency` in flight, in index order of
 * start. Rejects with the first failure (jobs already started still run to completion).
 */
export async function runPool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        await job(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure;
}

/** Polls `status` of `ids` until each reports lastDecidedCid ≥ `cid`. @throws after `timeoutMs`. */
export async function waitDecided(c: BenchCluster, ids: readonly number[], cid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await Promise.all(ids.map((id) => c.status(id).catch(() => null)));
    if (s.every((x) => x !== null && x.lastDecidedCid >= cid)) return;
    if (Date.now() > deadline) throw new Error(`replicas ${ids.join(',')} did not reach instance ${cid} within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
