/** `bench wallet-sweep`: its options, the rows it charts, and the chart (rendered for real by vega). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRates, walletSweepArgs, walletSweepRows, type WalletSweepPoint } from '../../src/cli/bench-wallet-sweep.ts';
import { latencyChartSpec, renderSvg } from '../../src/cli/plot-throughput-latency.ts';
import { linePaths, pathXs, textMarkLabels } from './svg-marks.ts';

function point(offered: number, achieved: number, p50Us: number): WalletSweepPoint {
  return {
    workload: 'transfers', clients: 128, storage: 'embedded', throughputOpsPerS: achieved, failures: 0, cpuPercent: {}, serverScheduling: 'batch',
    perOperation: { transfer: { count: achieved * 10, latencyUs: { avg: p50Us, p50: p50Us, p90: p50Us * 2, p99: p50Us * 5, p999: p50Us * 6 } } },
    openLoop: { offeredOpsPerS: offered, arrivals: offered * 20, waitedForClient: 0, backlogMax: 0 },
    offeredOpsPerS: offered, loadAvg1Before: 1, loadAvg1After: 1, startedAt: '2026-11-23T12:00:00.000Z',
  };
}

describe('wallet sweep options', () => {
  it('parses rates in order, without duplicates', () => {
    assert.deepEqual(parseRates('400, 100,400,1000'), [400, 100, 1000]);
  });

  it('refuses rates that are not integers in range, an empty list and too many', () => {
    for (const bad of ['0', '-5', '1.5', 'fast', '8001']) assert.throws(() => parseRates(bad), (e: Error) => e.message === `--rates: "${bad}" is not an integer in 1..8000`);
    assert.throws(() => parseRates(' , '), /at least one rate/);
    assert.throws(() => parseRates(Array.from({ length: 33 }, (_, i) => i + 1).join(',')), /at most 32 rates/);
  });

  it('passes a point to bench wallet with every option, in open loop', () => {
    assert.deepEqual(walletSweepArgs(600, { clients: 64, warmupS: 5, measureS: 7, storage: 'memory', basePort: 18000 }), [
      'bench', 'wallet', '--workload', 'transfers', '--rate', '600', '--clients', '64', '--warmup-s', '5', '--measure-s', '7', '--storage', 'memory', '--base-port', '18000', '--json',
    ]);
  });
});

describe('wallet sweep chart', () => {
  // Past saturation the achieved throughput can fall: 1 000/s offered, 350 achieved.
  const points = [point(100, 99, 9_700), point(400, 404, 23_600), point(1000, 350, 108_000)];

  it('has one row per point and percentile, in ms at the achieved throughput, labelled with the offered rate', () => {
    const rows = walletSweepRows(points);
    assert.equal(rows.length, 9);
    assert.deepEqual(rows.filter((r) => r.series === 'p99').map((r) => [r.order, r.throughputOpsPerS, r.latencyMs, r.label]), [
      [100, 99, 48.5, '100'],
      [400, 404, 118, '400'],
      [1000, 350, 540, '1000'],
    ]);
    assert.deepEqual([...new Set(rows.map((r) => r.series))], ['p50', 'p90', 'p99']);
  });

  it('leaves out a point that measured no transfer', () => {
    const empty = { ...point(50, 0, 0), perOperation: {} };
    assert.equal(walletSweepRows([empty, ...points]).length, 9);
  });

  it('draws a line per percentile through the points in offered-rate order, each labelled with its rate', async () => {
    const svg = await renderSvg(latencyChartSpec(walletSweepRows(points), { title: 'Wallet fixture', yTitle: 'Transfer latency (ms)', legendTitle: 'Percentile' }));
    assert.match(svg, /^<svg/);
    for (const text of ['Wallet fixture', 'Transfer latency (ms)', 'Percentile', '>p50<', '>p90<', '>p99<']) assert.ok(svg.includes(text), `the chart shows ${text}`);
    const paths = linePaths(svg);
    assert.equal(paths.length, 3, 'one line per percentile');
    assert.equal(new Set(paths.map((p) => /\sstroke="([^"]+)"/.exec(p)?.[1])).size, 3, 'each its own colour');
    for (const p of paths) {
      const xs = pathXs(p);
      assert.equal(xs.length, 3, `three vertices in ${p}`);
      assert.ok(xs[0]! < xs[1]! && xs[2]! < xs[1]!, `through the points in offered-rate order, not by throughput: x ${xs.join(', ')}`);
    }
    assert.deepEqual(textMarkLabels(svg).sort(), ['100', '100', '100', '1000', '1000', '1000', '400', '400', '400']);
  });
});
