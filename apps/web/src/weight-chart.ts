// The stacked-area chart of the mixing weights over the generated tokens, as hand-written SVG:
// one polygon per adapter between the cumulative sums of the adapters before it and through it,
// x = token step, y = weight (a mixture sums to 1, the base model to 0). Not a charting library.

import { adapterColour } from './adapter-colours.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 160;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** Redraws `svg` for `rows` (one weight vector per generated token, adapter order). */
export function renderWeightChart(svg: SVGSVGElement, adapters: readonly string[], rows: readonly (readonly number[])[]): void {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (step: number): number => PAD.left + (rows.length <= 1 ? plotWidth / 2 : (step / (rows.length - 1)) * plotWidth);
  const y = (weight: number): number => PAD.top + (1 - Math.min(1, Math.max(0, weight))) * plotHeight;

  // axes and gridlines at 0, 0.5, 1
  for (const level of [0, 0.5, 1]) {
    svg.append(element('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(level), y2: y(level), stroke: '#ddd', 'stroke-width': 1 }));
    const label = element('text', { x: PAD.left - 4, y: y(level) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#666' });
    label.textContent = level.toFixed(1);
    svg.append(label);
  }
  const axis = element('text', { x: PAD.left + plotWidth / 2, y: HEIGHT - 6, 'text-anchor': 'middle', 'font-size': 10, fill: '#666' });
  axis.textContent = rows.length === 0 ? 'generated tokens' : `generated tokens (1–${rows.length})`;
  svg.append(axis);
  if (rows.length === 0) return;

  // below[t] = Σ_{j<i} w_j(t): the lower edge of adapter i's band at token t
  const below = new Array<number>(rows.length).fill(0);
  adapters.forEach((name, index) => {
    const lower = below.slice();
    const upper = rows.map((row, step) => (below[step] as number) + (row[index] ?? 0));
    upper.forEach((value, step) => (below[step] = value));
    const points =
      rows.length === 1
        ? [`${x(0) - 4},${y(upper[0] as number)}`, `${x(0) + 4},${y(upper[0] as number)}`, `${x(0) + 4},${y(lower[0] as number)}`, `${x(0) - 4},${y(lower[0] as number)}`]
        : [...upper.map((value, step) => `${x(step).toFixed(1)},${y(value).toFixed(1)}`), ...lower.map((value, step) => `${x(step).toFixed(1)},${y(value).toFixed(1)}`).reverse()];
    const band = element('polygon', { points: points.join(' '), fill: adapterColour(index), 'fill-opacity': 0.8, stroke: 'none' });
    const title = element('title', {});
    title.textContent = name;
    band.append(title);
    band.dataset['adapter'] = name;
    svg.append(band);
  });
}
