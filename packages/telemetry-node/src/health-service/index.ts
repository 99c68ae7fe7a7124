/**
 * Health-service poller (seed 004, "Option A"): polls an external health service's `/health`,
 * `/status`, `/metrics` and `/cache/stats` and sets the `gatewayz_health_*` gauges of a
 * `GatewayTelemetry`. It lives in the Node package because it does HTTP (the core never does).
 *
 * - `start-health-service-poller.ts`: options, scheduling and the poll loop
 * - `health-service-http.ts`: one request with its deadline, body limit and failure classification
 * - `health-service-reader.ts`: the lenient JSON reader that turns answers into values
 * - `health-service-fields.ts`: the JSON field names the readers (and the envelope unwrapping) use
 * - `health-service-gauges.ts`: values to gauges
 * - `health-service-types.ts`: the public types and `HEALTH_SERVICE_ENDPOINTS`
 */
export { startHealthServicePoller } from './start-health-service-poller.js';
export { HEALTH_SERVICE_ENDPOINTS } from './health-service-types.js';
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
} from './health-service-types.js';
