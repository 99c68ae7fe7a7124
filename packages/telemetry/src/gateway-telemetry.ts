import { createNoopMeter, diag, metrics, type Histogram, type Meter, type MeterProvider } from '@opentelemetry/api';
import {
  CIRCUIT_BREAKER_STATES,
  DEFAULT_METRIC_PREFIX,
  METRIC_CATALOG,
  instrumentName,
  type CircuitBreakerState,
  type LabelsOf,
  type MetricDefinition,
  type MetricKey,
  type ModelCallStatus,
  type TokenType,
} from './catalog.js';
import { TelemetryConfigurationError, TelemetryInputError } from './errors.js';
import { bucketIndex, captureExemplar, sampledSpanContext } from './exemplars.js';
import { OVERFLOW_LABEL_VALUE, SeriesStore, type SeriesCell } from './series-store.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Metric keys by kind, so the generic API only accepts metrics of the right kind. */
type KeysOfKind<Kind extends string> = {
  [K in MetricKey]: (typeof METRIC_CATALOG)[K]['kind'] extends Kind ? K : never;
}[MetricKey];
/**
 * Catalog keys of the counter metrics, e.g. `costByProvider` or `cacheHits`: what
 * `GatewayTelemetry.add()` accepts, together with `UpDownCounterMetricKey`.
 *
 * @example
 * ```ts
 * const key: CounterMetricKey = 'cacheHits';
 * telemetry.add(key, 1, { cache: 'responses' });
 * ```
 */
export type CounterMetricKey = KeysOfKind<'counter'>;
/**
 * Catalog keys of the gauge metrics, e.g. `providerErrorRate`: what `GatewayTelemetry.set()` accepts.
 *
 * @example
 * ```ts
 * const key: GaugeMetricKey = 'providerErrorRate';
 * telemetry.set(key, 0.02, { provider: 'openai' });
 * ```
 */
export type GaugeMetricKey = KeysOfKind<'gauge'>;
/**
 * Catalog keys of the histogram metrics, e.g. `timeToFirstToken`: what `GatewayTelemetry.record()`
 * accepts.
 *
 * @example
 * ```ts
 * const key: HistogramMetricKey = 'timeToFirstToken';
 * telemetry.record(key, 0.31, { provider: 'openai', model: 'gpt-4o-mini' });
 * ```
 */
export type HistogramMetricKey = KeysOfKind<'histogram'>;
/**
 * Catalog keys of the up-down counter metrics (`httpRequestsInProgress`): `GatewayTelemetry.add()`
 * accepts them with negative values too.
 *
 * @example
 * ```ts
 * const key: UpDownCounterMetricKey = 'httpRequestsInProgress';
 * telemetry.add(key, -1, { method: 'POST', path: '/v1/chat/completions' });
 * ```
 */
export type UpDownCounterMetricKey = KeysOfKind<'updown_counter'>;

/**
 * Why a recording was dropped; exported as the `reason` label of `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * const reason: DropReason = 'out_of_range';
 * // PromQL: sum by (metric) (rate(gatewayz_telemetry_dropped_total{reason="out_of_range"}[5m]))
 * ```
 */
export type DropReason =
  | 'not_a_number'
  | 'not_finite'
  | 'out_of_range'
  | 'invalid_label_type'
  | 'empty_label'
  | 'label_too_long'
  | 'unknown_label_value';

/**
 * Options of the `GatewayTelemetry` constructor and of `configureTelemetry()`; all are optional.
 * Invalid values make the constructor throw a `TelemetryConfigurationError`.
 *
 * @example
 * ```ts
 * const options: GatewayTelemetryOptions = { prefix: 'acme_', maxSeriesPerMetric: 5000, onInvalidInput: 'throw' };
 * const telemetry = new GatewayTelemetry(options);
 * ```
 */
