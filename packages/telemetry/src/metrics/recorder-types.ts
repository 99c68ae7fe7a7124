import type { Histogram, MeterProvider } from '@opentelemetry/api';
import type { METRIC_CATALOG, MetricKey } from './catalog.js';
import type { MetricDefinition } from './metric-definition.js';
import type { MetricRecorder } from './metric-recorder.js';
import type { SeriesStore } from './series-store.js';
import type { GenAiContentCaptureMode } from '../genai/content-capture.js';
import type { ExponentialHistogramLimits } from './exponential-histogram.js';
import type { ExemplarFilter } from './exemplars.js';

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
 * Its `metric` label names the metric, or is `_unknown` for `unknown_metric` (a key the catalog does
 * not have; the key is named in a diagnostics warning instead), or names the span attribute for a
 * value the GenAI span and event helpers left out (`gen_ai.usage.output_tokens`, `server.port`).
 *
 * - `not_a_number`, `not_finite`, `out_of_range`: the value is not a number (a string, `NaN`,
 *   `null`), is ±Infinity, or lies outside the metric's range (a negative duration or count).
 * - `not_an_integer`: a fraction given to a metric of whole numbers (`integer` in its catalog entry:
 *   token, request and event counts) or to an integer span attribute (token counts, `server.port`).
 * - `not_an_array`: a list (`timesPerOutputChunkSeconds`, stop sequences, finish reasons) given as
 *   something other than an array (of strings, for the span attributes; a lone string is a list of one).
 * - `invalid_label_type`, `empty_label`, `label_too_long`, `unknown_label_value`: a refused label value.
 * - `unknown_metric`: a key the generic API was given that the catalog does not have.
 * - `cache_exceeds_input`: usage whose cache counts exceed its input tokens (`PricingTable.cost()`).
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
  | 'not_an_integer'
  | 'not_an_array'
  | 'invalid_label_type'
  | 'empty_label'
  | 'label_too_long'
  | 'unknown_label_value'
  | 'unknown_metric'
  | 'cache_exceeds_input';

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
   * With `exportVia: 'producer'`, also aggregate every histogram series into a base-2 exponential
   * histogram (the OpenTelemetry data model's), which a producer can export instead of the catalog's
   * explicit buckets: `true` for the specification's defaults (160 buckets per sign, scale from 20
   * down), or `{ maxSize, maxScale }`. The explicit buckets are kept as well (the Prometheus
   * exposition reads them). `startTelemetry()` turns this on when the OTLP metrics push asks for
   * exponential histograms (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`). Default off.
   * With `exportVia: 'instruments'` the SDK aggregates: choose exponential histograms with a View.
   */
  exponentialHistograms?: boolean | Partial<ExponentialHistogramLimits>;
  /**
   * Which observations become exemplars, one per histogram bucket (the latest), for the OpenMetrics
   * exposition and the OTLP push: `'trace_based'` (or `true`, the default) those made inside a
   * sampled span, with its trace and span ids; `'always_on'` every observation, with the ids when
   * a sampled span was active and without them otherwise; `'always_off'` (or `false`) none. The
   * values of `OTEL_METRICS_EXEMPLAR_FILTER`.
   */
  exemplars?: boolean | ExemplarFilter;
  /**
   * What invalid input on the record path does: `drop` (default) drops and counts it; `throw`
   * throws a `TelemetryInputError`, for development and tests.
   */
  onInvalidInput?: 'drop' | 'throw';
  /**
   * An instance whose series this one continues: its options (unless given here), everything it
   * recorded and its collection hooks are carried over. It must never have reached a meter provider
   * (see `isBound`). Both then write the same series: what is recorded through the earlier instance
   * (a handle application code kept) is reported by this one, and the earlier one never binds to a
   * meter provider again (see `continuedBy`). Given an instance that was continued already, this
   * one continues the latest of the chain. `startTelemetry()` passes the shared instance that
   * helpers used before the SDK started, so those values are kept.
   */
  continueFrom?: MetricRecorder;
  /**
   * The value of `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma list): with `gen_ai_latest_experimental`
   * the GenAI helpers emit the latest experimental GenAI conventions this package supports
   * (v1.41.0) instead of the names it has always emitted (see `GenAiSemconvMode`). Read once, here;
   * `startTelemetry()` passes the variable. Default: the default names.
   */
  semconvStabilityOptIn?: string;
  /**
   * Record GenAI message content (prompts, answers, system instructions, tool definitions) for the
   * code that reads `genAiContent` (the example gateway's attempt spans and events): `true` or
   * `'span_only'` on the GenAI spans, `'event_only'` in the `gen_ai.client.inference.operation.details`
   * events, `'span_and_event'` in both; `false` or `'no_content'` nowhere. Default `'no_content'`:
   * content may hold personal data, and the conventions ask instrumentations not to capture it
   * unless the user opts in. `startTelemetry()` passes `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
   */
  captureGenAiContent?: boolean | GenAiContentCaptureMode;
  /**
   * Emit a `gen_ai.client.inference.operation.details` event per inference call (with content only
   * when `captureGenAiContent` puts it in events). Default: on when `captureGenAiContent` is
   * `'event_only'` or `'span_and_event'`, else off. `startTelemetry()` passes
   * `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`.
   */
  emitGenAiEvents?: boolean;
  /**
   * Longest text content or tool argument string of captured content, in characters; longer ones
   * are cut (see `GEN_AI_CONTENT_TRUNCATION_MARKER`). Default: no limit. `startTelemetry()` passes
   * `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`.
   */
  genAiContentMaxLength?: number;
}

/**
 * One catalog metric inside an instance: its definition, exposed name, series and, in instruments
 * mode, its histogram instrument.
 */
export interface MetricState {
  readonly key: MetricKey;
  readonly definition: MetricDefinition;
  readonly name: string;
  readonly store: SeriesStore;
  /** Values outside it are dropped: the catalog's range, or `min: 0` for a counter without one. */
  readonly range: { readonly min?: number; readonly max?: number } | undefined;
  /** Whether values must be whole numbers (the catalog's `integer`); fractions are dropped. */
  readonly integer: boolean;
  histogram: Histogram | undefined;
}
