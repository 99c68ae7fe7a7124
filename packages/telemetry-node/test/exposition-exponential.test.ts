import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type ExponentialHistogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { createMetricsHandler, serializeOpenMetrics, serializePrometheus } from '../src/index.js';
import { componentAvailable, promtoolCheckMetrics } from '../../../test-support/prometheus.js';

/*
 * An application's MetricReader with base-2 exponential aggregation, given to the metrics handler
 * as its source: each exponential point used to be written as `name [object Object]`, and
 * Prometheus refused the whole scrape. Now it is a classic histogram with the exact buckets.
 */

class ExponentialReader extends MetricReader {
  constructor(maxSize: number) {
    super({
      aggregationSelector: (type) =>
        type === InstrumentType.HISTOGRAM
          ? { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } }
          : { type: AggregationType.DEFAULT },
    });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `name`'s bucket lines as `[le, cumulative count]`. */
function buckets(text: string, name: string): Array<[string, number]> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}_bucket{`))
    .map((line) => [/le="([^"]+)"/.exec(line)![1]!, Number(line.slice(line.lastIndexOf(' ') + 1))]);
}

/** One exponential point, as a producer (or a custom source) may hand it over, negative buckets included. */
function withPoint(value: ExponentialHistogram): ResourceMetrics {
  return {
    resource: resourceFromAttributes({ 'service.name': 'app' }),
    scopeMetrics: [
      {
        scope: { name: 'app' },
        metrics: [
          {
            descriptor: { name: 'temperature', description: 'd', unit: '', valueType: 1, type: 'HISTOGRAM' },
            dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: { room: 'a' }, value }],
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

describe('base-2 exponential histograms in the text expositions', () => {
  it('are written as classic histograms whose cumulative buckets count exactly what was recorded', async () => {
    const reader = new ExponentialReader(4);
    const provider = new MeterProvider({ readers: [reader] });
    const histogram = provider.getMeter('app').createHistogram('rpc.duration', { unit: 's' });
    const recorded = [0.2, 0.3, 3, 3, 40, 100];
    for (const value of recorded) histogram.record(value);
    const handler = createMetricsHandler({ source: reader, compression: 'none' });
    const text = await (await handler(new Request('http://x/metrics', { headers: { accept: 'text/plain' } }))).text();
    expect(text).not.toContain('[object Object]');
    expect(text).toContain('# TYPE rpc_duration histogram');
    expect(text).toContain('rpc_duration_count 6');
    expect(text).toContain('rpc_duration_sum 146.5');
    const written = buckets(text, 'rpc_duration');
    // maxSize 4 over 0.2 … 100 brings the scale to ≤ 0: every bound is a power of two, held exactly.
    expect(written.at(-1)).toEqual(['+Inf', 6]);
    for (const [le, cumulative] of written.slice(0, -1))
      expect([le, cumulative]).toEqual([le, recorded.filter((value) => value <= Number(le)).length]);
    const bounds = written.slice(0, -1).map(([le]) => Number(le));
    expect(bounds).toEqual([...bounds].sort((left, right) => left - right));
    expect(bounds.slice(1).every((bound) => Math.log2(bound) === Math.round(Math.log2(bound)))).toBe(true);

    const openMetrics = await (
      await handler(new Request('http://x/metrics', { headers: { accept: 'application/openmetrics-text' } }))
    ).text();
    expect(openMetrics).not.toContain('[object Object]');
    expect(buckets(openMetrics, 'rpc_duration').map(([, count]) => count)).toEqual(written.map(([, count]) => count));
    expect(openMetrics).toContain('rpc_duration_count 6\nrpc_duration_sum 146.5\nrpc_duration_created ');

    if (componentAvailable('promtool')) {
      const result = await promtoolCheckMetrics(text);
      expect(result.problems).toEqual([]);
      expect(result.exitCode).toBe(0);
    }
  });

  it('puts negative buckets under −base^index and the zero bucket under 0, in increasing order', async () => {
    // Scale 1 (base √2): negative bucket 0 holds [−√2, −1), bucket 1 [−2, −√2).
    const point: ExponentialHistogram = {
      count: 9,
      sum: 1.5,
      scale: 1,
      zeroCount: 2,
      positive: { offset: 1, bucketCounts: [1, 0, 3] },
      negative: { offset: 0, bucketCounts: [1, 2] },
    };
    const text = serializePrometheus(withPoint(point));
    expect(buckets(text, 'temperature')).toEqual([
      ['-1.4142135623730951', 2],
      ['-1', 3],
      ['0', 5],
      ['2', 6],
      ['2.8284271247461903', 6],
      ['4', 9],
      ['+Inf', 9],
    ]);
    expect(text).toContain('temperature_count{room="a"} 9');
    expect(text).toContain('temperature_sum{room="a"} 1.5');
    if (componentAvailable('promtool')) {
      const result = await promtoolCheckMetrics(text);
      expect(result.problems).toEqual([]);
      expect(result.exitCode).toBe(0);
    }
    // OpenMetrics: a histogram with negative buckets has no _sum, and no _count without one.
    const openMetrics = serializeOpenMetrics(withPoint(point));
    expect(buckets(openMetrics, 'temperature').map(([le]) => le)).toEqual([
      '-1.4142135623730951',
      '-1.0',
      '0.0',
      '2.0',
      '2.8284271247461903',
      '4.0',
      '+Inf',
    ]);
    expect(openMetrics).not.toContain('temperature_sum');
    expect(openMetrics).not.toContain('temperature_count');
    expect(openMetrics).toContain('temperature_created{room="a"} 1');
  });

  it('leaves out a bound a double cannot hold, counting its bucket in the next one written', () => {
    // Scale −10 (base 2^1024): bucket −3 ends at 2^-2048, which rounds to 0, and bucket 0 at 2^1024,
    // beyond the largest double.
    const point: ExponentialHistogram = {
      count: 4,
      sum: 0,
      scale: -10,
      zeroCount: 0,
      positive: { offset: -3, bucketCounts: [1, 1, 1, 1] },
      negative: { offset: 0, bucketCounts: [] },
    };
    expect(buckets(serializePrometheus(withPoint(point)), 'temperature')).toEqual([
      ['0', 0],
      [String(2 ** -1024), 2],
      ['1', 3],
      ['+Inf', 4],
    ]);
  });
});
