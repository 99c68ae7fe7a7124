import type { ModelCallStatus } from '../metrics/metric-definition.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';

// The model helpers on the shared instance (see getTelemetry()), for applications that use one.

/**
 * Set the `gatewayz_model_uptime_24h{model}` gauge of the shared instance: the model's availability
 * over the last 24 hours as a fraction in [0, 1]. Values outside [0, 1] are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setModelUptime24h('gpt-4o-mini', 0.998);
 * ```
 *
 * @see GatewayTelemetry.setModelUptime24h
 */
export function setModelUptime24h(model: string, uptime: number): void {
  getTelemetry().setModelUptime24h(model, uptime);
}

/**
 * Set the `gatewayz_token_efficiency{model}` gauge of the shared instance: output tokens per input
 * token (0 or more). `recordTokenUsage()` maintains this gauge itself and overwrites a value set
 * here. Negative or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setTokenEfficiency('gpt-4o-mini', 0.35);
 * ```
 *
 * @see GatewayTelemetry.setTokenEfficiency
 */
export function setTokenEfficiency(model: string, efficiency: number): void {
  getTelemetry().setTokenEfficiency(model, efficiency);
}

/**
 * Count one model inference in `model_inference_requests_total{provider,model,status}` on the shared
 * instance and, when `durationSeconds` is given, observe it in
 * `model_inference_duration_seconds{provider,model}`. A status outside `MODEL_CALL_STATUSES` or an
 * invalid duration drops the whole call, counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordModelInference('openai', 'gpt-4o-mini', 'success', 1.42);
 * recordModelInference('anthropic', 'claude-3-5-sonnet-latest', 'rate_limited');
 * ```
 *
 * @see GatewayTelemetry.recordModelInference
 */
export function recordModelInference(
  provider: string,
  model: string,
  status: ModelCallStatus,
  durationSeconds?: number,
): void {
  getTelemetry().recordModelInference(provider, model, status, durationSeconds);
}

/**
 * Observe the time from sending a streaming request to its first token (generated output), in
 * seconds, in `gatewayz_time_to_first_token_seconds{provider,model}` on the shared instance.
 * Negative or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordTimeToFirstToken('openai', 'gpt-4o-mini', (firstChunkAt - requestSentAt) / 1000); // ms timestamps
 * ```
 *
 * @see GatewayTelemetry.recordTimeToFirstToken
 */
export function recordTimeToFirstToken(provider: string, model: string, seconds: number): void {
  getTelemetry().recordTimeToFirstToken(provider, model, seconds);
}
