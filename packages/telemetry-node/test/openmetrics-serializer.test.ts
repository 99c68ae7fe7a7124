import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsOpenMetrics, createTelemetryMetricProducer, serializeOpenMetrics } from '../src/index.js';

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
