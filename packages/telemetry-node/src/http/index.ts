/**
 * HTTP, framework-agnostic: handlers are `(Request) => Promise<Response>` (the metrics endpoints and
 * the model-health REST API), with a `node:http` adapter. Optional bearer-token auth (constant-time)
 * and one JSON error shape for every handler.
 *
 * - `metrics-handler.ts`: `/metrics`, `/prometheus/metrics/{category,summary,docs}`
 * - `model-health-handler.ts`: `/v1/model-health/…`
 * - `node-adapter.ts`: `toNodeListener()` and its two halves
 * - `response-encoding.ts`: gzip of the expositions, chosen by `Accept-Encoding`
 * - `bearer-auth.ts`, `json-error.ts`: shared by the handlers
 */
export { createMetricsHandler, PROMETHEUS_CONTENT_TYPE } from './metrics-handler.js';
export type { MetricsHandler, MetricsHandlerOptions, MetricsSource } from './metrics-handler.js';
export { GZIP_MIN_BYTES } from './response-encoding.js';
export type { MetricsCompression } from './response-encoding.js';
export { createModelHealthHandler, serializeModelHealth } from './model-health-handler.js';
export type { ModelHealthHandler, ModelHealthHandlerOptions } from './model-health-handler.js';
export { toNodeListener, toFetchRequest, writeFetchResponse } from './node-adapter.js';
export type { FetchHandler } from './node-adapter.js';
