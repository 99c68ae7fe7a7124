import { describe, expect, it } from 'vitest';
import { CIRCUIT_BREAKER_STATES, MODEL_CALL_STATUSES, TOKEN_TYPES, type MetricKey } from '../src/index.js';
import { semconv } from '../src/genai/index.js';
import {
  DEFAULT_METRIC_PREFIX,
  HTTP_LATENCY_BUCKETS,
  LLM_LATENCY_BUCKETS,
  METRIC_CATALOG,
  METRIC_CATEGORIES,
  SERVER_LATENCY_BUCKETS,
  catalogEntries,
  instrumentName,
  prometheusName,
  prometheusType,
  sanitizePrometheusName,
  type MetricDefinition,
} from '../src/metrics/index.js';
import { createTelemetry } from './helpers.js';

/** The exposed Prometheus names the seeds and dashboards depend on (DESIGN §1). */
const SEED_PROMETHEUS_NAMES: Partial<Record<MetricKey, string>> = {
  providerHealthScore: 'gatewayz_provider_health_score',
  providerAvailability: 'provider_availability',
  providerErrorRate: 'provider_error_rate',
  providerResponseTime: 'provider_response_time_seconds',
  modelUptime24h: 'gatewayz_model_uptime_24h',
  costByProvider: 'gatewayz_cost_by_provider_total',
  tokenEfficiency: 'gatewayz_token_efficiency',
  circuitBreakerState: 'gatewayz_circuit_breaker_state',
  detectedAnomalies: 'gatewayz_detected_anomalies_total',
  trialActive: 'trial_active',
  activeApiKeys: 'active_api_keys',
  subscriptionCount: 'subscription_count',
  tokensUsed: 'tokens_used_total',
  creditsUsed: 'credits_used_total',
  modelInferenceRequests: 'model_inference_requests_total',
  modelInferenceDuration: 'model_inference_duration_seconds',
  databaseQueryDuration: 'database_query_duration_seconds',
  cacheHits: 'cache_hits_total',
  cacheMisses: 'cache_misses_total',
  httpRequestDuration: 'fastapi_requests_duration_seconds',
  genAiOperationDuration: 'gen_ai_client_operation_duration',
};

const SELF_METRIC_NAMES: Partial<Record<MetricKey, string>> = {
  telemetryDropped: 'gatewayz_telemetry_dropped_total',
  telemetryLabelOverflow: 'gatewayz_telemetry_label_overflow_total',
  providerHealthTrackerErrors: 'gatewayz_provider_health_tracker_errors_total',
  httpRequests: 'fastapi_requests_total',
  httpRequestsInProgress: 'fastapi_requests_in_progress',
  genAiTokenUsage: 'gen_ai_client_token_usage',
};

const entries = catalogEntries();

