import type { CircuitBreakerState } from '../metrics/metric-definition.js';
import type { FailoverReason } from '../metrics/catalog-routing-metrics.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';

// The provider helpers on the shared instance (see getTelemetry()), for applications that use one.

/**
 * Observe one provider call's latency, in seconds, in the `provider_response_time_seconds{provider}`
 * histogram of the shared instance. Negative, NaN or infinite values are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * const started = performance.now();
 * const response = await fetch('https://api.openai.com/v1/chat/completions', init);
 * recordProviderResponseTime('openai', (performance.now() - started) / 1000);
 * ```
 *
 * @see GatewayTelemetry.recordProviderResponseTime
 */
export function recordProviderResponseTime(provider: string, seconds: number): void {
  getTelemetry().recordProviderResponseTime(provider, seconds);
}

/**
 * Set the `gatewayz_provider_health_score{provider}` gauge of the shared instance, a score in
 * [0, 1] (see `providerHealthScore()`). Values outside [0, 1] are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setProviderHealthScore('openai', providerHealthScore({ availability: 1, errorRate: 0.02, responseTimeSeconds: 1.1 }));
 * ```
 *
 * @see GatewayTelemetry.setProviderHealthScore
 */
export function setProviderHealthScore(provider: string, score: number): void {
  getTelemetry().setProviderHealthScore(provider, score);
}

/**
 * Set the `provider_availability{provider}` gauge of the shared instance: `true` or 1 when the
 * provider is available, `false` or 0 when not. Numbers outside [0, 1] are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setProviderAvailability('anthropic', false); // provider_availability{provider="anthropic"} 0
 * ```
 *
 * @see GatewayTelemetry.setProviderAvailability
 */
export function setProviderAvailability(provider: string, availability: number | boolean): void {
  getTelemetry().setProviderAvailability(provider, availability);
}

/**
 * Set the `provider_error_rate{provider}` gauge of the shared instance: the share of failed calls
 * as a fraction in [0, 1], not a percentage. Values outside [0, 1] are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setProviderErrorRate('openai', 3 / 120); // 3 failures in the last 120 calls: 0.025
 * ```
 *
 * @see GatewayTelemetry.setProviderErrorRate
 */
export function setProviderErrorRate(provider: string, errorRate: number): void {
  getTelemetry().setProviderErrorRate(provider, errorRate);
}

/**
 * Set `gatewayz_circuit_breaker_state{provider,state}` on the shared instance: 1 for `state`, 0 for
 * the two other states. An unknown state is dropped and counted in `gatewayz_telemetry_dropped_total`
 * (reason `unknown_label_value`). To follow a breaker automatically, use `bindCircuitBreakerMetrics()`.
 *
 * @example
 * ```ts
 * setCircuitBreakerState('openai', 'open');
 * ```
 *
 * @see GatewayTelemetry.setCircuitBreakerState
 */
export function setCircuitBreakerState(provider: string, state: CircuitBreakerState): void {
  getTelemetry().setCircuitBreakerState(provider, state);
}

/**
 * Count `count` (default 1) detected anomalies of a type in `gatewayz_detected_anomalies_total{type}`
 * on the shared instance. A negative or non-finite count is dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordAnomaly('latency_spike');
 * recordAnomaly('error_surge', 2);
 * ```
 *
 * @see GatewayTelemetry.recordAnomaly
 */
export function recordAnomaly(type: string, count = 1): void {
  getTelemetry().recordAnomaly(type, count);
}

/**
 * Count one move of a request from `provider` to `nextProvider`, the next provider of its failover
 * chain, in `gatewayz_failovers_total{provider,next_provider,reason}` on the shared instance: after
 * a failed attempt (`error`, `timeout`, `rate_limited`, `network_error`) or when the provider was
 * passed over (`rate_limited`: no requests left until its reset; `circuit_open`). An unknown reason
 * is dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordFailover('openai', 'openrouter', 'timeout');
 * ```
 *
 * @see GatewayTelemetry.recordFailover
 */
export function recordFailover(provider: string, nextProvider: string, reason: FailoverReason): void {
  getTelemetry().recordFailover(provider, nextProvider, reason);
}
