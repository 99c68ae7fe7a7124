/**
 * Bucket counts of base-2 exponential histograms as the delta conversion adds and subtracts them.
 * Two histograms of one series may be at different scales (the cumulative one only ever goes down a
 * scale, while an earlier push carried a finer one), so both are first brought to the coarser scale:
 * at scale `s − c`, bucket `i` of scale `s` is bucket `i >> c`, exactly.
 */
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';

/** Counts by bucket index of one scale; an empty one (no bucket, no zero) has scale `Infinity`. */
export interface ExponentialCounts {
  scale: number;
  zeroCount: number;
  readonly positive: Map<number, number>;
  readonly negative: Map<number, number>;
}

export const emptyExponentialCounts = (): ExponentialCounts => ({
  scale: Infinity,
  zeroCount: 0,
  positive: new Map(),
  negative: new Map(),
});

/** The counts of an exported point. */
export function exponentialCountsOf(value: ExponentialHistogram): ExponentialCounts {
  const bucketsOf = ({ offset, bucketCounts }: ExponentialHistogram['positive']): Map<number, number> => {
    const buckets = new Map<number, number>();
    bucketCounts.forEach((count, index) => {
      if (count !== 0) buckets.set(offset + index, count);
    });
    return buckets;
  };
  return {
    scale: value.scale,
    zeroCount: value.zeroCount,
    positive: bucketsOf(value.positive),
    negative: bucketsOf(value.negative),
  };
}

function downscaleBuckets(buckets: Map<number, number>, change: number): void {
  if (change === 0 || buckets.size === 0) return;
  const merged = new Map<number, number>();
  for (const [index, count] of buckets) merged.set(index >> change, (merged.get(index >> change) ?? 0) + count);
  buckets.clear();
  for (const [index, count] of merged) buckets.set(index, count);
}

function addBuckets(into: Map<number, number>, from: Map<number, number>, change: number, sign: 1 | -1): void {
  for (const [index, count] of from) {
    const target = index >> change;
    const sum = (into.get(target) ?? 0) + sign * count;
    if (sum === 0) into.delete(target);
    else into.set(target, sum);
  }
}

/** `into += sign · from`, at the coarser of their scales. */
export function addExponentialCounts(into: ExponentialCounts, from: ExponentialCounts, sign: 1 | -1): void {
  into.zeroCount += sign * from.zeroCount;
  if (from.positive.size === 0 && from.negative.size === 0) return;
  const scale = Math.min(into.scale, from.scale);
  if (into.scale !== Infinity) {
    downscaleBuckets(into.positive, into.scale - scale);
    downscaleBuckets(into.negative, into.scale - scale);
  }
  into.scale = scale;
  addBuckets(into.positive, from.positive, from.scale - scale, sign);
  addBuckets(into.negative, from.negative, from.scale - scale, sign);
}

/** The buckets of `buckets` as a point carries them: the lowest index, and every count up to the highest. */
function pointBuckets(buckets: Map<number, number>): ExponentialHistogram['positive'] {
  if (buckets.size === 0) return { offset: 0, bucketCounts: [] };
  const indices = [...buckets.keys()];
  const offset = Math.min(...indices);
  const bucketCounts = new Array<number>(Math.max(...indices) - offset + 1).fill(0);
  for (const [index, count] of buckets) bucketCounts[index - offset] = count;
  return { offset, bucketCounts };
}

/** The point value of `counts` with `count` and `sum`; an empty one keeps `fallbackScale`. */
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
