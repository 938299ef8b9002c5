/** `--runs k` for the benchmarks: medians over runs, figure by figure, and the CLI's wiring. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { medianCpu, medianLatency, repeatRuns, spreadOf } from '../../src/cli/bench-runs.ts';
import { medianMicro, type MicroResult } from '../../src/cli/bench-micro.ts';
import { medianWalletBench, type WalletBenchResult } from '../../src/cli/bench-wallet.ts';

const latency = (p50: number, p99 = p50 * 3) => ({ avg: p50 + 1, p50, p90: p50 * 2, p99, p999: p99 * 2 });

describe('medians over benchmark runs', () => {
  it('spreadOf takes the middle run, or the mean of the middle two, and the extremes', () => {
    assert.deepEqual(spreadOf([300, 100, 200]), { median: 200, min: 100, max: 300 });
    assert.deepEqual(spreadOf([10, 1, 4, 2]), { median: 3, min: 1, max: 10 }, 'the mean of the middle two, (2 + 4) / 2');
    assert.equal(spreadOf([1, 2, 3, 4]).median, 3, '2.5 rounds to 3');
    assert.deepEqual(spreadOf([7]), { median: 7, min: 7, max: 7 });
    const values = [3, 1, 2];
    spreadOf(values);
    assert.deepEqual(values, [3, 1, 2], 'the caller\'s array is not sorted in place');
    assert.throws(() => spreadOf([]), /no runs/);
    assert.throws(() => spreadOf([1, Number.NaN]), /not finite/);
  });

  it('latency and CPU medians are taken field by field; a process missing from a run has none', () => {
    // The median p50 (20) and the median p99 (600) come from different runs.
    assert.deepEqual(medianLatency([latency(10, 900), latency(20, 100), latency(30, 600)]), { avg: 21, p50: 20, p90: 40, p99: 600, p999: 1200 });
    assert.deepEqual(medianCpu([{ 'replica-0': 40, client: 10 }, { 'replica-0': 50, client: 30 }, { 'replica-0': 45 }]), { 'replica-0': 45 });
    assert.throws(() => medianCpu([]), /no runs/);
  });

  it('a micro result of runs: median throughput and latency, summed failures', () => {
    const run = (ops: number, p50: number, failures: number): MicroResult => ({
      replicas: 4, clients: 1, window: 1, requestBytes: 0, replyBytes: 0, ordered: true, digestReplies: false, signedReplies: false,
      signedRequests: false, encryptedStore: false, throughputOpsPerS: ops, latencyUs: latency(p50), failures, cpuPercent: { 'replica-0': ops / 10 }, serverScheduling: 'batch',
    });
    const m = medianMicro([run(300, 2500, 0), run(400, 2000, 1), run(350, 2900, 2)]);
    assert.equal(m.throughputOpsPerS, 350);
    assert.equal(m.latencyUs.p50, 2500);
    assert.equal(m.failures, 3);
    assert.deepEqual(m.cpuPercent, { 'replica-0': 35 });
    assert.throws(() => medianMicro([]), /no runs/);
  });

  it('a wallet result of runs: per operation, counts summed and latencies (client and BFT share) medians', () => {
    const run = (ops: number, transferP50: number, balance?: number): WalletBenchResult => ({
      workload: 'smallbank', clients: 8, storage: 'memory', throughputOpsPerS: ops, failures: 1, cpuPercent: { client: 20 }, serverScheduling: 'batch',
      perOperation: {
        transfer: { count: ops, latencyUs: latency(transferP50), bftLatencyUs: latency(transferP50 / 2) },
        ...(balance === undefined ? {} : { balance: { count: 5, latencyUs: latency(balance) } }),
      },
    });
    const m = medianWalletBench([run(100, 4000, 900), run(300, 6000), run(200, 5000, 1100)]);
    assert.equal(m.throughputOpsPerS, 200);
    assert.equal(m.failures, 3);
    assert.equal(m.perOperation['transfer']!.count, 600);
    assert.equal(m.perOperation['transfer']!.latencyUs.p50, 5000);
    assert.equal(m.perOperation['transfer']!.bftLatencyUs!.p50, 2500);
    assert.deepEqual([m.perOperation['balance']!.count, m.perOperation['balance']!.latencyUs.p50], [10, 1000], 'only the runs that had balance reads');
    assert.equal(m.perOperation['balance']!.bftLatencyUs, undefined);
  });

  it('repeatRuns runs one after another, reports each, and stops at a failure', async () => {
    const seen: string[] = [];
    let active = 0;
    const once = async () => {
      assert.equal(active++, 0, 'never two runs at once');
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return seen.length;
    };
    assert.deepEqual(await repeatRuns(3, once, (r, i) => seen.push(`${i}:${r}`)), [0, 1, 2]);
    assert.deepEqual(seen, ['0:0', '1:1', '2:2']);
    let started = 0;
    await assert.rejects(repeatRuns(3, async () => {
      if (++started === 2) throw new Error('the cluster did not start');
      return started;
    }), /did not start/);
    assert.equal(started, 2, 'the third run is not started');
    await assert.rejects(repeatRuns(0, once), /runs must be a positive integer, got 0/);
  });
});

describe('bulwark bench micro --runs', () => {
  it('runs a real cluster twice and prints the medians with each run', { timeout: 120_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import', 'tsx', 'src/cli/main.ts', 'bench', 'micro', '--runs', '2', '--warmup-s', '0', '--measure-s', '1', '--base-port', '15560', '--json',
    ], { timeout: 110_000 });
    const out = JSON.parse(stdout) as MicroResult & { runs: MicroResult[] };
    assert.equal(out.runs.length, 2);
    for (const r of out.runs) assert.ok(r.throughputOpsPerS > 0, 'each run ordered requests');
    assert.equal(out.throughputOpsPerS, spreadOf(out.runs.map((r) => r.throughputOpsPerS)).median);
    assert.equal(out.latencyUs.p50, spreadOf(out.runs.map((r) => r.latencyUs.p50)).median);
    assert.equal(out.failures, out.runs[0]!.failures + out.runs[1]!.failures);
  });
});
