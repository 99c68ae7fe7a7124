import { diag } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { type MetricCategory } from '@gatewayz/telemetry';
import { DEFAULT_METRIC_PREFIX, renderMetricsMarkdown } from '@gatewayz/telemetry/metrics';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { checkBearerToken, isAuthorized } from './bearer-auth.js';
import { MetricCategoryIndex, isMetricCategory } from '../exposition/metric-categories.js';
import { SUMMARY_CATEGORIES, buildMetricsSummary, type SummaryCategory } from '../exposition/metrics-summary.js';
import { OPENMETRICS_CONTENT_TYPE, openMetricsChunks } from '../exposition/openmetrics-serializer.js';
import { acceptsOpenMetrics } from '../exposition/accepts-openmetrics.js';
import { prometheusChunks } from '../exposition/prometheus-serializer.js';
import { jsonError } from './json-error.js';
import { reportExpositionDropsOnce } from './exposition-drops.js';
import { MetricsSourceStoppedError } from './stoppable-metrics-source.js';
import { acceptsGzip, encodeExposition, type MetricsCompression } from './response-encoding.js';

// The metrics endpoints have always typed every error, 5xx included, as `invalid_request_error`.
const CLIENT_ERROR_TYPE = { type: 'invalid_request_error' } as const;

/**
 * Anything that can collect metrics on demand: a `PrometheusExporter` or any `MetricReader`.
 *
 * @example
 * ```ts
 * const source: MetricsSource = new PrometheusExporter({ preventServerStart: true });
 * const handler = createMetricsHandler({ source });
 * ```
 */
export interface MetricsSource {
  /**
   * Collect every metric once; errors reported next to the data are logged through `diag` and the
   * data still served. A rejection makes the endpoint answer 500.
   */
  collect(): Promise<{ resourceMetrics: ResourceMetrics; errors: unknown[] }>;
}

/**
 * Options of {@link createMetricsHandler}.
 *
 * @example
 * ```ts
 * const options: MetricsHandlerOptions = { source: exporter, prefix: 'gatewayz_', token: process.env.METRICS_TOKEN };
 * const handler = createMetricsHandler(options);
 * ```
 */
export interface MetricsHandlerOptions {
  /** Where metrics come from; `undefined` when telemetry is disabled (endpoints answer 503). */
  source: MetricsSource | undefined;
  /** Prefix of prefixed catalog metrics. Default `gatewayz_`. */
  prefix?: string;
  /** When set, every endpoint requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Add `otel_scope_name`/`otel_scope_version` labels. Default false. */
  withScopeInfo?: boolean;
  /** Message served with the 503 when `source` is undefined. */
  disabledReason?: string;
  /** Configured providers, counted by the summary from start-up (see `buildMetricsSummary`). */
  providers?: readonly string[];
  /**
   * `gzip` (default): expositions are gzip-coded when the request's `Accept-Encoding` allows it
   * (Prometheus always sends `gzip`) and the body is at least `GZIP_MIN_BYTES` long; `none`: never.
   */
  compression?: MetricsCompression;
}

/**
 * A fetch-style handler for the metrics endpoints, plus a route test for mounting it.
 *
 * @example
 * ```ts
 * const handler: MetricsHandler = createMetricsHandler({ source: exporter });
 * const listener = toNodeListener(handler);
 * http.createServer((req, res) => {
 *   if (handler.handles(new URL(req.url ?? '/', 'http://localhost').pathname)) listener(req, res);
 *   else res.writeHead(404).end();
 * });
 * ```
 */
export interface MetricsHandler {
  (request: Request): Promise<Response>;
  /**
   * Whether a path is one of the metrics endpoints: `/metrics` or any `/prometheus/metrics/{name}`
   * (an unknown name is then answered 404 by the handler).
   */
  handles(pathname: string): boolean;
}

/**
 * `Content-Type` of the Prometheus text exposition format 0.0.4, which the metrics endpoints send
 * unless the `Accept` header asks for OpenMetrics.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(serializePrometheus(resourceMetrics));
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Origins whose rendering of the metrics docs is kept; others are rendered on each request. */
const MAX_DOCS_ORIGINS = 8;
const CATEGORY_PATH = /^\/prometheus\/metrics\/([a-z_]+)\/?$/;

