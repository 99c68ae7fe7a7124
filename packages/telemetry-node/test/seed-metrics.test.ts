import {
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
  recordTokensUsed,
  setActiveApiKeys,
  setCircuitBreakerState,
  setModelUptime24h,
  setProviderAvailability,
  setProviderErrorRate,
  setProviderHealthScore,
  setSubscriptionCount,
  setTokenEfficiency,
  setTrialActiveCount,
} from '@gatewayz/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentAvailable, promtoolCheckMetrics } from '../../../test-support/prometheus.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

/** Every metric the seed documents name, with the Prometheus type and labels they describe. */
const SEED_METRICS: ReadonlyArray<[name: string, type: string, labels: string[]]> = [
  ['gatewayz_provider_health_score', 'gauge', ['provider']],
  ['provider_availability', 'gauge', ['provider']],
  ['provider_error_rate', 'gauge', ['provider']],
  ['provider_response_time_seconds', 'histogram', ['provider']],
  ['gatewayz_model_uptime_24h', 'gauge', ['model']],
  ['gatewayz_cost_by_provider_total', 'counter', ['provider']],
  ['gatewayz_token_efficiency', 'gauge', ['model']],
  ['gatewayz_circuit_breaker_state', 'gauge', ['provider', 'state']],
  ['gatewayz_detected_anomalies_total', 'counter', ['type']],
  ['trial_active', 'gauge', []],
  ['active_api_keys', 'gauge', []],
  ['subscription_count', 'gauge', []],
  ['tokens_used_total', 'counter', ['provider', 'model', 'token_type']],
  ['credits_used_total', 'counter', ['provider', 'model']],
  ['model_inference_requests_total', 'counter', ['provider', 'model', 'status']],
  ['model_inference_duration_seconds', 'histogram', ['provider', 'model']],
  ['fastapi_requests_duration_seconds', 'histogram', ['method', 'path']],
  ['database_query_duration_seconds', 'histogram', ['operation']],
  ['cache_hits_total', 'counter', ['cache']],
  ['cache_misses_total', 'counter', ['cache']],
  [
    'gen_ai_client_operation_duration',
    'histogram',
    ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_response_model'],
  ],
  [
    'gen_ai_client_token_usage',
    'histogram',
    [
      'gen_ai_operation_name',
      'gen_ai_provider_name',
      'gen_ai_request_model',
      'gen_ai_response_model',
      'gen_ai_token_type',
    ],
  ],
];

let running: RunningTelemetry;
let text: string;

beforeAll(async () => {
  running = startTelemetry({ traces: false, hostMetrics: false, env: {} });
  recordProviderResponseTime('openrouter', 0.42);
  setProviderHealthScore('openrouter', 0.85);
  setProviderAvailability('openrouter', 1);
  setProviderErrorRate('openrouter', 0.05);
  setModelUptime24h('gpt-4o-mini', 0.99);
  incrementCostByProvider('openrouter', 0.045);
  setTokenEfficiency('gpt-4o-mini', 0.25);
  setCircuitBreakerState('openrouter', 'closed');
  recordAnomaly('latency_spike');
  setTrialActiveCount(12);
  setActiveApiKeys(234);
  setSubscriptionCount(45);
  recordTokensUsed('openrouter', 'gpt-4o-mini', 'input', 100);
  recordCreditsUsed('openrouter', 'gpt-4o-mini', 0.045);
  recordModelInference('openrouter', 'gpt-4o-mini', 'success', 0.42);
  recordHttpRequest('POST', '/v1/chat/completions', 200, 0.43);
  recordDatabaseQuery('get_model_health', 0.003);
  recordCacheHit('responses');
  recordCacheMiss('responses');
  recordGenAiOperation({
    operationName: 'chat',
    providerName: 'openrouter',
    requestModel: 'gpt-4o-mini',
    durationSeconds: 0.42,
    inputTokens: 100,
    outputTokens: 25,
  });
  text = await (await running.metricsHandler(new Request('http://localhost/metrics'))).text();
});
afterAll(async () => running.shutdown());

describe('every metric named in the seed documents', () => {
  it.each(SEED_METRICS)('%s is exposed as a %s with labels %j', (name, type, labels) => {
    expect(text).toContain(`# TYPE ${name} ${type}\n`);
    const sampleName = type === 'histogram' ? `${name}_count` : name;
    const sample = text
      .split('\n')
      .find((line) => line.startsWith(`${sampleName}{`) || line.startsWith(`${sampleName} `));
    expect(sample, `no sample for ${sampleName}`).toBeDefined();
    const labelNames = [...(sample as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((match) => match[1]);
    expect(labelNames).toEqual(labels);
  });

  it('records through the shared instance bound by startTelemetry', () => {
    expect(getTelemetry()).toBe(running.telemetry);
  });

  it.skipIf(!componentAvailable('promtool'))(
    'passes promtool check metrics except the documented subscription_count lint',
    async () => {
      const result = await promtoolCheckMetrics(text);
      const unexpected = result.problems.filter((line) => !line.startsWith('subscription_count '));
      expect(unexpected).toEqual([]);
    },
  );
});
