// Quantiles of a list of measurements (bench rounds, task-switch lengths): linear interpolation
// between order statistics, so the median of an even count is the mean of the middle two.

/** The q-quantile (0 ≤ q ≤ 1) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
