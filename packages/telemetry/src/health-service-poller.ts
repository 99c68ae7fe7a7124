import { diag } from '@opentelemetry/api';
import { TelemetryConfigurationError } from './errors.js';
import type { GatewayTelemetry } from './gateway-telemetry.js';
import { getTelemetry } from './default-telemetry.js';
import { startPeriodicTask, systemClock, type TrackerClock } from './periodic-task.js';

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
 * fragment, an `intervalMs` under 10, a `timeoutMs` under 1, a `maxResponseBytes` that is not a
 * positive integer, or when no `fetch` is available.
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
  /** Milliseconds from the end of one poll to the start of the next. Default 30 000. */
  intervalMs?: number;
  /** Deadline of each request, headers and body included, in milliseconds. Default 5 000. */
  timeoutMs?: number;
  /** Schedules polls and stamps `last_successful_scrape`; default the real timers, unref'd. */
  clock?: TrackerClock;
  /** Telemetry instance to set the gauges on; default the shared one. */
  telemetry?: HealthServiceTelemetry;
  /** Fetch implementation; default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Readonly<Record<string, string>>;
  /** Largest response body read, in bytes; larger answers fail the poll. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Run the first poll at once instead of after one interval. Default true. */
  runImmediately?: boolean;
}

/**
 * Why one request of a poll failed: `timeout` (no full answer within `timeoutMs`), `network_error`
 * (connection failed), `http_error` (a non-2xx status), `malformed_json` (a body that is not a JSON
 * object where one is expected), `response_too_large` (over `maxResponseBytes`), `stopped` (aborted
 * by `stop()`) or `internal_error` (a bug in the poller; the loop goes on).
 *
 * @example
 * ```ts
 * const poll = await poller.tick();
 * const timedOut = Object.values(poll.endpoints).filter((result) => result.failure?.reason === 'timeout');
 * ```
 */
export type HealthServiceFailureReason =
  'timeout' | 'network_error' | 'http_error' | 'malformed_json' | 'response_too_large' | 'stopped' | 'internal_error';

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
  /** `status` of `/health`, lower-cased (`healthy`, `degraded`, `unhealthy`, …). */
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
  /** The value written to `gatewayz_health_service_up`: `ok` and `/health` does not report the service down. */
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

/** `/health` status words meaning the service itself reports being down. */
const DOWN_WORDS = new Set([
  'unhealthy',
  'down',
  'fail',
  'failed',
  'failing',
  'error',
  'critical',
  'unavailable',
  'offline',
  'dead',
]);
const TRUE_WORDS = new Set([
  'true',
  'yes',
  'on',
  '1',
  'active',
  'enabled',
  'available',
  'up',
  'ok',
  'healthy',
  'connected',
]);
const FALSE_WORDS = new Set([
  'false',
  'no',
  'off',
  '0',
  'inactive',
  'disabled',
  'unavailable',
  'down',
  'error',
  'unhealthy',
  'disconnected',
]);
/** Status names read from `/metrics` counts such as `healthy_models` when `/status` has no distribution. */
const METRICS_STATUS_NAMES = ['healthy', 'degraded', 'unhealthy', 'down', 'offline', 'unknown', 'maintenance'];
/** Label values taken from the service are bounded: at most this many statuses or cache types. */
const MAX_LABEL_VALUES = 16;
const MAX_LABEL_LENGTH = 64;

type JsonObject = Record<string, unknown>;

