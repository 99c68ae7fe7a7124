/**
 * The metric core: the catalog every metric is declared in once, exposition naming derived from it,
 * the series store and exemplars behind the record path, and `MetricRecorder`, the generic
 * recording machinery `GatewayTelemetry` builds on. SDK wiring (`@gatewayz/telemetry-node`) and
 * tooling read this entry point; applications record through the root one.
 *
 * - `metric-definition.ts`: categories, kinds, label value sets, buckets, `MetricDefinition`
 * - `catalog.ts` (+ `catalog-gateway-metrics.ts`, `catalog-routing-metrics.ts`, `catalog-health-metrics.ts`): `METRIC_CATALOG`
 * - `collect-hooks.ts`: what runs just before a collection reads a metric (time-dependent values)
 * - `naming.ts`: instrument and Prometheus names, Prometheus types
 * - `series-store.ts`: the label sets of one metric, allocation-free on the record path
 * - `exemplars.ts`: per-bucket exemplars, kept on the series they belong to
 * - `exponential-histogram.ts`: base-2 exponential histograms, kept beside the explicit buckets when asked
 * - `metric-recorder.ts` / `recorder-types.ts`: validation, drop and overflow accounting, export
 * - `series-removal.ts`: removing the series of a gauge whose subject went away
 * - `gateway-telemetry.ts` / `shared-telemetry.ts`: the class with its domain helpers, and the shared instance
 * - `metrics-markdown.ts`: the metrics reference generated from the catalog
 *
 * @example
 * ```ts
 * import { catalogEntries, prometheusName } from '@gatewayz/telemetry/metrics';
 *
 * for (const [key, definition] of catalogEntries()) console.log(key, prometheusName(definition));
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/metrics
 */
export {
  METRIC_CATEGORIES,
  CIRCUIT_BREAKER_STATES,
  MODEL_CALL_STATUSES,
  TOKEN_TYPES,
  HTTP_LATENCY_BUCKETS,
  LLM_LATENCY_BUCKETS,
  SERVER_LATENCY_BUCKETS,
} from './metric-definition.js';
export type {
  MetricCategory,
  MetricKind,
  MetricDefinition,
  CircuitBreakerState,
  ModelCallStatus,
  TokenType,
} from './metric-definition.js';
export { METRIC_CATALOG, catalogEntries } from './catalog.js';
export { FAILOVER_REASONS } from './catalog-routing-metrics.js';
export type { FailoverReason } from './catalog-routing-metrics.js';
export type { MetricKey, MetricCatalog, LabelName, LabelsOf } from './catalog.js';
export {
  DEFAULT_METRIC_PREFIX,
  instrumentName,
  prometheusName,
  prometheusType,
  prometheusBaseName,
  prometheusExposedName,
  sanitizePrometheusName,
  escapePrometheusText,
} from './naming.js';
export { MetricRecorder } from './metric-recorder.js';
export { OVERFLOW_LABEL_VALUE } from './series-store.js';
export type { SeriesCell, HistogramState } from './series-store.js';
export type { Exemplar, ExemplarFilter, ExemplarSlots } from './exemplars.js';
export { EXEMPLAR_FILTERS } from './exemplars.js';
export {
  ExponentialHistogram,
  exponentialBucketIndex,
  downscaleExponentialBuckets,
  DEFAULT_EXPONENTIAL_MAX_SIZE,
  MAX_EXPONENTIAL_SCALE,
  MIN_EXPONENTIAL_SCALE,
} from './exponential-histogram.js';
export type {
  ExponentialBuckets,
  ExponentialHistogramLimits,
  ExponentialHistogramState,
} from './exponential-histogram.js';
export { renderMetricsMarkdown } from './metrics-markdown.js';
export type { MetricsMarkdownOptions } from './metrics-markdown.js';
