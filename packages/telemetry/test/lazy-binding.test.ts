import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '../src/index.js';
import { createMetricsHarness, type MetricsHarness } from './helpers.js';

const harnesses: MetricsHarness[] = [];

function harness(): MetricsHarness {
  const created = createMetricsHarness();
  harnesses.push(created);
  return created;
}

afterEach(async () => {
  metrics.disable();
  await Promise.all(harnesses.splice(0).map((created) => created.shutdown()));
});

describe('lazy binding to the global meter provider', () => {
  it('reports values recorded before the SDK started once a global provider is registered', async () => {
    const telemetry = new GatewayTelemetry();
    expect(telemetry.isBound).toBe(false);

    telemetry.incrementCostByProvider('openai', 2);
    telemetry.setProviderHealthScore('openai', 0.9);
    telemetry.recordProviderResponseTime('openai', 5); // histogram before binding: not kept
    expect(telemetry.isBound).toBe(false);

    const sdk = harness();
    expect(metrics.setGlobalMeterProvider(sdk.provider)).toBe(true);

    telemetry.recordProviderResponseTime('openai', 0.4);
    expect(telemetry.isBound).toBe(true);

    const collected = await sdk.collect();
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(2);
    expect(collected.value('gatewayz_provider_health_score', { provider: 'openai' })).toBe(0.9);
    const latency = collected.histogram('provider_response_time_seconds', { provider: 'openai' });
    expect(latency?.count).toBe(1);
    expect(latency?.sum).toBe(0.4);
  });

  it('keeps accumulating counters across the moment of binding', async () => {
    const telemetry = new GatewayTelemetry();
    telemetry.recordCacheHit();
    const sdk = harness();
    metrics.setGlobalMeterProvider(sdk.provider);
    telemetry.recordCacheHit();
    telemetry.recordCacheHit();
    expect((await sdk.collect()).value('cache_hits', { cache: 'default' })).toBe(3);
  });

  it('binds on the first counter recording after registration too', async () => {
    const telemetry = new GatewayTelemetry();
    const sdk = harness();
    metrics.setGlobalMeterProvider(sdk.provider);
    telemetry.recordAnomaly('latency_spike');
    expect(telemetry.isBound).toBe(true);
    expect((await sdk.collect()).value('gatewayz_detected_anomalies', { type: 'latency_spike' })).toBe(1);
  });

  it('bindMeterProvider returns false for the no-op provider and true for an SDK provider', async () => {
    const telemetry = new GatewayTelemetry();
    expect(telemetry.bindMeterProvider(metrics.getMeterProvider())).toBe(false);
    expect(telemetry.isBound).toBe(false);

    const sdk = harness();
    expect(telemetry.bindMeterProvider(sdk.provider)).toBe(true);
    expect(telemetry.isBound).toBe(true);
    // Binding the same provider again is a no-op: no duplicate instruments or observations.
    expect(telemetry.bindMeterProvider(sdk.provider)).toBe(true);
    telemetry.incrementCostByProvider('openai', 1.5);
    telemetry.recordProviderResponseTime('openai', 1);

    const collected = await sdk.collect();
    expect(collected.names.filter((name) => name === 'gatewayz_cost_by_provider')).toHaveLength(1);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1.5);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'openai' })?.count).toBe(1);
  });

  it('an instance given a meter provider ignores the global one', async () => {
    const explicit = harness();
    const global = harness();
    metrics.setGlobalMeterProvider(global.provider);
    const telemetry = new GatewayTelemetry({ meterProvider: explicit.provider });
    telemetry.incrementCostByProvider('openai', 1);
    telemetry.recordProviderResponseTime('openai', 1);

    expect((await global.collect()).metrics).toHaveLength(0);
    const collected = await explicit.collect();
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'openai' })?.count).toBe(1);
  });

  it('an instance given the no-op provider stays unbound and never picks up the global one', async () => {
    const telemetry = new GatewayTelemetry({ meterProvider: metrics.getMeterProvider() });
    expect(telemetry.isBound).toBe(false);
    const sdk = harness();
    metrics.setGlobalMeterProvider(sdk.provider);
    telemetry.incrementCostByProvider('openai', 1);
    expect(telemetry.isBound).toBe(false);
    expect((await sdk.collect()).metrics).toHaveLength(0);
  });
});
