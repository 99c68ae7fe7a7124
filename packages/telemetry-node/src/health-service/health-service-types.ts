import type { GatewayTelemetry, TrackerClock } from '@gatewayz/telemetry';

/**
 * The four endpoints of the health service, by the name used in poll results; each path is
 * appended to the poller's base URL.
 *
 * @example
 * ```ts
 * const poll = await poller.tick();
 * for (const name of Object.keys(HEALTH_SERVICE_ENDPOINTS) as HealthServiceEndpoint[]) {
 *   console.log(HEALTH_SERVICE_ENDPOINTS[name], poll.endpoints[name].ok ? 'ok' : poll.endpoints[name].failure?.reason);
 * }
 * ```
 */
export const HEALTH_SERVICE_ENDPOINTS = {
  health: '/health',
  status: '/status',
  metrics: '/metrics',
  cacheStats: '/cache/stats',
} as const;
/**
 * Name of one health-service endpoint: `health`, `status`, `metrics` or `cacheStats` (the keys of
 * `HEALTH_SERVICE_ENDPOINTS` and of a poll's `endpoints`).
 *
 * @example
 * ```ts
 * const endpoint: HealthServiceEndpoint = 'cacheStats';
 * const status = poller.lastPoll()?.endpoints[endpoint].httpStatus;
 * ```
 */
export type HealthServiceEndpoint = keyof typeof HEALTH_SERVICE_ENDPOINTS;

/**
 * What the poller needs from a telemetry instance: the catalog-typed `set` and `add`. A
 * `GatewayTelemetry` is one.
 *
 * @example
 * ```ts
 * const telemetry: HealthServiceTelemetry = new GatewayTelemetry({ prefix: 'myproxy_' });
 * const poller = startHealthServicePoller({ url: 'http://health-service:8000', telemetry });
 * ```
 */
export type HealthServiceTelemetry = Pick<GatewayTelemetry, 'set' | 'add'>;

/**
 * Options of `startHealthServicePoller`; only `url` is required. `startHealthServicePoller` throws
 * a `TelemetryConfigurationError` for a `url` that is not an absolute http(s) URL without query or
 * fragment, an `intervalMs` under 10, a `timeoutMs` under 1, either above 2147483647 (2^31 − 1 ms,
 * the longest delay a timer keeps), a `maxResponseBytes` that is not a positive integer, any of
 * these three given as `null` (only `undefined` takes the default), a `telemetry` without `set()`
 * and `add()`, a `fetch` that is not a function, a `clock` without `now()`, `setTimeout()` and
 * `clearTimeout()`, or when no `fetch` is available.
 *
 * @example
 * ```ts
 * const poller = startHealthServicePoller({
 *   url: 'http://health-service:8000',
 *   intervalMs: 15_000,
 *   timeoutMs: 3_000,
 *   headers: { authorization: `Bearer ${process.env.HEALTH_SERVICE_TOKEN}` },
 * });
 * ```
 */
export interface HealthServicePollerOptions {
  /** Base URL of the health service, e.g. `https://health.internal:8000` (a path prefix is kept). */
  url: string;
  /** Milliseconds from the end of one poll to the start of the next, 10 to 2^31 − 1. Default 30 000. */
  intervalMs?: number;
  /** Deadline of each request, headers and body included, in milliseconds, 1 to 2^31 − 1. Default 5 000. */
  timeoutMs?: number;
  /** Schedules polls and stamps `last_successful_scrape`; default the real timers, unref'd. */
  clock?: TrackerClock;
  /** Telemetry instance to set the gauges on; default the shared one. */
  telemetry?: HealthServiceTelemetry;
  /** Fetch implementation; default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer …' }`, sent as given. One that cannot be
   * sent (a value with a line break, such as a token read from a file with its trailing newline) is a
   * `TelemetryConfigurationError` naming `headers` and the header's key, not its value.
   */
  headers?: Readonly<Record<string, string>>;
  /** Largest response body read, in bytes; larger answers fail the poll. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Run the first poll at once instead of after one interval. Default true. */
  runImmediately?: boolean;
}

/**
 * Why one request of a poll failed: `timeout` (no full answer within `timeoutMs`), `network_error`
 * (connection failed), `http_error` (a non-2xx status), `malformed_json` (a body that is not a JSON
 * object where one is expected), `unreadable_health_status` (a JSON `/health` whose `status`,
 * `state`, `healthy` or `ok` holds a value that is neither a known up nor a known down spelling,
 * e.g. `"healthy": "maybe"` or `"status": 42`), `response_too_large` (over `maxResponseBytes`),
 * `stopped` (aborted by `stop()`) or `internal_error` (a bug in the poller; the loop goes on).
 *
 * @example
 * ```ts
 * const poll = await poller.tick();
 * const timedOut = Object.values(poll.endpoints).filter((result) => result.failure?.reason === 'timeout');
 * ```
 */
export type HealthServiceFailureReason =
  | 'timeout'
  | 'network_error'
  | 'http_error'
  | 'malformed_json'
  | 'unreadable_health_status'
  | 'response_too_large'
  | 'stopped'
  | 'internal_error';

/**
 * Outcome of one request of a poll.
 *
 * @example
 * ```ts
 * const { cacheStats } = (await poller.tick()).endpoints;
 * if (!cacheStats.ok) console.warn(cacheStats.url, cacheStats.httpStatus, cacheStats.failure?.message);
 * ```
 */
