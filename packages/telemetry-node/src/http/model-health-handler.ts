import { diag } from '@opentelemetry/api';
import {
  MODEL_CALL_STATUSES,
  TelemetryConfigurationError,
  TelemetryInputError,
  type ModelCallStatus,
} from '@gatewayz/telemetry';
import {
  MAX_MODEL_HEALTH_PAGE_SIZE,
  type ModelHealthRecord,
  type ModelHealthStats,
  type ModelHealthStore,
  type ProviderHealthSummary,
} from '@gatewayz/telemetry/model-health';
import { checkBearerToken, isAuthorized } from './bearer-auth.js';
import { jsonError, jsonResponse } from './json-error.js';

/**
 * Options of {@link createModelHealthHandler}.
 *
 * @example
 * ```ts
 * const options: ModelHealthHandlerOptions = { store: new MemoryModelHealthStore(), token: process.env.METRICS_TOKEN };
 * const api = createModelHealthHandler(options);
 * ```
 */
export interface ModelHealthHandlerOptions {
  /** Store the endpoints read from, e.g. `MemoryModelHealthStore` or `SupabaseModelHealthStore`. */
  store: ModelHealthStore;
  /** When set, every endpoint requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Path prefix. Default `/v1/model-health`. */
  basePath?: string;
}

/**
 * A fetch-style handler for the model-health REST API, plus a route test for mounting it.
 *
 * @example
 * ```ts
 * const api: ModelHealthHandler = createModelHealthHandler({ store });
 * const listener = toNodeListener(api);
 * http.createServer((req, res) => {
 *   if (api.handles(new URL(req.url ?? '/', 'http://localhost').pathname)) listener(req, res);
 *   else res.writeHead(404).end();
 * });
 * ```
 */
export interface ModelHealthHandler {
  (request: Request): Promise<Response>;
  /** Whether a path is the base path (default `/v1/model-health`) or below it. */
  handles(pathname: string): boolean;
}

class BadParameter extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A model-health record as the API returns it (snake_case, as the seed's columns), with
 * `success_rate` and `error_rate` (0-1, 0 without calls) added and dates as ISO-8601 strings.
 * `last_error_at` is when the call of `last_error_message` finished (null without a message): the
 * message is that of the most recent failed call by call time, and may be older than
 * `last_called_at`.
 *
 * @example
 * ```ts
 * const record = await store.getModelHealth('openai', 'gpt-4o-mini');
 * if (record !== undefined) console.log(JSON.stringify(serializeModelHealth(record)));
 * ```
 */
export function serializeModelHealth(record: ModelHealthRecord): Record<string, unknown> {
  return {
    provider: record.provider,
    model: record.model,
    call_count: record.callCount,
    success_count: record.successCount,
    error_count: record.errorCount,
    success_rate: record.callCount > 0 ? record.successCount / record.callCount : 0,
    error_rate: record.callCount > 0 ? record.errorCount / record.callCount : 0,
    last_response_time_ms: record.lastResponseTimeMs,
    avg_response_time_ms: record.avgResponseTimeMs,
    last_status: record.lastStatus,
    last_error_message: record.lastErrorMessage,
    last_error_at: record.lastErrorAt?.toISOString() ?? null,
    last_called_at: record.lastCalledAt.toISOString(),
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
  };
}

function serializeSummary(summary: ProviderHealthSummary): Record<string, unknown> {
  return {
    provider: summary.provider,
    total_models: summary.totalModels,
    total_calls: summary.totalCalls,
    success_count: summary.successCount,
    error_count: summary.errorCount,
    success_rate: summary.successRate,
    error_rate: summary.errorRate,
    avg_response_time_ms: summary.avgResponseTimeMs,
    last_called_at: summary.lastCalledAt?.toISOString() ?? null,
  };
}

function serializeStats(stats: ModelHealthStats): Record<string, unknown> {
  return {
    total_models: stats.totalModels,
    total_providers: stats.totalProviders,
    total_calls: stats.totalCalls,
    total_successes: stats.totalSuccesses,
    total_errors: stats.totalErrors,
    success_rate: stats.successRate,
    avg_response_time_ms: stats.avgResponseTimeMs,
  };
}

const KNOWN_PARAMETERS: Record<string, readonly string[]> = {
  list: ['provider', 'status', 'limit', 'offset', 'cursor'],
  unhealthy: ['error_threshold', 'min_calls'],
  none: [],
};

function checkParameters(url: URL, allowed: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (!allowed.includes(name)) {
      throw new BadParameter(
        name,
        `Unknown query parameter "${name.slice(0, 64)}"${allowed.length > 0 ? `; expected ${allowed.join(', ')}` : ''}`,
      );
    }
  }
}

