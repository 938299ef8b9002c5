/**
 * Starts a local cluster: creates (or reuses) the PKI and cluster.json in a directory,
 * and runs each replica as a separate process (`bulwark replica`), its log in a file.
 * Used by `bulwark start`, the benchmarks and the integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { connect } from 'node:net';
import { createClusterPki } from '../security/pki.ts';
import { gatewayClientId, loadClusterConfig, type ClusterConfig } from './cluster-config.ts';
import type { ByzantineBehaviour } from './byzantine-replica.ts';
import { serverCommand } from './server-spawn.ts';

export interface LocalClusterOptions {
  /** Folder for cluster.json, the PKI and logs. */
  readonly dir: string;
  readonly replicas: number;
  readonly f?: number;
  readonly host?: string;
  /** Replica i listens on basePort + i (replicas and BFT clients). */
  readonly basePort: number;
  /** Replica i serves HTTPS on apiBasePort + i. */
  readonly apiBasePort: number;
  /** Client ids to issue certificates for, beyond the gateways' (benchmarks). */
  readonly extraClients?: readonly number[];
  /** Replica id -> behaviour, for Byzantine scenarios. */
  readonly byzantine?: ReadonlyMap<number, ByzantineBehaviour>;
  readonly requestTimeoutMs?: number;
  readonly checkpointPeriod?: number;
  readonly storage?: ClusterConfig['storage'];
  /** Encrypt each replica's store (default true). */
  readonly encryptAtRest?: boolean;
  readonly service?: ClusterConfig['service'];
  readonly signReplies?: boolean;
  readonly requireSignedRequests?: boolean;
  readonly batchRequestsMax?: number;
  /** Extra environment for the replica processes. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalClusterHandle {
  readonly config: ClusterConfig;
  readonly configPath: string;
  readonly caPath: string;
  readonly caPem: string;
  readonly urls: readonly string[];
  readonly logPaths: readonly string[];
  readonly processes: Map<number, ChildProcess>;
  /** Starts (again) replica `id`'s process. */
  startReplica(id: number): ChildProcess;
  /** Kills replica `id` with `signal` and waits for it to exit. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Resolves once every running replica's /health answers, or rejects after `timeoutMs`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every replica (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');

/** Writes cluster.json and the PKI (kept if they exist with the same shape), then starts the replicas. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalClusterHandle> {
  const dir = resolve(options.dir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const f = options.f ?? Math.floor((options.replicas - 1) / 3);
  const config: ClusterConfig = {
    f,
    pkiDir: 'pki',
    replicas: Array.from({ length: options.replicas }, (_, id) => ({ id, host, port: options.basePort + id, apiPort: options.apiBasePort + id })),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.checkpointPeriod ? { checkpointPeriod: options.checkpointPeriod } : {}),
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.encryptAtRest === false ? { encryptAtRest: false } : {}),
    ...(options.service ? { service: options.service } : {}),
    ...(options.signReplies === false ? { signReplies: false } : {}),
    // Safer by default: with unsigned requests one Byzantine client (a faulty replica's own
    // gateway, say) can stall ordering by sending different requests under one sequence number.
    ...((options.requireSignedRequests ?? options.service?.kind !== 'noop') ? { requireSignedRequests: true } : {}),
    ...(options.batchRequestsMax ? { batchRequestsMax: options.batchRequestsMax } : {}),
  };
  const configPath = join(dir, 'cluster.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  const clients = [...config.replicas.map((r) => gatewayClientId(r.id)), ...(options.extraClients ?? [])];
  const pki = await createClusterPki(join(dir, 'pki'), { replicas: options.replicas, clients });
  const loaded = loadClusterConfig(configPath);
  const processes = new Map<number, ChildProcess>();
  const logPaths = config.replicas.map((r) => join(dir, 'logs', `replica-${r.id}.log`));

  const startReplica = (id: number): ChildProcess => {
    const behaviour = options.byzantine?.get(id);
    // Node flags from BULWARK_REPLICA_NODE_ARGS, under SCHED_BATCH (server-spawn.ts says why).
    const command = serverCommand(['--import', tsxLoader, mainPath, 'replica', '--config', configPath, '--id', String(id), ...(behaviour ? ['--byzantine', behaviour] : [])]);
    const log = openSync(logPaths[id]!, 'a');
    const child = spawn(command.file, command.args, { stdio: ['ignore', log, log], env: { ...process.env, BULWARK_EXIT_WITH_PARENT: '1', ...options.env } });
    closeSync(log);
    processes.set(id, child);
    child.once('exit', () => {
      if (processes.get(id) === child) processes.delete(id);
    });
    return child;
  };
  for (const r of config.replicas) startReplica(r.id);

  const agent = new Agent({ connect: { ca: pki.ca.certPem } });
  const urls = config.replicas.map((r) => `https://${host}:${r.apiPort}`);
  const handle: LocalClusterHandle = {
    config: loaded,
    configPath,
    caPath: pki.ca.certPath,
    caPem: pki.ca.certPem,
    urls,
    logPaths,
    processes,
    startReplica,
    kill: async (id, signal = 'SIGKILL') => {
      const child = processes.get(id);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      await exited;
    },
    waitHealthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (const [id] of processes) {
        for (;;) {
          try {
            if (config.service?.kind === 'noop') {
              // No HTTPS API: the replica is up once its TLS port accepts connections.
              if (await portOpen(host, config.replicas[id]!.port)) break;
            } else {
              const res = await request(`${urls[id]}/health`, { dispatcher: agent, headersTimeout: 1000, bodyTimeout: 1000 });
              await res.body.text();
              if (res.statusCode === 200) break;
            }
          } catch {
            /* not up yet */
          }
          if (Date.now() > deadline) throw new Error(`replica ${id} not healthy within ${timeoutMs} ms; see ${logPaths[id]}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    stop: async () => {
      const all = [...processes.values()].filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(
        all.map(
          (c) =>
            new Promise<void>((r) => {
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(t);
                r();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      await agent.close();
    },
  };
  return handle;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Reads a cluster's CA certificate (for CLI clients). */
export function readCa(configPath: string): string {
  const config = loadClusterConfig(configPath);
  const path = join(config.pkiDir, 'ca.crt');
  if (!existsSync(path)) throw new Error(`no CA certificate at ${path}`);
  return readFileSync(path, 'utf8');
}
