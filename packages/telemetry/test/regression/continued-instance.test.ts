import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GatewayTelemetry,
  bindCircuitBreakerMetrics,
  getTelemetry,
  incrementCostByProvider,
  recordProviderResponseTime,
  setTelemetry,
} from '../../src/index.js';
import { FakeBreaker, createMetricsHarness, type CollectedMetrics, type MetricsHarness } from '../helpers.js';

// An instance captured before the SDK started (`const telemetry = getTelemetry()` at module load, or
// a breaker binding, tracker or detector that defaulted to it) used to bind itself to the SDK's
// global meter provider on its next record, beside the instance that continued it: the scrape then
// held two sets of series of the same names and kept one of them.

const harnesses: MetricsHarness[] = [];

afterEach(async () => {
  setTelemetry(undefined);
  metrics.disable();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

/** What `startTelemetry()` does: an SDK meter provider made global, and an instance continuing the shared one. */
function startSdk(): { harness: MetricsHarness; telemetry: GatewayTelemetry } {
  const harness = createMetricsHarness();
  harnesses.push(harness);
  metrics.setGlobalMeterProvider(harness.provider);
  const telemetry = new GatewayTelemetry({ meterProvider: harness.provider, continueFrom: getTelemetry() });
  setTelemetry(telemetry);
  return { harness, telemetry };
}

/** Names of the instruments exported more than once in one collection. */
function duplicateNames(collected: CollectedMetrics): string[] {
  return collected.names.filter((name, index) => collected.names.indexOf(name) !== index);
}

describe('an instance continued by another (continueFrom)', () => {
  it('goes on recording into the successor, which reports every value once', async () => {
    setTelemetry(undefined);
    const captured = getTelemetry(); // a module's `const telemetry = getTelemetry()`, before the SDK starts
    captured.incrementCostByProvider('openai', 1);

    const { harness, telemetry } = startSdk();
    captured.incrementCostByProvider('openai', 2);
    incrementCostByProvider('openai', 4); // a module-level helper, on the new shared instance
    captured.recordProviderResponseTime('openai', 0.3);
    recordProviderResponseTime('openai', 0.5);

    const collected = await harness.collect();
    expect(duplicateNames(collected)).toEqual([]);
    expect(collected.points('gatewayz_cost_by_provider')).toHaveLength(1);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(7);
    const latency = collected.histogram('provider_response_time_seconds', { provider: 'openai' });
    expect(latency?.count).toBe(2);
    expect(latency?.sum).toBeCloseTo(0.8);
    expect(captured.isBound).toBe(false);
    expect(captured.continuedBy).toBe(telemetry);
    expect(captured.currentValue('costByProvider', { provider: 'openai' })).toBe(7);
  });

  it('never binds to a meter provider again, even when asked', async () => {
    const [harness, other] = [createMetricsHarness(), createMetricsHarness()];
    harnesses.push(harness, other);
    const earlier = new GatewayTelemetry();
    const later = new GatewayTelemetry({ meterProvider: harness.provider, continueFrom: earlier });
    expect(earlier.bindMeterProvider(other.provider)).toBe(false);
    earlier.recordCacheHit('responses');
    expect((await other.collect()).names).toEqual([]);
    expect((await harness.collect()).value('cache_hits', { cache: 'responses' })).toBe(1);
    expect(later.isBound).toBe(true);
  });

  it('keeps the collection hooks registered on the earlier instance: a breaker bound before start', async () => {
    setTelemetry(undefined);
    let nowMs = 0;
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', undefined, { now: () => nowMs });
    breaker.trip();

    const { harness } = startSdk();
    nowMs = 10_000;
    const collected = await harness.collect();
    expect(duplicateNames(collected)).toEqual([]);
    expect(collected.value('gatewayz_circuit_breaker_open_seconds', { provider: 'openai' })).toBe(10);
    expect(collected.value('gatewayz_circuit_breaker_state', { provider: 'openai', state: 'open' })).toBe(1);
  });

  it('hands on to the latest instance of a chain, whichever instance of it is continued', () => {
    const first = new GatewayTelemetry({ exportVia: 'producer' });
    const second = new GatewayTelemetry({ exportVia: 'producer', continueFrom: first });
    const third = new GatewayTelemetry({ exportVia: 'producer', continueFrom: first });
    expect(second.continuedBy).toBe(third);
    for (const instance of [first, second, third]) {
      instance.incrementCostByProvider('openai', 1);
      instance.recordProviderResponseTime('openai', 0.2);
    }
    expect(third.currentValue('costByProvider', { provider: 'openai' })).toBe(3);
    const latency = third.exportableMetrics().find((metric) => metric.name === 'provider_response_time_seconds');
    expect(latency?.cells.map((cell) => cell.histogram?.count)).toEqual([3]);
  });
});