/** A request failure with the reason exported in poll results. */
class PollFailure extends Error {
  constructor(
    readonly reason: HealthServiceFailureReason,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/**
 * Start polling an external health service (seed 004, "Option A"): every `intervalMs` (default
 * 30 s) it requests `GET {url}/health`, `/status`, `/metrics` and `/cache/stats` in parallel, each
 * with its own `timeoutMs` deadline (default 5 s, body included), and sets the `gatewayz_health_*`
 * gauges from the answers. A poll in which every request answered 2xx with a readable body sets
 * `gatewayz_health_service_up` to 1 (0 if `/health` itself reports the service down) and
 * `gatewayz_health_service_last_successful_scrape` to the Unix time in seconds. Any failure (HTTP
 * error, timeout, network error, malformed JSON) adds one to
 * `gatewayz_health_service_scrape_errors_total`, sets `gatewayz_health_service_up` to 0, and is
 * logged through `diag`; the loop goes on. Gauges a failed request would have set keep their last
 * value: read them together with `up` and `last_successful_scrape`.
 *
 * The JSON it understands (unknown fields are ignored; a field holding a negative number, NaN or a
 * non-number is skipped on its own without failing the poll; a top-level `data` object is unwrapped):
 * - `/health`: `{ "status": "healthy" | "degraded" | "unhealthy" | …, "monitoring_active": true }`
 *   (`monitoring: { active }` too). A plain-text body such as `OK` is read as the status.
 *   `unhealthy`, `down`, `fail`, `failed`, `failing`, `error`, `critical`, `unavailable`, `offline`
 *   and `dead` mean the service reports itself down; so does `"healthy": false` without a `status`.
 * - `/status`: `{ "tracked_models": 50, "tracked_providers": 16, "tracked_gateways": 8,
 *   "active_incidents": 2, "status_distribution": { "healthy": 14, "degraded": 1, "down": 1 },
 *   "monitoring_active": true }`; `total_models` etc. are accepted, arrays count their elements.
 * - `/metrics`: the same counts as JSON, used where `/status` lacks them, plus `healthy_models`,
 *   `degraded_models`, `unhealthy_models`, … as a status distribution. A Prometheus text body is
 *   accepted and not read.
 * - `/cache/stats`: `{ "redis": { "available": true }, "system_health": { "available": false } }`;
 *   also `{ "redis": true }`, `{ "redis_available": true }`, `connected`/`healthy`/`status` fields,
 *   or the same under `caches`.
 *
 * Throws a `TelemetryConfigurationError` for invalid options (see `HealthServicePollerOptions`).
 * On shutdown call `stop()`: it aborts the requests in flight (that poll sets no gauge) and
 * resolves once the poll has ended.
 *
 * @example
 * ```ts
 * const poller = startHealthServicePoller({ url: process.env.HEALTH_SERVICE_URL! });
 * // ... on shutdown
 * await poller.stop();
 * ```
 */
export function startHealthServicePoller(options: HealthServicePollerOptions): HealthServicePoller {
  const baseUrl = parseBaseUrl(options.url);
  const intervalMs = options.intervalMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) {
    throw new TelemetryConfigurationError(
      'intervalMs',
      `expected at least 10 milliseconds, got ${String(options.intervalMs)}`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) {
    throw new TelemetryConfigurationError(
      'timeoutMs',
      `expected at least 1 millisecond, got ${String(options.timeoutMs)}`,
    );
  }
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) {
    throw new TelemetryConfigurationError(
      'maxResponseBytes',
      `expected a positive integer, got ${String(options.maxResponseBytes)}`,
    );
  }
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  if (typeof fetchImplementation !== 'function') {
    throw new TelemetryConfigurationError(
      'fetch',
      'no global fetch in this runtime; pass a fetch implementation (Node.js >= 18 has one)',
    );
  }
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? getTelemetry();
  const headers = { accept: 'application/json', ...options.headers };
  const seenStatuses = new Set<string>();
  const warnedFields = new Set<string>();

  let polls = 0;
  let failedPolls = 0;
  let consecutiveFailures = 0;
  let lastSuccessAt: number | null = null;
  let lastPoll: HealthServicePoll | undefined;
  let lastFailureSummary: string | undefined;
  const activeRequests = new Set<AbortController>();

  // The counter exists from the start, so `increase()` also counts the first failure.
  telemetry.add('healthServiceScrapeErrors', 0, {});

  const request = async (
    endpoint: HealthServiceEndpoint,
  ): Promise<{ result: HealthServiceEndpointResult; body: unknown }> => {
    const url = `${baseUrl}${HEALTH_SERVICE_ENDPOINTS[endpoint]}`;
    const controller = new AbortController();
    activeRequests.add(controller);
    let timedOut = false;
    // Request deadlines bound real network I/O, so they run on real timers, not the injected clock.
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    deadline.unref?.();
    let httpStatus: number | undefined;
    try {
      const response = await fetchImplementation(url, { method: 'GET', headers, signal: controller.signal });
      httpStatus = response.status;
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new PollFailure('http_error', `GET ${url} answered HTTP ${response.status}`, response.status);
      }
      const text = await readBody(response, url, maxResponseBytes);
      const body = decodeBody(endpoint, url, response.headers.get('content-type'), text);
      return { result: { endpoint, url, ok: true, httpStatus }, body };
    } catch (error) {
      const failure = classify(error, url, {
        timedOut,
        stopped: controller.signal.aborted && !timedOut,
        timeoutMs,
        httpStatus,
      });
      return {
        result: {
          endpoint,
          url,
          ok: false,
          ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
          failure: { reason: failure.reason, message: failure.message },
        },
        body: undefined,
      };
    } finally {
      clearTimeout(deadline);
      activeRequests.delete(controller);
    }
  };

