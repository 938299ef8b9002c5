/**
 * Restarts a stopped replica of a benchmark cluster and times its way back: process
 * start → API answering → recovered from its store → state transfer (if any) → same
 * last decided instance as the others → same state digest; with its peak memory.
 * The other replicas must be idle meanwhile (their last decided instance is the target).
 */
import type { BenchCluster } from './bench-cluster.ts';
import { LogTail, MemorySampler, type LogRecord } from './bench-probes.ts';

export interface RecoveryReport {
  /** The others' last decided instance, which the restarted replica had to reach. */
  readonly targetCid: number;
  /** The instance the restarted replica had when it came back (from its store), or null if the log did not say. */
  readonly recoveredCid: number | null;
  /** Milliseconds after the process was spawned (null: did not happen). */
  readonly apiUpMs: number | null;
  readonly stateTransferStartedMs: number | null;
  readonly stateTransferredMs: number | null;
  /** Checkpoint bytes fetched by state transfer (sum over transfers). */
  readonly transferredBytes: number;
  readonly stateTransfers: number;
  readonly rejectedSources: number;
  readonly catchUpRequests: number;
  /** Its lastDecidedCid reached targetCid (polled every 50 ms). */
  readonly caughtUpMs: number;
  /** Peak RSS (VmHWM) of the restarted process until caught up, bytes. */
  readonly peakRssBytes: number;
  /** Its state digest equals `reference`'s once caught up. */
  readonly digestEqual: boolean;
  /** Every event record of the restarted replica's log up to catching up (for diagnosis). */
  readonly events: readonly LogRecord[];
}

/**
 * Starts replica `id` again and measures its recovery.
 * @param reference ids of running replicas that stay idle (the first one's digest is compared).
 * @throws if the process exits, or it has not caught up within `timeoutMs` (the message names its log).
 */
export async function restartAndMeasure(c: BenchCluster, id: number, reference: readonly number[], timeoutMs: number): Promise<RecoveryReport> {
  const others = await Promise.all(reference.map((r) => c.status(r)));
  const targetCid = Math.max(...others.map((s) => s.lastDecidedCid));
  const logPath = c.cluster.logPaths[id]!;
  const tail = new LogTail(logPath);
  const t0 = performance.now();
  const wall0 = Date.now();
  const child = c.cluster.startReplica(id);
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `replica ${id} exited (${signal ?? code}) while recovering; see ${logPath}`));
  const sampler = new MemorySampler(child.pid!, 50);
  let apiUpMs: number | null = null;
  let caughtUpMs: number | null = null;
  try {
    while (caughtUpMs === null) {
      if (exited) throw new Error(exited);
      if (performance.now() - t0 > timeoutMs) throw new Error(`replica ${id} did not reach instance ${targetCid} within ${timeoutMs} ms; see ${logPath}`);
      try {
        const s = await c.status(id);
        apiUpMs ??= performance.now() - t0;
        if (s.lastDecidedCid >= targetCid) caughtUpMs = performance.now() - t0;
      } catch {
        /* not listening yet */
      }
      if (caughtUpMs === null) await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    // Before the digest check below: hashing the state would add its own snapshot to the peak.
    sampler.stop();
  }
  tail.poll();
  const at = (r: LogRecord | undefined): number | null => (r && Number.isFinite(r.time) ? r.time - wall0 : null);
  const transferred = tail.all('state-transferred');
  const recovered = tail.find('recovered from storage');
  const [mine, theirs] = await Promise.all([c.status(id, true), c.status(reference[0]!, true)]);
  return {
    targetCid,
    recoveredCid: typeof recovered?.['lastDecidedCid'] === 'number' ? recovered['lastDecidedCid'] : null,
    apiUpMs,
    stateTransferStartedMs: at(tail.find('state-transfer-started')),
    stateTransferredMs: at(transferred[transferred.length - 1]),
    transferredBytes: transferred.reduce((sum, r) => sum + (typeof r['bytes'] === 'number' ? r['bytes'] : 0), 0),
    stateTransfers: transferred.length,
    rejectedSources: tail.all('state-transfer-rejected').length,
    catchUpRequests: tail.all('catch-up-requested').length,
    caughtUpMs,
    peakRssBytes: sampler.peakRssBytes,
    digestEqual: mine.lastDecidedCid === theirs.lastDecidedCid && mine.stateDigest === theirs.stateDigest,
    events: tail.records,
  };
}
