import fc from 'fast-check';
import {
  AggregationType,
  DataPointType,
  MeterProvider,
  type ExponentialHistogram as SdkExponentialHistogram,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { GatewayTelemetry, TelemetryConfigurationError } from '../src/index.js';
import { ExponentialHistogram, exponentialBucketIndex, type ExponentialHistogramState } from '../src/metrics/index.js';
import { TestMetricReader } from './helpers.js';

/** A histogram's buckets without zero counts at either end, as both sides may leave them. */
function trimmed(offset: number, counts: readonly number[]): { offset: number; counts: number[] } {
  let start = 0;
  let end = counts.length;
  while (start < end && counts[start] === 0) start++;
  while (end > start && counts[end - 1] === 0) end--;
  return start === end ? { offset: 0, counts: [] } : { offset: offset + start, counts: counts.slice(start, end) };
}

type Shape = ReturnType<typeof shapeOf>;

function shapeOf(state: ExponentialHistogramState) {
  const { scale, zeroCount, count, sum, min, max } = state;
  return {
    scale,
    zeroCount,
    positive: trimmed(state.positive.offset, state.positive.counts),
    negative: trimmed(state.negative.offset, state.negative.counts),
    count,
    sum,
    min,
    max,
  };
}

function sdkShapeOf(point: SdkExponentialHistogram): Shape {
  const { scale, zeroCount, count, sum = 0, min = Infinity, max = -Infinity } = point;
  return {
    scale,
    zeroCount,
    positive: trimmed(point.positive.offset, point.positive.bucketCounts),
    negative: trimmed(point.negative.offset, point.negative.bucketCounts),
    count,
    sum,
    min,
    max,
  };
}

/** What the SDK's own exponential aggregation (the oracle) makes of `values` with `maxSize` buckets. */
async function sdkHistogram(values: readonly number[], maxSize: number): Promise<SdkExponentialHistogram> {
  const reader = new TestMetricReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [
      {
        instrumentName: 'h',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize, recordMinMax: true } },
      },
    ],
  });
  const histogram = provider.getMeter('oracle').createHistogram('h');
  for (const value of values) histogram.record(value);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const metric = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  if (metric.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM)
    throw new Error('expected an exponential histogram');
  return metric.dataPoints[0]!.value;
}

function ours(values: readonly number[], maxSize: number, maxScale = 20): ExponentialHistogram {
  const histogram = new ExponentialHistogram({ maxSize, maxScale });
  for (const value of values) histogram.record(value);
  return histogram;
}

