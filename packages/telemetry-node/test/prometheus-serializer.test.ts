import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import { POINTS_PER_CHUNK } from '../src/exposition/prometheus-serializer.js';
import {
  createTelemetryMetricProducer,
  openMetricsChunks,
  prometheusChunks,
  serializeOpenMetrics,
  serializePrometheus,
} from '../src/index.js';
import { promtoolCheckMetrics, componentAvailable } from '../../../test-support/prometheus.js';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function populatedMetrics(): Promise<ResourceMetrics> {
  const reader = new PullReader();
  const provider = new MeterProvider({
    readers: [reader],
    resource: resourceFromAttributes({
      'service.name': 'serializer-test',
      'deployment.environment': 'test "quoted"\nline',
    }),
  });
  const telemetry = new GatewayTelemetry({ meterProvider: provider });
  for (const [provider_, seconds] of [
    ['openai', 0.2],
    ['openai', 3.4],
    ['anthropic', 0.7],
  ] as const) {
    telemetry.recordProviderResponseTime(provider_, seconds);
  }
  telemetry.setProviderHealthScore('openai', 0.95);
  telemetry.setCircuitBreakerState('anthropic', 'half_open');
  telemetry.incrementCostByProvider('openai', 0.125);
  telemetry.recordTokenUsage('openai', 'gpt-4o-mini', 120, 30);
  telemetry.setSubscriptionCount(7);
  telemetry.trackHttpRequestInProgress('POST', '/v1/chat/completions', 1);
  telemetry.recordModelInference('openai', 'gpt-4o-mini', 'success', 0.4);
  telemetry.recordGenAiOperation({
    operationName: 'chat',
    providerName: 'openai',
    requestModel: 'gpt-4o-mini',
    durationSeconds: 0.4,
    inputTokens: 120,
    outputTokens: 30,
  });
  telemetry.recordAnomaly('latency_spike');
  // Label values with characters that need escaping.
  telemetry.recordCacheHit('weird\\name "x"');
  // An instrument from outside the catalog, with a dotted name and an unsorted histogram.
  const meter = provider.getMeter('other-library', '1.2.3');
  meter.createCounter('other.requests').add(3, { route: '/a' });
  meter.createUpDownCounter('other.queue').add(-2);
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}

describe('serializePrometheus', () => {
  it('produces exactly the text of the stock OpenTelemetry serializer, without scope labels', async () => {
    const resourceMetrics = await populatedMetrics();
    const stock = new PrometheusSerializer('', false, undefined, false, true).serialize(resourceMetrics);
    expect(serializePrometheus(resourceMetrics)).toBe(stock);
  });

  it('produces exactly the text of the stock serializer with scope labels', async () => {
    const resourceMetrics = await populatedMetrics();
    const stock = new PrometheusSerializer('', false, undefined, false, false).serialize(resourceMetrics);
    expect(serializePrometheus(resourceMetrics, { withScopeInfo: true })).toBe(stock);
  });

  it('streams large registries in pieces of at most POINTS_PER_CHUNK data points, same text', async () => {
    // Producer export: the SDK's own per-instrument series limit (2000) does not apply.
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 5000 });
    const reader = new PullReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
    new MeterProvider({ readers: [reader] });
    for (let index = 0; index < 2600; index++) {
      telemetry.recordProviderResponseTime(`provider-${index}`, index / 1000);
      telemetry.setProviderHealthScore(`provider-${index}`, 0.5);
    }
    const { resourceMetrics } = await reader.collect();
    const pieces = [...prometheusChunks(resourceMetrics)];
    expect(pieces.length).toBeGreaterThanOrEqual(Math.ceil(5200 / POINTS_PER_CHUNK));
    expect(pieces.join('')).toBe(serializePrometheus(resourceMetrics));
    for (const piece of pieces)
      expect(
        piece.split('\n').filter((line) => line.startsWith('provider_response_time_seconds_count')).length,
      ).toBeLessThanOrEqual(POINTS_PER_CHUNK);
    const openMetricsPieces = [...openMetricsChunks(resourceMetrics)];
    expect(openMetricsPieces.length).toBeGreaterThan(5);
    expect(openMetricsPieces.join('')).toBe(serializeOpenMetrics(resourceMetrics));
  });

  it('is stable across scrapes (label strings are cached per series)', async () => {
    const resourceMetrics = await populatedMetrics();
    expect(serializePrometheus(resourceMetrics)).toBe(serializePrometheus(resourceMetrics));
  });

  it('keeps only the metrics a filter selects and says so when nothing is left', async () => {
    const resourceMetrics = await populatedMetrics();
    const text = serializePrometheus(resourceMetrics, { filter: (name) => name === 'gatewayz_circuit_breaker_state' });
    expect(text).toContain('gatewayz_circuit_breaker_state{provider="anthropic",state="half_open"} 1');
    expect(text).not.toContain('provider_response_time_seconds');
    expect(serializePrometheus(resourceMetrics, { filter: () => false, withoutTargetInfo: true })).toBe(
      '# no registered metrics\n',
    );
  });

  it('escapes label values and exposes counters with _total', async () => {
    const text = serializePrometheus(await populatedMetrics());
    expect(text).toContain('cache_hits_total{cache="weird\\\\name \\"x\\""} 1');
    expect(text).toContain('gatewayz_cost_by_provider_total{provider="openai"} 0.125');
    expect(text).toContain('other_requests_total{route="/a"} 3');
    expect(text).toContain('deployment_environment="test \\"quoted\\"\\nline"');
  });

  it.skipIf(!componentAvailable('promtool'))(
    'passes promtool check metrics (only the known subscription_count lint)',
    async () => {
      const result = await promtoolCheckMetrics(serializePrometheus(await populatedMetrics()));
      const unexpected = result.problems.filter((line) => !line.startsWith('subscription_count '));
      expect(unexpected).toEqual([]);
    },
  );
});
