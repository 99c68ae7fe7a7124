import type { CircuitBreakerState, ModelCallStatus, TokenType } from './catalog.js';
import { GatewayTelemetry, type GatewayTelemetryOptions, type GenAiOperationRecord } from './gateway-telemetry.js';

let shared: GatewayTelemetry | undefined;

/**
 * The shared `GatewayTelemetry` instance behind the module-level helpers. Created on first use with
 * default options, reporting to the global meter provider once one is registered.
 *
 * @example
 * ```ts
 * getTelemetry().recordCacheHit('responses');
 * ```
 */
export function getTelemetry(): GatewayTelemetry {
  return (shared ??= new GatewayTelemetry());
}

/**
 * Replace the shared instance with one built from `options` (prefix, series limits, meter
 * provider). Call it at start-up, before recording; values recorded on the previous instance stay there.
 *
 * @example
 * ```ts
 * configureTelemetry({ prefix: 'acme_', maxSeriesPerMetric: 5000 });
 * ```
 */
export function configureTelemetry(options: GatewayTelemetryOptions = {}): GatewayTelemetry {
  shared = new GatewayTelemetry(options);
  return shared;
}

/** The shared instance if something created it already, without creating one. */
export function peekTelemetry(): GatewayTelemetry | undefined {
  return shared;
}

/**
 * Use an existing instance as the shared one (for example one created by `startTelemetry()`);
 * `undefined` forgets it, so the next use creates a fresh one.
 */
export function setTelemetry(telemetry: GatewayTelemetry | undefined): void {
  shared = telemetry;
}

/** @see GatewayTelemetry.recordProviderResponseTime */
export function recordProviderResponseTime(provider: string, seconds: number): void {
  getTelemetry().recordProviderResponseTime(provider, seconds);
}
/** @see GatewayTelemetry.setProviderHealthScore */
export function setProviderHealthScore(provider: string, score: number): void {
  getTelemetry().setProviderHealthScore(provider, score);
}
/** @see GatewayTelemetry.setProviderAvailability */
export function setProviderAvailability(provider: string, availability: number | boolean): void {
  getTelemetry().setProviderAvailability(provider, availability);
}
/** @see GatewayTelemetry.setProviderErrorRate */
export function setProviderErrorRate(provider: string, errorRate: number): void {
  getTelemetry().setProviderErrorRate(provider, errorRate);
}
/** @see GatewayTelemetry.setCircuitBreakerState */
export function setCircuitBreakerState(provider: string, state: CircuitBreakerState): void {
  getTelemetry().setCircuitBreakerState(provider, state);
}
/** @see GatewayTelemetry.recordAnomaly */
export function recordAnomaly(type: string, count = 1): void {
  getTelemetry().recordAnomaly(type, count);
}
/** @see GatewayTelemetry.setModelUptime24h */
export function setModelUptime24h(model: string, uptime: number): void {
  getTelemetry().setModelUptime24h(model, uptime);
}
/** @see GatewayTelemetry.setTokenEfficiency */
export function setTokenEfficiency(model: string, efficiency: number): void {
  getTelemetry().setTokenEfficiency(model, efficiency);
}
/** @see GatewayTelemetry.recordModelInference */
export function recordModelInference(
  provider: string,
  model: string,
  status: ModelCallStatus,
  durationSeconds?: number,
): void {
  getTelemetry().recordModelInference(provider, model, status, durationSeconds);
}
/** @see GatewayTelemetry.recordGenAiOperation */
export function recordGenAiOperation(operation: GenAiOperationRecord): void {
  getTelemetry().recordGenAiOperation(operation);
}
/** @see GatewayTelemetry.incrementCostByProvider */
export function incrementCostByProvider(provider: string, usd: number): void {
  getTelemetry().incrementCostByProvider(provider, usd);
}
/** @see GatewayTelemetry.recordTokensUsed */
export function recordTokensUsed(provider: string, model: string, tokenType: TokenType, tokens: number): void {
  getTelemetry().recordTokensUsed(provider, model, tokenType, tokens);
}
/** @see GatewayTelemetry.recordTokenUsage */
export function recordTokenUsage(provider: string, model: string, inputTokens: number, outputTokens: number): void {
  getTelemetry().recordTokenUsage(provider, model, inputTokens, outputTokens);
}
/** @see GatewayTelemetry.recordCreditsUsed */
export function recordCreditsUsed(provider: string, model: string, credits: number): void {
  getTelemetry().recordCreditsUsed(provider, model, credits);
}
/** @see GatewayTelemetry.setTrialActiveCount */
export function setTrialActiveCount(count: number): void {
  getTelemetry().setTrialActiveCount(count);
}
/** @see GatewayTelemetry.setActiveApiKeys */
export function setActiveApiKeys(count: number): void {
  getTelemetry().setActiveApiKeys(count);
}
/** @see GatewayTelemetry.setSubscriptionCount */
export function setSubscriptionCount(count: number): void {
  getTelemetry().setSubscriptionCount(count);
}
/** @see GatewayTelemetry.recordHttpRequest */
export function recordHttpRequest(
  method: string,
  path: string,
  statusCode: number | string,
  durationSeconds: number,
): void {
  getTelemetry().recordHttpRequest(method, path, statusCode, durationSeconds);
}
/** @see GatewayTelemetry.trackHttpRequestInProgress */
export function trackHttpRequestInProgress(method: string, path: string, delta: 1 | -1): void {
  getTelemetry().trackHttpRequestInProgress(method, path, delta);
}
/** @see GatewayTelemetry.recordDatabaseQuery */
export function recordDatabaseQuery(operation: string, seconds: number): void {
  getTelemetry().recordDatabaseQuery(operation, seconds);
}
/** @see GatewayTelemetry.recordCacheHit */
export function recordCacheHit(cache = 'default'): void {
  getTelemetry().recordCacheHit(cache);
}
/** @see GatewayTelemetry.recordCacheMiss */
export function recordCacheMiss(cache = 'default'): void {
  getTelemetry().recordCacheMiss(cache);
}
/** @see GatewayTelemetry.recordTimeToFirstToken */
export function recordTimeToFirstToken(provider: string, model: string, seconds: number): void {
  getTelemetry().recordTimeToFirstToken(provider, model, seconds);
}