  const runPoll = async (): Promise<{ poll: HealthServicePoll; mentionedStatuses: ReadonlySet<string> }> => {
    const names = Object.keys(HEALTH_SERVICE_ENDPOINTS) as HealthServiceEndpoint[];
    const answers = await Promise.all(names.map((endpoint) => request(endpoint)));
    const endpoints = Object.fromEntries(answers.map((answer) => [answer.result.endpoint, answer.result])) as Record<
      HealthServiceEndpoint,
      HealthServiceEndpointResult
    >;
    const bodies = Object.fromEntries(answers.map((answer) => [answer.result.endpoint, answer.body])) as Record<
      HealthServiceEndpoint,
      unknown
    >;
    const ignoredFields: string[] = [];
    const mentionedStatuses = new Set<string>();
    const values = readValues(bodies, endpoints, ignoredFields, mentionedStatuses);
    const ok = answers.every((answer) => answer.result.ok);
    const up = ok && !(values.serviceStatus !== undefined && DOWN_WORDS.has(values.serviceStatus));
    return { poll: { ok, up, finishedAt: clock.now(), endpoints, values, ignoredFields }, mentionedStatuses };
  };

  const record = (poll: HealthServicePoll, mentionedStatuses: ReadonlySet<string>): void => {
    const { values } = poll;
    if (values.monitoringActive !== undefined)
      telemetry.set('healthMonitoringActive', values.monitoringActive ? 1 : 0, {});
    if (values.trackedModels !== undefined) telemetry.set('healthTrackedModels', values.trackedModels, {});
    if (values.trackedProviders !== undefined) telemetry.set('healthTrackedProviders', values.trackedProviders, {});
    if (values.trackedGateways !== undefined) telemetry.set('healthTrackedGateways', values.trackedGateways, {});
    if (values.activeIncidents !== undefined) telemetry.set('healthActiveIncidents', values.activeIncidents, {});
    if (values.statusDistribution !== undefined) {
      // The distribution is complete: a status that disappeared from it has no models any more.
      // A status listed with an unusable count keeps its last value instead.
      for (const status of seenStatuses) {
        if (!mentionedStatuses.has(status)) telemetry.set('healthStatusDistribution', 0, { status });
      }
      for (const [status, count] of Object.entries(values.statusDistribution)) {
        seenStatuses.add(status);
        telemetry.set('healthStatusDistribution', count, { status });
      }
    }
    if (values.cacheAvailable !== undefined) {
      for (const [cacheType, available] of Object.entries(values.cacheAvailable)) {
        telemetry.set('healthCacheAvailable', available ? 1 : 0, { cache_type: cacheType });
      }
    }
    telemetry.set('healthServiceUp', poll.up ? 1 : 0, {});
    if (poll.ok) {
      lastSuccessAt = poll.finishedAt;
      telemetry.set('healthServiceLastSuccessfulScrape', poll.finishedAt / 1000, {});
    } else {
      telemetry.add('healthServiceScrapeErrors', 1, {});
    }
  };

  const log = (poll: HealthServicePoll): void => {
    for (const field of poll.ignoredFields) {
      const key = field.slice(0, field.indexOf(':'));
      if (warnedFields.has(key)) continue;
      warnedFields.add(key);
      diag.warn(
        `@gatewayz/telemetry: health service field ${field}; ignored (further problems with this field are not logged)`,
      );
    }
    if (poll.ok) {
      if (lastFailureSummary !== undefined)
        diag.info(`@gatewayz/telemetry: health service at ${baseUrl} answers again`);
      lastFailureSummary = undefined;
      return;
    }
    const summary = Object.values(poll.endpoints)
      .filter((result) => !result.ok)
      .map((result) => result.failure?.message ?? result.endpoint)
      .join('; ');
    // One error per outage (and per change of cause), not one every interval.
    if (summary !== lastFailureSummary) {
      diag.error(
        `@gatewayz/telemetry: health service poll failed (${consecutiveFailures} in a row): ${summary}. ` +
          `gatewayz_health_service_up is 0; polling goes on every ${intervalMs} ms`,
      );
    } else {
      diag.debug(`@gatewayz/telemetry: health service poll failed again (${consecutiveFailures} in a row)`);
    }
    lastFailureSummary = summary;
  };