export interface GatewayTelemetryOptions {
  /** Meter provider to report to. Default: the global one, resolved on first use (see `bindMeterProvider`). */
  meterProvider?: MeterProvider;
  /** Prefix for metrics the catalog marks as prefixed. Default `gatewayz_`. */
  prefix?: string;
  /** Distinct label sets per metric before new ones fold into `other`. Default 2000. */
  maxSeriesPerMetric?: number;
  /** Longest label value accepted, after trimming. Default 128 characters. */
  maxLabelLength?: number;
  /**
   * How values reach an SDK. `instruments` (default) creates OpenTelemetry instruments on the meter
   * provider (observable counters and gauges, synchronous histograms): works with any SDK set up
   * through the API. `producer` keeps histograms in-process too and exports everything through a
   * `MetricProducer` registered with the metric reader (`startTelemetry()` does this): the record
   * path then never enters the SDK.
   */
  exportVia?: 'instruments' | 'producer';
  /**
   * Keep, per histogram bucket, the latest observation made inside a sampled span (trace and span
   * id) for the OpenMetrics exposition. Default true.
   */
  exemplars?: boolean;
  /**
   * What invalid input on the record path does: `drop` (default) drops and counts it; `throw`
   * throws a `TelemetryInputError`, for development and tests.
   */
  onInvalidInput?: 'drop' | 'throw';
}

/**
 * Inputs of one GenAI client operation (OpenTelemetry GenAI semantic conventions).
 *
 * @example
 * ```ts
 * const operation: GenAiOperationRecord = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.3, inputTokens: 420, outputTokens: 128,
 * };
 * recordGenAiOperation(operation);
 * ```
 */
export interface GenAiOperationRecord {
  /** `gen_ai.operation.name`, e.g. `chat` or `embeddings` (see `semconv.GEN_AI_OPERATION_NAMES`). */
  operationName: string;
  /** `gen_ai.provider.name`, e.g. `openai` or `anthropic`. */
  providerName: string;
  /** `gen_ai.request.model`: the model the caller asked for, e.g. `gpt-4o-mini`. */
  requestModel: string;
  /** Defaults to `requestModel`. */
  responseModel?: string;
  /** Duration of the whole operation in seconds; a negative or non-finite value drops the whole record. */
  durationSeconds: number;
  /** Set when the operation failed, e.g. `timeout`, `rate_limited` or an HTTP status code. */
  errorType?: string;
  /** Input (prompt) tokens, observed in `gen_ai.client.token.usage` with `gen_ai.token.type="input"`. */
  inputTokens?: number;
  /** Output (completion) tokens, observed in `gen_ai.client.token.usage` with `gen_ai.token.type="output"`. */
  outputTokens?: number;
}

interface MetricState {
  readonly key: MetricKey;
  readonly definition: MetricDefinition;
  readonly name: string;
  readonly store: SeriesStore;
  /** Values outside it are dropped: the catalog's range, or `min: 0` for a counter without one. */
  readonly range: { readonly min?: number; readonly max?: number } | undefined;
  histogram: Histogram | undefined;
}

const NOOP_METER = createNoopMeter();

/** The range of a counter whose catalog entry names none: it only goes up. */
const COUNTER_RANGE = { min: 0 } as const;

/**
 * Typed recording helpers over one set of OpenTelemetry instruments derived from the metric catalog.
 *
 * Counters and gauges are aggregated in-process (a number per label set) and reported through
 * observable instruments at collection time, so the record path is a map lookup and an addition.
 * Histograms record into the SDK's histogram with a cached attribute object. Invalid input is
 * dropped and counted in `gatewayz_telemetry_dropped_total{reason,metric}`; it never throws unless
 * `onInvalidInput: 'throw'`.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ meterProvider });
 * telemetry.recordProviderResponseTime('openai', 0.42);
 * telemetry.incrementCostByProvider('openai', 0.0031);
 * telemetry.setCircuitBreakerState('openai', 'open');
 * ```
 */
