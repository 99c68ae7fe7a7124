import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  GEN_AI_DURATION_BUCKETS,
  GEN_AI_TOKEN_BUCKETS,
  GEN_AI_TOKEN_TYPES,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from './semconv.js';

/**
 * Groups served by the per-category Prometheus endpoints (`/prometheus/metrics/{category}`). Every
 * catalog metric has a home category and may be listed under further ones.
 *
 * @example
 * ```ts
 * for (const category of METRIC_CATEGORIES) {
 *   console.log(category, catalogEntries().filter(([, definition]) => definition.categories.includes(category)).length);
 * }
 * ```
 */
export const METRIC_CATEGORIES = [
  'system',
  'providers',
  'models',
  'business',
  'performance',
  'health_service',
] as const;
/**
 * One of `METRIC_CATEGORIES`: `system`, `providers`, `models`, `business`, `performance` or
 * `health_service`.
 *
 * @example
 * ```ts
 * const category: MetricCategory = 'providers';
 * const names = catalogEntries()
 *   .filter(([, definition]) => definition.categories.includes(category))
 *   .map(([, definition]) => prometheusName(definition));
 * ```
 */
export type MetricCategory = (typeof METRIC_CATEGORIES)[number];

/**
 * How a metric is recorded. `counter` and `gauge` are aggregated in-process and reported through
 * observable instruments at collection time; `histogram` and `updown_counter` are synchronous
 * OpenTelemetry instruments.
 *
 * @example
 * ```ts
 * const kind: MetricKind = METRIC_CATALOG.providerResponseTime.kind; // 'histogram'
 * ```
 */
export type MetricKind = 'counter' | 'updown_counter' | 'gauge' | 'histogram';

/**
 * The states a circuit breaker can be in, as exported in the `state` label.
 *
 * @example
 * ```ts
 * const state = CIRCUIT_BREAKER_STATES.find((candidate) => candidate === request.body.state);
 * if (state !== undefined) setCircuitBreakerState('openai', state);
 * ```
 */
export const CIRCUIT_BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
/**
 * A circuit breaker state: `closed` (calls go through), `open` (calls are refused) or `half_open`
 * (a trial call is let through to test the provider).
 *
 * @example
 * ```ts
 * const state: CircuitBreakerState = 'half_open';
 * setCircuitBreakerState('anthropic', state);
 * ```
 */
export type CircuitBreakerState = (typeof CIRCUIT_BREAKER_STATES)[number];

/**
 * Outcome of one model call, shared by the inference counter and the model-health store.
 *
 * @example
 * ```ts
 * const isModelCallStatus = (value: string): value is ModelCallStatus =>
 *   (MODEL_CALL_STATUSES as readonly string[]).includes(value);
 * ```
 */
export const MODEL_CALL_STATUSES = ['success', 'error', 'timeout', 'rate_limited', 'network_error'] as const;
/**
 * One of `MODEL_CALL_STATUSES`: the `status` label of `model_inference_requests_total` and the
 * status a model-health record keeps. Other values are dropped and counted.
 *
 * @example
 * ```ts
 * const status: ModelCallStatus = response.status === 429 ? 'rate_limited' : response.ok ? 'success' : 'error';
 * recordModelInference('openai', 'gpt-4o-mini', status, 0.84);
 * ```
 */
export type ModelCallStatus = (typeof MODEL_CALL_STATUSES)[number];

/**
 * Token direction used by `tokens_used_total` (the `token_type` label): `input` and `output`, the
 * same values as `gen_ai.token.type`.
 *
 * @example
 * ```ts
 * const usage = { input: 1200, output: 300 };
 * for (const tokenType of TOKEN_TYPES) recordTokensUsed('openai', 'gpt-4o-mini', tokenType, usage[tokenType]);
 * ```
 */
export const TOKEN_TYPES = GEN_AI_TOKEN_TYPES;
/**
 * Direction of a token count: `input` (prompt) or `output` (completion).
 *
 * @example
 * ```ts
 * const tokenType: TokenType = 'output';
 * recordTokensUsed('anthropic', 'claude-3-5-haiku-latest', tokenType, 512);
 * ```
 */