/**
 * Create the handler for `/metrics`, `/prometheus/metrics/{all,system,providers,models,business,performance}`,
 * `/prometheus/metrics/summary` and `/prometheus/metrics/docs`. It is a plain
 * `(Request) => Promise<Response>`; use `toNodeListener` to serve it from `node:http`. The
 * `health_service` category is served too, and expositions are OpenMetrics 1.0 when the `Accept`
 * header asks for it, gzip-coded when `Accept-Encoding` allows it (unless `compression: 'none'`).
 * Instruments whose names clash in the exposition are merged or left out (see `SerializeOptions.onDrop`);
 * each one left out is logged through `diag.warn` and counted in `gatewayz_telemetry_dropped_total`
 * (under the prefix of the shared `GatewayTelemetry`, when there is one), once.
 *
 * Errors are JSON `{ "error": { message, type: "invalid_request_error", code, param } }`: 404
 * (`not_found`) for other paths and unknown categories, 405 (`method_not_allowed`, with `Allow`)
 * for methods other than GET and HEAD, 401 (`unauthorized`, with `WWW-Authenticate`) without the
 * configured bearer token, 400 (`invalid_parameter`) for an unknown summary `?category=`, 503
 * (`telemetry_disabled`) when `source` is undefined (the docs endpoint still answers), 503
 * (`telemetry_shut_down`) once the telemetry that serves `source` was shut down (`startTelemetry()`'s
 * `shutdown()`), and 500 (`collection_failed`) when collecting fails.
 *
 * @example
 * ```ts
 * const handler = createMetricsHandler({ source: prometheusExporter, token: process.env.METRICS_TOKEN });
 * const response = await handler(new Request('http://localhost/prometheus/metrics/providers'));
 * ```
 */