  const pollOnce = async (): Promise<HealthServicePoll> => {
    let poll: HealthServicePoll;
    let mentionedStatuses: ReadonlySet<string> = new Set();
    try {
      ({ poll, mentionedStatuses } = await runPoll());
    } catch (error) {
      // Only a bug gets here; it must not end the loop.
      poll = internalFailure(baseUrl, clock.now(), error);
    }
    const abortedByStop = Object.values(poll.endpoints).some((result) => result.failure?.reason === 'stopped');
    if (abortedByStop) return poll;
    polls += 1;
    if (poll.ok) consecutiveFailures = 0;
    else {
      failedPolls += 1;
      consecutiveFailures += 1;
    }
    lastPoll = poll;
    try {
      record(poll, mentionedStatuses);
      log(poll);
    } catch (error) {
      diag.error('@gatewayz/telemetry: recording a health service poll failed', error);
    }
    return poll;
  };

  const task = startPeriodicTask(pollOnce, { intervalMs, clock, runImmediately: options.runImmediately !== false });

  return {
    async stop() {
      // Abort first: the poll in flight then records nothing, and stop() waits for it to settle.
      for (const controller of activeRequests) controller.abort();
      await task.stop();
    },
    tick: task.tick,
    lastPoll: () => lastPoll,
    toJSON: () => ({
      url: baseUrl,
      intervalMs,
      timeoutMs,
      polls,
      failedPolls,
      consecutiveFailures,
      lastSuccessAt,
      lastPoll: lastPoll ?? null,
    }),
  };
}

function parseBaseUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TelemetryConfigurationError(
      'url',
      `expected the health service base URL, e.g. "http://health-service:8000", got ${JSON.stringify(url)}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new TelemetryConfigurationError(
      'url',
      `"${url}" is not an absolute URL; expected e.g. "http://health-service:8000"`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TelemetryConfigurationError('url', `"${url}" uses ${parsed.protocol}; expected http: or https:`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TelemetryConfigurationError('url', `"${url}" has a query or fragment; pass the base URL only`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Read at most `limit` bytes of the body as UTF-8; more fails the request. */
async function readBody(response: Response, url: string, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new PollFailure(
      'response_too_large',
      `GET ${url} announced ${declared} bytes, more than the ${limit} allowed`,
      response.status,
    );
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PollFailure(
        'response_too_large',
        `GET ${url} sent more than the ${limit} bytes allowed`,
        response.status,
      );
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** Parse a body. JSON unless `/health` or `/metrics` answered in plain text. */
function decodeBody(endpoint: HealthServiceEndpoint, url: string, contentType: string | null, text: string): unknown {
  const type = (contentType ?? '').toLowerCase();
  const plainText = type.startsWith('text/plain') || type.startsWith('application/openmetrics-text');
  if (plainText && (endpoint === 'health' || endpoint === 'metrics')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return endpoint === 'health' ? { status: text.trim().slice(0, 32) } : {};
    }
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw new PollFailure('malformed_json', `GET ${url} returned malformed JSON (${(error as Error).message})`);
  }
  if (!isObject(body)) {
    throw new PollFailure(
      'malformed_json',
      `GET ${url} returned ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}; expected a JSON object`,
    );
  }
  return body;
}

function classify(
  error: unknown,
  url: string,
  context: { timedOut: boolean; stopped: boolean; timeoutMs: number; httpStatus: number | undefined },
): PollFailure {
  if (context.timedOut)
    return new PollFailure('timeout', `GET ${url} timed out after ${context.timeoutMs} ms`, context.httpStatus);
  if (context.stopped) return new PollFailure('stopped', `GET ${url} aborted: the poller stopped`, context.httpStatus);
  if (error instanceof PollFailure) return error;
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new PollFailure('network_error', `GET ${url} failed: ${detail}`, context.httpStatus);
}

function internalFailure(url: string, at: number, error: unknown): HealthServicePoll {
  const message = `polling ${url} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
  const endpoints = Object.fromEntries(
    (Object.keys(HEALTH_SERVICE_ENDPOINTS) as HealthServiceEndpoint[]).map((endpoint) => [
      endpoint,
      {
        endpoint,
        url: `${url}${HEALTH_SERVICE_ENDPOINTS[endpoint]}`,
        ok: false,
        failure: { reason: 'internal_error', message },
      },
    ]),
  ) as Record<HealthServiceEndpoint, HealthServiceEndpointResult>;
  return { ok: false, up: false, finishedAt: at, endpoints, values: {}, ignoredFields: [] };
}

