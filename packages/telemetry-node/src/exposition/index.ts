/**
 * The exposition formats: Prometheus text (0.0.4) and OpenMetrics 1.0 serializers written over the
 * SDK's collected data (names from the core's catalog-side naming helpers), the per-category filter
 * from the catalog, and the JSON summary of seed 002.
 *
 * - `prometheus-serializer.ts`: `serializePrometheus()`, `prometheusChunks()` and the shared text helpers
 * - `openmetrics-serializer.ts`: `serializeOpenMetrics()`, with the exemplars of `ExemplarDataPoint`s
 * - `accepts-openmetrics.ts`: `acceptsOpenMetrics()`, the `Accept` header's choice between the two formats
 * - `exposition-families.ts`: instruments grouped into families; name clashes merged or dropped and reported
 * - `exemplar-data-point.ts`: the histogram point type that carries exemplars
 * - `metric-categories.ts`: `MetricCategoryIndex`, instrument name → categories
 * - `metrics-summary.ts`: `buildMetricsSummary()`
 */
export { serializePrometheus, prometheusChunks } from './prometheus-serializer.js';
export type { SerializeOptions } from './prometheus-serializer.js';
export { serializeOpenMetrics, openMetricsChunks, OPENMETRICS_CONTENT_TYPE } from './openmetrics-serializer.js';
export { acceptsOpenMetrics } from './accepts-openmetrics.js';
export type { ExemplarDataPoint } from './exemplar-data-point.js';
export type { ExpositionDrop, ExpositionDropReason } from './exposition-families.js';
export { buildMetricsSummary, HEALTHY_SCORE_THRESHOLD, SUMMARY_CATEGORIES } from './metrics-summary.js';
export type { MetricsSummary, ProvidersSummary, BusinessSummary, SummaryCategory } from './metrics-summary.js';
export { MetricCategoryIndex, isMetricCategory } from './metric-categories.js';
