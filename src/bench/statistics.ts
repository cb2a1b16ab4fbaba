/** Summary statistics of one state's samples (all values in nanoseconds, except `rme` in percent). */
export interface StateStats {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** Sample standard deviation. */
  readonly sd: number;
  /** Median absolute deviation from the median (a spread that outliers barely move). */
  readonly mad: number;
  /** Standard error of the mean. */
  readonly sem: number;
  /** Margin of error of the mean at 95% confidence (Student's t × sem). */
  readonly moe: number;
  /** Relative margin of error: `moe / mean`, in percent (0 when the mean is 0). */
  readonly rme: number;
}

/** Two-sided 95% critical values of Student's t for 1 to 30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The two-sided 95% critical value of Student's t for `df` degrees of freedom. */
function tCritical95(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T95[Math.floor(df) - 1] as number;
  if (df <= 60) return 2.0;
  if (df <= 120) return 1.98;
  return 1.96;
}

/** The relative margin of error (percent) of a mean from its count, mean and sample variance. */
export function relativeMoe(n: number, mean: number, variance: number): number {
  if (n < 2 || mean === 0) return 0;
  return ((tCritical95(n - 1) * Math.sqrt(variance / n)) / Math.abs(mean)) * 100;
}

/** The value at quantile `q` (0..1) of sorted values, interpolating linearly between ranks. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = q * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const low = sorted[lo] as number;
  return low + ((sorted[hi] as number) - low) * (rank - lo);
}

/**
 * The median of `|x - center|` over sorted values, in O(n) without sorting the deviations: left of
 * `center` they grow leftwards, right of it rightwards, so merging the two runs from `center`
 * outwards visits them in order (the median interpolates like `quantile`).
 */
export function medianDeviation(sorted: Float64Array, center: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  let right = 0;
  let lo = n;
  while (right < lo) {
    const mid = (right + lo) >>> 1;
    if ((sorted[mid] as number) < center) right = mid + 1;
    else lo = mid;
  }
  let left = right - 1;
  const rank = 0.5 * (n - 1);
  const first = Math.floor(rank);
  let low = 0;
  for (let k = 0; k <= Math.min(first + 1, n - 1); k++) {
    const fromLeft = left >= 0 ? center - (sorted[left] as number) : Number.POSITIVE_INFINITY;
    const fromRight = right < n ? (sorted[right] as number) - center : Number.POSITIVE_INFINITY;
    const next = Math.min(fromLeft, fromRight);
    if (fromLeft <= fromRight) left--;
    else right++;
    if (k === first) {
      low = next;
      if (first + 1 > n - 1) return low;
    } else if (k > first) return low + (next - low) * (rank - first);
  }
  return low;
}

const EMPTY: StateStats = Object.freeze({
  mean: 0,
  min: 0,
  max: 0,
  p50: 0,
  p75: 0,
  p90: 0,
  p99: 0,
  p999: 0,
  sd: 0,
  mad: 0,
  sem: 0,
  moe: 0,
  rme: 0,
});

/** Summarizes `values` (left unchanged): mean, extremes, percentiles, spread and margin of error. */
export function summarize(values: Float64Array): StateStats {
  const n = values.length;
  if (n === 0) return EMPTY;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = (sorted[i] as number) - mean;
    squares += d * d;
  }
  const variance = n > 1 ? squares / (n - 1) : 0;
  const sd = Math.sqrt(variance);
  const sem = sd / Math.sqrt(n);
  const moe = n > 1 ? tCritical95(n - 1) * sem : 0;
  const p50 = quantile(sorted, 0.5);
  return {
    mean,
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    p50,
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    sd,
    mad: medianDeviation(sorted, p50),
    sem,
    moe,
    rme: mean === 0 ? 0 : (moe / Math.abs(mean)) * 100,
  };
}