// --- reading the JSON --------------------------------------------------------------------------

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `{ "data": { … } }` envelope is unwrapped when the top level has nothing else of interest. */
function unwrap(body: unknown, keys: readonly string[]): JsonObject | undefined {
  if (!isObject(body)) return undefined;
  if (!keys.some((key) => key in body) && isObject(body['data'])) return body['data'];
  return body;
}

class FieldReader {
  constructor(
    private readonly endpoint: string,
    private readonly ignored: string[],
    /** Receives every status label a distribution lists, usable count or not. */
    private readonly mentioned: Set<string> = new Set(),
  ) {}

  private ignore(field: string, why: string): undefined {
    this.ignored.push(`${this.endpoint}.${field}: ${why}`);
    return undefined;
  }

  /** A count: a non-negative finite number, a numeric string, or an array (its length). */
  count(body: JsonObject | undefined, keys: readonly string[]): number | undefined {
    if (body === undefined) return undefined;
    for (const key of keys) {
      if (!(key in body) || body[key] === null) continue;
      return this.countValue(key, body[key]);
    }
    return undefined;
  }

  countValue(field: string, value: unknown): number | undefined {
    if (Array.isArray(value)) return value.length;
    let number: number;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) number = Number(value);
    else return this.ignore(field, `expected a non-negative number, got ${describe(value)}`);
    if (!Number.isFinite(number)) return this.ignore(field, `expected a finite number, got ${String(number)}`);
    if (number < 0) return this.ignore(field, `expected a non-negative number, got ${number}`);
    return number;
  }

  mention(status: string): void {
    this.mentioned.add(status);
  }

  /** A yes/no: a boolean, 0 or 1, or a word such as "active" / "inactive". */
  flag(field: string, value: unknown): boolean | undefined {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    if (typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
    }
    return this.ignore(field, `expected true/false, got ${describe(value)}`);
  }

  /** `{ status: count }`, label values normalised and bounded. */
  distribution(field: string, value: unknown): Record<string, number> | undefined {
    if (!isObject(value)) return this.ignore(field, `expected an object of counts, got ${describe(value)}`);
    const result: Record<string, number> = {};
    let kept = 0;
    for (const [rawStatus, rawCount] of Object.entries(value)) {
      const status = labelValue(rawStatus);
      if (status === undefined) {
        this.ignore(`${field}.${rawStatus.slice(0, 32)}`, 'not usable as a status label');
        continue;
      }
      this.mentioned.add(status);
      const count = this.countValue(`${field}.${status}`, rawCount);
      if (count === undefined) continue;
      if (!(status in result)) {
        if (kept >= MAX_LABEL_VALUES) {
          this.ignore(`${field}.${status}`, `more than ${MAX_LABEL_VALUES} statuses`);
          continue;
        }
        kept += 1;
        result[status] = 0;
      }
      result[status] = (result[status] as number) + count;
    }
    return result;
  }
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.slice(0, 32));
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** Lower-case, `[a-z0-9_]` only, bounded length; undefined when nothing usable is left. */
function labelValue(raw: string): string | undefined {
  const value = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_LABEL_LENGTH);
  return value === '' ? undefined : value;
}

const STATUS_KEYS = [
  'tracked_models',
  'total_models',
  'models_tracked',
  'models',
  'tracked_providers',
  'status_distribution',
  'active_incidents',
];

