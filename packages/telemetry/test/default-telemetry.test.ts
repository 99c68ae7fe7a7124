import { afterEach, describe, expect, it } from 'vitest';
import {
  GatewayTelemetry,
  configureTelemetry,
  getTelemetry,
  incrementCostByProvider,
  recordAnomaly,
  recordCacheHit,
  recordCacheMiss,
  recordCreditsUsed,
  recordDatabaseQuery,
  recordGenAiOperation,
  recordHttpRequest,
  recordModelInference,
  recordProviderResponseTime,
  recordTokenUsage,
  recordTokensUsed,
  setActiveApiKeys,
  setCircuitBreakerState,
  setModelUptime24h,
  setProviderAvailability,
  setProviderErrorRate,
  setProviderHealthScore,
  setSubscriptionCount,
  setTelemetry,
  setTokenEfficiency,
  setTrialActiveCount,
  trackHttpRequestInProgress,
} from '../src/index.js';
import { createMetricsHarness, type MetricsHarness } from './helpers.js';

const harnesses: MetricsHarness[] = [];
const original = getTelemetry();

function useFreshSharedInstance(options: ConstructorParameters<typeof GatewayTelemetry>[0] = {}) {
  const harness = createMetricsHarness();
  harnesses.push(harness);
  const telemetry = configureTelemetry({ ...options, meterProvider: harness.provider });
  return { telemetry, collect: () => harness.collect() };
}

afterEach(async () => {
  setTelemetry(original);
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

describe('shared telemetry instance', () => {
  it('getTelemetry creates one instance on first use and returns it afterwards', () => {
    expect(getTelemetry()).toBeInstanceOf(GatewayTelemetry);
    expect(getTelemetry()).toBe(getTelemetry());
  });

  it('configureTelemetry replaces the shared instance with one built from the options', () => {
    const telemetry = configureTelemetry({ prefix: 'acme_', maxSeriesPerMetric: 5 });
    expect(getTelemetry()).toBe(telemetry);
    expect(telemetry.prefix).toBe('acme_');
    expect(telemetry.maxSeriesPerMetric).toBe(5);
  });

  it('setTelemetry installs an existing instance', () => {
    const telemetry = new GatewayTelemetry();
    setTelemetry(telemetry);
    expect(getTelemetry()).toBe(telemetry);
  });

  it('values recorded on a replaced instance stay on it', async () => {
    const first = useFreshSharedInstance();
    incrementCostByProvider('openai', 1);
    const second = useFreshSharedInstance();
    incrementCostByProvider('openai', 5);
    expect((await first.collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1);
    expect((await second.collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(5);
  });
});

describe('module-level helpers delegate to the shared instance', () => {
  it('records every helper on the shared instance', async () => {
    const { collect } = useFreshSharedInstance();
    recordProviderResponseTime('openai', 0.3);
    setProviderHealthScore('openai', 0.91);
    setProviderAvailability('openai', true);
    setProviderErrorRate('openai', 0.02);
    setCircuitBreakerState('openai', 'half_open');
    recordAnomaly('error_surge', 2);
    setModelUptime24h('gpt-4o', 0.99);
    setTokenEfficiency('gpt-4o-mini', 1.25);
    recordModelInference('openai', 'gpt-4o', 'rate_limited', 0.1);
    recordGenAiOperation({
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'gpt-4o',
      durationSeconds: 0.5,
      inputTokens: 3,
    });
    incrementCostByProvider('openai', 0.002);
    recordTokensUsed('anthropic', 'claude', 'output', 9);
    recordTokenUsage('openai', 'gpt-4o', 10, 40);
    recordCreditsUsed('openai', 'gpt-4o', 3);
    setTrialActiveCount(4);
    setActiveApiKeys(8);
    setSubscriptionCount(2);
    recordHttpRequest('POST', '/v1/messages', 201, 0.05);
    trackHttpRequestInProgress('POST', '/v1/messages', 1);
    recordDatabaseQuery('select', 0.01);
    recordCacheHit('responses');
    recordCacheMiss();

    const c = await collect();
    expect(c.histogram('provider_response_time_seconds', { provider: 'openai' })?.count).toBe(1);
    expect(c.value('gatewayz_provider_health_score', { provider: 'openai' })).toBe(0.91);
    expect(c.value('provider_availability', { provider: 'openai' })).toBe(1);
    expect(c.value('provider_error_rate', { provider: 'openai' })).toBe(0.02);
    expect(c.value('gatewayz_circuit_breaker_state', { provider: 'openai', state: 'half_open' })).toBe(1);
    expect(c.value('gatewayz_detected_anomalies', { type: 'error_surge' })).toBe(2);
    expect(c.value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBe(0.99);
    expect(c.value('gatewayz_token_efficiency', { model: 'gpt-4o-mini' })).toBe(1.25);
    expect(c.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(4);
    expect(c.value('model_inference_requests', { provider: 'openai', model: 'gpt-4o', status: 'rate_limited' })).toBe(
      1,
    );
    expect(c.histogram('model_inference_duration_seconds', { provider: 'openai', model: 'gpt-4o' })?.count).toBe(1);
    expect(
      c.histogram('gen_ai.client.operation.duration', {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o',
      })?.count,
    ).toBe(1);
    expect(c.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(0.002);
    expect(c.value('tokens_used', { provider: 'anthropic', model: 'claude', token_type: 'output' })).toBe(9);
    expect(c.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(10);
    expect(c.value('credits_used', { provider: 'openai', model: 'gpt-4o' })).toBe(3);
    expect(c.value('trial_active')).toBe(4);
    expect(c.value('active_api_keys')).toBe(8);
    expect(c.value('subscription_count')).toBe(2);
    expect(c.value('fastapi_requests', { method: 'POST', path: '/v1/messages', status_code: '201' })).toBe(1);
    expect(c.histogram('fastapi_requests_duration_seconds', { method: 'POST', path: '/v1/messages' })?.count).toBe(1);
    expect(c.value('fastapi_requests_in_progress', { method: 'POST', path: '/v1/messages' })).toBe(1);
    expect(c.histogram('database_query_duration_seconds', { operation: 'select' })?.count).toBe(1);
    expect(c.value('cache_hits', { cache: 'responses' })).toBe(1);
    expect(c.value('cache_misses', { cache: 'default' })).toBe(1);
  });

  it('never throws from a module-level helper on bad input', async () => {
    const { collect } = useFreshSharedInstance();
    expect(() => recordProviderResponseTime('openai', Number.NaN)).not.toThrow();
    expect(() => setCircuitBreakerState('openai', 'opened' as 'open')).not.toThrow();
    const c = await collect();
    expect(
      c.value('gatewayz_telemetry_dropped', { reason: 'not_a_number', metric: 'provider_response_time_seconds' }),
    ).toBe(1);
    expect(
      c.value('gatewayz_telemetry_dropped', {
        reason: 'unknown_label_value',
        metric: 'gatewayz_circuit_breaker_state',
      }),
    ).toBe(1);
  });
});
