/**
 * Edge cases of the text expositions that the rest of the suite let through (found by mutation
 * testing): label values with only a double quote, −Infinity, a point attribute that clashes with a
 * scope label, histogram points from producers other than the SDK (an `Infinity` bound, no count
 * above the last bound), a NaN exemplar, and a health score exactly at the healthy threshold.
 */
import type { Exemplar } from '@gatewayz/telemetry/metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type Histogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  HEALTHY_SCORE_THRESHOLD,
  createMetricsHandler,
  serializeOpenMetrics,
  serializePrometheus,
  type ExemplarDataPoint,
} from '../src/index.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

/** What `record` records, collected. */
async function collect(record: (provider: MeterProvider) => void): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    readers: [reader],
    resource: resourceFromAttributes({ 'service.name': 'app' }),
  });
  record(provider);
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  await provider.shutdown();
  return resourceMetrics;
}

/** One histogram point `latency` as a producer other than the SDK may hand it over. */
function withHistogramPoint(value: Histogram, exemplars?: ExemplarDataPoint['exemplars']): ResourceMetrics {
  const point: ExemplarDataPoint = {
    startTime: [1_700_000_000, 0],
    endTime: [1_700_000_060, 0],
    attributes: {},
    value,
  };
  return {
    resource: resourceFromAttributes({ 'service.name': 'app' }),
    scopeMetrics: [
      {
        scope: { name: 'app' },
        metrics: [
          {
            descriptor: { name: 'latency', description: 'd', unit: '', valueType: 1, type: 'HISTOGRAM' },
            dataPointType: DataPointType.HISTOGRAM,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: [exemplars === undefined ? point : { ...point, exemplars }],
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

/** The `_bucket` lines of `name`. */
function bucketLines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}_bucket{`));
}

const serializers = [
  ['Prometheus', serializePrometheus],
  ['OpenMetrics', serializeOpenMetrics],
] as const;

describe('label values and sample values', () => {
  it.each(serializers)(
    'escapes a label value whose only special character is a double quote (%s)',
    async (_, serialize) => {
      const resourceMetrics = await collect((provider) =>
        provider.getMeter('app').createGauge('quoted').record(1, { path: 'say "hi"' }),
      );
      const text = serialize(resourceMetrics, { withoutTargetInfo: true });
      expect(text).toContain('quoted{path="say \\"hi\\""} 1\n');
      expect(text).not.toContain('"say "hi""');
    },
  );

  it.each(serializers)('writes −Infinity as -Inf (%s)', async (_, serialize) => {
    const resourceMetrics = await collect((provider) =>
      provider.getMeter('app').createGauge('floor').record(-Infinity),
    );
    const text = serialize(resourceMetrics, { withoutTargetInfo: true });
    expect(text).toContain('\nfloor -Inf\n');
    expect(text).not.toContain('Infinity');
  });

  it.each(serializers)(
    'renames a point attribute that is a scope label to exported_… after other attributes (%s)',
    async (_, serialize) => {
      const resourceMetrics = await collect((provider) =>
        provider.getMeter('scope-a').createGauge('level').record(1, { a: '1', 'otel.scope.name': 'mine' }),
      );
      const line = serialize(resourceMetrics, { withoutTargetInfo: true, withScopeInfo: true })
        .split('\n')
        .find((candidate) => candidate.startsWith('level{'));
      expect(line).toMatch(/^level\{a="1",exported_otel_scope_name="mine",otel_scope_name="scope-a"[,}]/);
      expect(line?.match(/(^|[{,])otel_scope_name=/g)).toHaveLength(1);
    },
  );
});

describe('histogram points from producers other than the SDK', () => {
  it('writes one +Inf bucket for a point whose last bound is Infinity', () => {
    const resourceMetrics = withHistogramPoint({
      buckets: { boundaries: [1, Infinity], counts: [1, 2, 0] },
      count: 3,
      sum: 5,
    });
    expect(bucketLines(serializePrometheus(resourceMetrics), 'latency')).toEqual([
      'latency_bucket{le="1"} 1',
      'latency_bucket{le="+Inf"} 3',
    ]);
    expect(bucketLines(serializeOpenMetrics(resourceMetrics), 'latency')).toEqual([
      'latency_bucket{le="1.0"} 1',
      'latency_bucket{le="+Inf"} 3',
    ]);
  });

  // Counts as many as the bounds: nothing counted above the last bound. Both formats still end the
  // buckets with `+Inf`, holding every count (what `histogram_quantile()` reads as the total).
  const shortCounts = (): ResourceMetrics =>
    withHistogramPoint({ buckets: { boundaries: [1, 2], counts: [1, 2] }, count: 3, sum: 5 });

  it('writes the +Inf bucket of a point without a count above its last bound (Prometheus)', () => {
    expect(bucketLines(serializePrometheus(shortCounts()), 'latency')).toEqual([
      'latency_bucket{le="1"} 1',
      'latency_bucket{le="2"} 3',
      'latency_bucket{le="+Inf"} 3',
    ]);
  });

  it('writes the +Inf bucket of a point without a count above its last bound (OpenMetrics)', () => {
    expect(bucketLines(serializeOpenMetrics(shortCounts()), 'latency')).toEqual([
      'latency_bucket{le="1.0"} 1',
      'latency_bucket{le="2.0"} 3',
      'latency_bucket{le="+Inf"} 3',
    ]);
  });

  it('writes the +Inf bucket of a point with fewer counts than bounds, in both formats alike', () => {
    const resourceMetrics = withHistogramPoint({
      buckets: { boundaries: [1, 2, 5], counts: [1, 2] },
      count: 3,
      sum: 5,
    });
    const prometheus = bucketLines(serializePrometheus(resourceMetrics), 'latency');
    expect(prometheus.at(-1)).toBe('latency_bucket{le="+Inf"} 3');
    expect(bucketLines(serializeOpenMetrics(resourceMetrics), 'latency').at(-1)).toBe(prometheus.at(-1));
  });

  it('writes one +Inf bucket, holding every count, for a point with counts past its bounds or an Infinity bound', () => {
    // Two counts past the one bound: both in +Inf (before: two +Inf lines, 3 then 6, in Prometheus).
    const pastBounds = withHistogramPoint({ buckets: { boundaries: [1], counts: [1, 2, 3] }, count: 6, sum: 9 });
    expect(bucketLines(serializePrometheus(pastBounds), 'latency')).toEqual([
      'latency_bucket{le="1"} 1',
      'latency_bucket{le="+Inf"} 6',
    ]);
    expect(bucketLines(serializeOpenMetrics(pastBounds), 'latency')).toEqual([
      'latency_bucket{le="1.0"} 1',
      'latency_bucket{le="+Inf"} 6',
    ]);
    // An Infinity bound with no count past it (before: two +Inf lines in OpenMetrics).
    const infinityBound = withHistogramPoint({
      buckets: { boundaries: [1, Infinity], counts: [1, 2] },
      count: 3,
      sum: 5,
    });
    for (const [, serialize] of serializers)
      expect(bucketLines(serialize(infinityBound), 'latency').filter((line) => line.includes('+Inf'))).toEqual([
        'latency_bucket{le="+Inf"} 3',
      ]);
  });
});

describe('OpenMetrics exemplars', () => {
  const exemplar = (value: number, timestampSeconds: number, id: string): Exemplar => ({
    value,
    timestampSeconds,
    traceId: id.repeat(32),
    spanId: id.repeat(16),
  });

  it("never lets a NaN exemplar, newer or not, take a bucket's real exemplar", () => {
    const resourceMetrics = withHistogramPoint(
      { buckets: { boundaries: [1, 2], counts: [1, 0, 0] }, count: 1, sum: 1 },
      { boundaries: [1, 2], slots: [exemplar(1, 1_700_000_001, 'a'), exemplar(NaN, 1_700_000_002, 'c'), undefined] },
    );
    const text = serializeOpenMetrics(resourceMetrics);
    expect(bucketLines(text, 'latency')).toEqual([
      `latency_bucket{le="1.0"} 1 # {trace_id="${'a'.repeat(32)}",span_id="${'a'.repeat(16)}"} 1 1700000001.000`,
      'latency_bucket{le="2.0"} 1',
      'latency_bucket{le="+Inf"} 1',
    ]);
    expect(text).not.toContain('NaN');
  });
});

describe('the JSON summary', () => {
  it('counts an available provider whose health score is exactly the threshold as healthy', async () => {
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider: provider });
    telemetry.setProviderAvailability('openai', 1);
    telemetry.setProviderHealthScore('openai', HEALTHY_SCORE_THRESHOLD);
    const handler = createMetricsHandler({ source: reader });
    const response = await handler(new Request('http://localhost/prometheus/metrics/summary?category=providers'));
    expect(response.status).toBe(200);
    expect((await response.json()).metrics.providers).toMatchObject({
      total_providers: 1,
      healthy_providers: 1,
      degraded_providers: 0,
      unavailable_providers: 0,
    });
    await provider.shutdown();
  });
});
