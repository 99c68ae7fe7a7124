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

/**
 * The shared instance if something created it already, without creating one.
 *
 * @example
 * ```ts
 * const telemetry = peekTelemetry();
 * console.log(telemetry?.seriesCount('providerResponseTime') ?? 0);
 * ```
 */
export function peekTelemetry(): GatewayTelemetry | undefined {
  return shared;
}

/**
 * Use an existing instance as the shared one (for example one created by `startTelemetry()`);
 * `undefined` forgets it, so the next use creates a fresh one.
 *
 * @example
 * ```ts
 * setTelemetry(new GatewayTelemetry({ meterProvider, prefix: 'acme_' }));
 * afterEach(() => setTelemetry(undefined)); // tests: a fresh shared instance per test
 * ```
 */
export function setTelemetry(telemetry: GatewayTelemetry | undefined): void {
  shared = telemetry;
}

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
 * Record one GenAI client operation on the shared instance, following the OpenTelemetry GenAI
 * conventions: its duration in seconds in `gen_ai.client.operation.duration` and, for each token
 * count given, one observation in `gen_ai.client.token.usage`. An invalid duration drops the whole
 * record; an invalid token count drops that observation only (both counted in
 * `gatewayz_telemetry_dropped_total`).
 *
 * @example
 * ```ts
 * recordGenAiOperation({
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.3, inputTokens: 420, outputTokens: 128,
 * });
 * ```
 *
 * @see GatewayTelemetry.recordGenAiOperation
 */
export function recordGenAiOperation(operation: GenAiOperationRecord): void {
  getTelemetry().recordGenAiOperation(operation);
}
/**
 * Add the cost of provider calls, in USD, to `gatewayz_cost_by_provider_total{provider}` on the
 * shared instance. Negative or non-finite amounts are dropped and counted in
 * `gatewayz_telemetry_dropped_total`; `PricingTable` turns token usage into USD.
 *
 * @example
 * ```ts
 * incrementCostByProvider('openai', 0.00036); // USD
 * ```
 *
 * @see GatewayTelemetry.incrementCostByProvider
 */
export function incrementCostByProvider(provider: string, usd: number): void {
  getTelemetry().incrementCostByProvider(provider, usd);
}
/**
 * Add tokens of one direction (`input` or `output`) to `tokens_used_total{provider,model,token_type}`
 * on the shared instance. Another token type, or a negative or non-finite count, is dropped and
 * counted in `gatewayz_telemetry_dropped_total`. Unlike `recordTokenUsage()`, it leaves
 * `gatewayz_token_efficiency` alone.
 *
 * @example
 * ```ts
 * recordTokensUsed('openai', 'gpt-4o-mini', 'output', 128);
 * ```
 *
 * @see GatewayTelemetry.recordTokensUsed
 */
export function recordTokensUsed(provider: string, model: string, tokenType: TokenType, tokens: number): void {
  getTelemetry().recordTokensUsed(provider, model, tokenType, tokens);
}
/**
 * Record one call's token usage on the shared instance: adds both directions to `tokens_used_total`
 * and sets `gatewayz_token_efficiency{model}` to the model's output/input ratio over all calls so
 * far (across providers). If either count is negative or non-finite, nothing is recorded and the
 * drop is counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordTokenUsage('anthropic', 'claude-3-5-haiku-latest', 1024, 256); // efficiency 0.25 after this first call
 * ```
 *
 * @see GatewayTelemetry.recordTokenUsage
 */
export function recordTokenUsage(provider: string, model: string, inputTokens: number, outputTokens: number): void {
  getTelemetry().recordTokenUsage(provider, model, inputTokens, outputTokens);
}
/**
 * Add the credits charged to a user for a call to `credits_used_total{provider,model}` on the shared
 * instance. Negative or non-finite amounts are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordCreditsUsed('openai', 'gpt-4o-mini', 0.25);
 * ```
 *
 * @see GatewayTelemetry.recordCreditsUsed
 */
