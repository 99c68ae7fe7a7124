import { getTelemetry } from '../metrics/shared-telemetry.js';

// The HTTP server, database and cache helpers on the shared instance (see getTelemetry()), for applications that use one.

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