describe('base-2 exponential histograms', () => {
  it('maps values to the buckets the data model defines, exactly at powers of two', () => {
    // Bucket i at scale s holds (2^(i·2^-s), 2^((i+1)·2^-s)].
    expect(exponentialBucketIndex(1, 0)).toBe(-1);
    expect(exponentialBucketIndex(1.5, 0)).toBe(0);
    expect(exponentialBucketIndex(2, 0)).toBe(0);
    expect(exponentialBucketIndex(4, 0)).toBe(1);
    expect(exponentialBucketIndex(4.000001, 0)).toBe(2);
    expect(exponentialBucketIndex(4, 1)).toBe(3); // (2^1.5, 2^2]
    expect(exponentialBucketIndex(3, 1)).toBe(3);
    expect(exponentialBucketIndex(2.5, 1)).toBe(2); // (2, 2^1.5]
    expect(exponentialBucketIndex(1024, -1)).toBe(4); // 2^10: exponent 9 >> 1
    expect(exponentialBucketIndex(0.25, 3)).toBe(-17);
    // Subnormals count as the smallest normal value; the largest double stays in range.
    expect(exponentialBucketIndex(5e-324, 0)).toBe(-1023);
    expect(exponentialBucketIndex(Number.MAX_VALUE, 20)).toBe(1024 * 2 ** 20 - 1);
  });

  it('agrees with the SDK aggregation on every bucket, the scale, zero count, sum, min and max', async () => {
    const value = fc.oneof(
      fc.double({ min: 1e-3, max: 60, noNaN: true }),
      fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -20, max: 40 }).map((exponent) => 2 ** exponent),
      fc.constant(0),
      fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(2, 4, 20, 160),
        async (values, maxSize) => {
          const expected = sdkShapeOf(await sdkHistogram(values, maxSize));
          const actual = shapeOf(ours(values, maxSize));
          // Without a bucket the scale says nothing (the SDK reports 0, we the scale we would start at).
          if (values.every((value) => value === 0)) expected.scale = actual.scale;
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps negative values in buckets mirroring the positive ones (the SDK histogram takes none to compare)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), { minLength: 1 }), (values) => {
        const positive = ours(values, 20);
        const negative = ours(
          values.map((value) => -value),
          20,
        );
        expect(negative.scale).toBe(positive.scale);
        expect(negative.negative.offset).toBe(positive.positive.offset);
        expect(negative.negative.counts).toEqual(positive.positive.counts);
        expect(negative.positive.counts).toEqual([]);
        expect(negative.min).toBe(-positive.max);
      }),
    );
    // Both signs share one scale: the wider range decides it.
    const mixed = ours([-1e-6, -1e6, 1.5, 1.6], 20);
    expect(mixed.scale).toBe(ours([1e-6, 1e6], 20).scale);
    expect(mixed.positive.counts.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('keeps at most maxSize buckets per sign and stays within the allowed scales', () => {
    const histogram = ours([1e-300, 1e300, -1e-300, -1e300, 5e-324, Number.MAX_VALUE], 2);
    expect(histogram.positive.counts.length).toBeLessThanOrEqual(2);
    expect(histogram.negative.counts.length).toBeLessThanOrEqual(2);
    expect(histogram.scale).toBeGreaterThanOrEqual(-10);
    expect(histogram.count).toBe(6);
    const latencies = ours([0.001, 1000], 160);
    // 1 ms to 1,000 s is 2^19.9: 160 buckets hold it at scale 3.
    expect(latencies.scale).toBe(3);
  });

  it('starts at maxScale', () => {
    expect(ours([1.5], 160, 5).scale).toBe(5);
    expect(ours([1.5], 160).scale).toBe(20);
  });

  it('is kept by a producer-mode GatewayTelemetry beside the explicit buckets, and refused elsewhere', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms: { maxSize: 40 } });
    const values = [0.12, 0.4, 2.5, 0.12, 31];
    for (const value of values) telemetry.record('timeToFirstToken', value, { provider: 'openai', model: 'gpt-4o' });
    telemetry.record('timeToFirstToken', -1, { provider: 'openai', model: 'gpt-4o' }); // dropped: out of range
    const cell = telemetry.states.timeToFirstToken.store.cells[0]!;
    expect(cell.histogram?.count).toBe(5);
    expect(shapeOf(cell.exponentialHistogram!)).toEqual(shapeOf(ours(values, 40)));
    expect(telemetry.exponentialHistograms).toEqual({ maxSize: 40, maxScale: 20 });

    const explicitOnly = new GatewayTelemetry({ exportVia: 'producer' });
    explicitOnly.record('timeToFirstToken', 0.3, { provider: 'openai', model: 'gpt-4o' });
    expect(explicitOnly.states.timeToFirstToken.store.cells[0]!.exponentialHistogram).toBeUndefined();

    // Continued instances keep the setting and the series.
    const continued = new GatewayTelemetry({ exportVia: 'producer', continueFrom: telemetry });
    expect(continued.exponentialHistograms).toEqual({ maxSize: 40, maxScale: 20 });
    expect(continued.states.timeToFirstToken.store.cells[0]!.exponentialHistogram?.count).toBe(5);
  });

  it('refuses limits it cannot honour with a TelemetryConfigurationError naming the option', () => {
    const bad: unknown[] = [{ maxSize: 1 }, { maxSize: 2.5 }, { maxScale: 21 }, { maxScale: -11 }, 'yes', [], null];
    for (const exponentialHistograms of bad) {
      expect(
        () => new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms } as never),
        JSON.stringify(exponentialHistograms),
      ).toThrow(TelemetryConfigurationError);
    }
    expect(() => new GatewayTelemetry({ exponentialHistograms: true })).toThrow(/exportVia: 'producer'/);
    expect(new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms: false }).exponentialHistograms).toBe(
      undefined,
    );
  });
});
