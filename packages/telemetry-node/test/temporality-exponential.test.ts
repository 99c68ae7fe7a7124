import fc from 'fast-check';
import { ExponentialHistogram } from '@gatewayz/telemetry/metrics';
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type ExponentialHistogram as PointValue,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { TemporalityMetricProducer } from '../src/otlp-metrics/temporality-metric-producer.js';

const ATTRIBUTES = Object.freeze({ provider: 'openai' });

/** A real `ExponentialHistogram` as a cumulative point value. */
function pointOf(histogram: ExponentialHistogram): PointValue {
  return {
    count: histogram.count,
    sum: histogram.sum,
    min: histogram.min,
    max: histogram.max,
    scale: histogram.scale,
    zeroCount: histogram.zeroCount,
    positive: { offset: histogram.positive.offset, bucketCounts: [...histogram.positive.counts] },
    negative: { offset: histogram.negative.offset, bucketCounts: [...histogram.negative.counts] },
  };
}

/** A cumulative producer of one exponential histogram series whose value `valueOf` gives at each collection. */
function sourceOf(valueOf: () => PointValue): MetricProducer {
  return {
    collect: (): Promise<CollectionResult> =>
      Promise.resolve({
        resourceMetrics: {
          resource: undefined as never,
          scopeMetrics: [
            {
              scope: { name: 'test' },
              metrics: [
                {
                  descriptor: { name: 'latency', description: '', unit: 's', valueType: ValueType.DOUBLE },
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
                  dataPoints: [
                    {
                      startTime: [0, 0],
                      endTime: [1, 0],
                      attributes: ATTRIBUTES,
                      value: valueOf(),
                    },
                  ],
                },
              ],
            },
          ],
        },
        errors: [],
      }),
  };
}

/** Buckets by index at `scale`, from points of that scale or finer, zero counts left out. */
function merged(points: readonly PointValue[], scale: number): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const point of points) {
    expect(point.scale).toBeGreaterThanOrEqual(scale);
    point.positive.bucketCounts.forEach((count, index) => {
      const target = (point.positive.offset + index) >> (point.scale - scale);
      buckets.set(target, (buckets.get(target) ?? 0) + count);
    });
  }
  for (const [index, count] of buckets) if (count === 0) buckets.delete(index);
  return buckets;
}

describe('TemporalityMetricProducer: exponential histograms as delta', () => {
  it('accepted deltas always add up to the cumulative histogram, whatever the scale changes and refusals', async () => {
    // Each step records some values, then collects; the push is accepted, refused, or left under
    // way and settled (either way) at a later step, in any order.
    const step = fc.record({
      values: fc.array(fc.double({ min: 1e-4, max: 1e4, noNaN: true }), { maxLength: 30 }),
      zeros: fc.nat({ max: 2 }),
      outcome: fc.constantFrom('accept', 'refuse', 'later-accept', 'later-refuse'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(4, 20, 160),
        async (steps, maxSize) => {
          const histogram = new ExponentialHistogram({ maxSize, maxScale: 20 });
          const producer = new TemporalityMetricProducer(
            sourceOf(() => pointOf(histogram)),
            () => AggregationTemporality.DELTA,
          );
          const accepted: PointValue[] = [];
          let zeros = 0;
          const later: Array<{ token: number; points: PointValue[]; accept: boolean }> = [];
          const collectPoints = async (): Promise<{ token: number; points: PointValue[] }> => {
            const { resourceMetrics } = await producer.collect();
            const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
            for (const metric of metrics) expect(metric.aggregationTemporality).toBe(AggregationTemporality.DELTA);
            const points = metrics.flatMap((metric) => metric.dataPoints.map((point) => point.value as PointValue));
            return { token: producer.pendingToken(), points };
          };
          for (const { values, zeros: zeroCount, outcome } of steps) {
            for (const value of values) histogram.record(value);
            for (let index = 0; index < zeroCount; index++) histogram.record(0);
            const { token, points } = await collectPoints();
            if (outcome === 'accept') {
              producer.settle(token, true);
              accepted.push(...points);
            } else if (outcome === 'refuse') producer.settle(token, false);
            else later.push({ token, points, accept: outcome === 'later-accept' });
            // Settle the oldest push still under way now and then, out of order with newer ones.
            if (later.length > 1) {
              const settled = later.shift()!;
              producer.settle(settled.token, settled.accept);
              if (settled.accept) accepted.push(...settled.points);
            }
          }
          for (const settled of later) {
            producer.settle(settled.token, settled.accept);
            if (settled.accept) accepted.push(...settled.points);
          }
          // One last push, accepted, carries whatever the backend still lacks.
          const last = await collectPoints();
          producer.settle(last.token, true);
          accepted.push(...last.points);

          zeros = accepted.reduce((total, point) => total + point.zeroCount, 0);
          expect(zeros).toBe(histogram.zeroCount);
          expect(accepted.reduce((total, point) => total + point.count, 0)).toBe(histogram.count);
          const expected = new Map<number, number>();
          histogram.positive.counts.forEach((count, index) => {
            if (count !== 0) expected.set(histogram.positive.offset + index, count);
          });
          expect(merged(accepted, histogram.scale)).toEqual(expected);
          for (const point of accepted) {
            expect(point.positive.bucketCounts.length).toBeLessThanOrEqual(maxSize);
            expect(point.positive.bucketCounts.every((count) => count >= 0)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("takes the delta at the coarser scale when a source's scale went up (not one of ours, whose scales only go down)", async () => {
    const values: PointValue[] = [
      {
        count: 2,
        sum: 3,
        scale: 0,
        zeroCount: 0,
        positive: { offset: 0, bucketCounts: [2] },
        negative: { offset: 0, bucketCounts: [] },
      },
      {
        count: 3,
        sum: 4.5,
        scale: 1,
        zeroCount: 0,
        positive: { offset: 0, bucketCounts: [2, 1] },
        negative: { offset: 0, bucketCounts: [] },
      },
    ];
    const producer = new TemporalityMetricProducer(
      sourceOf(() => values.shift()!),
      () => AggregationTemporality.DELTA,
    );
    const deltas: PointValue[] = [];
    for (let push = 0; push < 2; push++) {
      const { resourceMetrics } = await producer.collect();
      deltas.push(resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.value as PointValue);
      producer.settle(producer.pendingToken(), true);
    }
    // Buckets 0 and 1 of scale 1 are bucket 0 of scale 0: 3 there, of which 2 were sent.
    expect(deltas[1]).toMatchObject({ scale: 0, count: 1, sum: 1.5, positive: { offset: 0, bucketCounts: [1] } });
  });
});
