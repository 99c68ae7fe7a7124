import { diag } from '@opentelemetry/api';
import { TelemetryConfigurationError, getTelemetry } from '@gatewayz/telemetry';
import {
  requireClockOption,
  requireTelemetryOption,
  startPeriodicTask,
  systemClock,
} from '@gatewayz/telemetry/scheduling';
import {
  HEALTH_SERVICE_ENDPOINTS,
  type HealthServiceEndpoint,
  type HealthServiceEndpointResult,
  type HealthServicePoll,
  type HealthServicePoller,
  type HealthServicePollerOptions,
} from './health-service-types.js';
import { readValues, type MentionedLabels } from './health-service-reader.js';
import { PlainTextHealth, readHealthVerdict } from './health-verdict.js';
import { PollFailure, classify, decodeBody, internalFailure, parseBaseUrl, readBody } from './health-service-http.js';
import { timerDelayOption } from '../env/timer-delay-option.js';
import { checkHeadersOption } from '../env/otlp-exporter-variables.js';
import { recordHealthServicePoll, type SeenLabels } from './health-service-gauges.js';

/** What the poller calls into, given from plain JavaScript too: a `TypeError` on the first poll otherwise. */
function checkCollaborators(options: HealthServicePollerOptions): void {
  const given = options as { telemetry?: unknown; fetch?: unknown; clock?: unknown };
  requireTelemetryOption(given.telemetry, 'telemetry', ['set', 'add']);
  if (given.fetch !== undefined && typeof given.fetch !== 'function')
    throw new TelemetryConfigurationError(
      'fetch',
      `expected a fetch implementation (a function), got ${typeof given.fetch}`,
    );
  requireClockOption(given.clock, 'clock');
}

