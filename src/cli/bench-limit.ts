/**
 * `bulwark bench limit`: the machine's ceiling for Bulwark's message pattern. One client
 * process sends each request to n server processes (same TLS transport and codec as the
 * replicas, no consensus) and waits for all n replies; `window` requests in flight.
 * `bench micro`'s figure is read as a fraction of this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encodeMessage } from '../core/codec.ts';
import { MessageType } from '../core/messages.ts';
import { decodeMessage } from '../core/codec.ts';
import { TlsConnector, type Connection } from '../host/transport/index.ts';
import { createClusterPki, loadIdentity } from '../security/pki.ts';
import { formatCpu, latencySummary, measureWindow, settleWithin, type LatencyUs } from './bench-stats.ts';
import { serverCommand, serverPolicy } from './server-spawn.ts';

export interface LimitOptions {
  replicas: number;
  window: number;
  requestBytes: number;
  replyBytes: number;
  warmupS: number;
  measureS: number;
  basePort: number;
  json?: boolean;
}

export interface LimitResult {
  replicas: number;
  window: number;
  requestBytes: number;
  replyBytes: number;
  throughputOpsPerS: number;
  latencyUs: LatencyUs;
  cpuPercent: Record<string, number>;
  /** The Linux scheduling policy the server processes ran under (server-spawn.ts). */
  serverScheduling: 'batch' | 'other';
  /** The client's socket activity over the window, all servers together. */
  clientTransport: { framesSent: number; writeCalls: number; chunksReceived: number };
}

function transportTotals(connections: readonly Connection[]): { frames: number; writes: number; chunks: number } {
  let frames = 0;
  let writes = 0;
  let chunks = 0;
  for (const c of connections) {
    frames += c.stats.sent.framesSent;
    writes += c.stats.sent.writeCalls;
    chunks += c.stats.chunksReceived;
  }
  return { frames, writes, chunks };
}

const serverPath = fileURLToPath(new URL('./echo-server.ts', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');

export async function runLimit(o: LimitOptions): Promise<LimitResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-limit-'));
  const servers: ChildProcess[] = [];
  const connectors: TlsConnector[] = [];
  try {
    await createClusterPki(dir, { replicas: o.replicas, clients: [4000] });
    for (let id = 0; id < o.replicas; id++) {
      // Started as replicas are (Node flags from BULWARK_REPLICA_NODE_ARGS, SCHED_BATCH), so the ceiling compares.
      const command = serverCommand(['--import', tsxLoader, serverPath, dir, String(id), String(o.basePort + id), String(o.replyBytes)]);
      const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`echo server ${id} exited (${code})`)));
      });
    }
    const pending = new Map<number, { replies: number; t0: number; done: () => void }>();
    const credentials = loadIdentity(dir, 'client', 4000);
    const connections: Connection[] = [];
    for (let id = 0; id < o.replicas; id++) {
      const c = new TlsConnector(credentials, {
        logger: { debug() {}, info() {}, warn() {} },
        onConnect: (_p, connection) => void connections.push(connection),
        onFrame: (_p, frame) => {
          const d = decodeMessage(frame);
          if (!d.ok || d.message.type !== MessageType.REPLY) return;
          const p = pending.get(d.message.seq);
          if (p && ++p.replies === o.replicas) {
            pending.delete(d.message.seq);
            p.done();
          }
        },
      });
      c.connect({ host: '127.0.0.1', port: o.basePort + id, expected: { role: 'replica', id } });
      connectors.push(c);
    }
    await Promise.all(connectors.map((c) => c.whenConnected(30_000)));
    const payload = new Uint8Array(o.requestBytes);
    let seq = 0;
    let running = true;
    let measuring = false;
    let completed = 0;
    let clientTransport = { framesSent: 0, writeCalls: 0, chunksReceived: 0 };
    const samples: number[] = [];
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const s = ++seq;
        const t0 = performance.now();
        pending.set(s, {
          replies: 0,
          t0,
          done: () => {
            if (measuring) {
              completed++;
              samples.push((performance.now() - t0) * 1000);
            }
            resolve();
          },
        });
        const bytes = encodeMessage({ type: MessageType.REQUEST, clientId: 4000, session: 1, seq: s, ordered: true, payload });
        for (const c of connectors) c.send(bytes);
      });
    const loops = Array.from({ length: o.window }, async () => {
      while (running) await one();
    });
    const sent0 = { frames: 0, writes: 0, chunks: 0 };
    const { elapsedMs, cpuPercent } = await measureWindow(new Map<string, number>([...servers.map((c, i) => [`server-${i}`, c.pid!] as [string, number]), ['client', process.pid]]), o.warmupS, o.measureS, (on) => {
      measuring = on;
      const totals = transportTotals(connections);
      if (on) Object.assign(sent0, totals);
      else clientTransport = { framesSent: totals.frames - sent0.frames, writeCalls: totals.writes - sent0.writes, chunksReceived: totals.chunks - sent0.chunks };
    });
    running = false;
    await settleWithin(Promise.all(loops), 2000);
    return { replicas: o.replicas, window: o.window, requestBytes: o.requestBytes, replyBytes: o.replyBytes, throughputOpsPerS: Math.round((completed / elapsedMs) * 1000), latencyUs: latencySummary(samples), cpuPercent, clientTransport, serverScheduling: serverPolicy() };
  } finally {
    await Promise.all(connectors.map((c) => c.close()));
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => (s.exitCode === null ? new Promise((r) => s.once('exit', r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLimit(o: LimitOptions): Promise<void> {
  const r = await runLimit(o);
  if (o.json) return console.log(JSON.stringify(r));
  const l = r.latencyUs;
  console.log(`limit: ${r.replicas} servers, window ${r.window}, request ${r.requestBytes} B, reply ${r.replyBytes} B (TLS 1.3, same codec, no consensus), servers under SCHED_${r.serverScheduling.toUpperCase()}`);
  console.log(`throughput ${r.throughputOpsPerS} requests/s (each answered by all ${r.replicas})`);
  console.log(`latency us: avg ${l.avg}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}`);
  const t = r.clientTransport;
  console.log(`client socket: ${t.writeCalls} writes (${(t.framesSent / Math.max(1, t.writeCalls)).toFixed(1)} requests each), ${t.chunksReceived} chunks read (≈ ${(t.framesSent / Math.max(1, t.chunksReceived)).toFixed(1)} replies each)`);
  console.log(formatCpu(r.cpuPercent, r.throughputOpsPerS));
}