describe('metric catalog', () => {
  it('lists every catalog key in declaration order', () => {
    expect(entries.map(([key]) => key)).toEqual(Object.keys(METRIC_CATALOG));
    for (const [key, definition] of entries) expect(definition).toBe(METRIC_CATALOG[key]);
  });

  it('gives every key a unique instrument name and a unique Prometheus name', () => {
    for (const prefix of [DEFAULT_METRIC_PREFIX, 'acme_', '']) {
      const names = entries.map(([, definition]) => instrumentName(definition, prefix));
      expect(new Set(names).size).toBe(entries.length);
      const exposed = entries.map(([, definition]) => prometheusName(definition, prefix));
      expect(new Set(exposed).size).toBe(entries.length);
    }
  });

  it.each(Object.entries(SEED_PROMETHEUS_NAMES))('exposes %s as %s', (key, expected) => {
    expect(prometheusName(METRIC_CATALOG[key as MetricKey])).toBe(expected);
  });

  it.each(Object.entries(SELF_METRIC_NAMES))('exposes self-metric %s as %s', (key, expected) => {
    expect(prometheusName(METRIC_CATALOG[key as MetricKey])).toBe(expected);
  });

  it('uses "gatewayz_" as the default prefix', () => {
    expect(DEFAULT_METRIC_PREFIX).toBe('gatewayz_');
    expect(instrumentName(METRIC_CATALOG.providerHealthScore)).toBe('gatewayz_provider_health_score');
  });

  it('applies a custom prefix only to metrics declared as prefixed', () => {
    for (const [key, definition] of entries) {
      const defaultName = prometheusName(definition);
      const customName = prometheusName(definition, 'acme_');
      if (definition.prefixed) {
        expect(customName, key).toBe(defaultName.replace(/^gatewayz_/, 'acme_'));
        expect(customName.startsWith('acme_'), key).toBe(true);
      } else {
        expect(customName, key).toBe(defaultName);
      }
    }
    expect(prometheusName(METRIC_CATALOG.providerHealthScore, 'acme_')).toBe('acme_provider_health_score');
    expect(prometheusName(METRIC_CATALOG.costByProvider, 'acme_')).toBe('acme_cost_by_provider_total');
    expect(prometheusName(METRIC_CATALOG.providerAvailability, 'acme_')).toBe('provider_availability');
    expect(prometheusName(METRIC_CATALOG.tokensUsed, 'acme_')).toBe('tokens_used_total');
    expect(instrumentName(METRIC_CATALOG.modelUptime24h, '')).toBe('model_uptime_24h');
  });

  it('exports instruments under the custom prefix from a GatewayTelemetry instance', async () => {
    const { telemetry, collect } = createTelemetry({ prefix: 'acme_' });
    telemetry.setProviderHealthScore('openai', 0.9);
    telemetry.setProviderAvailability('openai', 1);
    expect(telemetry.metricName('providerHealthScore')).toBe('acme_provider_health_score');
    expect(telemetry.metricName('providerAvailability')).toBe('provider_availability');
    const collected = await collect();
    expect(collected.value('acme_provider_health_score', { provider: 'openai' })).toBe(0.9);
    expect(collected.value('provider_availability', { provider: 'openai' })).toBe(1);
    expect(collected.metric('gatewayz_provider_health_score')).toBeUndefined();
  });

  it('appends _total to counters only', () => {
    for (const [key, definition] of entries) {
      const name = prometheusName(definition);
      if (definition.kind === 'counter') expect(name.endsWith('_total'), key).toBe(true);
      else expect(name.endsWith('_total'), key).toBe(false);
    }
  });

  it('maps kinds to Prometheus types', () => {
    expect(prometheusType(METRIC_CATALOG.costByProvider)).toBe('counter');
    expect(prometheusType(METRIC_CATALOG.providerResponseTime)).toBe('histogram');
    expect(prometheusType(METRIC_CATALOG.providerHealthScore)).toBe('gauge');
    expect(prometheusType(METRIC_CATALOG.httpRequestsInProgress)).toBe('gauge');
  });

  it('sanitises names the way the Prometheus exporter does', () => {
    expect(sanitizePrometheusName('gen_ai.client.operation.duration')).toBe('gen_ai_client_operation_duration');
    expect(sanitizePrometheusName('a..b-c/d')).toBe('a_b_c_d');
    expect(sanitizePrometheusName('already_fine_123')).toBe('already_fine_123');
  });

  it('produces valid OpenTelemetry instrument names and valid Prometheus names', () => {
    for (const [key, definition] of entries) {
      expect(instrumentName(definition), key).toMatch(/^[a-z][a-z0-9_.\-/]{0,254}$/i);
      expect(prometheusName(definition), key).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    }
  });

  it('declares sorted, positive, finite bucket boundaries for every histogram and none elsewhere', () => {
    for (const [key, definition] of entries) {
      if (definition.kind !== 'histogram') {
        expect(definition.buckets, key).toBeUndefined();
        continue;
      }
      const buckets = definition.buckets ?? [];
      expect(buckets.length, key).toBeGreaterThan(1);
      for (let index = 0; index < buckets.length; index++) {
        const bound = buckets[index] as number;
        expect(Number.isFinite(bound) && bound > 0, `${key}[${index}]`).toBe(true);
        if (index > 0) expect(bound, `${key}[${index}]`).toBeGreaterThan(buckets[index - 1] as number);
      }
    }
    expect(METRIC_CATALOG.providerResponseTime.buckets).toBe(LLM_LATENCY_BUCKETS);
    expect(METRIC_CATALOG.modelInferenceDuration.buckets).toBe(LLM_LATENCY_BUCKETS);
    expect(METRIC_CATALOG.httpRequestDuration.buckets).toBe(HTTP_LATENCY_BUCKETS);
    expect(METRIC_CATALOG.databaseQueryDuration.buckets).toBe(SERVER_LATENCY_BUCKETS);
    expect(METRIC_CATALOG.genAiOperationDuration.buckets).toBe(semconv.GEN_AI_DURATION_BUCKETS);
    expect(METRIC_CATALOG.genAiTokenUsage.buckets).toBe(semconv.GEN_AI_TOKEN_BUCKETS);
  });

  it('keeps label declarations consistent', () => {
    for (const [key, definition] of entries) {
      const labels = definition.labels as readonly string[];
      expect(new Set(labels).size, key).toBe(labels.length);
      // The record path takes up to five positional label values.
      expect(labels.length, key).toBeLessThanOrEqual(5);
      for (const optional of definition.optionalLabels ?? []) expect(labels, key).toContain(optional);
      for (const label of Object.keys(definition.labelValues ?? {})) expect(labels, key).toContain(label);
      for (const label of labels) expect(label, key).toMatch(/^[a-zA-Z_][a-zA-Z0-9_.]*$/);
    }
  });

  it('puts every metric in known categories, home category first', () => {
    for (const [key, definition] of entries) {
      expect(definition.categories.length, key).toBeGreaterThan(0);
      for (const category of definition.categories) expect(METRIC_CATEGORIES, key).toContain(category);
    }
    expect(METRIC_CATALOG.providerResponseTime.categories).toEqual(['providers', 'performance']);
  });

  it('uses seconds for every *_seconds metric and the GenAI duration', () => {
    for (const [key, definition] of entries) {
      if (definition.name.endsWith('_seconds')) expect(definition.unit, key).toBe('s');
    }
    expect(METRIC_CATALOG.genAiOperationDuration.unit).toBe('s');
    expect(METRIC_CATALOG.costByProvider.unit).toBe('USD');
  });

  it('marks the metrics of whole numbers as integer: counts, never a cost, duration, score or ratio', () => {
    const integer = entries.filter(([, definition]) => definition.integer === true).map(([key]) => key);
    expect(integer).toEqual([
      // Counts of events, requests, calls and tokens, and the gauges that count things.
      'detectedAnomalies',
      'modelInferenceRequests',
      'genAiTokenUsage',
      'tokensUsed',
      'trialActive',
      'activeApiKeys',
      'subscriptionCount',
      'httpRequests',
      'httpRequestsInProgress',
      'cacheHits',
      'cacheMisses',
      'requestsByApiKey',
      'tokensByApiKey',
      'apiKeyAttemptsWithoutUsage',
      'providerRateLimitRemaining',
      'rateLimitHeadersMalformed',
      'failovers',
      'circuitBreakerTransitions',
      'healthTrackedModels',
      'healthTrackedProviders',
      'healthTrackedGateways',
      'healthActiveIncidents',
      'healthStatusDistribution',
      'healthServiceScrapeErrors',
      'modelHealthPendingCalls',
      'modelHealthDropped',
      'modelHealthFlushErrors',
      'telemetryDropped',
      'providerHealthTrackerErrors',
      'telemetryLogsDropped',
      'telemetryGenAiContentDropped',
      'telemetryExportFailures',
      'telemetrySpansDropped',
      'telemetryLabelOverflow',
    ]);
    for (const [key, definition] of entries) {
      if (definition.unit === '{token}') expect(definition.integer, key).toBe(true);
      // Seconds, USD, and the 0-1 scores, ratios and availability flags stay fractional.
      if (definition.unit === 's' || definition.unit === 'USD' || definition.range?.max === 1)
        expect(definition.integer, key).toBeUndefined();
    }
    expect((METRIC_CATALOG.creditsUsed as MetricDefinition).integer).toBeUndefined();
    expect((METRIC_CATALOG.tokenEfficiency as MetricDefinition).integer).toBeUndefined();
  });

  it('declares the closed label sets', () => {
    expect(CIRCUIT_BREAKER_STATES).toEqual(['closed', 'open', 'half_open']);
    expect(METRIC_CATALOG.circuitBreakerState.labels).toEqual(['provider', 'state']);
    expect(METRIC_CATALOG.circuitBreakerState.labelValues.state).toBe(CIRCUIT_BREAKER_STATES);
    expect(METRIC_CATALOG.modelInferenceRequests.labelValues.status).toBe(MODEL_CALL_STATUSES);
    expect(TOKEN_TYPES).toEqual(['input', 'output', 'cache_read', 'cache_write', 'reasoning']);
    expect(METRIC_CATALOG.genAiTokenUsage.labelValues['gen_ai.token.type']).toEqual(['input', 'output']);
    expect(MODEL_CALL_STATUSES).toContain('success');
    expect(MODEL_CALL_STATUSES).toContain('timeout');
  });

  it('uses the GenAI semantic-convention names and attributes', () => {
    expect(instrumentName(METRIC_CATALOG.genAiOperationDuration)).toBe('gen_ai.client.operation.duration');
    expect(instrumentName(METRIC_CATALOG.genAiTokenUsage)).toBe('gen_ai.client.token.usage');
    expect(METRIC_CATALOG.genAiOperationDuration.labels).toEqual([
      'gen_ai.operation.name',
      'gen_ai.provider.name',
      'gen_ai.request.model',
      'gen_ai.response.model',
      'error.type',
    ]);
    // A failed operation that got no response has no response model.
    expect(METRIC_CATALOG.genAiOperationDuration.optionalLabels).toEqual(['gen_ai.response.model', 'error.type']);
    expect(METRIC_CATALOG.genAiTokenUsage.labels).toContain('gen_ai.token.type');
    expect(semconv.ATTR_GEN_AI_TOKEN_TYPE).toBe('gen_ai.token.type');
    expect(semconv.ATTR_ERROR_TYPE).toBe('error.type');
  });
});
