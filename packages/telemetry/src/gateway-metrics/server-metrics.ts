import { defineHelpers } from '../metrics/metric-recorder.js';

/** HTTP server, database and cache metrics of a `GatewayTelemetry`. */
export const serverMetrics = defineHelpers({
  /**
   * Record one served HTTP request: `fastapi_requests_total{method,path,status_code}` and
   * `fastapi_requests_duration_seconds{method,path}`. Pass the route template (`/v1/model-health/:provider`),
   * never the raw URL, so the label set stays bounded.
   */
  recordHttpRequest(method: string, path: string, statusCode: number | string, durationSeconds: number): void {
    const duration = this.states.httpRequestDuration;
    if (!this.acceptValue(duration, durationSeconds)) return;
    const requests = this.states.httpRequests;
    const status = typeof statusCode === 'number' ? statusCodeLabel(statusCode) : statusCode;
    const requestCell = this.cellFor(requests, requests.store.lookup(method, path, status));
    if (requestCell === undefined) return;
    const durationCell = this.cellFor(duration, duration.store.lookup(method, path));
    if (durationCell === undefined) return;
    requestCell.value += 1;
    this.observe(duration, durationSeconds, durationCell);
  },

  /** Move `fastapi_requests_in_progress{method,path}` by `delta` (+1 when a request starts, -1 when it ends). */
  trackHttpRequestInProgress(method: string, path: string, delta: 1 | -1): void {
    const state = this.states.httpRequestsInProgress;
    if (!this.acceptValue(state, delta)) return;
    const cell = this.cellFor(state, state.store.lookup(method, path));
    if (cell !== undefined) cell.value += delta;
  },

  /** Observe one database call in `database_query_duration_seconds{operation}`. */
  recordDatabaseQuery(operation: string, seconds: number): void {
    const state = this.states.databaseQueryDuration;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(operation));
    if (cell !== undefined) this.observe(state, seconds, cell);
  },

  /** Count a cache hit (`cache_hits_total{cache}`). */
  recordCacheHit(cache = 'default'): void {
    this.addCounter1(this.states.cacheHits, cache, 1);
  },

  /** Count a cache miss (`cache_misses_total{cache}`). */
  recordCacheMiss(cache = 'default'): void {
    this.addCounter1(this.states.cacheMisses, cache, 1);
  },
});

/** The HTTP server, database and cache helpers of a `GatewayTelemetry`. */
export type ServerMetrics = typeof serverMetrics;

/** HTTP status codes as label values; anything outside 100-599 becomes `other`. */
function statusCodeLabel(statusCode: number): string {
  return Number.isInteger(statusCode) && statusCode >= 100 && statusCode <= 599 ? String(statusCode) : 'other';
}
