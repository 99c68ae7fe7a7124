import { GatewayTelemetry, TelemetryConfigurationError } from '@gatewayz/telemetry';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { createTelemetryMetricProducer, startTelemetry } from '../src/index.js';
import { hexId, otlpEnv, useOtlpPush } from './fixtures/otlp-metrics-push.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';

const push = useOtlpPush();

const EXPONENTIAL = 'base2_exponential_bucket_histogram';

/** A received exponential point in plain numbers (protobuf leaves zero fields out and sends 64-bit counts as strings). */
interface Shape {
  scale: number;
  zeroCount: number;
  positive: { offset: number; counts: number[] };
  count: number;
  sum: number;
  min?: number;
  max?: number;
}

function trimmed(offset: number, counts: readonly number[]): Shape['positive'] {
  let start = 0;
  let end = counts.length;
  while (start < end && counts[start] === 0) start++;
  while (end > start && counts[end - 1] === 0) end--;
  return start === end ? { offset: 0, counts: [] } : { offset: offset + start, counts: counts.slice(start, end) };
}

function receivedShape(raw: Record<string, unknown>): Shape {
  const positive = (raw['positive'] ?? {}) as { offset?: unknown; bucketCounts?: unknown[] };
  const negative = (raw['negative'] ?? {}) as { bucketCounts?: unknown[] };
  expect((negative.bucketCounts ?? []).every((count) => Number(count) === 0)).toBe(true);
  return {
    scale: Number(raw['scale'] ?? 0),
    zeroCount: Number(raw['zeroCount'] ?? 0),
    positive: trimmed(Number(positive.offset ?? 0), (positive.bucketCounts ?? []).map(Number)),
    count: Number(raw['count'] ?? 0),
    sum: Number(raw['sum'] ?? 0),
    ...(raw['min'] !== undefined ? { min: Number(raw['min']) } : {}),
    ...(raw['max'] !== undefined ? { max: Number(raw['max']) } : {}),
  };
}

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The SDK's own exponential aggregation of `values` (160 buckets, scale from 20): the oracle. */
async function oracle(values: readonly number[], maxSize = 160): Promise<Shape> {
  const reader = new PullReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [
      { instrumentName: 'h', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } } },
    ],
  });
  const histogram = provider.getMeter('oracle').createHistogram('h');
  for (const value of values) histogram.record(value);
  const metric = (await reader.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  await provider.shutdown();
  if (metric.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) throw new Error('not exponential');
  const value = metric.dataPoints[0]!.value;
  return {
    scale: value.scale,
    zeroCount: value.zeroCount,
    positive: trimmed(value.positive.offset, value.positive.bucketCounts),
    count: value.count,
    sum: value.sum ?? 0,
    min: value.min!,
    max: value.max!,
  };
}

function latencies(count: number, from: number, to: number): number[] {
  // Deterministic, spread over the range on a log scale.
  return Array.from({ length: count }, (_, index) => from * (to / from) ** (((index * 7919) % count) / count));
}

function exponentialPoints(metrics: ReceivedMetric[], name: string): ReceivedMetric[] {
  return metrics.filter((metric) => metric.name === name);
}

/** Delta points merged as a backend does: every point brought to the coarsest scale, then added up. */
function mergeDeltas(points: Shape[]): Shape {
  const scale = Math.min(...points.map((point) => point.scale));
  const buckets = new Map<number, number>();
  for (const point of points)
    point.positive.counts.forEach((count, index) => {
      const target = (point.positive.offset + index) >> (point.scale - scale);
      buckets.set(target, (buckets.get(target) ?? 0) + count);
    });
  const indices = [...buckets.keys()];
  const offset = Math.min(...indices);
  const counts = Array.from({ length: Math.max(...indices) - offset + 1 }, (_, k) => buckets.get(offset + k) ?? 0);
  return {
    scale,
    zeroCount: points.reduce((total, point) => total + point.zeroCount, 0),
    positive: trimmed(offset, counts),
    count: points.reduce((total, point) => total + point.count, 0),
    sum: points.reduce((total, point) => total + point.sum, 0),
  };
}

