import { DataPointType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it, vi } from 'vitest';
import { HTTP_LATENCY_BUCKETS, LLM_LATENCY_BUCKETS, SERVER_LATENCY_BUCKETS } from '../src/metrics/index.js';
import { bucketCount, createMetricsHarness, telemetryPerTest } from './helpers.js';
import { useSynchronousContext } from '../../../test-support/synchronous-context.js';

const setup = telemetryPerTest();

describe('GatewayTelemetry provider helpers', () => {
  it('records provider response times in a histogram with the LLM latency buckets', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordProviderResponseTime('openai', 0.04);
    telemetry.recordProviderResponseTime('openai', 0.05); // upper bounds are inclusive
    telemetry.recordProviderResponseTime('openai', 0.3);
    telemetry.recordProviderResponseTime('openai', 150);
    telemetry.recordProviderResponseTime('anthropic', 2);

    const collected = await collect();
    const metric = collected.require('provider_response_time_seconds');
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric.descriptor.unit).toBe('s');
    expect(collected.points('provider_response_time_seconds')).toHaveLength(2);

    const openai = collected.histogram('provider_response_time_seconds', { provider: 'openai' });
    expect(openai).toBeDefined();
    if (openai === undefined) return;
    expect(openai.buckets.boundaries).toEqual([...LLM_LATENCY_BUCKETS]);
    expect(openai.count).toBe(4);
    expect(openai.sum).toBeCloseTo(150.39, 10);
    expect(openai.min).toBe(0.04);
    expect(openai.max).toBe(150);
    expect(bucketCount(openai, 0.05)).toBe(2);
    expect(bucketCount(openai, 0.5)).toBe(1);
    expect(bucketCount(openai, Infinity)).toBe(1);
    expect(openai.buckets.counts.reduce((sum, count) => sum + count, 0)).toBe(4);

    const anthropic = collected.histogram('provider_response_time_seconds', { provider: 'anthropic' });
    expect(anthropic?.count).toBe(1);
    expect(anthropic && bucketCount(anthropic, 2)).toBe(1);
  });

  it('keeps the last value of the provider health score gauge, per provider', async () => {
    const { telemetry, collect } = setup();
    telemetry.setProviderHealthScore('openai', 0.9);
    telemetry.setProviderHealthScore('openai', 0.7);
    telemetry.setProviderHealthScore('anthropic', 0.95);

    const collected = await collect();
    expect(collected.require('gatewayz_provider_health_score').dataPointType).toBe(DataPointType.GAUGE);
    expect(collected.value('gatewayz_provider_health_score', { provider: 'openai' })).toBe(0.7);
    expect(collected.value('gatewayz_provider_health_score', { provider: 'anthropic' })).toBe(0.95);
    expect(collected.points('gatewayz_provider_health_score')).toHaveLength(2);
  });

  it('sets provider availability from booleans and numbers', async () => {
    const { telemetry, collect } = setup();
    telemetry.setProviderAvailability('openai', true);
    telemetry.setProviderAvailability('anthropic', false);
    telemetry.setProviderAvailability('groq', 1);
    telemetry.setProviderAvailability('groq', 0);

    const collected = await collect();
    expect(collected.require('provider_availability').dataPointType).toBe(DataPointType.GAUGE);
    expect(collected.value('provider_availability', { provider: 'openai' })).toBe(1);
    expect(collected.value('provider_availability', { provider: 'anthropic' })).toBe(0);
    expect(collected.value('provider_availability', { provider: 'groq' })).toBe(0);
  });

  it('sets the provider error rate gauge', async () => {
    const { telemetry, collect } = setup();
    telemetry.setProviderErrorRate('openai', 0.25);
    telemetry.setProviderErrorRate('openai', 0.05);
    const collected = await collect();
    expect(collected.value('provider_error_rate', { provider: 'openai' })).toBe(0.05);
  });

  it('counts anomalies by type, one by default or a given count', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordAnomaly('latency_spike');
    telemetry.recordAnomaly('latency_spike', 3);
    telemetry.recordAnomaly('error_surge');

    const collected = await collect();
    const metric = collected.require('gatewayz_detected_anomalies');
    expect(metric.dataPointType).toBe(DataPointType.SUM);
    expect(metric.dataPointType === DataPointType.SUM && metric.isMonotonic).toBe(true);
    expect(collected.value('gatewayz_detected_anomalies', { type: 'latency_spike' })).toBe(4);
    expect(collected.value('gatewayz_detected_anomalies', { type: 'error_surge' })).toBe(1);
  });
});

