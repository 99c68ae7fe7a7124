/**
 * Bucket counts of base-2 exponential histograms as the delta conversion adds and subtracts them.
 * Two histograms of one series may be at different scales (the cumulative one only ever goes down a
 * scale, while an earlier push carried a finer one), so both are first brought to the coarser scale:
 * at scale `s − c`, bucket `i` of scale `s` is bucket `i >> c`, exactly. Counts are kept dense, as a
 * point carries them (`counts[k]` is bucket `offset + k`): a series' histograms share one window of
 * at most MaxSize buckets, so adding is a loop over arrays, and a window only grows when a histogram
 * reaches past it.
 */
import { downscaleExponentialBuckets } from '@gatewayz/telemetry/metrics';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';

/** Counts of one sign: `counts[k]` is bucket `offset + k` (zeros allowed anywhere). */
interface DenseBuckets {
  offset: number;
  counts: number[];
}

/** Counts of a histogram at one scale; one with no bucket yet has scale `Infinity`. */
export interface ExponentialCounts {
  scale: number;
  zeroCount: number;
  readonly positive: DenseBuckets;
  readonly negative: DenseBuckets;
}

export const emptyExponentialCounts = (): ExponentialCounts => ({
  scale: Infinity,
  zeroCount: 0,
  positive: { offset: 0, counts: [] },
  negative: { offset: 0, counts: [] },
});

/**
 * The counts of an exported point, sharing its arrays: only ever read ({@link addExponentialCounts}
 * copies into its own arrays).
 */
export function exponentialCountsOf(value: ExponentialHistogram): ExponentialCounts {
  return {
    scale: value.scale,
    zeroCount: value.zeroCount,
    positive: { offset: value.positive.offset, counts: value.positive.bucketCounts },
    negative: { offset: value.negative.offset, counts: value.negative.bucketCounts },
  };
}

/** Grow `buckets` (in place) so that it covers `low..high`. */
function cover(buckets: DenseBuckets, low: number, high: number): void {
  const counts = buckets.counts;
  if (counts.length === 0) {
    buckets.offset = low;
    buckets.counts = new Array<number>(high - low + 1).fill(0);
    return;
  }
  const start = Math.min(low, buckets.offset);
  const end = Math.max(high, buckets.offset + counts.length - 1);
  if (start === buckets.offset && end === buckets.offset + counts.length - 1) return;
  const grown = new Array<number>(end - start + 1).fill(0);
  for (let k = 0; k < counts.length; k++) grown[buckets.offset - start + k] = counts[k]!;
  buckets.offset = start;
  buckets.counts = grown;
}

/** `into += sign · from`, where `from` is `change` scales finer than `into`. */
function addBuckets(into: DenseBuckets, from: DenseBuckets, change: number, sign: 1 | -1): void {
  const counts = from.counts;
  if (counts.length === 0) return;
  cover(into, from.offset >> change, (from.offset + counts.length - 1) >> change);
  const target = into.counts;
  const base = into.offset;
  if (change === 0) {
    const shift = from.offset - base;
    for (let k = 0; k < counts.length; k++) target[shift + k]! += sign * counts[k]!;
    return;
  }
  for (let k = 0; k < counts.length; k++) target[((from.offset + k) >> change) - base]! += sign * counts[k]!;
}

/** `into += sign · from`, at the coarser of their scales. */
export function addExponentialCounts(into: ExponentialCounts, from: ExponentialCounts, sign: 1 | -1): void {
  into.zeroCount += sign * from.zeroCount;
  if (from.scale === Infinity) return;
  const scale = Math.min(into.scale, from.scale);
  if (into.scale !== Infinity && into.scale !== scale) {
    downscaleExponentialBuckets(into.positive, into.scale - scale);
    downscaleExponentialBuckets(into.negative, into.scale - scale);
  }
  into.scale = scale;
  addBuckets(into.positive, from.positive, from.scale - scale, sign);
  addBuckets(into.negative, from.negative, from.scale - scale, sign);
}

/**
 * `current − covered` of one sign, `current` being at the scale `covered` was brought to: only the
 * range of buckets that differ, in a new array (usually a few buckets: those observed since).
 */
function bucketDifference(current: DenseBuckets, covered: DenseBuckets): DenseBuckets {
  const counts = current.counts;
  const shift = current.offset - covered.offset;
  const base = covered.counts;
  let low = -1;
  let high = -1;
  for (let k = 0; k < counts.length; k++) {
    if (counts[k]! - (base[shift + k] ?? 0) === 0) continue;
    if (low < 0) low = k;
    high = k;
  }
  if (low < 0) return { offset: 0, counts: [] };
  const difference = new Array<number>(high - low + 1);
  for (let k = low; k <= high; k++) difference[k - low] = counts[k]! - (base[shift + k] ?? 0);
  return { offset: current.offset + low, counts: difference };
}

/**
 * `current − covered` in new arrays, at `current`'s scale. `covered` (what earlier pushes carried of
 * the same cumulative series) is at that scale or a finer one, since a series' scale only goes
 * down: it is brought down in place first.
 */
export function exponentialDifference(current: ExponentialCounts, covered: ExponentialCounts): ExponentialCounts {
  if (covered.scale < current.scale) {
    // Not a continuation of the same series' histogram: the general way, at the coarser scale.
    const difference = emptyExponentialCounts();
    addExponentialCounts(difference, current, 1);
    addExponentialCounts(difference, covered, -1);
    return difference;
  }
  if (covered.scale !== Infinity && covered.scale > current.scale) {
    downscaleExponentialBuckets(covered.positive, covered.scale - current.scale);
    downscaleExponentialBuckets(covered.negative, covered.scale - current.scale);
    covered.scale = current.scale;
  }
  return {
    scale: current.scale,
    zeroCount: current.zeroCount - covered.zeroCount,
    positive: bucketDifference(current.positive, covered.positive),
    negative: bucketDifference(current.negative, covered.negative),
  };
}

/**
 * The buckets as a point carries them, zeros at either end left out. The point may share the array:
 * a delta's counts are never changed once computed (they are only read back when its push settles).
 */
function pointBuckets({ offset, counts }: DenseBuckets): ExponentialHistogram['positive'] {
  let start = 0;
  let end = counts.length;
  while (start < end && counts[start] === 0) start++;
  while (end > start && counts[end - 1] === 0) end--;
  if (start === end) return { offset: 0, bucketCounts: [] };
  const whole = start === 0 && end === counts.length;
  return { offset: offset + start, bucketCounts: whole ? counts : counts.slice(start, end) };
}

/** The point value of `counts` with `count` and `sum`; one without a bucket keeps `fallbackScale`. */
export function exponentialPointOf(
  counts: ExponentialCounts,
  fallbackScale: number,
  totals: { count: number; sum: number },
): ExponentialHistogram {
  return {
    count: totals.count,
    sum: totals.sum,
    scale: counts.scale === Infinity ? fallbackScale : counts.scale,
    zeroCount: counts.zeroCount,
    positive: pointBuckets(counts.positive),
    negative: pointBuckets(counts.negative),
  };
}