export interface HealthServiceEndpointResult {
  /** Which endpoint was requested. */
  readonly endpoint: HealthServiceEndpoint;
  /** The full URL requested, e.g. `http://health-service:8000/cache/stats`. */
  readonly url: string;
  /** Whether it answered 2xx with a readable body. */
  readonly ok: boolean;
  /** HTTP status, when a response arrived. */
  readonly httpStatus?: number;
  /** Why the request failed and a readable message; absent when `ok`. */
  readonly failure?: { readonly reason: HealthServiceFailureReason; readonly message: string };
}

/**
 * The figures a poll read, before they are written to the gauges. Absent fields were not reported
 * (or were unusable, see `HealthServicePoll.ignoredFields`).
 *
 * @example
 * ```ts
 * const { values } = await poller.tick();
 * if ((values.activeIncidents ?? 0) > 0) console.warn(`${values.activeIncidents} incidents, status ${values.serviceStatus}`);
 * ```
 */
export interface HealthServiceValues {
  /**
   * `status` (or `state`) of `/health`, lower-cased (`healthy`, `degraded`, `unhealthy`, …), or a
   * plain-text body's word; `healthy` or `unhealthy` when `/health` answers with a flag (`healthy`,
   * `ok`: a boolean, 1/0 or a spelling such as `"false"`).
   */
  serviceStatus?: string;
  /** Whether the service reports that it is actively monitoring (`gatewayz_health_monitoring_active`). */
  monitoringActive?: boolean;
  /** Models the service tracks (`gatewayz_health_tracked_models`). */
  trackedModels?: number;
  /** Providers the service tracks (`gatewayz_health_tracked_providers`). */
  trackedProviders?: number;
  /** Gateways the service tracks (`gatewayz_health_tracked_gateways`). */
  trackedGateways?: number;
  /** Open incidents the service reports (`gatewayz_health_active_incidents`). */
  activeIncidents?: number;
  /** Tracked models per health status. */
  statusDistribution?: Readonly<Record<string, number>>;
  /** Availability per cache type. */
  cacheAvailable?: Readonly<Record<string, boolean>>;
}

/**
 * Result of one poll (one `tick()`).
 *
 * @example
 * ```ts
 * const poll = await poller.tick();
 * if (!poll.up) console.warn('health service down:', poll.endpoints.health.failure?.message ?? poll.values.serviceStatus);
 * ```
 */
export interface HealthServicePoll {
  /** Every request answered 2xx with a readable body. */
  readonly ok: boolean;
  /**
   * The value written to `gatewayz_health_service_up`: `ok` and `/health` does not report the service
   * down (a `/health` status that is neither up nor down fails its request, so `ok` is false then).
   */
  readonly up: boolean;
  /** Clock time the poll finished, in milliseconds. */
  readonly finishedAt: number;
  /** Outcome of each of the four requests, by endpoint name. */
  readonly endpoints: Readonly<Record<HealthServiceEndpoint, HealthServiceEndpointResult>>;
  /** The figures read from the answers. */
  readonly values: HealthServiceValues;
  /** Fields present but unusable (negative, not a number, …), as `endpoint.field: why`. */
  readonly ignoredFields: readonly string[];
}

/**
 * State of a poller, as returned by its `toJSON()`.
 *
 * @example
 * ```ts
 * const { consecutiveFailures, lastSuccessAt } = poller.toJSON();
 * if (consecutiveFailures >= 3) console.warn(`health service failing since ${lastSuccessAt ?? 'start'}`);
 * ```
 */
export interface HealthServicePollerSnapshot {
  /** Base URL polled, without a trailing slash. */
  url: string;
  /** Milliseconds from the end of one poll to the start of the next. */
  intervalMs: number;
  /** Deadline of each request, in milliseconds. */
  timeoutMs: number;
  /** Polls completed (polls aborted by `stop()` are not counted). */
  polls: number;
  /** Completed polls in which at least one request failed. */
  failedPolls: number;
  /** Failed polls since the last fully successful one. */
  consecutiveFailures: number;
  /** Clock time of the last fully successful poll in milliseconds, or null. */
  lastSuccessAt: number | null;
  /** The most recent completed poll, or null before the first one. */
  lastPoll: HealthServicePoll | null;
}

/**
 * A running health-service poller, as returned by `startHealthServicePoller`.
 *
 * @example
 * ```ts
 * const poller = startHealthServicePoller({ url: 'http://health-service:8000', runImmediately: false });
 * const poll = await poller.tick(); // e.g. from a readiness check
 * console.log(poll.up, JSON.stringify(poller));
 * await poller.stop();
 * ```
 */
export interface HealthServicePoller {
  /** Stop polling; aborts the requests of a poll in flight and resolves once it has ended. */
  stop(this: void): Promise<void>;
  /** Poll now (a poll already running is shared); resolves with its result and never rejects. */
  tick(this: void): Promise<HealthServicePoll>;
  /** The most recent poll, or undefined before the first one. */
  lastPoll(this: void): HealthServicePoll | undefined;
  /** Settings, poll counters and the last poll; `JSON.stringify(poller)` uses it. */
  toJSON(this: void): HealthServicePollerSnapshot;
}
