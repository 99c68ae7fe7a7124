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
export { startTelemetry } from './sdk/start-telemetry.js';
export type { StartTelemetryOptions, RunningTelemetry } from './sdk/start-telemetry.js';
export { createTelemetryMetricProducer } from './sdk/telemetry-metric-producer.js';
export { SynchronousContextManager } from './sdk/synchronous-context-manager.js';
export { createMetricsHandler, PROMETHEUS_CONTENT_TYPE } from './http/metrics-handler.js';
export type { MetricsHandler, MetricsHandlerOptions, MetricsSource } from './http/metrics-handler.js';
export { createModelHealthHandler, serializeModelHealth } from './http/model-health-handler.js';
export type { ModelHealthHandler, ModelHealthHandlerOptions } from './http/model-health-handler.js';
export { toNodeListener, toFetchRequest, writeFetchResponse } from './http/node-adapter.js';
export type { FetchHandler } from './http/node-adapter.js';
export { serializePrometheus, prometheusChunks } from './exposition/prometheus-serializer.js';
export type { SerializeOptions } from './exposition/prometheus-serializer.js';
export {
  serializeOpenMetrics,
  openMetricsChunks,
  acceptsOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
} from './exposition/openmetrics-serializer.js';
export type { ExemplarDataPoint } from './exposition/exemplar-data-point.js';
export { buildMetricsSummary, HEALTHY_SCORE_THRESHOLD, SUMMARY_CATEGORIES } from './exposition/metrics-summary.js';
export type {
  MetricsSummary,
  ProvidersSummary,
  BusinessSummary,
  SummaryCategory,
} from './exposition/metrics-summary.js';
export { MetricCategoryIndex, isMetricCategory } from './exposition/metric-categories.js';
export { StructuredLogger, isLogLevel } from './logs/structured-logger.js';
export type { StructuredLoggerOptions, LogLevel, LogAttributes } from './logs/structured-logger.js';
export { BoundedLogRecordProcessor } from './logs/bounded-log-record-processor.js';
export type { BoundedLogRecordProcessorOptions, LogDropReason } from './logs/bounded-log-record-processor.js';
export { startHealthServicePoller, HEALTH_SERVICE_ENDPOINTS } from './health-service/index.js';
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
