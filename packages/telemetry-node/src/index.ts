/**
 * Node.js SDK wiring for `@gatewayz/telemetry`: starts the OpenTelemetry Node SDK with a Prometheus
 * exporter served by your own HTTP server, per-category endpoints, a JSON summary, OTLP/HTTP traces
 * and logs from the standard `OTEL_*` variables, and Node.js runtime and host metrics.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { startTelemetry, toNodeListener } from '@gatewayz/telemetry-node';
 *
 * const telemetry = startTelemetry({ serviceName: 'my-gateway' });
 * createServer(toNodeListener(telemetry.metricsHandler)).listen(9464);
 * process.once('SIGTERM', () => void telemetry.shutdown());
 * ```
 *
 * Inside: `sdk/` (startTelemetry, the metric producer, the context manager), `exposition/`
 * (Prometheus and OpenMetrics serializers, categories, JSON summary), `http/` (the fetch-style
 * handlers and the `node:http` adapter), `logs/` (structured logger, bounded log processor) and
 * `health-service/` (the health-service poller, which does HTTP and so lives here, not in the core).
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry-node
 */
export { startTelemetry } from './sdk/index.js';
export type { StartTelemetryOptions, RunningTelemetry } from './sdk/index.js';
export { createTelemetryMetricProducer } from './sdk/index.js';
export type { TelemetryMetricProducerOptions } from './sdk/index.js';
export { SynchronousContextManager } from './sdk/index.js';
export { createMetricsHandler, PROMETHEUS_CONTENT_TYPE, GZIP_MIN_BYTES } from './http/index.js';
export type { MetricsHandler, MetricsHandlerOptions, MetricsSource, MetricsCompression } from './http/index.js';
export { createModelHealthHandler, serializeModelHealth } from './http/index.js';
export type { ModelHealthHandler, ModelHealthHandlerOptions } from './http/index.js';
export { toNodeListener, toFetchRequest, writeFetchResponse } from './http/index.js';
export type { FetchHandler } from './http/index.js';
export { serializePrometheus, prometheusChunks } from './exposition/index.js';
export type { SerializeOptions } from './exposition/index.js';
export {
  serializeOpenMetrics,
  openMetricsChunks,
  acceptsOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
} from './exposition/index.js';
export type { ExemplarDataPoint, ExpositionDrop, ExpositionDropReason } from './exposition/index.js';
export { buildMetricsSummary, HEALTHY_SCORE_THRESHOLD, SUMMARY_CATEGORIES } from './exposition/index.js';
export type { MetricsSummary, ProvidersSummary, BusinessSummary, SummaryCategory } from './exposition/index.js';
export { MetricCategoryIndex, isMetricCategory } from './exposition/index.js';
export { StructuredLogger, isLogLevel } from './logs/index.js';
export type { StructuredLoggerOptions, LogLevel, LogAttributes } from './logs/index.js';
export { BoundedLogRecordProcessor } from './logs/index.js';
export type { BoundedLogRecordProcessorOptions, LogDropReason } from './logs/index.js';
export { FlushDeadline } from './flush/flush-deadline.js';
export { startHealthServicePoller } from './health-service/index.js';
export { HEALTH_SERVICE_ENDPOINTS } from './health-service/index.js';
export type {
  HealthServicePoller,
  HealthServicePollerOptions,
  HealthServicePoll,
  HealthServicePollerSnapshot,
  HealthServiceEndpoint,
  HealthServiceEndpointResult,
  HealthServiceFailureReason,
  HealthServiceValues,
  HealthServiceTelemetry,
} from './health-service/index.js';
export { startClusterPrimary, createClusterMetricsSource, ClusterModelHealthStore } from './cluster/index.js';
export type {
  ClusterPrimary,
  ClusterPrimaryOptions,
  ClusterMetricsSourceOptions,
  ClusterChannel,
  ClusterModelHealthStoreOptions,
  GaugeMergeRule,
} from './cluster/index.js';
export type {
  MetricsExportOptions,
  OtlpMetricsOptions,
  MetricsExporterName,
  OtlpMetricsProtocol,
  MetricsTemporalityPreference,
  OtlpHistogramAggregation,
} from './otlp-metrics/index.js';
