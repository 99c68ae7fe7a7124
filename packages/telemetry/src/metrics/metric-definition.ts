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
 * Token types of `tokens_used_total` (the `token_type` label): `input` and `output` (the values of
 * `gen_ai.token.type`, every token of the call), and three subsets as the GenAI conventions define
 * them: `cache_read` (input tokens read from the provider's prompt cache) and `cache_write` (input
 * tokens written to it), both included in `input`, and `reasoning` (output tokens spent on
 * reasoning), included in `output`. A sum over every `token_type` therefore counts those tokens
 * twice: sum `input` and `output` for the total.
 *
 * @example
 * ```ts
 * const usage = { input: 1200, output: 300, cache_read: 1024, cache_write: 0, reasoning: 192 };
 * for (const tokenType of TOKEN_TYPES) recordTokensUsed('openai', 'o4-mini', tokenType, usage[tokenType]);
 * ```
 */
export const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_write', 'reasoning'] as const;
/**
 * One of `TOKEN_TYPES`: `input` (prompt), `output` (completion), or the subsets `cache_read`,
 * `cache_write` (of `input`) and `reasoning` (of `output`).
 *
 * @example
 * ```ts
 * const tokenType: TokenType = 'cache_read';
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
  /**
   * Whether the values are whole numbers: counts of tokens, requests, calls or events, and the
   * in-progress moves of an up-down counter. A fraction is dropped and counted (`not_an_integer`)
   * instead of adding half a request. Costs, durations, scores and ratios leave it out.
   */
  readonly integer?: boolean;
  /** Histogram bucket boundaries. */
  readonly buckets?: readonly number[];
  /**
   * How a gauge of several node:cluster workers merges into the value one scrape of the shared
   * port answers: `max` (the default: values every worker derives alike, such as health scores
   * read from the shared store, or a state that any worker being in should show), `sum` (a
   * quantity each worker holds part of) or `min`. Counters and histograms always add up.
   */
  readonly clusterMerge?: 'sum' | 'max' | 'min';
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
 * Bucket boundaries for server-side latency, in seconds (1 ms to 10 s); used by
 * `database_query_duration_seconds` (and, extended to 300 s, by {@link HTTP_LATENCY_BUCKETS}).
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

/**
 * Bucket boundaries for a gateway's HTTP requests, in seconds (1 ms to 300 s): those of
 * {@link SERVER_LATENCY_BUCKETS}, then 30, 60, 120 and 300 s, because a chat completion, and above
 * all a streamed one, often lasts longer than 10 s, and a quantile of requests past the last finite
 * bucket reads as that bucket's bound. Used by `fastapi_requests_duration_seconds`.
 *
 * @example
 * ```ts
 * const websocketDuration = meter.createHistogram('gateway_websocket_session_duration_seconds', {
 *   unit: 's',
 *   advice: { explicitBucketBoundaries: [...HTTP_LATENCY_BUCKETS] },
 * });
 * ```
 */
export const HTTP_LATENCY_BUCKETS = [...SERVER_LATENCY_BUCKETS, 30, 60, 120, 300] as const;

export const unitInterval = { min: 0, max: 1 } as const;
export const nonNegative = { min: 0 } as const;

/** Identity function that keeps each catalog entry's literal types. */
export function define<const Definition extends MetricDefinition>(definition: Definition): Definition {
  return definition;
}