export type TokenType = (typeof TOKEN_TYPES)[number];

/**
 * One metric, declared once. Everything else (helpers, endpoints, docs) derives from it.
 *
 * @example
 * ```ts
 * const definition: MetricDefinition = METRIC_CATALOG.costByProvider;
 * prometheusName(definition); // 'gatewayz_cost_by_provider_total'
 * ```
 */
export interface MetricDefinition<Label extends string = string> {
  /** Instrument name without the configurable prefix. */
  readonly name: string;
  /** Whether the configurable prefix (default `gatewayz_`) is put in front of `name`. */
  readonly prefixed: boolean;
  /** How the metric is recorded and which Prometheus type it is exposed as; see `MetricKind`. */
  readonly kind: MetricKind;
  /**
   * Unit given to the OpenTelemetry instrument: `s`, `USD`, `{token}` or `1` (dimensionless). It is
   * not appended to the Prometheus name; names carry `_seconds` themselves where needed.
   */
  readonly unit: string;
  /** Help text of the instrument (the Prometheus `# HELP` line). */
  readonly description: string;
  /** Label names, in the order the positional helpers take them. */
  readonly labels: readonly Label[];
  /** Labels that may be absent (omitted from the attributes), e.g. `error.type` on success. */
  readonly optionalLabels?: readonly Label[];
  /** Labels whose values are a closed set; anything else is dropped and counted. */
  readonly labelValues?: { readonly [L in Label]?: readonly string[] };
  /** Home category first; further categories also list the metric (e.g. latency under `performance`). */
  readonly categories: readonly [MetricCategory, ...MetricCategory[]];
  /** Inclusive bounds for recorded values; values outside are dropped and counted. */
  readonly range?: { readonly min?: number; readonly max?: number };
  /** Histogram bucket boundaries. */
  readonly buckets?: readonly number[];
}

/**
 * Bucket boundaries for LLM provider latency: LLM calls take from tens of milliseconds to minutes.
 * In seconds; used by `provider_response_time_seconds`, `model_inference_duration_seconds` and
 * `gatewayz_time_to_first_token_seconds`.
 *
 * @example
 * ```ts
 * const failoverDuration = meter.createHistogram('gateway_failover_chain_duration_seconds', {
 *   unit: 's',
 *   advice: { explicitBucketBoundaries: [...LLM_LATENCY_BUCKETS] },
 * });
 * ```
 */
export const LLM_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120] as const;

/**
 * Bucket boundaries for HTTP and database latency, in seconds (1 ms to 10 s); used by
 * `fastapi_requests_duration_seconds` and `database_query_duration_seconds`.
 *
 * @example
 * ```ts
 * const redisDuration = meter.createHistogram('redis_command_duration_seconds', {
 *   unit: 's',
 *   advice: { explicitBucketBoundaries: [...SERVER_LATENCY_BUCKETS] },
 * });
 * ```
 */
export const SERVER_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const unitInterval = { min: 0, max: 1 } as const;
const nonNegative = { min: 0 } as const;

function define<const Definition extends MetricDefinition>(definition: Definition): Definition {
  return definition;
}

/**
 * Every metric this library can emit. Prometheus names are derived from `name` (plus the prefix
 * when `prefixed`), with `_total` appended to counters by the exposition format.
 *
 * @example
 * ```ts
 * const { name, kind, labels } = METRIC_CATALOG.providerResponseTime;
 * // 'provider_response_time_seconds', 'histogram', ['provider']
 * ```
 */