describe('exponential histograms over OTLP (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION)', () => {
  it.each(['http/protobuf', 'http/json'] as const)(
    'pushes every histogram as the SDK would aggregate it, with exemplars, while /metrics keeps explicit buckets (%s)',
    async (protocol) => {
      const target = await push.receiver();
      const otel = (push.running = startTelemetry({
        hostMetrics: false,
        runtimeMetrics: false,
        traces: { spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] },
        env: otlpEnv(target, {
          OTEL_METRICS_EXPORTER: 'otlp,prometheus',
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: EXPONENTIAL,
        }),
      }));
      const values = [...latencies(500, 0.004, 45), 0, 0];
      for (const value of values) otel.telemetry.recordProviderResponseTime('openai', value);
      const spanContext = otel.tracer.startActiveSpan('chat gpt-4o', (span) => {
        otel.telemetry.recordProviderResponseTime('openai', 2.5);
        span.end();
        return span.spanContext();
      });
      values.push(2.5);
      await otel.forceFlush();

      const [metric, ...others] = exponentialPoints(target.metrics(), 'provider_response_time_seconds');
      expect(others).toEqual([]);
      expect(metric).toMatchObject({ type: 'exponentialHistogram', unit: 's', aggregationTemporality: 2 });
      const raw = metric!.dataPoints[0]!.raw;
      expect(receivedShape(raw)).toEqual(await oracle(values));
      expect(receivedShape(raw).scale).toBeLessThan(20);
      const exemplars = raw['exemplars'] as Array<Record<string, unknown>>;
      expect(exemplars.map((exemplar) => [exemplar['asDouble'], hexId(exemplar['traceId'])])).toEqual([
        [2.5, spanContext.traceId],
      ]);
      // Every other helper histogram goes out exponential too; none explicit.
      expect(target.metrics().filter((received) => received.type === 'histogram')).toEqual([]);

      const text = await (await otel.metricsHandler(new Request('http://localhost/metrics'))).text();
      expect(text).toContain(`provider_response_time_seconds_count{provider="openai"} ${values.length}`);
      expect(text).toContain('provider_response_time_seconds_bucket{provider="openai",le="0.1"}');
    },
  );

  it('delta: the accepted points, merged at the coarsest scale, equal the cumulative histogram across downscales and a refused push', async () => {
    const target = await push.receiver();
    const otel = (push.running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env: otlpEnv(target, {
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: EXPONENTIAL,
      }),
    }));
    const all: number[] = [];
    const record = (values: number[]): void => {
      for (const value of values) otel.telemetry.recordProviderResponseTime('anthropic', value);
      all.push(...values);
    };
    // Each phase widens the range, so the cumulative histogram goes down a scale or more between pushes.
    record(latencies(40, 0.2, 0.3));
    await otel.forceFlush();
    record(latencies(40, 0.05, 1.5));
    target.failNext(1, 400);
    expect(await flushFailures(otel)).toEqual([expect.stringMatching(/^metrics not exported \(http_error\)/)]);
    record(latencies(40, 0.001, 90));
    await otel.forceFlush();
    await otel.forceFlush(); // nothing new: no point
    record([0.25, 0.25, 0]);
    await otel.shutdown();
    push.running = undefined;

    const metrics = exponentialPoints(target.metrics(), 'provider_response_time_seconds');
    expect(metrics.map((metric) => metric.aggregationTemporality)).toEqual([1, 1, 1]);
    const points = metrics.map((metric) => receivedShape(metric.dataPoints[0]!.raw));
    expect(points.map((point) => point.count)).toEqual([40, 80, 3]);
    // The scale went down between pushes; each point carries only what the others do not.
    expect(points[1]!.scale).toBeLessThan(points[0]!.scale);
    const { min: _min, max: _max, ...expected } = await oracle(all);
    const merged = mergeDeltas(points);
    expect({ ...merged, sum: undefined }).toEqual({ ...expected, sum: undefined });
    expect(merged.sum).toBeCloseTo(expected.sum, 9);
  });

  it('follows a custom exporter’s own selectAggregation() (its maxSize honoured) over the variable', async () => {
    const batches: ResourceMetrics[] = [];
    const exporter = (selected: 'exponential' | 'explicit'): PushMetricExporter => ({
      export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
        batches.push(metrics);
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
      selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
      selectAggregation: (type: InstrumentType) =>
        type === InstrumentType.HISTOGRAM && selected === 'exponential'
          ? { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 8 } }
          : { type: AggregationType.DEFAULT },
    });
    const env = { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: EXPONENTIAL };
    const resolve = (selected: 'exponential' | 'explicit') =>
      resolveMetricsExport({ exporters: ['otlp'], otlp: { exporter: exporter(selected) } }, env).otlp
        ?.exponentialHistograms;
    expect(resolve('exponential')).toEqual({ maxSize: 8, maxScale: 20 });
    expect(resolve('explicit')).toBeUndefined();

    const otel = (push.running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env,
      metrics: { exporters: ['otlp'], otlp: { exporter: exporter('exponential'), exportIntervalMillis: 3_600_000 } },
    }));
    const values = latencies(100, 0.001, 100);
    for (const value of values) otel.telemetry.recordProviderResponseTime('openai', value);
    await otel.forceFlush();
    const metric = batches
      .flatMap((batch) => batch.scopeMetrics.flatMap((scope) => scope.metrics))
      .find((found) => found.descriptor.name === 'provider_response_time_seconds');
    expect(metric?.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    if (metric?.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) return;
    const value = metric.dataPoints[0]!.value;
    expect(value.positive.bucketCounts.length).toBeLessThanOrEqual(8);
    expect({
      scale: value.scale,
      positive: trimmed(value.positive.offset, value.positive.bucketCounts),
    }).toEqual({ scale: (await oracle(values, 8)).scale, positive: (await oracle(values, 8)).positive });
  });

  it("applies to the SDK's own histograms too (the runtime metrics' GC durations)", async () => {
    const target = await push.receiver();
    const otel = (push.running = startTelemetry({
      traces: false,
      hostMetrics: false,
      env: otlpEnv(target, { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: EXPONENTIAL }),
    }));
    // Garbage enough for several scavenges, whose durations the runtime instrumentation records.
    let kept = 0;
    for (let round = 0; round < 200; round++) kept += Array.from({ length: 20_000 }, (_, index) => ({ index })).length;
    expect(kept).toBe(4_000_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await otel.forceFlush();
    const gc = target.metrics().find((metric) => metric.name === 'v8js.gc.duration');
    expect(gc?.type).toBe('exponentialHistogram');
    expect(target.metrics().filter((metric) => metric.type === 'histogram')).toEqual([]);
  });

  it('refuses what it cannot honour with a TelemetryConfigurationError', () => {
    expect(() =>
      resolveMetricsExport({ exporters: ['otlp'], otlp: { histogramAggregation: 'exponential' as never } }, {}),
    ).toThrow(TelemetryConfigurationError);
    expect(() =>
      createTelemetryMetricProducer(new GatewayTelemetry({ exportVia: 'producer' }), { histograms: 'exponential' }),
    ).toThrow(/exponentialHistograms/);
    expect(() =>
      createTelemetryMetricProducer(new GatewayTelemetry({ exportVia: 'producer' }), { histograms: 'native' as never }),
    ).toThrow(TelemetryConfigurationError);
  });
});