describe('GatewayTelemetry model helpers', () => {
  it('sets model uptime and token efficiency gauges', async () => {
    const { telemetry, collect } = setup();
    telemetry.setModelUptime24h('gpt-4o', 0.999);
    telemetry.setModelUptime24h('gpt-4o', 0.98);
    telemetry.setTokenEfficiency('gpt-4o', 2.5);

    const collected = await collect();
    expect(collected.require('gatewayz_model_uptime_24h').dataPointType).toBe(DataPointType.GAUGE);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBe(0.98);
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(2.5);
  });

  it('counts model inferences by status and observes their duration by provider and model', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordModelInference('openai', 'gpt-4o', 'success', 1.2);
    telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.7);
    telemetry.recordModelInference('openai', 'gpt-4o', 'timeout', 30);
    telemetry.recordModelInference('openai', 'gpt-4o', 'error');

    const collected = await collect();
    expect(
      collected.value('model_inference_requests', { provider: 'openai', model: 'gpt-4o', status: 'success' }),
    ).toBe(2);
    expect(
      collected.value('model_inference_requests', { provider: 'openai', model: 'gpt-4o', status: 'timeout' }),
    ).toBe(1);
    expect(collected.value('model_inference_requests', { provider: 'openai', model: 'gpt-4o', status: 'error' })).toBe(
      1,
    );

    const duration = collected.histogram('model_inference_duration_seconds', { provider: 'openai', model: 'gpt-4o' });
    expect(duration?.count).toBe(3); // the call without a duration is counted but not observed
    expect(duration?.sum).toBeCloseTo(31.9, 10);
    expect(duration?.buckets.boundaries).toEqual([...LLM_LATENCY_BUCKETS]);
    expect(duration && bucketCount(duration, 30)).toBe(1);
    expect(duration && bucketCount(duration, 1.5)).toBe(1);
    expect(duration && bucketCount(duration, 0.75)).toBe(1);
  });
});

describe('GatewayTelemetry business helpers', () => {
  it('accumulates 1000 increments of 0.001 USD exactly (within float tolerance)', async () => {
    const { telemetry, collect } = setup();
    for (let index = 0; index < 1000; index++) telemetry.incrementCostByProvider('openai', 0.001);
    telemetry.incrementCostByProvider('anthropic', 0.25);

    const collected = await collect();
    const metric = collected.require('gatewayz_cost_by_provider');
    expect(metric.dataPointType).toBe(DataPointType.SUM);
    expect(metric.descriptor.unit).toBe('USD');
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBeCloseTo(1, 9);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'anthropic' })).toBe(0.25);
  });

  it('reports counters cumulatively across collections', async () => {
    const { telemetry, collect } = setup();
    telemetry.incrementCostByProvider('openai', 1);
    expect((await collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1);
    telemetry.incrementCostByProvider('openai', 2);
    expect((await collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(3);
  });

  it('counts tokens by provider, model and direction', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 100);
    telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 20);
    telemetry.recordTokensUsed('openai', 'gpt-4o', 'output', 7);

    const collected = await collect();
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(120);
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'output' })).toBe(7);
  });

  it('counts credits by provider and model', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordCreditsUsed('openai', 'gpt-4o', 1.5);
    telemetry.recordCreditsUsed('openai', 'gpt-4o', 2.5);
    telemetry.recordCreditsUsed('openai', 'gpt-4o-mini', 0.1);

    const collected = await collect();
    expect(collected.value('credits_used', { provider: 'openai', model: 'gpt-4o' })).toBe(4);
    expect(collected.value('credits_used', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(0.1);
  });

  it('sets the label-less business gauges', async () => {
    const { telemetry, collect } = setup();
    telemetry.setTrialActiveCount(12);
    telemetry.setTrialActiveCount(11);
    telemetry.setActiveApiKeys(340);
    telemetry.setSubscriptionCount(57);

    const collected = await collect();
    for (const name of ['trial_active', 'active_api_keys', 'subscription_count']) {
      expect(collected.require(name).dataPointType, name).toBe(DataPointType.GAUGE);
      expect(collected.points(name), name).toHaveLength(1);
    }
    expect(collected.value('trial_active', {})).toBe(11);
    expect(collected.value('active_api_keys', {})).toBe(340);
    expect(collected.value('subscription_count', {})).toBe(57);
  });
});

