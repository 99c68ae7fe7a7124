import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import { createTelemetryMetricProducer, serializePrometheus } from '../src/index.js';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The same recordings, with bad input and overflow included. */
function record(telemetry: GatewayTelemetry): void {
  for (let index = 0; index < 300; index++) {
    const provider = ['openai', 'anthropic', 'openrouter'][index % 3] as string;
    telemetry.recordProviderResponseTime(provider, (index % 37) * 0.37);
    telemetry.recordModelInference(provider, `model-${index % 7}`, index % 5 === 0 ? 'error' : 'success', index / 100);
    telemetry.recordTokenUsage(provider, `model-${index % 7}`, index, index * 2);
    telemetry.incrementCostByProvider(provider, 0.0013 * index);
    telemetry.recordGenAiOperation({
      operationName: 'chat',
      providerName: provider,
      requestModel: `model-${index % 7}`,
      durationSeconds: index / 50,
      inputTokens: index,
      outputTokens: 3,
    });
    telemetry.trackHttpRequestInProgress('POST', '/v1/chat/completions', index % 2 === 0 ? 1 : -1);
  }
  telemetry.setCircuitBreakerState('openai', 'half_open');
  telemetry.setProviderHealthScore('openai', 0.91);
  telemetry.setSubscriptionCount(45);
  telemetry.recordProviderResponseTime('openai', Number.NaN);
  for (let index = 0; index < 30; index++) telemetry.recordCacheHit(`cache-${index}`);
}

describe('createTelemetryMetricProducer', () => {
  it('exports exactly what the same recordings produce through OpenTelemetry instruments', async () => {
    const instrumentsReader = new PullReader();
    const viaInstruments = new GatewayTelemetry({
      meterProvider: new MeterProvider({ readers: [instrumentsReader] }),
      maxSeriesPerMetric: 20,
    });
    const viaProducer = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 20 });
    const producerReader = new PullReader({ metricProducers: [createTelemetryMetricProducer(viaProducer)] });
    new MeterProvider({ readers: [producerReader] });
    record(viaInstruments);
    record(viaProducer);
    const expected = serializePrometheus((await instrumentsReader.collect()).resourceMetrics, {
      withoutTargetInfo: true,
    });
    const actual = serializePrometheus((await producerReader.collect()).resourceMetrics, { withoutTargetInfo: true });
    expect(actual).toContain('provider_response_time_seconds_bucket{provider="openai",le="+Inf"} 100');
    expect(actual).toMatch(/^cache_hits_total\{cache="other"\} 1\d$/m);
    expect(actual).toBe(expected);
  });

  it('never creates SDK instruments in producer mode', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider: provider, exportVia: 'producer' });
    telemetry.recordProviderResponseTime('openai', 0.2);
    expect(telemetry.isBound).toBe(false);
    expect((await reader.collect()).resourceMetrics.scopeMetrics).toEqual([]);
  });
});
