/**
 * The throughput–latency chart of `bulwark bench sweep` (issue 5): x = throughput
 * (ops/s), y = median latency, one line per configuration, each point labelled with its
 * client count and the line drawn in client-count order.
 *
 * Drawn with Vega-Lite compiled to Vega and rendered headless to SVG (`renderer: 'none'`
 * needs no canvas and no native module). vega and vega-lite are imported lazily, so the
 * sweep can still measure and write its JSON on a machine without them.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

/** What the chart needs of one measured point (a `bench sweep` point has more fields). */
export interface ThroughputLatencyPoint {
  /** The configuration's key as given to --configs, e.g. `0/0`, `1024/0`, `signed`. */
  config: string;
  /** Its legend text (default: `config`). */
  label?: string;
  clients: number;
  throughputOpsPerS: number;
  /** Latency summary in µs; the chart uses p50. */
  latencyUs: { p50: number };
}

/** The JSON file `bench sweep` writes; `plot` reads only `points` and `options`. */
export interface ThroughputLatencyFile {
  points: ThroughputLatencyPoint[];
  options?: { window?: number; warmupS?: number; measureS?: number };
}

export interface ChartOptions {
  /** Latency axis scale (default `log`: p50 spans 1 ms to over 100 ms across 1..64 clients). */
  yScale?: 'log' | 'linear';
  title?: string;
  subtitle?: string;
  widthPx?: number;
  heightPx?: number;
}

/** Bound on points accepted from a file: 64 configurations x 64 client counts. */
export const POINTS_MAX = 4096;

export const X_TITLE = 'Throughput (ops/s)';
export const Y_TITLE = 'Latency p50 (ms)';

/**
 * Checks a sweep file's JSON text.
 * @returns its points (each with the fields the chart uses) and options.
 * @throws Error naming the first bad field (`points[3].latencyUs.p50 must be ...`).
 */
export function parseThroughputLatencyFile(text: string): ThroughputLatencyFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { points?: unknown }).points)) throw new Error('expected an object with a points array');
  const { points, options } = doc as { points: unknown[]; options?: unknown };
  if (points.length > POINTS_MAX) throw new Error(`points has ${points.length} entries; at most ${POINTS_MAX}`);
  const nonNegative = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const out: ThroughputLatencyPoint[] = points.map((p, i) => {
    const where = `points[${i}]`;
    if (typeof p !== 'object' || p === null) throw new Error(`${where} must be an object`);
    const q = p as Record<string, unknown>;
    if (typeof q['config'] !== 'string' || q['config'].length === 0 || q['config'].length > 200) throw new Error(`${where}.config must be a string of 1..200 characters`);
    if (q['label'] !== undefined && (typeof q['label'] !== 'string' || q['label'].length > 200)) throw new Error(`${where}.label must be a string of at most 200 characters`);
    if (!Number.isInteger(q['clients']) || (q['clients'] as number) < 1) throw new Error(`${where}.clients must be a positive integer`);
    if (!nonNegative(q['throughputOpsPerS'])) throw new Error(`${where}.throughputOpsPerS must be a non-negative number`);
    const lat = q['latencyUs'];
    if (typeof lat !== 'object' || lat === null || !nonNegative((lat as Record<string, unknown>)['p50'])) throw new Error(`${where}.latencyUs.p50 must be a non-negative number`);
    return {
      config: q['config'],
      ...(q['label'] !== undefined ? { label: q['label'] as string } : {}),
      clients: q['clients'] as number,
      throughputOpsPerS: q['throughputOpsPerS'] as number,
      latencyUs: { p50: (lat as { p50: number }).p50 },
    };
  });
  const o = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
  const num = (k: string) => (nonNegative(o[k]) ? { [k]: o[k] as number } : {});
  return { points: out, options: { ...num('window'), ...num('warmupS'), ...num('measureS') } };
}

/** One point of a latency chart: which line it belongs to, where it goes, what it is labelled. */
export interface LatencyRow {
  /** The line (legend entry). */
  series: string;
  /** Draws each line through its points in this order (client count, offered rate). */
  order: number;
  /** Throughput, ops/s. */
  throughputOpsPerS: number;
  /** Latency, ms. */
  latencyMs: number;
  /** The text beside the point. */
  label: string;
}

export interface LatencyChartOptions extends ChartOptions {
  /** Default `Latency p50 (ms)`. */
  yTitle?: string;
  /** Default `Configuration`. */
  legendTitle?: string;
  /** What a row's `order` is, as screen readers announce each line (default `clients`). */
  orderTitle?: string;
}