export const METRIC_CATALOG = {
  // --- providers -------------------------------------------------------------------------------
  providerHealthScore: define({
    name: 'provider_health_score',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Composite provider health score (0-1): 0.4*availability + 0.3*(1-error_rate) + 0.3*latency_score',
    labels: ['provider'],
    categories: ['providers'],
    range: unitInterval,
  }),
  providerAvailability: define({
    name: 'provider_availability',
    prefixed: false,
    kind: 'gauge',
    unit: '1',
    description: 'Provider availability (1 = available, 0 = unavailable)',
    labels: ['provider'],
    categories: ['providers'],
    range: unitInterval,
  }),
  providerErrorRate: define({
    name: 'provider_error_rate',
    prefixed: false,
    kind: 'gauge',
    unit: '1',
    description: 'Share of failed provider calls (0-1)',
    labels: ['provider'],
    categories: ['providers'],
    range: unitInterval,
  }),
  providerResponseTime: define({
    name: 'provider_response_time_seconds',
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description: 'Provider API response time in seconds',
    labels: ['provider'],
    categories: ['providers', 'performance'],
    range: nonNegative,
    buckets: LLM_LATENCY_BUCKETS,
  }),
  circuitBreakerState: define({
    name: 'circuit_breaker_state',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Circuit breaker state per provider: 1 for the current state, 0 for the others',
    labels: ['provider', 'state'],
    labelValues: { state: CIRCUIT_BREAKER_STATES },
    categories: ['providers'],
    range: unitInterval,
  }),
  detectedAnomalies: define({
    name: 'detected_anomalies',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Anomalies detected, by type (latency_spike, error_surge, ...)',
    labels: ['type'],
    categories: ['providers'],
    range: nonNegative,
  }),

  // --- models ----------------------------------------------------------------------------------
  modelUptime24h: define({
    name: 'model_uptime_24h',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Model availability over the last 24 hours (0-1)',
    labels: ['model'],
    categories: ['models'],
    range: unitInterval,
  }),
  tokenEfficiency: define({
    name: 'token_efficiency',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Output tokens per input token, by model',
    labels: ['model'],
    categories: ['models'],
    range: nonNegative,
  }),
  modelInferenceRequests: define({
    name: 'model_inference_requests',
    prefixed: false,
    kind: 'counter',
    unit: '1',
    description: 'Model inference requests, by provider, model and outcome',
    labels: ['provider', 'model', 'status'],
    labelValues: { status: MODEL_CALL_STATUSES },
    categories: ['models'],
    range: nonNegative,
  }),
  modelInferenceDuration: define({
    name: 'model_inference_duration_seconds',
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description: 'Model inference duration in seconds, by provider and model',
    labels: ['provider', 'model'],
    categories: ['models', 'performance'],
    range: nonNegative,
    buckets: LLM_LATENCY_BUCKETS,
  }),
  timeToFirstToken: define({
    name: 'time_to_first_token_seconds',
    prefixed: true,
    kind: 'histogram',
    unit: 's',
    description: 'Time from sending a streaming request to the first content chunk, by provider and model',
    labels: ['provider', 'model'],
    categories: ['models', 'performance'],
    range: nonNegative,
    buckets: LLM_LATENCY_BUCKETS,
  }),
  genAiOperationDuration: define({
    name: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description: 'GenAI operation duration (OpenTelemetry GenAI semantic conventions)',
    labels: [
      ATTR_GEN_AI_OPERATION_NAME,
      ATTR_GEN_AI_PROVIDER_NAME,
      ATTR_GEN_AI_REQUEST_MODEL,
      ATTR_GEN_AI_RESPONSE_MODEL,
      ATTR_ERROR_TYPE,
    ],
    optionalLabels: [ATTR_ERROR_TYPE],
    categories: ['models', 'performance'],
    range: nonNegative,
    buckets: GEN_AI_DURATION_BUCKETS,
  }),
  genAiTokenUsage: define({
    name: METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
    prefixed: false,
    kind: 'histogram',
    unit: '{token}',
    description: 'Tokens used per GenAI operation (OpenTelemetry GenAI semantic conventions)',
    labels: [
      ATTR_GEN_AI_OPERATION_NAME,
      ATTR_GEN_AI_PROVIDER_NAME,
      ATTR_GEN_AI_REQUEST_MODEL,
      ATTR_GEN_AI_RESPONSE_MODEL,
      ATTR_GEN_AI_TOKEN_TYPE,
    ],
    labelValues: { [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPES },
    categories: ['models'],
    range: nonNegative,
    buckets: GEN_AI_TOKEN_BUCKETS,
  }),

  // --- business --------------------------------------------------------------------------------
  costByProvider: define({
    name: 'cost_by_provider',
    prefixed: true,
    kind: 'counter',
    unit: 'USD',
    description: 'Cost of provider calls in USD',
    labels: ['provider'],
    categories: ['business'],
    range: nonNegative,
  }),
  tokensUsed: define({
    name: 'tokens_used',
    prefixed: false,
    kind: 'counter',
    unit: '{token}',
    description: 'Tokens used, by provider, model and direction (input/output)',
    labels: ['provider', 'model', 'token_type'],
    labelValues: { token_type: TOKEN_TYPES },
    categories: ['business'],
    range: nonNegative,
  }),
  creditsUsed: define({
    name: 'credits_used',
    prefixed: false,
    kind: 'counter',
    unit: '1',
    description: 'Credits charged to users, by provider and model',
    labels: ['provider', 'model'],
    categories: ['business'],
    range: nonNegative,
  }),
  trialActive: define({
    name: 'trial_active',
    prefixed: false,
    kind: 'gauge',
    unit: '1',
    description: 'Active trials',
    labels: [],
    categories: ['business'],
    range: nonNegative,
  }),
  activeApiKeys: define({
    name: 'active_api_keys',
    prefixed: false,
    kind: 'gauge',
    unit: '1',
    description: 'Active API keys',
    labels: [],
    categories: ['business'],
    range: nonNegative,
  }),
  subscriptionCount: define({
    name: 'subscription_count',
    prefixed: false,
    kind: 'gauge',
    unit: '1',
    description: 'Active subscriptions',
    labels: [],
    categories: ['business'],
    range: nonNegative,
  }),

  // --- system (HTTP server) and performance ----------------------------------------------------
  httpRequests: define({
    name: 'fastapi_requests',
    prefixed: false,
    kind: 'counter',
    unit: '1',
    description: 'HTTP requests served, by method, route template and status code',
    labels: ['method', 'path', 'status_code'],
    categories: ['system'],
    range: nonNegative,
  }),
  httpRequestDuration: define({
    name: 'fastapi_requests_duration_seconds',
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description: 'HTTP request duration in seconds, by method and route template',
    labels: ['method', 'path'],
    categories: ['system', 'performance'],
    range: nonNegative,
    buckets: SERVER_LATENCY_BUCKETS,
  }),
  httpRequestsInProgress: define({
    name: 'fastapi_requests_in_progress',
    prefixed: false,
    kind: 'updown_counter',
    unit: '1',
    description: 'HTTP requests in progress, by method and route template',
    labels: ['method', 'path'],
    categories: ['system'],
  }),
  databaseQueryDuration: define({
    name: 'database_query_duration_seconds',
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description: 'Database query duration in seconds, by operation',
    labels: ['operation'],
    categories: ['performance'],
    range: nonNegative,
    buckets: SERVER_LATENCY_BUCKETS,
  }),
  cacheHits: define({
    name: 'cache_hits',
    prefixed: false,
    kind: 'counter',
    unit: '1',
    description: 'Cache hits, by cache name',
    labels: ['cache'],
    categories: ['performance'],
    range: nonNegative,
  }),
  cacheMisses: define({
    name: 'cache_misses',
    prefixed: false,
    kind: 'counter',
    unit: '1',
    description: 'Cache misses, by cache name',
    labels: ['cache'],
    categories: ['performance'],
    range: nonNegative,
  }),

  // --- health service (seed 004) ---------------------------------------------------------------
  healthServiceUp: define({
    name: 'health_service_up',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Health service availability (1=up, 0=down)',
    labels: [],
    categories: ['health_service'],
    range: unitInterval,
  }),
  healthMonitoringActive: define({
    name: 'health_monitoring_active',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Whether the health service is actively monitoring (1=active, 0=inactive)',
    labels: [],
    categories: ['health_service'],
    range: unitInterval,
  }),
  healthTrackedModels: define({
    name: 'health_tracked_models',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Models tracked by the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthTrackedProviders: define({
    name: 'health_tracked_providers',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Providers tracked by the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthTrackedGateways: define({
    name: 'health_tracked_gateways',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Gateways tracked by the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthActiveIncidents: define({
    name: 'health_active_incidents',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Open incidents reported by the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthStatusDistribution: define({
    name: 'health_status_distribution',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Tracked models by health status (healthy, degraded, down, ...)',
    labels: ['status'],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthCacheAvailable: define({
    name: 'health_cache_available',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Health service cache availability by cache type (1=available, 0=unavailable)',
    labels: ['cache_type'],
    categories: ['health_service'],
    range: unitInterval,
  }),
  healthServiceScrapeErrors: define({
    name: 'health_service_scrape_errors',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Failed polls of the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),
  healthServiceLastSuccessfulScrape: define({
    name: 'health_service_last_successful_scrape',
    prefixed: true,
    kind: 'gauge',
    unit: 's',
    description: 'Unix time of the last successful poll of the health service',
    labels: [],
    categories: ['health_service'],
    range: nonNegative,
  }),

  // --- model-health write-behind (self-observability) ---------------------------------------
  modelHealthPendingCalls: define({
    name: 'model_health_pending_calls',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description: 'Model calls recorded but not yet written to the model-health store',
    labels: [],
    categories: ['system'],
    range: nonNegative,
  }),
  modelHealthDropped: define({
    name: 'model_health_dropped',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Model calls not recorded, by reason (invalid_call, buffer_full)',
    labels: ['reason'],
    categories: ['system'],
    range: nonNegative,
  }),
  modelHealthFlushErrors: define({
    name: 'model_health_flush_errors',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Failed writes of a model-health batch (the batch is retried with backoff)',
    labels: [],
    categories: ['system'],
    range: nonNegative,
  }),

  // --- self-observability ----------------------------------------------------------------------
  telemetryDropped: define({
    name: 'telemetry_dropped',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Recordings dropped because of invalid input, by reason and metric',
    labels: ['reason', 'metric'],
    categories: ['system'],
  }),
  providerHealthTrackerErrors: define({
    name: 'provider_health_tracker_errors',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Provider health tracker ticks that failed (the loop goes on)',
    labels: [],
    categories: ['system'],
  }),
  telemetryLogsDropped: define({
    name: 'telemetry_logs_dropped',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Log records not exported over OTLP, by reason (queue_full, export_failed, shutdown)',
    labels: ['reason'],
    labelValues: { reason: ['queue_full', 'export_failed', 'shutdown'] },
    categories: ['system'],
  }),
  telemetrySpansDropped: define({
    name: 'telemetry_spans_dropped',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Sampled spans not exported over OTLP, by reason (queue_full, export_failed)',
    labels: ['reason'],
    labelValues: { reason: ['queue_full', 'export_failed'] },
    categories: ['system'],
  }),
  telemetryLabelOverflow: define({
    name: 'telemetry_label_overflow',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Recordings folded into the "other" label value because a metric reached its series limit',
    labels: ['metric'],
    categories: ['system'],
  }),
} as const;

/**
 * Key of a metric in `METRIC_CATALOG` (e.g. `providerResponseTime`): what the generic
 * `GatewayTelemetry` methods and `metricName()` take.
 *
 * @example
 * ```ts
 * const key: MetricKey = 'costByProvider';
 * telemetry.metricName(key); // 'gatewayz_cost_by_provider'
 * ```
 */
export type MetricKey = keyof typeof METRIC_CATALOG;
/**
 * The type of `METRIC_CATALOG`, with each definition's literal name, kind, unit and label names.
 *
 * @example
 * ```ts
 * type CostUnit = MetricCatalog['costByProvider']['unit']; // 'USD'
 * ```
 */
export type MetricCatalog = typeof METRIC_CATALOG;

/**
 * Label names of one metric, as a string union.
 *
 * @example
 * ```ts
 * type TokenLabels = LabelName<'tokensUsed'>; // 'provider' | 'model' | 'token_type'
 * ```
 */
export type LabelName<K extends MetricKey> = MetricCatalog[K]['labels'][number];

/**
 * The label object a metric takes, keys typed from the catalog.
 *
 * @example
 * ```ts
 * const labels: LabelsOf<'modelInferenceRequests'> = { provider: 'openai', model: 'gpt-4o-mini', status: 'success' };
 * telemetry.add('modelInferenceRequests', 1, labels);
 * ```
 */
export type LabelsOf<K extends MetricKey> = { readonly [L in LabelName<K>]: string };

/**
 * Default prefix put in front of metrics declared with `prefixed: true`.
 *
 * @example
 * ```ts
 * instrumentName(METRIC_CATALOG.providerHealthScore, DEFAULT_METRIC_PREFIX); // 'gatewayz_provider_health_score'
 * ```
 */
export const DEFAULT_METRIC_PREFIX = 'gatewayz_';

/**
 * The OpenTelemetry instrument name of a catalog metric under a given prefix (default `gatewayz_`).
 * Metrics declared with `prefixed: false` keep their bare name.
 *
 * @example
 * ```ts
 * instrumentName(METRIC_CATALOG.costByProvider, 'acme_'); // 'acme_cost_by_provider'
 * instrumentName(METRIC_CATALOG.providerAvailability, 'acme_'); // 'provider_availability'
 * ```
 */
export function instrumentName(definition: MetricDefinition, prefix: string = DEFAULT_METRIC_PREFIX): string {
  return definition.prefixed ? prefix + definition.name : definition.name;
}

/**
 * The name a metric is exposed under in the Prometheus text format: dots and other characters
 * Prometheus does not allow become `_`, and counters get `_total`.
 *
 * @example
 * ```ts
 * prometheusName(METRIC_CATALOG.costByProvider); // 'gatewayz_cost_by_provider_total'
 * prometheusName(METRIC_CATALOG.genAiOperationDuration); // 'gen_ai_client_operation_duration'
 * ```
 */
export function prometheusName(definition: MetricDefinition, prefix: string = DEFAULT_METRIC_PREFIX): string {
  const base = sanitizePrometheusName(instrumentName(definition, prefix));
  if (definition.kind === 'counter' && !base.endsWith('_total')) return `${base}_total`;
  return base;
}

/**
 * The Prometheus type a catalog metric is exposed as: counters as `counter`, histograms as
 * `histogram`, gauges and up-down counters as `gauge`.
 *
 * @example
 * ```ts
 * prometheusType(METRIC_CATALOG.httpRequestsInProgress); // 'gauge'
 * ```
 */
export function prometheusType(definition: MetricDefinition): 'counter' | 'gauge' | 'histogram' {
  if (definition.kind === 'counter') return 'counter';
  if (definition.kind === 'histogram') return 'histogram';
  return 'gauge';
}

/**
 * Replace characters Prometheus does not allow in names with `_`, as the OTel exporter does, and
 * collapse runs of `_` into one.
 *
 * @example
 * ```ts
 * sanitizePrometheusName('gen_ai.client.token.usage'); // 'gen_ai_client_token_usage'
 * ```
 */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
}

/**
 * Every catalog entry with its key, in declaration order.
 *
 * @example
 * ```ts
 * for (const [key, definition] of catalogEntries()) console.log(key, prometheusName(definition));
 * ```
 */
export function catalogEntries(): Array<[MetricKey, MetricDefinition]> {
  return Object.entries(METRIC_CATALOG) as Array<[MetricKey, MetricDefinition]>;
}
