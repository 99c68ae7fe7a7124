/**
 * Typed OpenTelemetry metric helpers for LLM gateways: provider health, latency, cost, tokens,
 * circuit breakers and HTTP/database/cache metrics. Depends on `@opentelemetry/api` only; pair it
 * with any OpenTelemetry SDK, or with `@gatewayz/telemetry-node`.
 *
 * The root entry point carries what an application records with. The optional parts have their
 * own entry points:
 * - `@gatewayz/telemetry/model-health`: the model-health contract, recorder and in-memory store
 * - `@gatewayz/telemetry/provider-health`: health score, tracker, anomaly detector, breaker binding
 * - `@gatewayz/telemetry/genai`: GenAI spans, pricing and the semantic-convention strings
 * - `@gatewayz/telemetry/metrics`: the metric catalog, exposition naming and series types (for SDK wiring)
 * - `@gatewayz/telemetry/scheduling`: the clock and periodic task the background loops share
 * - `@gatewayz/telemetry/rate-limits`: the rate-limit header parser and the headroom gauges
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
export { GatewayTelemetry } from './metrics/gateway-telemetry.js';
export type {
  GatewayTelemetryOptions,
  DropReason,
  CounterMetricKey,
  GaugeMetricKey,
  HistogramMetricKey,
  UpDownCounterMetricKey,
} from './metrics/recorder-types.js';
export type { GaugeLabelName } from './metrics/series-removal.js';
export type { ExponentialHistogramLimits } from './metrics/exponential-histogram.js';
export type { ExemplarFilter } from './metrics/exemplars.js';
export { getTelemetry, peekTelemetry, configureTelemetry, setTelemetry } from './metrics/shared-telemetry.js';
export { CIRCUIT_BREAKER_STATES, MODEL_CALL_STATUSES, TOKEN_TYPES } from './metrics/metric-definition.js';
export type { CircuitBreakerState, ModelCallStatus, TokenType, MetricCategory } from './metrics/metric-definition.js';
export type { MetricKey, LabelsOf, LabelName } from './metrics/catalog.js';
export {
  recordProviderResponseTime,
  setProviderHealthScore,
  setProviderAvailability,
  setProviderErrorRate,
  setCircuitBreakerState,
  recordAnomaly,
  recordFailover,
} from './provider-health/provider-helpers.js';
export { FAILOVER_REASONS } from './metrics/catalog-routing-metrics.js';
export type { FailoverReason } from './metrics/catalog-routing-metrics.js';
export {
  setModelUptime24h,
  setTokenEfficiency,
  recordModelInference,
  recordTimeToFirstToken,
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
} from './gateway-metrics/index.js';
export {
  recordApiKeyAttemptWithoutUsage,
  recordApiKeyEstimatedSpend,
  recordApiKeyRequest,
  recordApiKeyTokens,
  recordAttributedCost,
  setApiKeyBudget,
} from './attribution/index.js';
export { recordGenAiOperation, recordGenAiServerRequest } from './genai/genai-helpers.js';
export type { GenAiOperationRecord, GenAiServerRequestRecord } from './genai/genai-metrics.js';
export { providerHealthScore } from './provider-health/health-score.js';
export type { ProviderHealthInputs } from './provider-health/health-score.js';
export { startProviderHealthTracker } from './provider-health/provider-health-tracker.js';
export type {
  ProviderHealthTracker,
  ProviderHealthTrackerOptions,
  ProviderHealthSnapshot,
} from './provider-health/provider-health-tracker.js';
export { bindCircuitBreakerMetrics } from './provider-health/circuit-breaker.js';
export type { CircuitBreakerLike, CircuitBreakerBindingOptions } from './provider-health/circuit-breaker.js';
export type { TrackerClock } from './scheduling/periodic-task.js';
export { TelemetryError, TelemetryConfigurationError, TelemetryInputError } from './errors.js';
export type { TelemetryErrorCode } from './errors.js';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';
