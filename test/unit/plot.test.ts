/**
 * The throughput–latency chart of `bench sweep` (issue 5): the sweep file's validation,
 * the sweep's argument parsing, and the SVG itself (rendered headless with vega).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  X_TITLE,
  Y_TITLE,
  parseThroughputLatencyFile,
  renderThroughputLatencySvg,
  svgBeside,
  throughputLatencySpec,
  type ThroughputLatencyPoint,
} from '../../src/cli/plot-throughput-latency.ts';
import { microArgs, parseClientCounts, parseConfigs } from '../../src/cli/bench-sweep.ts';
import { linePaths, pathXs, textMarkLabels } from './svg-marks.ts';

/** A fixed sweep: 3 configurations x 3 client counts; `1024/0` saturates (throughput falls at 4 clients). */
const FIXTURE = {
  kind: 'bulwark-throughput-latency',
  version: 1,
  options: { clients: [1, 2, 4], configs: ['0/0', '1024/0', 'signed'], window: 1, warmupS: 3, measureS: 10 },
  points: [
    { config: '0/0', label: 'n=4, 0/0 B', clients: 1, throughputOpsPerS: 400, latencyUs: { avg: 2600, p50: 2500, p90: 3000, p99: 4000, p999: 9000 } },
    { config: '1024/0', label: 'n=4, 1024/0 B', clients: 1, throughputOpsPerS: 380, latencyUs: { avg: 2700, p50: 2600, p90: 3100, p99: 4200, p999: 9500 } },
    { config: 'signed', label: 'n=4, 0/0 B, signed requests', clients: 1, throughputOpsPerS: 250, latencyUs: { avg: 4100, p50: 4000, p90: 4500, p99: 6000, p999: 12000 } },
    { config: '0/0', label: 'n=4, 0/0 B', clients: 2, throughputOpsPerS: 700, latencyUs: { avg: 2900, p50: 2800, p90: 3300, p99: 4500, p999: 9900 } },
    { config: '1024/0', label: 'n=4, 1024/0 B', clients: 2, throughputOpsPerS: 650, latencyUs: { avg: 3100, p50: 3000, p90: 3500, p99: 4800, p999: 10000 } },
    { config: 'signed', label: 'n=4, 0/0 B, signed requests', clients: 2, throughputOpsPerS: 420, latencyUs: { avg: 4900, p50: 4700, p90: 5200, p99: 7000, p999: 14000 } },
    { config: '0/0', label: 'n=4, 0/0 B', clients: 4, throughputOpsPerS: 1100, latencyUs: { avg: 3700, p50: 3600, p90: 4300, p99: 6000, p999: 12000 } },
    { config: '1024/0', label: 'n=4, 1024/0 B', clients: 4, throughputOpsPerS: 600, latencyUs: { avg: 6800, p50: 6500, p90: 8000, p99: 12000, p999: 20000 } },
    { config: 'signed', label: 'n=4, 0/0 B, signed requests', clients: 4, throughputOpsPerS: 560, latencyUs: { avg: 7300, p50: 7100, p90: 8200, p99: 11000, p999: 19000 } },
  ],
  failed: [],
};

describe('sweep file validation', () => {
  it('accepts a sweep file and keeps the fields the chart uses', () => {
    const f = parseThroughputLatencyFile(JSON.stringify(FIXTURE));
    assert.equal(f.points.length, 9);
    assert.deepEqual(f.points[7], { config: '1024/0', label: 'n=4, 1024/0 B', clients: 4, throughputOpsPerS: 600, latencyUs: { p50: 6500 } });
    assert.deepEqual(f.options, { window: 1, warmupS: 3, measureS: 10 });
  });

  it('rejects bad input with the field that is wrong', () => {
    assert.throws(() => parseThroughputLatencyFile('{'), /not JSON/);
    assert.throws(() => parseThroughputLatencyFile('[]'), /points array/);
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ points: [FIXTURE.points[0], { ...FIXTURE.points[1], ...patch }] });
    assert.throws(() => parseThroughputLatencyFile(bad({ clients: 0 })), /points\[1\]\.clients must be a positive integer/);
    assert.throws(() => parseThroughputLatencyFile(bad({ throughputOpsPerS: -1 })), /points\[1\]\.throughputOpsPerS/);
    assert.throws(() => parseThroughputLatencyFile(bad({ latencyUs: { p50: 'fast' } })), /points\[1\]\.latencyUs\.p50/);
    assert.throws(() => parseThroughputLatencyFile(bad({ config: '' })), /points\[1\]\.config/);
    assert.throws(() => parseThroughputLatencyFile(JSON.stringify({ points: Array(5000).fill(FIXTURE.points[0]) })), /at most 4096/);
  });
});

