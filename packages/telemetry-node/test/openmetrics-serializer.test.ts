import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '@gatewayz/telemetry/metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptsOpenMetrics,
  createTelemetryMetricProducer,
  serializeOpenMetrics,
  type ExemplarDataPoint,
} from '../src/index.js';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Run `fn` with an active span context (no SDK tracer needed: the API carries the context). */
function inSpan(traceId: string, spanId: string, sampled: boolean, fn: () => void): void {
  const spanContext = { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: false };
  context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), fn);
}

function setup(options: { exemplars?: boolean } = {}) {
  const reader = new PullReader();
  const telemetry = new GatewayTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }), ...options });
  return {
    telemetry,
    scrape: async () => serializeOpenMetrics((await reader.collect()).resourceMetrics),
  };
}

/** Exemplars travel on the data points of the telemetry's metric producer, as `startTelemetry()` wires it. */
function setupWithProducer(options: { exemplars?: boolean } = {}) {
  const telemetry = new GatewayTelemetry({ exportVia: 'producer', ...options });
  const reader = new PullReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  new MeterProvider({ readers: [reader] });
  return {
    telemetry,
    scrape: async () => serializeOpenMetrics((await reader.collect()).resourceMetrics),
  };
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

describe('serializeOpenMetrics', () => {
  it('names counter families without _total, with _total and _created samples, and ends with # EOF', async () => {
    const { telemetry, scrape } = setup();
    telemetry.incrementCostByProvider('openai', 0.5);
    telemetry.setProviderHealthScore('openai', 0.9);
    const text = await scrape();
    expect(text).toContain('# TYPE gatewayz_cost_by_provider counter\n');
    expect(text).toMatch(/^gatewayz_cost_by_provider_total\{provider="openai"\} 0\.5$/m);
    expect(text).toMatch(/^gatewayz_cost_by_provider_created\{provider="openai"\} \d+(\.\d+)?$/m);
    expect(text).toContain('# TYPE gatewayz_provider_health_score gauge\n');
    expect(text).toContain('# TYPE target info\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text.match(/# EOF/g)).toHaveLength(1);
  });

  it('writes histogram buckets with float le values, then count, sum and created', async () => {
    const { telemetry, scrape } = setup();
    telemetry.recordProviderResponseTime('openai', 0.3);
    const text = await scrape();
    const lines = text.split('\n').filter((line) => line.startsWith('provider_response_time_seconds'));
    expect(lines[0]).toBe('provider_response_time_seconds_bucket{provider="openai",le="0.05"} 0');
    expect(lines).toContain('provider_response_time_seconds_bucket{provider="openai",le="1.0"} 1');
    expect(lines).toContain('provider_response_time_seconds_bucket{provider="openai",le="+Inf"} 1');
    expect(lines.slice(-3).map((line) => line.split('{')[0])).toEqual([
      'provider_response_time_seconds_count',
      'provider_response_time_seconds_sum',
      'provider_response_time_seconds_created',
    ]);
  });

  it('attaches the latest exemplar of a sampled span to the bucket it fell in, newest wins', async () => {
    const { telemetry, scrape } = setupWithProducer();
    inSpan(TRACE_A, '00f067aa0ba902b7', true, () => telemetry.recordProviderResponseTime('openai', 0.3));
    inSpan(TRACE_B, 'b7ad6b7169203331', true, () => telemetry.recordProviderResponseTime('openai', 0.4));
    inSpan(TRACE_A, '1111111111111111', true, () => telemetry.recordProviderResponseTime('openai', 4));
    const text = await scrape();
    expect(text).toMatch(
      new RegExp(`le="0\\.5"\\} 2 # \\{trace_id="${TRACE_B}",span_id="b7ad6b7169203331"\\} 0\\.4 \\d+\\.\\d{3}$`, 'm'),
    );
    expect(text).toMatch(
      new RegExp(`le="5\\.0"\\} 3 # \\{trace_id="${TRACE_A}",span_id="1111111111111111"\\} 4 `, 'm'),
    );
    expect(text.match(/ # \{/g)).toHaveLength(2);
  });

  it('captures no exemplar without a span, for an unsampled span, or when turned off', async () => {
    const first = setupWithProducer();
    first.telemetry.recordProviderResponseTime('openai', 0.3);
    inSpan(TRACE_A, '00f067aa0ba902b7', false, () => first.telemetry.recordProviderResponseTime('openai', 0.3));
    expect(await first.scrape()).not.toContain('trace_id');
    const off = setupWithProducer({ exemplars: false });
    inSpan(TRACE_A, '00f067aa0ba902b7', true, () => off.telemetry.recordProviderResponseTime('openai', 0.3));
    expect(await off.scrape()).not.toContain('trace_id');
  });

  describe('exemplars on points bucketed by other bounds than their exemplars', () => {
    const exemplar = (value: number, timestampSeconds = 1718000000.5): Exemplar => ({
      value,
      traceId: TRACE_A,
      spanId: '00f067aa0ba902b7',
      timestampSeconds,
    });

    /** A histogram collected by a real MeterProvider with bounds 1, 2, 3, its point given `exemplars`. */
    async function histogramWith(exemplars: ExemplarDataPoint['exemplars']): Promise<ResourceMetrics> {
      const reader = new PullReader();
      const histogram = new MeterProvider({ readers: [reader] })
        .getMeter('scope')
        .createHistogram('latency', { unit: 's', advice: { explicitBucketBoundaries: [1, 2, 3] } });
      histogram.record(0.25);
      histogram.record(2.5);
      histogram.record(7);
      const { resourceMetrics } = await reader.collect();
      const point = resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0] as ExemplarDataPoint;
      Object.assign(point, { exemplars });
      return resourceMetrics;
    }

    const bucketLines = (text: string): string[] =>
      text.split('\n').filter((line) => line.startsWith('latency_bucket'));

    it('puts each exemplar on the first bucket whose le is at least its value, +Inf above every bound', async () => {
      // As many bounds as the point has, but other ones: the slot index would put 0.25 on le="3.0".
      const sameCount = await histogramWith({
        boundaries: [0.1, 0.2, 0.3],
        slots: [undefined, undefined, exemplar(0.25), exemplar(7)],
      });
      expect(bucketLines(serializeOpenMetrics(sameCount))).toEqual([
        `latency_bucket{le="1.0"} 1 # {trace_id="${TRACE_A}",span_id="00f067aa0ba902b7"} 0.25 1718000000.500`,
        'latency_bucket{le="2.0"} 1',
        'latency_bucket{le="3.0"} 2',
        `latency_bucket{le="+Inf"} 3 # {trace_id="${TRACE_A}",span_id="00f067aa0ba902b7"} 7 1718000000.500`,
      ]);
      // Another number of bounds, and a value equal to a bound (le is inclusive).
      const otherCount = await histogramWith({ boundaries: [2.5], slots: [exemplar(2), exemplar(2.5)] });
      expect(bucketLines(serializeOpenMetrics(otherCount))).toEqual([
        'latency_bucket{le="1.0"} 1',
        `latency_bucket{le="2.0"} 1 # {trace_id="${TRACE_A}",span_id="00f067aa0ba902b7"} 2 1718000000.500`,
        `latency_bucket{le="3.0"} 2 # {trace_id="${TRACE_A}",span_id="00f067aa0ba902b7"} 2.5 1718000000.500`,
        'latency_bucket{le="+Inf"} 3',
      ]);
    });

    it('keeps the newest of several exemplars that fall in one bucket', async () => {
      const finer = await histogramWith({
        boundaries: [0.5, 1.5, 2.5],
        slots: [exemplar(0.25, 1718000002), exemplar(1, 1718000001), undefined, undefined],
      });
      const lines = bucketLines(serializeOpenMetrics(finer));
      expect(lines[0]).toBe(
        `latency_bucket{le="1.0"} 1 # {trace_id="${TRACE_A}",span_id="00f067aa0ba902b7"} 0.25 1718000002.000`,
      );
      expect(lines.slice(1).join('\n')).not.toContain('#');
    });
  });

  it('recognises the Accept header Prometheus sends', () => {
    expect(
      acceptsOpenMetrics(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe(true);
    expect(acceptsOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(acceptsOpenMetrics(null)).toBe(false);
  });
});
