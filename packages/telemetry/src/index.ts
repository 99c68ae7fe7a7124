/**
 * Typed OpenTelemetry metric helpers for LLM gateways: provider health, latency, cost, tokens,
 * circuit breakers, model health and the OpenTelemetry GenAI conventions. Depends on
 * `@opentelemetry/api` only; pair it with any OpenTelemetry SDK, or with `@gatewayz/telemetry-node`.
 *
 * @example
 * ```ts
 * import { recordProviderResponseTime, incrementCostByProvider } from '@gatewayz/telemetry';
 *
 * recordProviderResponseTime('openai', 0.42);
 * incrementCostByProvider('openai', 0.00018);
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry
 */
export {
  METRIC_CATALOG,
  METRIC_CATEGORIES,
  CIRCUIT_BREAKER_STATES,
  MODEL_CALL_STATUSES,
  TOKEN_TYPES,
  DEFAULT_METRIC_PREFIX,
  LLM_LATENCY_BUCKETS,
  SERVER_LATENCY_BUCKETS,
  instrumentName,
  prometheusName,
  prometheusType,
  sanitizePrometheusName,
  catalogEntries,
} from './catalog.js';
export type {
  MetricCategory,
  MetricKind,
  MetricDefinition,
  MetricKey,
  MetricCatalog,
  LabelName,
  LabelsOf,
  CircuitBreakerState,
  ModelCallStatus,
  TokenType,
} from './catalog.js';
export { GatewayTelemetry } from './gateway-telemetry.js';
export type {
  GatewayTelemetryOptions,
  GenAiOperationRecord,
  DropReason,
  CounterMetricKey,
  GaugeMetricKey,
  HistogramMetricKey,
  UpDownCounterMetricKey,
} from './gateway-telemetry.js';
export {
  getTelemetry,
  peekTelemetry,
  configureTelemetry,
  setTelemetry,
  recordProviderResponseTime,
  setProviderHealthScore,
  setProviderAvailability,
  setProviderErrorRate,
  setCircuitBreakerState,
  recordAnomaly,
  setModelUptime24h,
  setTokenEfficiency,
  recordModelInference,
  recordGenAiOperation,
  incrementCostByProvider,
  recordTokensUsed,
  recordTokenUsage,
  recordCreditsUsed,
  setTrialActiveCount,
  setActiveApiKeys,
  setSubscriptionCount,
  recordHttpRequest,
  trackHttpRequestInProgress,
  recordDatabaseQuery,
  recordCacheHit,
  recordCacheMiss,
  recordTimeToFirstToken,
} from './default-telemetry.js';
export {
  providerHealthScore,
  latencyScore,
  LATENCY_SCORE_FULL_SECONDS,
  LATENCY_SCORE_ZERO_SECONDS,
} from './health-score.js';
export type { ProviderHealthInputs } from './health-score.js';
export { startProviderHealthTracker } from './provider-health-tracker.js';
export type {
  ProviderHealthTracker,
  ProviderHealthTrackerOptions,
  ProviderHealthSnapshot,
  TrackerClock,
} from './provider-health-tracker.js';
export { bindCircuitBreakerMetrics, circuitBreakerStateOf } from './circuit-breaker.js';
export type { CircuitBreakerLike } from './circuit-breaker.js';
export { startGenAiSpan, endGenAiSpan } from './genai-span.js';
export type { GenAiSpanStart, GenAiSpanEnd } from './genai-span.js';
export { PricingTable } from './pricing.js';
export type { ModelPrice, PricingTableInput, UsageForPricing } from './pricing.js';
export type {
  ModelHealthRecord,
  ModelHealthSource,
  ModelHealthStore,
  ModelCallAggregate,
  ModelCallBatch,
  ModelHealthQuery,
  ModelHealthPage,
  ModelHealthStats,
  ProviderHealthSummary,
} from './model-health.js';
export {
  MemoryModelHealthStore,
  validateModelCall,
  foldModelCall,
  normaliseModelHealthQuery,
  validateUnhealthyQuery,
  validateRetentionDays,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_MODEL_HEALTH_NAME_LENGTH,
  DEFAULT_MODEL_HEALTH_PAGE_SIZE,
  MAX_MODEL_HEALTH_PAGE_SIZE,
} from './memory-model-health-store.js';
export type { ModelCall } from './memory-model-health-store.js';
export { TelemetryError, TelemetryConfigurationError, TelemetryInputError } from './errors.js';
export type { TelemetryErrorCode } from './errors.js';
export { OVERFLOW_LABEL_VALUE } from './series-store.js';
export type { SeriesCell, HistogramState } from './series-store.js';
export * as semconv from './semconv.js';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';
export { renderMetricsMarkdown } from './metrics-markdown.js';
export type { MetricsMarkdownOptions } from './metrics-markdown.js';
export { ModelHealthRecorder } from './model-health-recorder.js';
export type { ModelHealthRecorderOptions, ModelHealthRecorderCloseResult } from './model-health-recorder.js';
export { exemplarsFor } from './exemplars.js';
export type { Exemplar, ExemplarSlots } from './exemplars.js';
export { startHealthServicePoller, HEALTH_SERVICE_ENDPOINTS } from './health-service-poller.js';
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
} from './health-service-poller.js';
export { AnomalyDetector, ANOMALY_TYPES } from './anomaly-detector.js';
export type {
  AnomalyType,
  AnomalyObservation,
  AnomalyDetectorOptions,
  LatencySpikeOptions,
  ErrorSurgeOptions,
  DetectedAnomaly,
  ProviderAnomalyStats,
  AnomalyWindowFigures,
} from './anomaly-detector.js';
