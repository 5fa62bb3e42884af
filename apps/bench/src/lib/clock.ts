/**
 * Wall-clock time in milliseconds with sub-millisecond resolution, comparable
 * across processes on one machine (`performance.timeOrigin` is read from the
 * system clock at process start; processes agree to a few tens of µs).
 *
 * @module
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Percentile `q` (0–1) of a list, nearest rank. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** Keeps `digits` significant digits, for JSON. */
export function round(value: number, digits = 6): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