/**
 * Start polling an external health service (seed 004, "Option A"): every `intervalMs` (default
 * 30 s) it requests `GET {url}/health`, `/status`, `/metrics` and `/cache/stats` in parallel, each
 * with its own `timeoutMs` deadline (default 5 s, body included), and sets the `gatewayz_health_*`
 * gauges from the answers. A poll in which every request answered 2xx with a readable body sets
 * `gatewayz_health_service_up` to 1 (0 if `/health` itself reports the service down) and
 * `gatewayz_health_service_last_successful_scrape` to the Unix time in seconds. Any failure (HTTP
 * error, timeout, network error, malformed JSON, a `/health` status that is neither up nor down)
 * adds one to `gatewayz_health_service_scrape_errors_total`, sets `gatewayz_health_service_up` to 0,
 * and is logged through `diag`; the loop goes on. Gauges a failed request would have set keep their last
 * value: read them together with `up` and `last_successful_scrape`.
 *
 * The JSON it understands (unknown fields are ignored; a field holding a negative number, NaN or a
 * non-number is skipped on its own without failing the poll; a top-level `data` object is unwrapped
 * unless the top level holds a field read from that body, such as a verdict or `monitoring`):
 * - `/health`: `{ "status": "healthy" | "degraded" | "unhealthy" | …, "monitoring_active": true }`
 *   (`monitoring: { active }` too). The verdict is the first of `status`, `state`, `healthy`, `ok`
 *   present: words such as `unhealthy`, `down`, `fail`, `error`, `critical`, `offline`,
 *   `out_of_service`, `false`, `no`, `0` (any case), the boolean `false`, the number 0, or in
 *   `status` an HTTP code 400–599 mean the service reports itself down (`up` 0, no scrape error);
 *   `healthy`, `ok`, `up`, `pass`, `degraded`, `true`, `1`, … or a code 200–399 mean up (the full
 *   lists are in docs/deployment.md). Any other value of these fields (`"healthy": "maybe"`,
 *   `"status": 42`, an unknown word) fails the `/health` request (`unreadable_health_status`)
 *   instead of reading as up. A body without them is up; a plain-text body (`OK`, `pong`) is up
 *   unless it is a down word.
 * - `/status`: `{ "tracked_models": 50, "tracked_providers": 16, "tracked_gateways": 8,
 *   "active_incidents": 2, "status_distribution": { "healthy": 14, "degraded": 1, "down": 1 },
 *   "monitoring_active": true }`; `total_models` etc. are accepted, arrays count their elements.
 * - `/metrics`: the same counts as JSON, used where `/status` lacks them, plus `healthy_models`,
 *   `degraded_models`, `unhealthy_models`, … as a status distribution. A Prometheus text body is
 *   accepted and not read.
 * - `/cache/stats`: `{ "redis": { "available": true }, "system_health": { "available": false } }`;
 *   also `{ "redis": true }`, `{ "redis_available": true }`, `connected`/`healthy`/`status` fields,
 *   or the same under `caches`. A cache listed before that a successful `/cache/stats` no longer
 *   lists, or lists without an availability field (`{ "redis": { "error": "…" } }`), reads 0.
 *
 * Throws a `TelemetryConfigurationError` for invalid options (see `HealthServicePollerOptions`),
 * among them an `intervalMs` or `timeoutMs` above 2147483647 ms (the longest delay a timer keeps)
 * and a numeric option given as `null` (leave it out, or `undefined`, for the default).
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
  if (typeof options !== 'object' || options === null) {
    throw new TelemetryConfigurationError('options', 'expected { url, intervalMs?, timeoutMs?, … }');
  }
  const baseUrl = parseBaseUrl(options.url);
  // Only undefined means "not given", as in startTelemetry()'s option checks: a null (often a config
  // file's empty value) is refused with the option's name, not silently replaced by the default.
  // Both become a timer's delay: above the longest one, polls would run back to back (intervalMs)
  // or every request would time out at once (timeoutMs).
  const intervalMs = timerDelayOption(options.intervalMs, 30_000, 'intervalMs', 10);
  const timeoutMs = timerDelayOption(options.timeoutMs, 5_000, 'timeoutMs');
  const maxResponseBytes = options.maxResponseBytes === undefined ? 1024 * 1024 : options.maxResponseBytes;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) {
    throw new TelemetryConfigurationError(
      'maxResponseBytes',
      `expected a positive integer, got ${String(options.maxResponseBytes)}`,
    );
  }
  checkCollaborators(options);
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  if (typeof fetchImplementation !== 'function') {
    throw new TelemetryConfigurationError(
      'fetch',
      'no global fetch in this runtime; pass a fetch implementation (Node.js >= 18 has one)',
    );
  }
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? getTelemetry();
  // Checked here: fetch would refuse a bad value (a token with its trailing newline) at every poll,
  // quoting it in the failure each poll logs.
  const headers = {
    accept: 'application/json',
    ...(options.headers === undefined ? {} : checkHeadersOption(options.headers, 'headers', false)),
  };
  const seen: SeenLabels = { statuses: new Set(), caches: new Set() };
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

  const runPoll = async (): Promise<{ poll: HealthServicePoll; mentioned: MentionedLabels }> => {
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
    // A /health whose status cannot be read as up or down is a failed request, not an "up".
    const verdict = endpoints.health.ok ? readHealthVerdict(bodies.health) : undefined;
    if (verdict?.kind === 'unreadable') {
      endpoints.health = {
        ...endpoints.health,
        ok: false,
        failure: { reason: 'unreadable_health_status', message: `GET ${endpoints.health.url}: ${verdict.message}` },
      };
    }
    if (bodies.health instanceof PlainTextHealth) bodies.health = undefined;
    const ignoredFields: string[] = [];
    const mentioned: MentionedLabels = { statuses: new Set(), caches: new Set() };
    const values = readValues(bodies, endpoints, ignoredFields, mentioned);
    if (verdict !== undefined && verdict.kind !== 'unreadable' && verdict.status !== undefined)
      values.serviceStatus = verdict.status;
    const ok = Object.values(endpoints).every((result) => result.ok);
    const up = ok && verdict?.kind !== 'down';
    return { poll: { ok, up, finishedAt: clock.now(), endpoints, values, ignoredFields }, mentioned };
  };

  const record = (poll: HealthServicePoll, mentioned: MentionedLabels): void => {
    recordHealthServicePoll(telemetry, poll, mentioned, seen);
    if (poll.ok) lastSuccessAt = poll.finishedAt;
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
    let mentioned: MentionedLabels = { statuses: new Set(), caches: new Set() };
    try {
      ({ poll, mentioned } = await runPoll());
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
      record(poll, mentioned);
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
