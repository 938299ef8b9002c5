/**
 * The wallet's HTTPS hop alone: the real gateway (Fastify, schema validation, evidence in
 * the body) in a process of its own, under SCHED_BATCH like a local cluster's replicas,
 * whose backend answers every operation at once with a fixed transfer result and two
 * replicas' evidence — no consensus, no wallet, no signature check; and `bench wallet`'s
 * client (`WalletHttp` over undici, TLS 1.3, compact evidence) with `--clients` closed-loop
 * clients posting owner-signed transfers. What the HTTPS API costs per transfer on this
 * machine, the part of `bench wallet`'s CPU per transfer that is not BFT
 * (docs/performance.md, "A floor for the wallet").
 *
 *   node --import tsx bench/gateway-alone.ts [--clients 128] [--warmup-s 3] [--measure-s 8]
 *
 * Prints transfers/s, the p50 and p99 in ms, and µs of CPU per transfer in the client and
 * in the gateway's process.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClusterPki, loadIdentity } from '../src/security/cluster-pki.ts';
import { startGateway } from '../src/gateway/server.ts';
import type { VotedReply, WalletBackend } from '../src/gateway/backend.ts';
import { sha256, generateEd25519 } from '../src/crypto/ed25519.ts';
import { transferOperation } from '../src/wallet/client-ops.ts';
import { WalletHttp } from '../src/cli/wallet-http.ts';
import { cpuMs, latencySummary, sleep } from '../src/cli/bench-stats.ts';
import { serverCommand } from '../src/cli/server-spawn.ts';

/** A successful transfer's result, as a replica's wallet writes it (the value's shape and size). */
const RESULT = new TextEncoder().encode(
  '{"ok":true,"value":{"entry":{"index":1234567,"cid":98765,"timestampMs":1763900000000,"type":"transfer","from":"acct-000017","to":"acct-000018","amount":"125","nonce":42},"balance":"999998750"}}',
);

/** A backend that answers at once: two replicas' signatures and Merkle paths of a 40-reply batch, as at 128 clients. */
function instantBackend(): WalletBackend {
  const digest = Buffer.from(sha256(RESULT)).toString('base64url');
  const b64 = (bytes: number, fill: number): string => Buffer.alloc(bytes, fill).toString('base64url');
  const replicas = [0, 1].map((replicaId) => ({ replicaId, signature: b64(64, replicaId + 1), proof: { index: 17, leafCount: 40, siblings: Array.from({ length: 6 }, (_, i) => b64(32, i)) } }));
  let seq = 0;
  const answer = async (): Promise<VotedReply> => ({ result: RESULT, evidence: { clientId: 1000, session: 1, seq: ++seq, ordered: true, resultDigest: digest, replicas }, fromColocatedReplica: true });
  return { invokeOrdered: answer, invokeUnordered: answer };
}

async function serve(pkiDir: string): Promise<void> {
  const identity = loadIdentity(pkiDir, 'replica', 0);
  const gateway = await startGateway({ backend: instantBackend(), tls: identity, host: '127.0.0.1', port: 0 });
  process.send!(gateway.url);
  process.once('SIGTERM', () => process.exit(0));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '128' }, 'warmup-s': { type: 'string', default: '3' }, 'measure-s': { type: 'string', default: '8' } } });
  const clients = Number(values.clients);
  const warmupMs = Number(values['warmup-s']) * 1000;
  const measureMs = Number(values['measure-s']) * 1000;
  if (!Number.isInteger(clients) || clients < 1) throw new Error('--clients must be a positive integer');
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-alone-'));
  const pkiDir = join(dir, 'pki');
  try {
    await createClusterPki(pkiDir, { replicas: 1, clients: 0 });
    const command = serverCommand([]);
    const child = fork(import.meta.filename, ['--serve', pkiDir], { execPath: command.file, execArgv: [...command.args, '--import', 'tsx'] });
    const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve(String(m))));
    const http = new WalletHttp({ url, caPem: loadIdentity(pkiDir, 'replica', 0).caPem, connections: Math.max(4, Math.ceil(clients / 4) + 2), compactEvidence: true });
    // Owner-signed bodies made before the run, as bench wallet makes them; the backend checks none.
    const owner = generateEd25519();
    const bodies = Array.from({ length: 1000 }, (_, i) => {
      const op = transferOperation('acct-000017', 'acct-000018', 125n, i + 1, owner.privateKey);
      return { from: op.from, to: op.to, amount: op.amount, nonce: op.nonce, signature: op.signature };
    });
    let running = true;
    let measuring = false;
    let done = 0;
    const samples: number[] = [];
    const loop = async (c: number): Promise<void> => {
      for (let i = c; running; i += clients) {
        const t0 = performance.now();
        await http.call('POST', '/transfers', bodies[i % bodies.length]);
        if (measuring) {
          done++;
          samples.push((performance.now() - t0) * 1000);
        }
      }
    };
    const loops = Array.from({ length: clients }, (_, c) => loop(c));
    await sleep(warmupMs);
    const clientBefore = process.cpuUsage();
    const gatewayBefore = cpuMs(child.pid!);
    const t0 = performance.now();
    measuring = true;
    await sleep(measureMs);
    measuring = false;
    const elapsedMs = performance.now() - t0;
    const clientCpu = process.cpuUsage(clientBefore);
    const gatewayCpuMs = cpuMs(child.pid!) - gatewayBefore;
    running = false;
    await Promise.all(loops);
    await http.close();
    child.kill();
    const latency = latencySummary(samples);
    const perTransfer = (ms: number): string => ((ms * 1000) / done).toFixed(0);
    console.log(`gateway alone (instant backend, gateway under ${command.policy}), ${clients} clients: ${Math.round((done / elapsedMs) * 1000)} transfers/s, p50 ${(latency.p50 / 1000).toFixed(2)} ms, p99 ${(latency.p99 / 1000).toFixed(2)} ms`);
    console.log(`CPU per transfer: client ${perTransfer((clientCpu.user + clientCpu.system) / 1000)} µs, gateway ${perTransfer(gatewayCpuMs)} µs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();
