/**
 * Starts a private `redis-server` for tests: 127.0.0.1, a random free port, its own
 * temporary directory, no RDB snapshots and an fsync-always AOF (the configuration the
 * Redis backend requires). Only the child spawned here is ever signalled, by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 5;

/** Why Redis tests must be skipped (redis-server missing), or undefined if it is installed. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'redis-server is not installed (apt-get install redis-server): Redis backend tests skipped';
  }
  return undefined;
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  /** The server's working directory (holds appendonlydir/). */
  readonly dir: string;
  readonly pid: number;
  /** SIGKILLs the server (a crash), waits for it to exit; the directory is kept. */
  crash(): Promise<void>;
  /** Starts a new server on the same directory and port (after `crash` or `stop({ keepDir: true })`). */
  restart(): Promise<RedisServer>;
  /** SIGTERMs the server, waits for it to exit, and removes its directory unless keepDir. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

/**
 * @param options.dir reuse a directory (restart); default a fresh temporary one.
 * @param options.port reuse a port (restart); default a free one picked now.
 * @param options.extraArgs more redis-server arguments.
 * @throws if the server does not report "Ready to accept connections" in time.
 */
export async function startRedisServer(options: { dir?: string; port?: number; extraArgs?: string[] } = {}): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'bulwark-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(dir, port, options.extraArgs ?? []);
    } catch (err) {
      lastError = err; // most likely the port was taken between picking and binding
      if (options.port !== undefined && attempt >= 1) break;
    }
  }
  if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function launch(dir: string, port: number, extraArgs: string[]): Promise<RedisServer> {
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--logfile', '', ...extraArgs];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitReady(child);
  const pid = child.pid!;
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid,
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    restart: () => launch(dir, port, extraArgs),
    async stop(stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      if (!stopOptions.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server not ready after ${READY_TIMEOUT_MS} ms:\n${log}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining so the server never blocks on a full pipe
        child.stderr!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