describe('GatewayTelemetry recordTokenUsage', () => {
  it('adds both token directions and sets efficiency to total output / total input for the model', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordTokenUsage('openai', 'gpt-4o', 100, 50);
    let collected = await collect();
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(0.5);

    telemetry.recordTokenUsage('openai', 'gpt-4o', 300, 250);
    collected = await collect();
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(400);
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'output' })).toBe(300);
    // (50 + 250) / (100 + 300), not the mean of the per-call ratios (0.5 and 0.833).
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(0.75);
  });

  it('aggregates efficiency per model across providers while tokens stay per provider', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordTokenUsage('openai', 'gpt-4o', 100, 100);
    telemetry.recordTokenUsage('azure', 'gpt-4o', 300, 50);
    telemetry.recordTokenUsage('anthropic', 'claude-3-5-sonnet', 10, 40);

    const collected = await collect();
    expect(collected.value('tokens_used', { provider: 'azure', model: 'gpt-4o', token_type: 'input' })).toBe(300);
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(100);
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(150 / 400);
    expect(collected.value('gatewayz_token_efficiency', { model: 'claude-3-5-sonnet' })).toBe(4);
  });

  it('records nothing when either token count is invalid', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordTokenUsage('openai', 'gpt-4o', 100, 50);
    telemetry.recordTokenUsage('openai', 'gpt-4o', -5, 50);
    telemetry.recordTokenUsage('openai', 'gpt-4o', 10, Number.NaN);

    const collected = await collect();
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(100);
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o', token_type: 'output' })).toBe(50);
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(0.5);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'out_of_range', metric: 'tokens_used' })).toBe(1);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_a_number', metric: 'tokens_used' })).toBe(1);
  });
});

describe('GatewayTelemetry counters without a catalog range', () => {
  it('never go down: a negative add() is dropped and counted', async () => {
    const { telemetry, collect } = setup();
    telemetry.add('telemetryLabelOverflow', 2, { metric: 'tokens_used' });
    telemetry.add('telemetryLabelOverflow', -1, { metric: 'tokens_used' });
    const collected = await collect();
    expect(collected.value('gatewayz_telemetry_label_overflow', { metric: 'tokens_used' })).toBe(2);
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'out_of_range',
        metric: 'gatewayz_telemetry_label_overflow',
      }),
    ).toBe(1);
  });
});

