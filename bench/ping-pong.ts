/**
 * What one message costs on this machine with nothing of Bulwark's in the way: a 64-byte
 * ping-pong between two Node processes over loopback (plain TCP, then TLS 1.3), one message
 * in flight, and the same over TLS inside one process. The server echoes each chunk in its
 * `data` callback; there is no framing, codec or consensus. It is the floor under
 * `bulwark bench limit --window 1` (the same exchange through Bulwark's transport and codec)
 * and under `bench micro --clients 1`, whose operation is five message delays and ≈ 35
 * messages (docs/performance.md, "The floor at one client").
 *
 *   node --import tsx bench/ping-pong.ts [--round-trips 20000]
 *
 * The echo process runs under SCHED_BATCH, as a local cluster's replicas do
 * (src/cli/server-spawn.ts); run this script under `chrt --batch 0` to put both ends under it.
 * Prints, per configuration: the round trip's p50 and mean in µs, and µs of CPU (user +
 * system, all threads) per round trip at each end, over the measured round trips (a
 * quarter as many warm up first).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import tls from 'node:tls';
import { createClusterPki, loadIdentity, type Identity } from '../src/security/cluster-pki.ts';
import { cpuMs } from '../src/cli/bench-stats.ts';
import { serverCommand } from '../src/cli/server-spawn.ts';

type Transport = 'tcp' | 'tls';
const MESSAGE = Buffer.alloc(64, 1);

/** Starts an echo server; resolves with its port. */
function listenEcho(transport: Transport, identity: Identity): Promise<{ port: number; close: () => void }> {
  const onSocket = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  };
  const server = transport === 'tls' ? tls.createServer({ key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.3' }, onSocket) : net.createServer(onSocket);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, close: () => server.close() })));
}

/** Runs `roundTrips` ping-pongs after a quarter as many unmeasured ones; resolves with each round trip in µs and the client's CPU ms. */
function pingPong(transport: Transport, port: number, identity: Identity, roundTrips: number, onMeasureStart: () => void): Promise<{ rttUs: number[]; clientCpuMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = transport === 'tls' ? tls.connect({ port, host: '127.0.0.1', ca: identity.caPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined }) : net.connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const warmup = Math.floor(roundTrips / 4);
    const rttUs: number[] = [];
    let done = 0;
    let sentAt = 0;
    let cpuBefore = process.cpuUsage();
    const send = (): void => {
      sentAt = performance.now();
      socket.write(MESSAGE);
    };
    socket.once(transport === 'tls' ? 'secureConnect' : 'connect', send);
    socket.on('error', reject);
    socket.on('data', () => {
      const rtt = (performance.now() - sentAt) * 1000;
      done++;
      if (done === warmup) {
        onMeasureStart();
        cpuBefore = process.cpuUsage();
      } else if (done > warmup) rttUs.push(rtt);
      if (done === warmup + roundTrips) {
        const cpu = process.cpuUsage(cpuBefore);
        socket.destroy();
        resolve({ rttUs, clientCpuMs: (cpu.user + cpu.system) / 1000 });
      } else send();
    });
  });
}

function summary(name: string, rttUs: number[], clientCpuMs: number, serverCpuMs: number | null): string {
  const sorted = [...rttUs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  const perRt = (ms: number): string => ((ms * 1000) / rttUs.length).toFixed(1);
  const cpu = serverCpuMs === null ? `both ends ${perRt(clientCpuMs)} µs` : `client ${perRt(clientCpuMs)} µs, server ${perRt(serverCpuMs)} µs`;
  return `${name.padEnd(26)} round trip p50 ${p50.toFixed(0).padStart(4)} µs, mean ${mean.toFixed(0).padStart(4)} µs; CPU per round trip: ${cpu}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'round-trips': { type: 'string', default: '20000' } } });
  const roundTrips = Number(values['round-trips']);
  if (!Number.isInteger(roundTrips) || roundTrips < 100) throw new Error('--round-trips must be an integer of at least 100');
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-ping-pong-'));
  try {
    await createClusterPki(join(dir, 'pki'), { replicas: 1, clients: 0 });
    const identity = loadIdentity(join(dir, 'pki'), 'replica', 0);
    for (const transport of ['tcp', 'tls'] as const) {
      const command = serverCommand([]);
      // The echo server is this script again, as a child (argv: --serve <transport> <pkiDir>).
      const child = fork(import.meta.filename, ['--serve', transport, join(dir, 'pki')], { execPath: command.file, execArgv: [...command.args, '--import', 'tsx'] });
      const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
      let serverCpuBefore = 0;
      const result = await pingPong(transport, port, identity, roundTrips, () => (serverCpuBefore = cpuMs(child.pid!)));
      const serverCpuMs = cpuMs(child.pid!) - serverCpuBefore;
      child.kill();
      console.log(summary(`${transport}, two processes (${command.policy})`, result.rttUs, result.clientCpuMs, serverCpuMs));
    }
    const local = await listenEcho('tls', identity);
    const result = await pingPong('tls', local.port, identity, roundTrips, () => {});
    local.close();
    console.log(summary('tls, one process', result.rttUs, result.clientCpuMs, null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  const [transport, pkiDir] = [process.argv[3] as Transport, process.argv[4]!];
  const server = await listenEcho(transport, loadIdentity(pkiDir, 'replica', 0));
  process.send!(server.port);
  process.once('SIGTERM', () => process.exit(0));
} else {
  await main();
}
