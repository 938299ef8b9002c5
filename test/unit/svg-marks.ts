/** Reading Vega's SVG output in the chart tests: the line paths and their vertices, the text marks. */

/** The `<path>` elements inside every line-mark group of a Vega SVG (one per series). */
export function linePaths(svg: string): string[] {
  const groups = [...svg.matchAll(/<g\b[^>]*class="mark-line\b[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => m[1]!);
  return groups.flatMap((g) => [...g.matchAll(/<path\b[^>]*>/g)].map((m) => m[0]));
}

/** The x coordinates of a path's vertices (`d="M x,y L x,y ..."`). */
export function pathXs(path: string): number[] {
  const d = /\sd="([^"]*)"/.exec(path)?.[1] ?? '';
  return [...d.matchAll(/[ML]\s*(-?[\d.]+(?:e[-+]?\d+)?)[ ,](-?[\d.]+(?:e[-+]?\d+)?)/gi)].map((m) => Number(m[1]));
}

/** The texts of every text-mark group (labels beside points, not axis labels). */
export function textMarkLabels(svg: string): string[] {
  return [...svg.matchAll(/<g\b[^>]*class="mark-text role-mark\b[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((m) => [...m[1]!.matchAll(/>([^<]+)<\/text>/g)].map((t) => t[1]!));
}