/**
 * The Vega-Lite spec of a latency chart: x = throughput, y = latency, one line per series.
 * Rows without a completed request (throughput 0 or latency 0, where latency is undefined
 * and a log axis cannot place them) are left out. Series appear in the legend in the order
 * they first occur in `rows`.
 */
export function latencyChartSpec(rows: readonly LatencyRow[], o: LatencyChartOptions = {}): TopLevelSpec {
  const values = rows.filter((r) => r.throughputOpsPerS > 0 && r.latencyMs > 0).map((r) => ({ ...r }));
  const order = [...new Set(values.map((r) => r.series))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title ?? 'Bulwark: throughput vs latency', ...(o.subtitle ? { subtitle: o.subtitle } : {}) },
    width: o.widthPx ?? 640,
    height: o.heightPx ?? 400,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'throughputOpsPerS', type: 'quantitative', title: X_TITLE, scale: { zero: true } },
      y: { field: 'latencyMs', type: 'quantitative', title: o.yTitle ?? Y_TITLE, scale: o.yScale === 'linear' ? { zero: true } : { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: o.legendTitle ?? 'Configuration', sort: order },
    },
    layer: [
      // `order` draws each line through its points by client count (or rate), not by x.
      { mark: { type: 'line', point: true }, encoding: { order: { field: 'order', type: 'quantitative', title: o.orderTitle ?? 'clients' } } },
      { mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -3, fontSize: 9 }, encoding: { text: { field: 'label', type: 'nominal', title: o.orderTitle ?? 'clients' } } },
    ],
    // Legend labels untruncated: without a canvas vega estimates text widths generously.
    config: { font: 'sans-serif', legend: { labelLimit: 0 } },
  };
}

/** `bench sweep`'s chart: one line per configuration, each point labelled with its client count. */
export function throughputLatencySpec(points: readonly ThroughputLatencyPoint[], o: ChartOptions = {}): TopLevelSpec {
  return latencyChartSpec(
    points.map((p) => ({ series: p.label ?? p.config, order: p.clients, throughputOpsPerS: p.throughputOpsPerS, latencyMs: p.latencyUs.p50 / 1000, label: String(p.clients) })),
    o,
  );
}

/**
 * Renders a Vega-Lite spec to an SVG document (headless, no canvas).
 * @throws Error saying which packages to install if vega or vega-lite is missing.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  let vega: typeof import('vega');
  let vegaLite: typeof import('vega-lite');
  try {
    [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  } catch (e) {
    throw new Error(`drawing the chart needs the packages vega and vega-lite (npm install vega@^6.4.0 vega-lite@~6.4.3): ${e instanceof Error ? e.message : String(e)}`);
  }
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Where a sweep draws its chart by default: its JSON file's path with `.svg` for `.json` (appended if it has none). */
export function svgBeside(jsonPath: string): string {
  return `${jsonPath.replace(/\.json$/, '')}.svg`;
}

/** `bench sweep`'s chart as an SVG document. @throws as `renderSvg`. */
export function renderThroughputLatencySvg(points: readonly ThroughputLatencyPoint[], o: ChartOptions = {}): Promise<string> {
  return renderSvg(throughputLatencySpec(points, o));
}

/** The subtitle `bench sweep` and `bench plot` put under the title: how the points were measured. */
export function describeRun(options: ThroughputLatencyFile['options']): string | undefined {
  if (!options) return undefined;
  const parts = [
    options.window !== undefined ? `window ${options.window} per client` : '',
    options.warmupS !== undefined && options.measureS !== undefined ? `${options.warmupS} s warm-up, ${options.measureS} s measured per point` : '',
  ].filter((s) => s.length > 0);
  return parts.length > 0 ? `no-op service, closed-loop clients (label: client count), ${parts.join(', ')}` : undefined;
}

/**
 * `bulwark bench plot`: re-draws the chart from a `bench sweep` JSON file, without
 * measuring again.
 * @throws Error if the file cannot be read or parsed, or vega is missing.
 */
export async function plotCommand(o: { in: string; out: string; linearY?: boolean }): Promise<void> {
  const file = parseThroughputLatencyFile(readFileSync(o.in, 'utf8'));
  const subtitle = describeRun(file.options);
  const svg = await renderThroughputLatencySvg(file.points, { yScale: o.linearY ? 'linear' : 'log', ...(subtitle ? { subtitle } : {}) });
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, svg);
  console.log(`wrote ${o.out} (${file.points.length} points)`);
}