export function recordCreditsUsed(provider: string, model: string, credits: number): void {
  getTelemetry().recordCreditsUsed(provider, model, credits);
}
/**
 * Set the `trial_active` gauge of the shared instance to the number of active trials. Negative or
 * non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setTrialActiveCount(42);
 * ```
 *
 * @see GatewayTelemetry.setTrialActiveCount
 */
export function setTrialActiveCount(count: number): void {
  getTelemetry().setTrialActiveCount(count);
}
/**
 * Set the `active_api_keys` gauge of the shared instance to the number of active API keys. Negative
 * or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setActiveApiKeys(1318);
 * ```
 *
 * @see GatewayTelemetry.setActiveApiKeys
 */
export function setActiveApiKeys(count: number): void {
  getTelemetry().setActiveApiKeys(count);
}
/**
 * Set the `subscription_count` gauge of the shared instance to the number of active subscriptions.
 * Negative or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setSubscriptionCount(270);
 * ```
 *
 * @see GatewayTelemetry.setSubscriptionCount
 */
export function setSubscriptionCount(count: number): void {
  getTelemetry().setSubscriptionCount(count);
}
/**
 * Record one served HTTP request on the shared instance: counts it in
 * `fastapi_requests_total{method,path,status_code}` and observes its duration, in seconds, in
 * `fastapi_requests_duration_seconds{method,path}`. Pass the route template, never the raw URL; a
 * numeric status outside 100-599 becomes `other`. An invalid duration drops the request, counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordHttpRequest('POST', '/v1/chat/completions', 200, 0.84);
 * ```
 *
 * @see GatewayTelemetry.recordHttpRequest
 */
export function recordHttpRequest(
  method: string,
  path: string,
  statusCode: number | string,
  durationSeconds: number,
): void {
  getTelemetry().recordHttpRequest(method, path, statusCode, durationSeconds);
}
/**
 * Move the `fastapi_requests_in_progress{method,path}` up-down counter of the shared instance by
 * `delta`: +1 when a request starts, -1 when it ends (pass the route template, not the raw URL).
 *
 * @example
 * ```ts
 * trackHttpRequestInProgress('POST', '/v1/chat/completions', 1);
 * try { return await handleChatCompletion(request); }
 * finally { trackHttpRequestInProgress('POST', '/v1/chat/completions', -1); }
 * ```
 *
 * @see GatewayTelemetry.trackHttpRequestInProgress
 */
export function trackHttpRequestInProgress(method: string, path: string, delta: 1 | -1): void {
  getTelemetry().trackHttpRequestInProgress(method, path, delta);
}
/**
 * Observe one database call's duration, in seconds, in `database_query_duration_seconds{operation}`
 * on the shared instance. Negative or non-finite durations are dropped and counted in
 * `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordDatabaseQuery('get_model_health', 0.012);
 * ```
 *
 * @see GatewayTelemetry.recordDatabaseQuery
 */
export function recordDatabaseQuery(operation: string, seconds: number): void {
  getTelemetry().recordDatabaseQuery(operation, seconds);
}
/**
 * Count a cache hit in `cache_hits_total{cache}` on the shared instance; `cache` names the cache
 * (default `default`).
 *
 * @example
 * ```ts
 * const cached = responseCache.get(cacheKey);
 * if (cached !== undefined) recordCacheHit('responses');
 * else recordCacheMiss('responses');
 * ```
 *
 * @see GatewayTelemetry.recordCacheHit
 */
export function recordCacheHit(cache = 'default'): void {
  getTelemetry().recordCacheHit(cache);
}
/**
 * Count a cache miss in `cache_misses_total{cache}` on the shared instance; `cache` names the cache
 * (default `default`).
 *
 * @example
 * ```ts
 * const cached = responseCache.get(cacheKey);
 * if (cached === undefined) recordCacheMiss('responses');
 * ```
 *
 * @see GatewayTelemetry.recordCacheMiss
 */
export function recordCacheMiss(cache = 'default'): void {
  getTelemetry().recordCacheMiss(cache);
}
/**
 * Observe the time from sending a streaming request to the first content chunk, in seconds, in
 * `gatewayz_time_to_first_token_seconds{provider,model}` on the shared instance. Negative or
 * non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
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