function integerParameter(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new BadParameter(name, `${name} must be an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new BadParameter(name, `${name} must be an integer from ${min} to ${max}`);
  return value;
}

function textParameter(url: URL, name: string): string | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  if (raw.trim() === '' || raw.length > 255 || raw.includes('\u0000'))
    throw new BadParameter(name, `${name} must be a non-empty string of at most 255 characters, without NUL`);
  return raw;
}

/**
 * The `next_cursor` of a page: the key of its last record, as base64url of `[provider, model]`.
 * Opaque to clients; `cursor=` hands it back.
 */
function encodeCursor(record: ModelHealthRecord): string {
  return Buffer.from(JSON.stringify([record.provider, record.model]), 'utf8').toString('base64url');
}

/** A key string a store can compare: no NUL, no lone UTF-16 surrogate (PostgreSQL text holds neither). */
function isCursorText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    !value.includes('\u0000') &&
    (value as { isWellFormed?: () => boolean }).isWellFormed?.() !== false
  );
}

function cursorParameter(url: URL): { provider: string; model: string } | undefined {
  const raw = url.searchParams.get('cursor');
  if (raw === null) return undefined;
  let key: unknown;
  try {
    key = /^[\w-]{1,2000}$/.test(raw) ? JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) : undefined;
  } catch {
    key = undefined;
  }
  const [provider, model, ...rest] = Array.isArray(key) ? (key as unknown[]) : [];
  if (!isCursorText(provider) || !isCursorText(model) || rest.length > 0) {
    throw new BadParameter('cursor', 'cursor must be the next_cursor of a previous page');
  }
  return { provider, model };
}

function decodeSegment(segment: string, param: string): string {
  let value: string;
  try {
    value = decodeURIComponent(segment);
  } catch {
    throw new BadParameter(param, `${param} is not valid percent-encoding`);
  }
  if (value.trim() === '' || value.length > 255 || value.includes('\u0000'))
    throw new BadParameter(param, `${param} must be a non-empty string of at most 255 characters, without NUL`);
  return value;
}

/**
 * The model-health REST API over any `ModelHealthStore` (seed 003):
 *
 * - `GET /v1/model-health?provider=&status=&limit=&offset=&cursor=` → `{ items, total, limit, offset, next_cursor }`:
 *   a full page carries `next_cursor`; pass it as `cursor` for the next page, which then neither
 *   repeats nor skips a record when others are written in between (`offset` paging does; `offset`
 *   with `cursor` skips that many after it). `next_cursor` is null after a short page.
 * - `GET /v1/model-health/{provider}/{model}` → one record (404 when unknown; the model may contain `/`)
 * - `GET /v1/model-health/unhealthy?error_threshold=0.2&min_calls=1` → `{ items, total, error_threshold, min_calls }`
 * - `GET /v1/model-health/stats` → totals, success rate, mean response time
 * - `GET /v1/model-health/provider/{provider}/summary` → one provider's aggregates (404 when unknown)
 * - `GET /v1/model-health/providers` → `{ items, total }`, every provider's aggregates
 *
 * Bad parameters get 400 with `{ error: { message, param, code: "invalid_parameter" } }`; a failing
 * store gets 503 (`store_unavailable`). Other errors use the same JSON shape: 404 (`not_found`), 405
 * (`method_not_allowed`, with `Allow`) for methods other than GET and HEAD, and 401 (`unauthorized`,
 * with `WWW-Authenticate`) without the configured bearer token. `limit` defaults to 100.
 *
 * @example
 * ```ts
 * const api = createModelHealthHandler({ store });
 * const response = await api(new Request('http://localhost/v1/model-health/stats'));
 * ```
 */
export function createModelHealthHandler(options: ModelHealthHandlerOptions): ModelHealthHandler {
  checkModelHealthHandlerOptions(options);
  const base = (options.basePath ?? '/v1/model-health').replace(/\/+$/, '');
  const { store } = options;

  const route = async (url: URL): Promise<Response> => {
    const rest = url.pathname.slice(base.length).replace(/^\/+/, '').replace(/\/+$/, '');
    const segments = rest === '' ? [] : rest.split('/');
    if (segments.length === 0) {
      checkParameters(url, KNOWN_PARAMETERS['list'] as readonly string[]);
      const status = textParameter(url, 'status');
      if (status !== undefined && !(MODEL_CALL_STATUSES as readonly string[]).includes(status)) {
        throw new BadParameter('status', `status must be one of ${MODEL_CALL_STATUSES.join(', ')}`);
      }
      const provider = textParameter(url, 'provider');
      const after = cursorParameter(url);
      const page = await store.listModelHealth({
        ...(provider !== undefined ? { provider } : {}),
        ...(status !== undefined ? { status: status as ModelCallStatus } : {}),
        limit: integerParameter(url, 'limit', 100, 1, MAX_MODEL_HEALTH_PAGE_SIZE),
        offset: integerParameter(url, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
        ...(after !== undefined ? { after } : {}),
      });
      const last = page.items.at(-1);
      return jsonResponse(200, {
        items: page.items.map(serializeModelHealth),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        next_cursor: last !== undefined && page.items.length === page.limit ? encodeCursor(last) : null,
      });
    }
    if (segments.length === 1 && segments[0] === 'unhealthy') {
      checkParameters(url, KNOWN_PARAMETERS['unhealthy'] as readonly string[]);
      const raw = url.searchParams.get('error_threshold');
      let threshold = 0.2;
      if (raw !== null) {
        threshold = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
          throw new BadParameter('error_threshold', 'error_threshold must be a number from 0 to 1');
        }
      }
      const minCalls = integerParameter(url, 'min_calls', 1, 1, Number.MAX_SAFE_INTEGER);
      const items = await store.getUnhealthyModels(threshold, minCalls);
      return jsonResponse(200, {
        items: items.map(serializeModelHealth),
        total: items.length,
        error_threshold: threshold,
        min_calls: minCalls,
      });
    }
    if (segments.length === 1 && segments[0] === 'stats') {
      checkParameters(url, KNOWN_PARAMETERS['none'] as readonly string[]);
      return jsonResponse(200, serializeStats(await store.getStats()));
    }
    if (segments.length === 1 && segments[0] === 'providers') {
      checkParameters(url, KNOWN_PARAMETERS['none'] as readonly string[]);
      const providers = await store.listProviders();
      return jsonResponse(200, { items: providers.map(serializeSummary), total: providers.length });
    }
    if (segments.length === 3 && segments[0] === 'provider' && segments[2] === 'summary') {
      checkParameters(url, KNOWN_PARAMETERS['none'] as readonly string[]);
      const provider = decodeSegment(segments[1] as string, 'provider');
      const summary = await store.getProviderSummary(provider);
      if (summary === undefined)
        return jsonError(404, `No model health recorded for provider "${provider.slice(0, 64)}"`, 'not_found', {
          param: 'provider',
        });
      return jsonResponse(200, serializeSummary(summary));
    }
    if (segments.length >= 2) {
      checkParameters(url, KNOWN_PARAMETERS['none'] as readonly string[]);
      const provider = decodeSegment(segments[0] as string, 'provider');
      const model = decodeSegment(segments.slice(1).join('/'), 'model');
      const record = await store.getModelHealth(provider, model);
      if (record === undefined) {
        return jsonError(
          404,
          `No model health recorded for "${model.slice(0, 64)}" at "${provider.slice(0, 64)}"`,
          'not_found',
          { param: 'model' },
        );
      }
      return jsonResponse(200, serializeModelHealth(record));
    }
    return jsonError(404, `No model-health endpoint at ${url.pathname.slice(0, 128)}`, 'not_found');
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (!handles(url.pathname)) return jsonError(404, 'Not a model-health endpoint', 'not_found');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const response = jsonError(405, `Method ${request.method} not allowed; use GET`, 'method_not_allowed');
      response.headers.set('allow', 'GET, HEAD');
      return response;
    }
    if (options.token !== undefined && !isAuthorized(request.headers.get('authorization'), options.token)) {
      const response = jsonError(401, 'Missing or invalid bearer token for the model-health API', 'unauthorized');
      response.headers.set('www-authenticate', 'Bearer realm="model-health"');
      return response;
    }
    try {
      return await route(url);
    } catch (failure) {
      if (failure instanceof BadParameter)
        return jsonError(400, failure.message, 'invalid_parameter', { param: failure.param });
      if (TelemetryInputError.isInstance(failure)) {
        return jsonError(400, failure.message, 'invalid_parameter', {
          param: failure.reason.replace(/^invalid_/, ''),
        });
      }
      diag.error('@gatewayz/telemetry-node: model-health store query failed', failure);
      return jsonError(503, 'The model-health store is unavailable; try again later', 'store_unavailable');
    }
  };

  function handles(pathname: string): boolean {
    return pathname === base || pathname.startsWith(`${base}/`);
  }

  return Object.assign(handler, { handles });
}

/** The store methods the endpoints call. */
const STORE_METHODS = [
  'listModelHealth',
  'getModelHealth',
  'getUnhealthyModels',
  'getStats',
  'getProviderSummary',
  'listProviders',
] as const;

/** A wrong option is a `TelemetryConfigurationError` now, not a 500 on every request later. */
function checkModelHealthHandlerOptions(options: ModelHealthHandlerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TelemetryConfigurationError('options', 'expected { store, token?, basePath? }');
  }
  const store = options.store as Partial<Record<(typeof STORE_METHODS)[number], unknown>> | null | undefined;
  const missing = STORE_METHODS.filter((method) => typeof store?.[method] !== 'function');
  if (missing.length > 0) {
    throw new TelemetryConfigurationError(
      'store',
      `expected a model-health store (MemoryModelHealthStore, SupabaseModelHealthStore, …); missing ${missing.map((method) => `${method}()`).join(', ')}`,
    );
  }
  checkBearerToken('token', options.token);
  const basePath: unknown = options.basePath;
  if (basePath !== undefined && (typeof basePath !== 'string' || !basePath.startsWith('/'))) {
    throw new TelemetryConfigurationError(
      'basePath',
      `expected a path starting with "/", got ${JSON.stringify(basePath) ?? typeof basePath}`,
    );
  }
}