describe('GatewayTelemetry HTTP, database and cache helpers', () => {
  it('counts HTTP requests by method, route and status code and observes their duration', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 200, 0.2);
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 200, 0.004);
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 502, 12);
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 200, 45);
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 200, 301);
    telemetry.recordHttpRequest('GET', '/health', '2xx', 0.001);
    telemetry.recordHttpRequest('GET', '/health', 42, 0.001);

    const collected = await collect();
    const route = { method: 'POST', path: '/v1/chat/completions' };
    expect(collected.value('fastapi_requests', { ...route, status_code: '200' })).toBe(4);
    expect(collected.value('fastapi_requests', { ...route, status_code: '502' })).toBe(1);
    expect(collected.value('fastapi_requests', { method: 'GET', path: '/health', status_code: '2xx' })).toBe(1);
    // Numbers outside 100-599 are not valid status codes and share one label value.
    expect(collected.value('fastapi_requests', { method: 'GET', path: '/health', status_code: 'other' })).toBe(1);

    const duration = collected.histogram('fastapi_requests_duration_seconds', route);
    expect(duration?.buckets.boundaries).toEqual([...HTTP_LATENCY_BUCKETS]);
    expect(duration?.count).toBe(5);
    expect(duration && bucketCount(duration, 0.25)).toBe(1);
    expect(duration && bucketCount(duration, 0.005)).toBe(1);
    // Requests longer than 10 s (a long completion, a stream) keep their place up to 300 s.
    expect(duration && bucketCount(duration, 30)).toBe(1);
    expect(duration && bucketCount(duration, 60)).toBe(1);
    expect(duration && bucketCount(duration, Infinity)).toBe(1);
    expect(collected.histogram('fastapi_requests_duration_seconds', { method: 'GET', path: '/health' })?.count).toBe(2);
  });

  it('tracks requests in progress with an up-down counter', async () => {
    const { telemetry, collect } = setup();
    telemetry.trackHttpRequestInProgress('POST', '/v1/messages', 1);
    telemetry.trackHttpRequestInProgress('POST', '/v1/messages', 1);
    telemetry.trackHttpRequestInProgress('POST', '/v1/messages', -1);
    telemetry.trackHttpRequestInProgress('GET', '/health', 1);
    telemetry.trackHttpRequestInProgress('GET', '/health', -1);

    const collected = await collect();
    const metric = collected.require('fastapi_requests_in_progress');
    expect(metric.dataPointType).toBe(DataPointType.SUM);
    expect(metric.dataPointType === DataPointType.SUM && metric.isMonotonic).toBe(false);
    expect(collected.value('fastapi_requests_in_progress', { method: 'POST', path: '/v1/messages' })).toBe(1);
    expect(collected.value('fastapi_requests_in_progress', { method: 'GET', path: '/health' })).toBe(0);
  });

  it('observes database query durations by operation with the server latency buckets', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordDatabaseQuery('record_model_calls', 0.003);
    telemetry.recordDatabaseQuery('record_model_calls', 0.003);
    telemetry.recordDatabaseQuery('get_all_model_health', 0.8);

    const collected = await collect();
    const writes = collected.histogram('database_query_duration_seconds', { operation: 'record_model_calls' });
    expect(writes?.count).toBe(2);
    expect(writes?.sum).toBeCloseTo(0.006, 12);
    expect(writes?.buckets.boundaries).toEqual([...SERVER_LATENCY_BUCKETS]);
    expect(writes && bucketCount(writes, 0.005)).toBe(2);
    const reads = collected.histogram('database_query_duration_seconds', { operation: 'get_all_model_health' });
    expect(reads && bucketCount(reads, 1)).toBe(1);
  });

  it('counts cache hits and misses by cache name, "default" when none is given', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordCacheHit();
    telemetry.recordCacheHit();
    telemetry.recordCacheHit('responses');
    telemetry.recordCacheMiss();
    telemetry.recordCacheMiss('responses');
    telemetry.recordCacheMiss('responses');

    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'default' })).toBe(2);
    expect(collected.value('cache_hits', { cache: 'responses' })).toBe(1);
    expect(collected.value('cache_misses', { cache: 'default' })).toBe(1);
    expect(collected.value('cache_misses', { cache: 'responses' })).toBe(2);
  });
});

describe('GatewayTelemetry generic API', () => {
  it('adds, sets and records by catalog key', async () => {
    const { telemetry, collect } = setup();
    telemetry.add('cacheHits', 5, { cache: 'embeddings' });
    telemetry.add('cacheHits', 2, { cache: 'embeddings' });
    telemetry.set('providerHealthScore', 0.42, { provider: 'mistral' });
    telemetry.record('databaseQueryDuration', 0.02, { operation: 'select' });

    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'embeddings' })).toBe(7);
    expect(collected.value('gatewayz_provider_health_score', { provider: 'mistral' })).toBe(0.42);
    expect(collected.histogram('database_query_duration_seconds', { operation: 'select' })?.count).toBe(1);
  });

  it('reports current values and series counts in process', () => {
    const { telemetry } = setup();
    expect(telemetry.currentValue('cacheHits', { cache: 'default' })).toBeUndefined();
    telemetry.recordCacheHit();
    telemetry.recordCacheHit();
    telemetry.setCircuitBreakerState('openai', 'open');
    expect(telemetry.currentValue('cacheHits', { cache: 'default' })).toBe(2);
    expect(telemetry.currentValue('circuitBreakerState', { provider: 'openai', state: 'open' })).toBe(1);
    expect(telemetry.seriesCount('cacheHits')).toBe(1);
    expect(telemetry.seriesCount('circuitBreakerState')).toBe(3);
    expect(telemetry.seriesCount('cacheMisses')).toBe(0);
  });

  it('is bound when given a meter provider, and exports nothing before anything is recorded', async () => {
    const { telemetry, collect } = setup();
    expect(telemetry.isBound).toBe(true);
    expect((await collect()).metrics).toHaveLength(0);
  });

  it('keeps instances independent', async () => {
    const first = setup();
    const second = setup();
    first.telemetry.incrementCostByProvider('openai', 1);
    second.telemetry.incrementCostByProvider('openai', 5);
    expect((await first.collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1);
    expect((await second.collect()).value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(5);
  });
});