describe('sweep options', () => {
  it('draws the chart beside the JSON file by default', () => {
    assert.equal(svgBeside('docs/figures/throughput-latency.json'), 'docs/figures/throughput-latency.svg');
    assert.equal(svgBeside('points'), 'points.svg');
    assert.equal(svgBeside('a.json.json'), 'a.json.svg');
  });

  it('parses client counts in order, without duplicates', () => {
    assert.deepEqual(parseClientCounts('1,2,4,8,16,32,64'), [1, 2, 4, 8, 16, 32, 64]);
    assert.deepEqual(parseClientCounts(' 4, 1,4 '), [4, 1]);
    assert.throws(() => parseClientCounts('1,0'), /"0" is not an integer in 1\.\.1024/);
    assert.throws(() => parseClientCounts('1,2.5'), /"2\.5"/);
    assert.throws(() => parseClientCounts(''), /at least one/);
  });

  it('parses configurations: sizes, signed requests, replicas, combined', () => {
    const [plain, big, signed, n7, all] = parseConfigs('0/0,1024/0,signed,n7,1024/64+signed+n10');
    assert.deepEqual(plain, { key: '0/0', label: 'n=4, 0/0 B', replicas: 4, requestBytes: 0, replyBytes: 0, signedRequests: false });
    assert.equal(big!.requestBytes, 1024);
    assert.deepEqual([signed!.signedRequests, signed!.requestBytes, signed!.label], [true, 0, 'n=4, 0/0 B, signed requests']);
    assert.equal(n7!.replicas, 7);
    assert.deepEqual([all!.replicas, all!.requestBytes, all!.replyBytes, all!.signedRequests], [10, 1024, 64, true]);
    assert.throws(() => parseConfigs('0/0,fast'), /"fast" in "fast" is none of/);
    assert.throws(() => parseConfigs('n3'), /replicas must be in 4\.\.100/);
    assert.throws(() => parseConfigs('0/0+1/1'), /gives sizes twice/);
    assert.throws(() => parseConfigs('0/0,n4'), /repeats the configuration n=4, 0\/0 B/);
  });

  it('passes a point to bench micro with every option', () => {
    const [c] = parseConfigs('512/16+signed+n7');
    assert.deepEqual(microArgs(c!, 8, { window: 2, warmupS: 1, measureS: 5, basePort: 17000 }), [
      'bench', 'micro', '--replicas', '7', '--clients', '8', '--window', '2', '--request-bytes', '512', '--reply-bytes', '16',
      '--warmup-s', '1', '--measure-s', '5', '--base-port', '17000', '--signed-requests', '--json',
    ]);
  });
});

describe('throughput-latency chart', () => {
  const points = parseThroughputLatencyFile(JSON.stringify(FIXTURE)).points;

  it('leaves out points without a completed request and keeps the legend in first-seen order', () => {
    const withEmpty: ThroughputLatencyPoint[] = [...points, { config: 'n7', clients: 1, throughputOpsPerS: 0, latencyUs: { p50: 0 } }];
    const spec = throughputLatencySpec(withEmpty) as unknown as { data: { values: { series: string; latencyMs: number }[] }; encoding: { color: { sort: string[] } } };
    assert.equal(spec.data.values.length, 9);
    assert.equal(spec.data.values[0]!.latencyMs, 2.5);
    assert.deepEqual(spec.encoding.color.sort, ['n=4, 0/0 B', 'n=4, 1024/0 B', 'n=4, 0/0 B, signed requests']);
  });

  it('draws one line per configuration, with axis titles and client-count labels', async () => {
    const svg = await renderThroughputLatencySvg(points, { subtitle: 'fixture' });
    assert.match(svg, /^<svg\b/);
    assert.ok(svg.includes(X_TITLE), 'x axis title');
    assert.ok(svg.includes(Y_TITLE), 'y axis title');
    for (const label of ['n=4, 0/0 B', 'n=4, 1024/0 B', 'n=4, 0/0 B, signed requests']) assert.ok(svg.includes(`>${label}</text>`), `legend entry ${label}`);
    const paths = linePaths(svg);
    assert.equal(paths.length, 3, 'one line path per configuration');
    const strokes = new Set(paths.map((p) => /\sstroke="([^"]+)"/.exec(p)?.[1]));
    assert.equal(strokes.size, 3, 'each configuration its own colour');
    // Every point is labelled with its client count (a text mark of the chart, not an axis label).
    assert.deepEqual(textMarkLabels(svg).sort(), ['1', '1', '1', '2', '2', '2', '4', '4', '4']);
  });

  it('draws each line in client-count order, not throughput order', async () => {
    // 1024/0 alone: its throughput falls from 650 (2 clients) to 600 (4 clients).
    const svg = await renderThroughputLatencySvg(points.filter((p) => p.config === '1024/0'));
    const paths = linePaths(svg);
    assert.equal(paths.length, 1);
    const xs = pathXs(paths[0]!);
    assert.equal(xs.length, 3, `three vertices in ${paths[0]}`);
    assert.ok(xs[0]! < xs[1]! && xs[2]! < xs[1]!, `x goes right then back left: ${xs.join(', ')}`);
  });

  it('draws two lines for two configurations', async () => {
    const svg = await renderThroughputLatencySvg(points.filter((p) => p.config !== 'signed'), { yScale: 'linear' });
    assert.equal(linePaths(svg).length, 2);
  });
});