export class GatewayTelemetry {
  /** Prefix put in front of the metrics the catalog marks as prefixed (the `prefix` option; default `gatewayz_`). */
  readonly prefix: string;
  /** Label sets a metric holds before new ones fold into `other` (the `maxSeriesPerMetric` option; default 2000). */
  readonly maxSeriesPerMetric: number;
  /**
   * Longest label value accepted, in characters after trimming and removing control characters (the
   * `maxLabelLength` option; default 128). Longer values are dropped with reason `label_too_long`.
   */
  readonly maxLabelLength: number;
  private readonly onInvalidInput: 'drop' | 'throw';
  private readonly exemplars: boolean;
  private exportMode: 'instruments' | 'producer';
  /** When this instance started aggregating (cumulative start time), in milliseconds since the epoch. */
  readonly startTimeMs = Date.now();
  private readonly explicitProvider: MeterProvider | undefined;
  private readonly states: { readonly [K in MetricKey]: MetricState };
  private boundMeter: Meter | undefined;
  private readonly warnedReasons = new Set<string>();
  /** Summed tokens per model, keyed by the model's token-efficiency series. */
  private readonly modelTokenTotals = new Map<SeriesCell, { input: number; output: number }>();

  /**
   * Validate `options` and, when a `meterProvider` is given (and `exportVia` is `instruments`),
   * create the instruments on it right away. Throws a `TelemetryConfigurationError` for a prefix
   * that is not a valid metric name prefix, limits that are not positive integers, or an unknown
   * `exportVia` or `onInvalidInput`.
   */
  constructor(options: GatewayTelemetryOptions = {}) {
    this.prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
    this.maxSeriesPerMetric = options.maxSeriesPerMetric ?? 2000;
    this.maxLabelLength = options.maxLabelLength ?? 128;
    this.onInvalidInput = options.onInvalidInput ?? 'drop';
    this.exemplars = options.exemplars ?? true;
    this.exportMode = options.exportVia ?? 'instruments';
    if (this.exportMode !== 'instruments' && this.exportMode !== 'producer') {
      throw new TelemetryConfigurationError(
        'exportVia',
        `expected "instruments" or "producer", got "${String(options.exportVia)}"`,
      );
    }
    this.explicitProvider = options.meterProvider;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(this.prefix) && this.prefix !== '') {
      throw new TelemetryConfigurationError(
        'prefix',
        `"${this.prefix}" is not a valid metric name prefix; use letters, digits and underscores, e.g. "gatewayz_"`,
      );
    }
    if (!Number.isInteger(this.maxSeriesPerMetric) || this.maxSeriesPerMetric < 1) {
      throw new TelemetryConfigurationError(
        'maxSeriesPerMetric',
        `expected a positive integer, got ${String(options.maxSeriesPerMetric)}`,
      );
    }
    if (!Number.isInteger(this.maxLabelLength) || this.maxLabelLength < 1) {
      throw new TelemetryConfigurationError(
        'maxLabelLength',
        `expected a positive integer, got ${String(options.maxLabelLength)}`,
      );
    }
    if (this.onInvalidInput !== 'drop' && this.onInvalidInput !== 'throw') {
      throw new TelemetryConfigurationError(
        'onInvalidInput',
        `expected "drop" or "throw", got "${String(options.onInvalidInput)}"`,
      );
    }
    const limits = { maxSeries: this.maxSeriesPerMetric, maxLabelLength: this.maxLabelLength };
    // The library's own accounting labels hold reasons and metric names: bounded by the catalog,
    // and never subject to the application's label limits.
    const internalLimits = { maxSeries: 10_000, maxLabelLength: 256 };
    const states = {} as Record<MetricKey, MetricState>;
    for (const key of Object.keys(METRIC_CATALOG) as MetricKey[]) {
      const definition = METRIC_CATALOG[key] as MetricDefinition;
      const internal = key === 'telemetryDropped' || key === 'telemetryLabelOverflow';
      states[key] = {
        key,
        definition,
        name: instrumentName(definition, this.prefix),
        store: new SeriesStore(definition, internal ? internalLimits : limits),
        range: definition.range ?? (definition.kind === 'counter' ? COUNTER_RANGE : undefined),
        histogram: undefined,
      };
    }
    this.states = states;
    if (this.explicitProvider !== undefined && this.exportMode === 'instruments')
      this.bindMeterProvider(this.explicitProvider);
  }

  /** How values are exported; see the `exportVia` option. */
  get exportVia(): 'instruments' | 'producer' {
    return this.exportMode;
  }

  /**
   * Switch an instance that has not reached a real meter provider yet to producer export, keeping
   * the counter and gauge values recorded so far. `startTelemetry()` does this for the shared
   * instance when helpers ran before the SDK started. Returns false when already bound to a meter
   * provider (its instruments keep reporting there).
   */
  useProducerExport(): boolean {
    if (this.boundMeter !== undefined) return false;
    this.exportMode = 'producer';
    return true;
  }

  /**
   * Create this instance's instruments on `provider`. Called by `startTelemetry()`; without it the
   * global provider is looked up on each record until a real SDK provider is registered, so helpers
   * imported before the SDK starts begin reporting as soon as it does. Counter and gauge values
   * recorded before binding are kept and reported; histogram observations before binding are not.
   */
  bindMeterProvider(provider: MeterProvider): boolean {
    if (this.exportMode === 'producer') return false;
    const meter = provider.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    // Another copy of @opentelemetry/api in the process has its own no-op meter singleton.
    if (meter === NOOP_METER || meter.constructor?.name === 'NoopMeter') return false;
    if (meter === this.boundMeter) return true;
    this.boundMeter = meter;
    for (const state of Object.values(this.states)) this.createInstrument(meter, state);
    return true;
  }

  /** Whether instruments exist on a real meter provider. */
  get isBound(): boolean {
    return this.boundMeter !== undefined;
  }

  /** The OpenTelemetry instrument name of a catalog metric under this instance's prefix. */
  metricName(key: MetricKey): string {
    return this.states[key].name;
  }

  /** Number of label sets currently held for a metric (for tests and capacity planning). */
  seriesCount(key: MetricKey): number {
    return this.states[key].store.seriesCount;
  }

  /** Current in-process value of a counter, gauge or up-down counter series, or undefined if never recorded. */
  currentValue<K extends MetricKey>(key: K, labels: LabelsOf<K>): number | undefined {
    const store = this.states[key].store;
    const wanted = labels as Record<string, string>;
    const cell = store.cells.find((candidate) =>
      store.definition.labels.every((label) => candidate.attributes[label] === wanted[label]),
    );
    return cell?.value;
  }

  // --- generic, catalog-typed API ----------------------------------------------------------------

  /** Add to a counter. `labels` keys are typed from the catalog. */
  add<K extends CounterMetricKey | UpDownCounterMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.states[key];
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) cell.value += value;
  }

  /** Set a gauge. */
  set<K extends GaugeMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.states[key];
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) cell.value = value;
  }

  /** Record a histogram observation. */
  record<K extends HistogramMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.states[key];
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) this.observe(state, value, cell);
  }

  // --- providers ---------------------------------------------------------------------------------

  /** Observe one provider call's latency in seconds (`provider_response_time_seconds`). */
  recordProviderResponseTime(provider: string, seconds: number): void {
    const state = this.states.providerResponseTime;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(provider));
    if (cell !== undefined) this.observe(state, seconds, cell);
  }

  /** Set `gatewayz_provider_health_score` (0-1); see `providerHealthScore()` for the formula. */
  setProviderHealthScore(provider: string, score: number): void {
    this.setGauge1(this.states.providerHealthScore, provider, score);
  }

  /** Set `provider_availability`: 1 (or true) when available, 0 (or false) when not. */
  setProviderAvailability(provider: string, availability: number | boolean): void {
    const value = typeof availability === 'boolean' ? (availability ? 1 : 0) : availability;
    this.setGauge1(this.states.providerAvailability, provider, value);
  }

  /** Set `provider_error_rate` (0-1). */
  setProviderErrorRate(provider: string, errorRate: number): void {
    this.setGauge1(this.states.providerErrorRate, provider, errorRate);
  }

  /**
   * Set `gatewayz_circuit_breaker_state{provider,state}`: 1 for `state`, 0 for the other states, so
   * `gatewayz_circuit_breaker_state{state="open"} == 1` lists the open breakers.
   */
  setCircuitBreakerState(provider: string, state: CircuitBreakerState): void {
    const metric = this.states.circuitBreakerState;
    if (!(CIRCUIT_BREAKER_STATES as readonly unknown[]).includes(state)) {
      this.drop(
        metric,
        'unknown_label_value',
        `Unknown circuit state "${String(state)}"; expected closed, open or half_open`,
      );
      return;
    }
    const store = metric.store;
    let target: string = provider;
    if (
      store.peek(provider, 'closed') === undefined &&
      store.seriesCount + CIRCUIT_BREAKER_STATES.length > this.maxSeriesPerMetric
    ) {
      // No room for all of this provider's series: fold the provider into "other" as a whole, so
      // exactly one of its series reads 1.
      const rejection = store.rejectionFor('provider', provider);
      if (rejection !== undefined) {
        store.lastRejection = rejection;
        this.cellFor(metric, undefined);
        return;
      }
      target = OVERFLOW_LABEL_VALUE;
      this.noteOverflow(metric);
    }
    const cells: SeriesCell[] = [];
    for (const candidate of CIRCUIT_BREAKER_STATES) {
      const found = store.lookup(target, candidate);
      // Folding was counted once above, not once per state.
      if (target === OVERFLOW_LABEL_VALUE) store.lastLookupOverflowed = false;
      const cell = this.cellFor(metric, found);
      if (cell === undefined) return;
      cells.push(cell);
    }
    for (let index = 0; index < cells.length; index++) {
      (cells[index] as SeriesCell).value = CIRCUIT_BREAKER_STATES[index] === state ? 1 : 0;
    }
  }

  /** Count one (or `count`) detected anomalies of a type (`gatewayz_detected_anomalies_total`). */
  recordAnomaly(type: string, count = 1): void {
    this.addCounter1(this.states.detectedAnomalies, type, count);
  }

  // --- models ------------------------------------------------------------------------------------

  /** Set `gatewayz_model_uptime_24h` (0-1). */
  setModelUptime24h(model: string, uptime: number): void {
    this.setGauge1(this.states.modelUptime24h, model, uptime);
  }

  /** Set `gatewayz_token_efficiency` (output tokens per input token). */
  setTokenEfficiency(model: string, efficiency: number): void {
    this.setGauge1(this.states.tokenEfficiency, model, efficiency);
  }

  /**
   * Count one model inference (`model_inference_requests_total{provider,model,status}`) and, when
   * a duration is given, observe it in `model_inference_duration_seconds{provider,model}`.
   */
  recordModelInference(provider: string, model: string, status: ModelCallStatus, durationSeconds?: number): void {
    const requests = this.states.modelInferenceRequests;
    const duration = this.states.modelInferenceDuration;
    // Validate everything before touching a series, so a refused call leaves no empty series behind.
    if (durationSeconds !== undefined && !this.acceptValue(duration, durationSeconds)) return;
    const cell = this.cellFor(requests, requests.store.lookup(provider, model, status));
    if (cell === undefined) return;
    if (durationSeconds !== undefined) {
      const durationCell = this.cellFor(duration, duration.store.lookup(provider, model));
      if (durationCell === undefined) return;
      this.observe(duration, durationSeconds, durationCell);
    }
    cell.value += 1;
  }

  /** Observe the time to the first streamed content chunk (`gatewayz_time_to_first_token_seconds`). */
  recordTimeToFirstToken(provider: string, model: string, seconds: number): void {
    const state = this.states.timeToFirstToken;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model));
    if (cell !== undefined) this.observe(state, seconds, cell);
  }

  /**
   * Record one GenAI client operation in `gen_ai.client.operation.duration` and, when token counts
   * are given, `gen_ai.client.token.usage` (one observation per token type).
   */
  recordGenAiOperation(operation: GenAiOperationRecord): void {
    const duration = this.states.genAiOperationDuration;
    if (!this.acceptValue(duration, operation.durationSeconds)) return;
    const responseModel = operation.responseModel ?? operation.requestModel;
    const durationCell = this.cellFor(
      duration,
      duration.store.lookup(
        operation.operationName,
        operation.providerName,
        operation.requestModel,
        responseModel,
        operation.errorType,
      ),
    );
    if (durationCell === undefined) return;
    this.observe(duration, operation.durationSeconds, durationCell);
    if (operation.inputTokens !== undefined)
      this.recordGenAiTokens(operation, responseModel, 'input', operation.inputTokens);
    if (operation.outputTokens !== undefined)
      this.recordGenAiTokens(operation, responseModel, 'output', operation.outputTokens);
  }

  private recordGenAiTokens(
    operation: GenAiOperationRecord,
    responseModel: string,
    tokenType: TokenType,
    tokens: number,
  ): void {
    const usage = this.states.genAiTokenUsage;
    if (!this.acceptValue(usage, tokens)) return;
    const cell = this.cellFor(
      usage,
      usage.store.lookup(
        operation.operationName,
        operation.providerName,
        operation.requestModel,
        responseModel,
        tokenType,
      ),
    );
    if (cell !== undefined) this.observe(usage, tokens, cell);
  }

  // --- business ----------------------------------------------------------------------------------

  /** Add USD to `gatewayz_cost_by_provider_total`. */
  incrementCostByProvider(provider: string, usd: number): void {
    this.addCounter1(this.states.costByProvider, provider, usd);
  }

  /** Add tokens to `tokens_used_total{provider,model,token_type}`. */
  recordTokensUsed(provider: string, model: string, tokenType: TokenType, tokens: number): void {
    const state = this.states.tokensUsed;
    if (!this.acceptValue(state, tokens)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model, tokenType));
    if (cell !== undefined) cell.value += tokens;
  }

  /**
   * Record one call's token usage: adds both directions to `tokens_used_total` and updates
   * `gatewayz_token_efficiency{model}` to the model's output/input ratio over all calls so far.
   */
  recordTokenUsage(provider: string, model: string, inputTokens: number, outputTokens: number): void {
    const tokens = this.states.tokensUsed;
    if (!this.acceptValue(tokens, inputTokens) || !this.acceptValue(tokens, outputTokens)) return;
    const inputCell = this.cellFor(tokens, tokens.store.lookup(provider, model, 'input'));
    const outputCell = this.cellFor(tokens, tokens.store.lookup(provider, model, 'output'));
    if (inputCell === undefined || outputCell === undefined) return;
    inputCell.value += inputTokens;
    outputCell.value += outputTokens;
    const efficiency = this.states.tokenEfficiency;
    const efficiencyCell = this.cellFor(efficiency, efficiency.store.lookup(model));
    if (efficiencyCell === undefined) return;
    let totals = this.modelTokenTotals.get(efficiencyCell);
    if (totals === undefined) this.modelTokenTotals.set(efficiencyCell, (totals = { input: 0, output: 0 }));
    totals.input += inputTokens;
    totals.output += outputTokens;
    if (totals.input > 0) efficiencyCell.value = totals.output / totals.input;
  }

  /** Add credits to `credits_used_total{provider,model}`. */
  recordCreditsUsed(provider: string, model: string, credits: number): void {
    const state = this.states.creditsUsed;
    if (!this.acceptValue(state, credits)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model));
    if (cell !== undefined) cell.value += credits;
  }

  /** Set `trial_active`. */
  setTrialActiveCount(count: number): void {
    this.setGauge0(this.states.trialActive, count);
  }

  /** Set `active_api_keys`. */
  setActiveApiKeys(count: number): void {
    this.setGauge0(this.states.activeApiKeys, count);
  }

  /** Set `subscription_count`. */
  setSubscriptionCount(count: number): void {
    this.setGauge0(this.states.subscriptionCount, count);
  }

  // --- HTTP server, database, cache --------------------------------------------------------------

  /**
   * Record one served HTTP request: `fastapi_requests_total{method,path,status_code}` and
   * `fastapi_requests_duration_seconds{method,path}`. Pass the route template (`/v1/model-health/:provider`),
   * never the raw URL, so the label set stays bounded.
   */
  recordHttpRequest(method: string, path: string, statusCode: number | string, durationSeconds: number): void {
    const duration = this.states.httpRequestDuration;
    if (!this.acceptValue(duration, durationSeconds)) return;
    const requests = this.states.httpRequests;
    const status = typeof statusCode === 'number' ? statusCodeLabel(statusCode) : statusCode;
    const requestCell = this.cellFor(requests, requests.store.lookup(method, path, status));
    if (requestCell === undefined) return;
    const durationCell = this.cellFor(duration, duration.store.lookup(method, path));
    if (durationCell === undefined) return;
    requestCell.value += 1;
    this.observe(duration, durationSeconds, durationCell);
  }

  /** Move `fastapi_requests_in_progress{method,path}` by `delta` (+1 when a request starts, -1 when it ends). */
  trackHttpRequestInProgress(method: string, path: string, delta: 1 | -1): void {
    const state = this.states.httpRequestsInProgress;
    if (!this.acceptValue(state, delta)) return;
    const cell = this.cellFor(state, state.store.lookup(method, path));
    if (cell !== undefined) cell.value += delta;
  }

  /** Observe one database call in `database_query_duration_seconds{operation}`. */
  recordDatabaseQuery(operation: string, seconds: number): void {
    const state = this.states.databaseQueryDuration;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(operation));
    if (cell !== undefined) this.observe(state, seconds, cell);
  }

  /** Count a cache hit (`cache_hits_total{cache}`). */
  recordCacheHit(cache = 'default'): void {
    this.addCounter1(this.states.cacheHits, cache, 1);
  }

  /** Count a cache miss (`cache_misses_total{cache}`). */
  recordCacheMiss(cache = 'default'): void {
    this.addCounter1(this.states.cacheMisses, cache, 1);
  }

  // --- internals ---------------------------------------------------------------------------------

  private setGauge0(state: MetricState, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup());
    if (cell !== undefined) cell.value = value;
  }

  private setGauge1(state: MetricState, label: string, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup(label));
    if (cell !== undefined) cell.value = value;
  }

  private addCounter1(state: MetricState, label: string, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup(label));
    if (cell !== undefined) cell.value += value;
  }

  private observe(state: MetricState, value: number, cell: SeriesCell): void {
    const boundaries = state.definition.buckets as readonly number[];
    if (this.exportMode === 'producer') {
      const index = bucketIndex(boundaries, value);
      let histogram = cell.histogram;
      if (histogram === undefined) {
        histogram = cell.histogram = {
          counts: new Array<number>(boundaries.length + 1).fill(0),
          count: 0,
          sum: 0,
          min: value,
          max: value,
        };
      }
      histogram.counts[index]! += 1;
      histogram.count++;
      histogram.sum += value;
      if (value < histogram.min) histogram.min = value;
      if (value > histogram.max) histogram.max = value;
      if (this.exemplars) {
        // Span first, value second: see sampledSpanContext().
        const spanContext = sampledSpanContext();
        if (spanContext !== undefined) captureExemplar(cell.attributes, boundaries, value, index, spanContext);
      }
      return;
    }
    if (this.boundMeter === undefined) this.tryBindGlobal();
    const instrument = state.histogram;
    if (instrument === undefined) return;
    instrument.record(value, cell.attributes);
    if (this.exemplars) {
      const spanContext = sampledSpanContext();
      if (spanContext !== undefined)
        captureExemplar(cell.attributes, boundaries, value, bucketIndex(boundaries, value), spanContext);
    }
  }

  /**
   * Every catalog metric with its series, for a metric producer (`exportVia: 'producer'`). Series
   * are live objects: read them during collection, do not keep them.
   */
  exportableMetrics(): ReadonlyArray<{
    readonly name: string;
    readonly definition: MetricDefinition;
    readonly cells: readonly SeriesCell[];
  }> {
    return Object.values(this.states).map((state) => ({
      name: state.name,
      definition: state.definition,
      cells: state.store.cells,
    }));
  }

  /** Resolve the looked-up cell, counting refusals and label overflow. */
  private cellFor(state: MetricState, cell: SeriesCell | undefined): SeriesCell | undefined {
    if (this.boundMeter === undefined && this.exportMode === 'instruments') this.tryBindGlobal();
    const store = state.store;
    if (cell === undefined) {
      const rejection = store.lastRejection;
      if (rejection !== undefined) {
        const shown =
          typeof rejection.value === 'string' ? `"${rejection.value.slice(0, 64)}"` : String(rejection.value);
        const expected = store.definition.labelValues?.[rejection.label as never];
        this.drop(
          state,
          rejection.reason,
          `Label "${rejection.label}" of ${state.name} rejected (${rejection.reason}): ${shown}` +
            (expected !== undefined ? `; expected ${expected.join(', ')}` : ''),
        );
      }
      return undefined;
    }
    if (store.lastLookupOverflowed) {
      store.lastLookupOverflowed = false;
      this.noteOverflow(state);
    }
    return cell;
  }

  private noteOverflow(state: MetricState): void {
    this.countInternal(this.states.telemetryLabelOverflow, state.name);
    this.warnOnce(
      `overflow:${state.key}`,
      `${state.name} reached its limit of ${this.maxSeriesPerMetric} label sets; new label values are recorded as "other". Raise maxSeriesPerMetric or stop using unbounded values as labels.`,
    );
  }

  private acceptValue(state: MetricState, value: number): boolean {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      this.drop(state, 'not_a_number', `${state.name} got ${String(value)} instead of a number`);
      return false;
    }
    if (value === Infinity || value === -Infinity) {
      this.drop(state, 'not_finite', `${state.name} got ${String(value)}; values must be finite`);
      return false;
    }
    // A counter only goes up, whether or not its catalog entry spells out a range (see `range`).
    const range = state.range;
    if (
      range !== undefined &&
      ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max))
    ) {
      this.drop(
        state,
        'out_of_range',
        `${state.name} got ${value}; expected a value in [${range.min ?? '-inf'}, ${range.max ?? '+inf'}]`,
      );
      return false;
    }
    return true;
  }

  private drop(state: MetricState, reason: DropReason, message: string): void {
    if (this.onInvalidInput === 'throw') throw new TelemetryInputError(state.name, reason, message);
    this.countInternal(this.states.telemetryDropped, reason, state.name);
    this.warnOnce(
      reason,
      `${message}. Dropped; further drops for reason "${reason}" are counted in ${this.states.telemetryDropped.name} without a warning.`,
    );
  }

  private countInternal(state: MetricState, first: string, second?: string): void {
    const cell = state.store.lookup(first, second);
    if (cell !== undefined) cell.value += 1;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warnedReasons.has(key)) return;
    this.warnedReasons.add(key);
    diag.warn(`@gatewayz/telemetry: ${message}`);
  }

  private tryBindGlobal(): void {
    if (this.explicitProvider !== undefined || this.exportMode === 'producer') return;
    this.bindMeterProvider(metrics.getMeterProvider());
  }

  private createInstrument(meter: Meter, state: MetricState): void {
    const { definition, name, store } = state;
    const options = { description: definition.description, unit: definition.unit };
    switch (definition.kind) {
      case 'histogram':
        state.histogram = meter.createHistogram(name, {
          ...options,
          advice: definition.buckets ? { explicitBucketBoundaries: [...definition.buckets] } : {},
        });
        return;
      case 'counter': {
        const counter = meter.createObservableCounter(name, options);
        counter.addCallback((result) => {
          for (const cell of store.cells) result.observe(cell.value, cell.attributes);
        });
        return;
      }
      case 'updown_counter': {
        const counter = meter.createObservableUpDownCounter(name, options);
        counter.addCallback((result) => {
          for (const cell of store.cells) result.observe(cell.value, cell.attributes);
        });
        return;
      }
      case 'gauge': {
        const gauge = meter.createObservableGauge(name, options);
        gauge.addCallback((result) => {
          for (const cell of store.cells) result.observe(cell.value, cell.attributes);
        });
        return;
      }
    }
  }
}

/** HTTP status codes as label values; anything outside 100-599 becomes `other`. */
function statusCodeLabel(statusCode: number): string {
  return Number.isInteger(statusCode) && statusCode >= 100 && statusCode <= 599 ? String(statusCode) : 'other';
}