function readValues(
  bodies: Record<HealthServiceEndpoint, unknown>,
  endpoints: Record<HealthServiceEndpoint, HealthServiceEndpointResult>,
  ignored: string[],
  mentionedStatuses: Set<string>,
): HealthServiceValues {
  const values: HealthServiceValues = {};
  const health = endpoints.health.ok
    ? unwrap(bodies.health, ['status', 'state', 'healthy', 'monitoring_active'])
    : undefined;
  const status = endpoints.status.ok ? unwrap(bodies.status, STATUS_KEYS) : undefined;
  const metrics = endpoints.metrics.ok ? unwrap(bodies.metrics, STATUS_KEYS) : undefined;
  const cacheStats = endpoints.cacheStats.ok ? unwrap(bodies.cacheStats, ['caches', 'redis']) : undefined;

  if (health !== undefined) {
    const reader = new FieldReader('health', ignored);
    const rawStatus = health['status'] ?? health['state'] ?? health['healthy'];
    if (typeof rawStatus === 'string' && rawStatus.trim() !== '')
      values.serviceStatus = rawStatus.trim().toLowerCase().slice(0, 32);
    else if (typeof rawStatus === 'boolean') values.serviceStatus = rawStatus ? 'healthy' : 'unhealthy';
    else if (rawStatus !== undefined && rawStatus !== null) {
      ignored.push(`health.status: expected a status word such as "healthy", got ${describe(rawStatus)}`);
    }
    const monitoring = monitoringFlag(health, reader);
    if (monitoring !== undefined) values.monitoringActive = monitoring;
  }

  const statusReader = new FieldReader('status', ignored, mentionedStatuses);
  const metricsReader = new FieldReader('metrics', ignored, mentionedStatuses);
  const counted = (keys: readonly string[]): number | undefined =>
    statusReader.count(status, keys) ?? metricsReader.count(metrics, keys);
  const trackedModels = counted(['tracked_models', 'total_models', 'models_tracked', 'models']);
  const trackedProviders = counted(['tracked_providers', 'total_providers', 'providers_tracked', 'providers']);
  const trackedGateways = counted(['tracked_gateways', 'total_gateways', 'gateways_tracked', 'gateways']);
  const activeIncidents = counted(['active_incidents', 'open_incidents', 'incidents']);
  if (trackedModels !== undefined) values.trackedModels = trackedModels;
  if (trackedProviders !== undefined) values.trackedProviders = trackedProviders;
  if (trackedGateways !== undefined) values.trackedGateways = trackedGateways;
  if (activeIncidents !== undefined) values.activeIncidents = activeIncidents;
  if (values.monitoringActive === undefined) {
    const monitoring =
      (status && monitoringFlag(status, statusReader)) ?? (metrics && monitoringFlag(metrics, metricsReader));
    if (monitoring !== undefined) values.monitoringActive = monitoring;
  }

  const distribution =
    distributionOf(status, statusReader) ??
    distributionOf(metrics, metricsReader) ??
    distributionFromCounts(metrics, metricsReader);
  if (distribution !== undefined) values.statusDistribution = distribution;

  if (cacheStats !== undefined) {
    const caches = readCaches(cacheStats, new FieldReader('cache_stats', ignored));
    if (caches !== undefined) values.cacheAvailable = caches;
  }
  return values;
}

function monitoringFlag(body: JsonObject, reader: FieldReader): boolean | undefined {
  for (const key of ['monitoring_active', 'monitoringActive']) {
    if (key in body && body[key] !== null) return reader.flag(key, body[key]);
  }
  const monitoring = body['monitoring'];
  if (isObject(monitoring) && 'active' in monitoring) return reader.flag('monitoring.active', monitoring['active']);
  if (typeof monitoring === 'boolean' || typeof monitoring === 'string') return reader.flag('monitoring', monitoring);
  return undefined;
}

function distributionOf(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  for (const key of ['status_distribution', 'status_counts', 'statuses']) {
    if (key in body && body[key] !== null) return reader.distribution(key, body[key]);
  }
  return undefined;
}

function distributionFromCounts(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  const result: Record<string, number> = {};
  let found = false;
  for (const status of METRICS_STATUS_NAMES) {
    const key = `${status}_models`;
    if (!(key in body) || body[key] === null) continue;
    reader.mention(status);
    const count = reader.countValue(key, body[key]);
    if (count === undefined) continue;
    result[status] = count;
    found = true;
  }
  return found ? result : undefined;
}

function readCaches(body: JsonObject, reader: FieldReader): Record<string, boolean> | undefined {
  const source = isObject(body['caches']) ? body['caches'] : body;
  const result: Record<string, boolean> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(source)) {
    let name: string | undefined;
    let available: boolean | undefined;
    if (key.endsWith('_available') && key.length > '_available'.length) {
      name = labelValue(key.slice(0, -'_available'.length));
      available = reader.flag(key, value);
    } else if (typeof value === 'boolean') {
      name = labelValue(key);
      available = value;
    } else if (isObject(value)) {
      const field = ['available', 'connected', 'healthy', 'status'].find(
        (candidate) => candidate in value && value[candidate] !== null,
      );
      if (field === undefined) continue;
      name = labelValue(key);
      available = reader.flag(`${key}.${field}`, value[field]);
    } else {
      // Timestamps, hit counts and the like: not availability.
      continue;
    }
    if (name === undefined || available === undefined) continue;
    if (!(name in result)) {
      if (kept >= MAX_LABEL_VALUES) continue;
      kept += 1;
    }
    result[name] = available;
  }
  return kept > 0 ? result : undefined;
}
