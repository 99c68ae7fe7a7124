/**
 * Provider health: the health score formula (seed 000), the tracker that turns model-health records
 * into per-provider gauges, the sliding-window anomaly detector (seed 002), the circuit-breaker
 * binding, and the provider metric helpers of `GatewayTelemetry`.
 *
 * - `health-score.ts`: `providerHealthScore()`, a pure function
 * - `provider-health-tracker.ts` (+ `provider-health-tracker-options.ts`, `record-figure-problem.ts`):
 *   `startProviderHealthTracker()`, a periodic aggregation
 * - `anomaly-detector.ts` (+ `anomaly-types.ts`, `anomaly-window.ts`): latency spikes and error surges
 * - `circuit-breaker.ts`: follows an opossum-style breaker's state
 * - `provider-metrics.ts` / `provider-helpers.ts`: the typed helpers, on an instance and on the shared one
 *
 * @example
 * ```ts
 * import { AnomalyDetector, providerHealthScore } from '@gatewayz/telemetry/provider-health';
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/provider-health
 */
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
} from './provider-health-tracker.js';
export { bindCircuitBreakerMetrics, circuitBreakerStateOf } from './circuit-breaker.js';
export type { CircuitBreakerLike, CircuitBreakerBindingOptions } from './circuit-breaker.js';
export { AnomalyDetector } from './anomaly-detector.js';
export { ANOMALY_TYPES } from './anomaly-types.js';
export type {
  AnomalyType,
  AnomalyObservation,
  AnomalyDetectorOptions,
  LatencySpikeOptions,
  ErrorSurgeOptions,
  DetectedAnomaly,
  ProviderAnomalyStats,
  AnomalyWindowFigures,
} from './anomaly-types.js';
export {
  recordProviderResponseTime,
  setProviderHealthScore,
  setProviderAvailability,
  setProviderErrorRate,
  setCircuitBreakerState,
  recordAnomaly,
  recordFailover,
} from './provider-helpers.js';
