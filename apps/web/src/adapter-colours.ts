// One colour per adapter (pack order), the dominant adapter of a mixture, and the text of a
// mixture's tooltip. Shared by the token view, the legend and the weight chart. No DOM.

const PALETTE = ['#e4572e', '#2e86ab', '#3f9e4d', '#9b5de5', '#f2a541', '#6c757d', '#d63384', '#20c997'];
export const BASE_COLOUR = '#9aa0a6'; // no adapter weight: the base model

export function adapterColour(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

/** Index of the largest weight, or -1 when every weight is 0 (the base model). */
export function dominantAdapter(weights: readonly number[]): number {
  let best = -1;
  let bestWeight = 0;
  weights.forEach((weight, index) => {
    if (weight > bestWeight) {
      best = index;
      bestWeight = weight;
    }
  });
  return best;
}

/** '#rrggbb' + alpha → 'rgba(r, g, b, alpha)'. */
export function withAlpha(colour: string, alpha: number): string {
  const value = Number.parseInt(colour.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha.toFixed(3)})`;
}

export function describeMixture(adapters: readonly string[], weights: readonly number[]): string {
  return adapters.map((name, index) => `${name} ${(weights[index] ?? 0).toFixed(3)}`).join('\n');
}
