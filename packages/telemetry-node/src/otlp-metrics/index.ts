/**
 * Metrics pushed over OTLP (HTTP or gRPC) from the standard variables (`OTEL_METRICS_EXPORTER`,
 * `OTEL_EXPORTER_OTLP_*`, `OTEL_METRIC_EXPORT_*`): the same series the Prometheus endpoint serves,
 * in the temporality the exporter asks for, with exemplars.
 *
 * - `metrics-export-config.ts`: the variables and the `metrics` option, resolved and validated
 * - `histogram-options-from-env.ts`: the helpers' exemplar and exponential histogram options
 * - `otlp-metrics-reader.ts`: the periodic reader around the exporter, failure counting
 * - `otlp-metric-exporter.ts`: the maintained exporter parts (HTTP or gRPC transport, stock serializer)
 * - `temporality-metric-producer.ts`: cumulative series as delta, measured from the last accepted push
 * - `exemplar-serializer.ts`: the stock serializer's output plus each histogram point's exemplars
 * - `partial-success.ts`: items a backend rejected from an accepted request (data points for the
 *   failure count; spans and log records too, for their exporters' drop counts)
 * - `request-items.ts`: the items of the request an answer answers, to cap what it says was rejected
 */
export { resolveMetricsExport } from './metrics-export-config.js';
export type {
  MetricsExportOptions,
  OtlpMetricsOptions,
  MetricsExporterName,
  OtlpMetricsProtocol,
  MetricsTemporalityPreference,
  OtlpHistogramAggregation,
  ResolvedMetricsExport,
  ResolvedOtlpMetrics,
  PeriodicExport,
} from './metrics-export-config.js';
export { createOtlpMetricsReader } from './otlp-metrics-reader.js';
export type { MetricsExportFailureReason } from './otlp-metrics-reader.js';