describe('GatewayTelemetry continueFrom', () => {
  it('starts from an unbound instance: its options, series, token totals and exemplars', async () => {
    const { GatewayTelemetry, TelemetryConfigurationError } = await import('../src/index.js');
    const { ROOT_CONTEXT, TraceFlags, context, trace } = await import('@opentelemetry/api');
    const earlier = new GatewayTelemetry({ exportVia: 'producer', prefix: 'acme_', maxSeriesPerMetric: 3 });
    earlier.incrementCostByProvider('openai', 0.25);
    earlier.setCircuitBreakerState('openai', 'half_open');
    earlier.recordTokenUsage('openai', 'gpt-4o-mini', 100, 50);
    // Exemplar capture reads the active span from the context.
    const disableContext = useSynchronousContext();
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };
    try {
      context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
        earlier.recordProviderResponseTime('openai', 0.3),
      );
    } finally {
      disableContext();
    }

    const later = new GatewayTelemetry({ exportVia: 'producer', continueFrom: earlier });
    expect(later.prefix).toBe('acme_');
    expect(later.maxSeriesPerMetric).toBe(3);
    expect(later.startTimeMs).toBe(earlier.startTimeMs);
    expect(later.currentValue('costByProvider', { provider: 'openai' })).toBe(0.25);
    expect(later.currentValue('circuitBreakerState', { provider: 'openai', state: 'half_open' })).toBe(1);
    later.incrementCostByProvider('openai', 0.5);
    later.recordTokenUsage('openai', 'gpt-4o-mini', 100, 150);
    expect(later.currentValue('costByProvider', { provider: 'openai' })).toBe(0.75);
    expect(later.currentValue('tokenEfficiency', { model: 'gpt-4o-mini' })).toBe(1); // (50 + 150) / (100 + 100)
    // Both write the same series from now on (see test/regression/continued-instance.test.ts).
    expect(earlier.currentValue('costByProvider', { provider: 'openai' })).toBe(0.75);
    const histogram = later.exportableMetrics().find((metric) => metric.name === 'provider_response_time_seconds');
    const cell = histogram?.cells[0];
    expect(cell?.histogram?.count).toBe(1);
    expect(cell?.exemplars?.slots.filter((slot) => slot !== undefined).map((slot) => slot?.spanId)).toEqual([
      '00f067aa0ba902b7',
    ]);

    const { telemetry: bound } = setup();
    expect(() => new GatewayTelemetry({ continueFrom: bound })).toThrow(TelemetryConfigurationError);
  });

  it('goes on counting the rate-limit windows it took over down, and refilling them', async () => {
    const { GatewayTelemetry } = await import('../src/index.js');
    const now = Date.parse('2026-12-03T16:00:00Z');
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now });
    const harness = createMetricsHarness();
    try {
      // What startTelemetry() does with the shared instance helpers used before the SDK started.
      const earlier = new GatewayTelemetry({ exportVia: 'producer' });
      earlier.recordRateLimits('openai', { requests: { limit: 500, remaining: 0, resetSeconds: 20 }, malformed: [] });
      new GatewayTelemetry({ meterProvider: harness.provider, continueFrom: earlier });
      const requests = { provider: 'openai', limit_type: 'requests' };
      vi.advanceTimersByTime(5_000);
      let collected = await harness.collect();
      expect(collected.value('gatewayz_provider_ratelimit_reset_seconds', requests)).toBe(15);
      expect(collected.value('gatewayz_provider_ratelimit_remaining', requests)).toBe(0);
      vi.advanceTimersByTime(25_000);
      collected = await harness.collect();
      expect(collected.value('gatewayz_provider_ratelimit_reset_seconds', requests)).toBe(0);
      expect(collected.value('gatewayz_provider_ratelimit_remaining', requests)).toBe(500);
    } finally {
      vi.useRealTimers();
      await harness.shutdown();
    }
  });
});
