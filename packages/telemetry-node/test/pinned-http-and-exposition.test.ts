/**
 * Cases the rest of the suite let through (found by mutation testing): OTEL_SDK_DISABLED in capitals,
 * the bearer scheme in any case, a category path with a trailing slash, a text/* range preferred to
 * OpenMetrics, OpenMetrics names and start times, and the precision of the JSON summary.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  acceptsOpenMetrics,
  createMetricsHandler,
  createTelemetryMetricProducer,
  serializeOpenMetrics,
  startTelemetry,
  type MetricsHandler,
  type RunningTelemetry,
} from '../src/index.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

const TOKEN = 'test-token-0123456789abcdef';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  vi.useRealTimers();
});

/** A handler over a fresh telemetry instance, which `record` fills first. */
function handlerFor(record: (telemetry: GatewayTelemetry) => void, token?: string): MetricsHandler {
  const reader = new CollectingReader();
  const telemetry = new GatewayTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }) });
  record(telemetry);
  return createMetricsHandler({ source: reader, ...(token !== undefined ? { token } : {}) });
}

const get = (handler: MetricsHandler, path: string, headers: Record<string, string> = {}): Promise<Response> =>
  handler(new Request(`http://gateway.test${path}`, { headers }));

describe('OTEL_SDK_DISABLED', () => {
  it('reads TRUE in capitals as true and turns telemetry off', async () => {
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: { OTEL_SDK_DISABLED: 'TRUE' },
    });
    expect(running.disabled).toBe(true);
    expect((await running.metricsHandler(new Request('http://localhost/metrics'))).status).toBe(503);
  });
});

describe('the metrics handler', () => {
  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the token under the scheme spelled %s', async (scheme) => {
    const handler = handlerFor((telemetry) => telemetry.recordProviderResponseTime('openai', 0.42), TOKEN);
    const response = await get(handler, '/metrics', { authorization: `${scheme} ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('provider_response_time_seconds_count{provider="openai"} 1');
    expect((await get(handler, '/metrics', { authorization: `${scheme} wrong-token` })).status).toBe(401);
  });

  it('serves a category under its path with a trailing slash', async () => {
    const handler = handlerFor((telemetry) => telemetry.recordProviderResponseTime('openai', 0.42));
    const response = await get(handler, '/prometheus/metrics/providers/');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(await (await get(handler, '/prometheus/metrics/providers')).text());
  });

  it('answers in the classic format when text/* weighs more than OpenMetrics', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0;q=0.5,text/*;q=0.9';
    expect(acceptsOpenMetrics(accept)).toBe(false);
    expect(acceptsOpenMetrics(`${accept},*/*;q=0.1`)).toBe(false);
    const handler = handlerFor((telemetry) => telemetry.recordProviderResponseTime('openai', 0.42));
    const response = await get(handler, '/metrics', { accept });
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).not.toContain('# EOF');
  });
});

describe('the JSON summary', () => {
  it('keeps one decimal of the average response time in milliseconds', async () => {
    const handler = handlerFor((telemetry) => telemetry.recordProviderResponseTime('openai', 0.4234));
    const summary = await (await get(handler, '/prometheus/metrics/summary?category=providers')).json();
    expect(summary.metrics.providers.avg_response_time_ms).toBe(423.4);
  });

  it('keeps six decimals of the credits used', async () => {
    const handler = handlerFor((telemetry) => telemetry.recordCreditsUsed('openai', 'gpt-4o', 0.001234));
    const summary = await (await get(handler, '/prometheus/metrics/summary?category=business')).json();
    expect(summary.metrics.business.total_credits_used).toBe(0.001234);
  });
});

describe('serializeOpenMetrics', () => {
  it('keeps the _total of a gauge and an up-down counter named so: only a counter family drops it', async () => {
    const reader = new CollectingReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('app');
    meter.createGauge('queue_total').record(3);
    meter.createUpDownCounter('inflight_total').add(2);
    meter.createCounter('hits_total').add(1);
    const lines = serializeOpenMetrics((await reader.collect()).resourceMetrics).split('\n');

    expect(lines).toContain('# TYPE queue_total gauge');
    expect(lines).toContain('queue_total 3');
    expect(lines).toContain('# TYPE inflight_total gauge');
    expect(lines).toContain('inflight_total 2');
    expect(lines).toContain('# TYPE hits counter');
    expect(lines).toContain('hits_total 1');
  });

  it('writes the fraction of a second of a start time in _created', async () => {
    // The instance starts, and its counters with it, 750 ms into a second.
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: 1_700_000_000_750 });
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.incrementCostByProvider('openai', 0.5);
    const { resourceMetrics } = await createTelemetryMetricProducer(telemetry).collect();

    const text = serializeOpenMetrics(resourceMetrics);
    expect(text).toContain('gatewayz_cost_by_provider_total{provider="openai"} 0.5\n');
    expect(text).toContain('gatewayz_cost_by_provider_created{provider="openai"} 1700000000.75\n');
  });
});
