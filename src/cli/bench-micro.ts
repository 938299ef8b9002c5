/**
 * `bulwark bench micro`: BFT-SMaRt's ThroughputLatency benchmark, same shape: n replica
 * processes over real mutual TLS running a no-op service, C closed-loop clients (each
 * its own client id and connections, one request outstanding), request size R and reply
 * size P bytes, a warm-up then a fixed measurement window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadIdentity } from '../security/pki.ts';
import { Ed25519Signer, sha256 } from '../crypto/ed25519.ts';
import { PresignedSigner } from './presigned-signer.ts';
import { startLocalCluster } from './local-cluster.ts';
import { connectProxy, type ConnectedProxy } from './proxy-transport.ts';
import { clusterPids, formatCpu, latencySummary, measureWindow, settleWithin, type LatencyUs } from './bench-stats.ts';
import { benchRuns, formatSpread, medianCpu, medianLatency, spreadOf } from './bench-runs.ts';
import { serverPolicy } from './server-spawn.ts';

export interface MicroOptions {
  replicas: number;
  clients: number;
  requestBytes: number;
  replyBytes: number;
  warmupS: number;
  measureS: number;
  unordered?: boolean;
  /** With unordered: client i asks replica i mod n for the full result, the others for its digest (digest replies). */
  digestReplies?: boolean;
  /** Sign every reply and check the signatures (default: channel-authenticated, like BFT-SMaRt). */
  signedReplies?: boolean;
  /** Every request signed by its client and checked by the replicas. */
  signedRequests?: boolean;
  /**
   * Encrypt the replicas' in-memory store as durable stores are (XChaCha20-Poly1305). Default off:
   * memory is not at rest, and BFT-SMaRt's ThroughputLatency keeps no log at all; the
   * replicas still encode and store every decision and vote record.
   */
  encryptedStore?: boolean;
  /**
   * With signedRequests: each client signs, before the warm-up, the requests it is expected
   * to send (about `presignOpsPerS` ops/s over warm-up and window, split over the clients), as
   * clients on other machines would; the rest are signed inline.
   */
  presign?: boolean;
  presignOpsPerS?: number;
  /** Requests each client keeps outstanding (default 1: closed loop). */
  window: number;
  basePort: number;
  json?: boolean;
  /** Run the benchmark this many times and report each run and the medians (bench-runs.ts); default 1. */
  runs?: number;
}

export interface MicroResult {
  replicas: number;
  clients: number;
  window: number;
  requestBytes: number;
  replyBytes: number;
  ordered: boolean;
  /** Unordered reads with digest replies (one full result, n − 1 digests). */
  digestReplies: boolean;
  signedReplies: boolean;
  signedRequests: boolean;
  encryptedStore: boolean;
  /** Signed-requests runs: requests signed before the warm-up, and those signed inline. */
  presigned?: { readonly before: number; readonly inline: number };
  throughputOpsPerS: number;
  latencyUs: LatencyUs;
  failures: number;
  /** CPU use of each process over the window, in % of one core. */
  cpuPercent: Record<string, number>;
  /** The Linux scheduling policy the replica processes ran under (server-spawn.ts). */
  serverScheduling: 'batch' | 'other';
}

