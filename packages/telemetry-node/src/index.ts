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
 * @packageDocumentation
 * @module @gatewayz/telemetry-node
 */
export { startTelemetry } from './start-telemetry.js';
export type { StartTelemetryOptions, RunningTelemetry } from './start-telemetry.js';
export { createMetricsHandler, PROMETHEUS_CONTENT_TYPE } from './metrics-handler.js';
export type { MetricsHandler, MetricsHandlerOptions, MetricsSource } from './metrics-handler.js';
export {
  serializePrometheus,
  prometheusChunks,
  POINTS_PER_CHUNK,
  exposedName,
  sanitizeName,
} from './prometheus-serializer.js';
export type { SerializeOptions } from './prometheus-serializer.js';
export { buildMetricsSummary, HEALTHY_SCORE_THRESHOLD, SUMMARY_CATEGORIES } from './metrics-summary.js';
export type { MetricsSummary, ProvidersSummary, BusinessSummary, SummaryCategory } from './metrics-summary.js';
export { MetricCategoryIndex, isMetricCategory } from './metric-categories.js';
export { isAuthorized } from './bearer-auth.js';
export { toNodeListener, toFetchRequest, writeFetchResponse } from './node-adapter.js';
export type { FetchHandler } from './node-adapter.js';
export { createModelHealthHandler, serializeModelHealth } from './model-health-handler.js';
export type { ModelHealthHandler, ModelHealthHandlerOptions } from './model-health-handler.js';
export {
  serializeOpenMetrics,
  openMetricsChunks,
  acceptsOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
} from './openmetrics-serializer.js';
export { StructuredLogger, isLogLevel } from './structured-logger.js';
export type { StructuredLoggerOptions, LogLevel, LogAttributes } from './structured-logger.js';
export { BoundedLogRecordProcessor } from './bounded-log-record-processor.js';
export type { BoundedLogRecordProcessorOptions, LogDropReason } from './bounded-log-record-processor.js';
export { createTelemetryMetricProducer } from './telemetry-metric-producer.js';
export { SynchronousContextManager } from './synchronous-context-manager.js';
export { startClusterPrimary } from './cluster/cluster-primary.js';
export type { ClusterPrimary, ClusterPrimaryOptions } from './cluster/cluster-primary.js';
export { createClusterMetricsSource } from './cluster/cluster-worker.js';
export type { ClusterMetricsSourceOptions, ClusterChannel } from './cluster/cluster-worker.js';
export { ClusterModelHealthStore } from './cluster/cluster-model-health-store.js';
export type { ClusterModelHealthStoreOptions } from './cluster/cluster-model-health-store.js';
export type { GaugeMergeRule } from './cluster/merge-worker-metrics.js';
export type {
  MetricsExportOptions,
  OtlpMetricsOptions,
  MetricsExporterName,
  OtlpMetricsProtocol,
  MetricsTemporalityPreference,
} from './otlp-metrics/metrics-export-config.js';