export function createMetricsHandler(options: MetricsHandlerOptions): MetricsHandler {
  checkMetricsHandlerOptions(options);
  const prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
  const index = new MetricCategoryIndex(prefix);
  // The docs' curl examples use the origin the request came to; each origin's rendering is kept (a
  // few at most), never one origin's for every requester: a Host header is the client's to choose.
  const docsByOrigin = new Map<string, string>();

  const collect = async (): Promise<ResourceMetrics> => {
    const { resourceMetrics, errors } = await (options.source as MetricsSource).collect();
    if (errors.length > 0) diag.error('@gatewayz/telemetry-node: errors while collecting metrics', ...errors);
    return resourceMetrics;
  };

  const compress = (options.compression ?? 'gzip') === 'gzip';
  const reportDrop = reportExpositionDropsOnce();
  const exposition = async (category: MetricCategory | 'all', request: Request): Promise<Response> => {
    const serializeOptions = {
      filter: index.filterFor(category),
      withScopeInfo: options.withScopeInfo ?? false,
      onDrop: reportDrop,
    };
    const resourceMetrics = await collect();
    const openMetrics = acceptsOpenMetrics(request.headers.get('accept'));
    const chunks = openMetrics
      ? openMetricsChunks(resourceMetrics, serializeOptions)
      : prometheusChunks(resourceMetrics, serializeOptions);
    const gzip = compress && acceptsGzip(request.headers.get('accept-encoding'));
    const { body, contentEncoding } = encodeExposition(chunks, gzip);
    const headers = new Headers({
      'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
      // Caches must key on both: the format follows Accept, the coding Accept-Encoding.
      vary: compress ? 'accept, accept-encoding' : 'accept',
    });
    if (contentEncoding !== undefined) headers.set('content-encoding', contentEncoding);
    return new Response(body, { status: 200, headers });
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (!handles(path)) return jsonError(404, `No metrics endpoint at ${path}`, 'not_found');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const response = jsonError(405, `Method ${request.method} not allowed; use GET`, 'method_not_allowed');
      response.headers.set('allow', 'GET, HEAD');
      return response;
    }
    if (options.token !== undefined && !isAuthorized(request.headers.get('authorization'), options.token)) {
      const response = jsonError(401, 'Missing or invalid bearer token for the metrics endpoints', 'unauthorized');
      response.headers.set('www-authenticate', 'Bearer realm="metrics"');
      return response;
    }
    if (path === '/prometheus/metrics/docs' || path === '/prometheus/metrics/docs/') {
      let docs = docsByOrigin.get(url.origin);
      if (docs === undefined) {
        docs = renderMetricsMarkdown({ prefix, baseUrl: url.origin });
        if (docsByOrigin.size < MAX_DOCS_ORIGINS) docsByOrigin.set(url.origin, docs);
      }
      return new Response(docs, { status: 200, headers: { 'content-type': 'text/markdown; charset=utf-8' } });
    }
    if (options.source === undefined) {
      return jsonError(503, options.disabledReason ?? 'Telemetry is disabled', 'telemetry_disabled', CLIENT_ERROR_TYPE);
    }
    try {
      if (path === '/metrics') return await exposition('all', request);
      const name = (CATEGORY_PATH.exec(path) as RegExpExecArray)[1] as string;
      if (name === 'summary') {
        const category = url.searchParams.get('category');
        if (category !== null && !(SUMMARY_CATEGORIES as readonly string[]).includes(category)) {
          return jsonError(
            400,
            `Unknown summary category "${category.slice(0, 64)}"; expected one of ${SUMMARY_CATEGORIES.join(', ')}`,
            'invalid_parameter',
            { param: 'category' },
          );
        }
        const summary = buildMetricsSummary(
          await collect(),
          index,
          (category ?? undefined) as SummaryCategory | undefined,
          new Date(),
          options.providers,
        );
        return new Response(JSON.stringify(summary), {
          status: 200,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
      }
      if (name === 'all' || isMetricCategory(name)) return await exposition(name, request);
      return jsonError(404, `Unknown metrics category "${name}"`, 'not_found');
    } catch (error) {
      // Scrapes that arrive during a graceful drain, after shutdown(): expected, not an error.
      if (error instanceof MetricsSourceStoppedError)
        return jsonError(503, error.message, 'telemetry_shut_down', CLIENT_ERROR_TYPE);
      diag.error('@gatewayz/telemetry-node: metrics endpoint failed', error);
      return jsonError(500, 'Collecting metrics failed; see the server log', 'collection_failed', CLIENT_ERROR_TYPE);
    }
  };

  function handles(pathname: string): boolean {
    return pathname === '/metrics' || CATEGORY_PATH.test(pathname);
  }

  return Object.assign(handler, { handles });
}

/** A wrong option is a `TelemetryConfigurationError` now, not a 500 on every request later. */
function checkMetricsHandlerOptions(options: MetricsHandlerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TelemetryConfigurationError('options', 'expected { source, prefix?, token?, … }');
  }
  if (
    options.source !== undefined &&
    typeof (options.source as Partial<MetricsSource> | null)?.collect !== 'function'
  ) {
    throw new TelemetryConfigurationError(
      'source',
      'expected a metric reader with collect() (e.g. a PrometheusExporter), or undefined when telemetry is disabled',
    );
  }
  const prefix: unknown = options.prefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^([a-zA-Z_][a-zA-Z0-9_]*)?$/.test(prefix))) {
    throw new TelemetryConfigurationError(
      'prefix',
      `${JSON.stringify(prefix) ?? typeof prefix} is not a valid metric name prefix; use the prefix of the GatewayTelemetry instance, e.g. "gatewayz_"`,
    );
  }
  checkBearerToken('token', options.token);
  const compression: unknown = options.compression;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none') {
    throw new TelemetryConfigurationError(
      'compression',
      `expected 'gzip' or 'none', got ${JSON.stringify(compression) ?? typeof compression}`,
    );
  }
  const providers: unknown = options.providers;
  if (providers !== undefined && (!Array.isArray(providers) || providers.some((name) => typeof name !== 'string'))) {
    throw new TelemetryConfigurationError('providers', 'expected an array of provider names');
  }
}