export async function runMicro(o: MicroOptions): Promise<MicroResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-micro-'));
  const clientIds = Array.from({ length: o.clients }, (_, i) => 3000 + i);
  const cluster = await startLocalCluster({
    dir,
    replicas: o.replicas,
    basePort: o.basePort,
    apiBasePort: o.basePort + 500,
    extraClients: clientIds,
    service: { kind: 'noop', replyBytes: o.replyBytes },
    signReplies: o.signedReplies ?? false,
    requireSignedRequests: o.signedRequests ?? false,
    storage: { kind: 'memory' },
    encryptAtRest: o.encryptedStore ?? false,
    env: { BULWARK_LOG_LEVEL: 'warn' },
  });
  const proxies: ConnectedProxy[] = [];
  try {
    await cluster.waitHealthy(60_000);
    const payload = new Uint8Array(o.requestBytes);
    const presigners: PresignedSigner[] = [];
    const perClient = Math.ceil(((o.presignOpsPerS ?? 8000) * (o.warmupS + o.measureS)) / o.clients);
    for (const id of clientIds) {
      const identity = loadIdentity(cluster.config.pkiDir, 'client', id);
      const session = Date.now();
      let requestSigner = {};
      if (o.signedRequests && o.presign) {
        const signer = new PresignedSigner(new Ed25519Signer(identity.keyPem));
        signer.presign(id, session, perClient, sha256(payload));
        presigners.push(signer);
        requestSigner = { requestSigner: signer };
      } else if (o.signedRequests) {
        requestSigner = { requestSigner: new Ed25519Signer(identity.keyPem) };
      }
      const replier = o.digestReplies ? { unorderedReplier: cluster.config.replicas[proxies.length % cluster.config.replicas.length]!.id } : {};
      proxies.push(connectProxy(cluster.config, identity, { clientId: id, session, verifyReplies: o.signedReplies ?? false, invokeTimeoutMs: 30_000, ...requestSigner, ...replier }));
    }
    // Not a fixed pause: 128 clients × 7 replicas are ~900 handshakes, ~3 s of this machine's
    // two cores, and the first requests would wait behind them inside the measured window.
    await Promise.all(proxies.map((p) => p.whenConnected(60_000)));
    let measuring = false;
    let running = true;
    let completed = 0;
    let failures = 0;
    const samples: number[] = [];
    const loop = async (p: ConnectedProxy) => {
      while (running) {
        const t0 = performance.now();
        try {
          await (o.unordered ? p.proxy.invokeUnordered(payload) : p.proxy.invokeOrdered(payload));
          if (measuring) {
            completed++;
            samples.push((performance.now() - t0) * 1000);
          }
        } catch {
          if (measuring) failures++;
        }
      }
    };
    const loops = proxies.flatMap((p) => Array.from({ length: o.window }, () => loop(p)));
    const { elapsedMs, cpuPercent } = await measureWindow(clusterPids(cluster.processes), o.warmupS, o.measureS, (on) => (measuring = on));
    running = false;
    await settleWithin(Promise.all(loops), 5000);
    return {
      replicas: o.replicas,
      clients: o.clients,
      window: o.window,
      requestBytes: o.requestBytes,
      replyBytes: o.replyBytes,
      ordered: !o.unordered,
      digestReplies: (o.unordered ?? false) && (o.digestReplies ?? false),
      signedReplies: o.signedReplies ?? false,
      signedRequests: o.signedRequests ?? false,
      encryptedStore: o.encryptedStore ?? false,
      ...(presigners.length > 0 ? { presigned: { before: perClient * presigners.length, inline: presigners.reduce((n, p) => n + p.misses, 0) } } : {}),
      throughputOpsPerS: Math.round((completed / elapsedMs) * 1000),
      latencyUs: latencySummary(samples),
      failures,
      cpuPercent,
      serverScheduling: serverPolicy(),
    };
  } finally {
    for (const p of proxies) p.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatMicro(r: MicroResult): string {
  const l = r.latencyUs;
  return [
    `replicas ${r.replicas}, clients ${r.clients} x window ${r.window}, request ${r.requestBytes} B, reply ${r.replyBytes} B, ${r.ordered ? 'ordered' : r.digestReplies ? 'unordered, digest replies' : 'unordered'}, replies ${r.signedReplies ? 'signed' : 'channel-authenticated'}, requests ${r.signedRequests ? 'signed' : 'channel-authenticated'}, store in memory${r.encryptedStore ? ', encrypted' : ''}, replicas under SCHED_${r.serverScheduling.toUpperCase()}`,
    ...(r.presigned ? [`requests signed before the warm-up (as by clients on other machines): ${r.presigned.before} prepared, ${r.presigned.inline} signed inline`] : []),
    `throughput ${r.throughputOpsPerS} ops/s, failures ${r.failures}`,
    `latency us: avg ${l.avg}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}`,
    formatCpu(r.cpuPercent, r.throughputOpsPerS),
  ].join('\n');
}

/**
 * The runs' medians as one result (see bench-runs.ts): throughput, each latency percentile
 * and each process's CPU are medians, failures are summed.
 * @throws RangeError if `runs` is empty.
 */
export function medianMicro(runs: readonly MicroResult[]): MicroResult {
  if (runs.length === 0) throw new RangeError('medianMicro: no runs');
  return {
    ...runs[0]!,
    throughputOpsPerS: spreadOf(runs.map((r) => r.throughputOpsPerS)).median,
    latencyUs: medianLatency(runs.map((r) => r.latencyUs)),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    cpuPercent: medianCpu(runs.map((r) => r.cpuPercent)),
  };
}

export async function benchMicro(o: MicroOptions): Promise<void> {
  await benchRuns(o, () => runMicro(o), {
    format: formatMicro,
    median: medianMicro,
    runLine: (r) => `${r.throughputOpsPerS} ops/s, p50 ${r.latencyUs.p50} us, p99 ${r.latencyUs.p99} us, failures ${r.failures}`,
    spreads: (runs) => [
      `throughput ${formatSpread(spreadOf(runs.map((r) => r.throughputOpsPerS)), ' ops/s')}`,
      `p50 ${formatSpread(spreadOf(runs.map((r) => r.latencyUs.p50)), ' us')}`,
    ],
  });
}
