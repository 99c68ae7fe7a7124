import { MODEL_CALL_STATUSES, type ModelCallStatus } from '../metrics/metric-definition.js';
import { TelemetryInputError } from '../errors.js';
import type { ModelCallAggregate, ModelHealthQuery } from './model-health-store.js';

/**
 * One finished call to a model at a provider, as passed to `ModelHealthRecorder.recordModelCall()`
 * and `MemoryModelHealthStore.recordCall()`. `validateModelCall` states what is accepted.
 *
 * @example
 * ```ts
 * const call: ModelCall = {
 *   provider: 'anthropic',
 *   model: 'claude-3-5-sonnet',
 *   responseTimeMs: 30_000,
 *   status: 'timeout',
 *   errorMessage: 'upstream did not answer within 30 s',
 * };
 * recorder.recordModelCall(call);
 * ```
 */
export interface ModelCall {
  /** Provider name, e.g. `openai`: non-empty, not blank, at most 255 characters. */
  provider: string;
  /** Model name at the provider, e.g. `gpt-4o-mini`: non-empty, not blank, at most 255 characters. */
  model: string;
  /** Time the call took, in milliseconds (finite, >= 0); for a stream, until its end. */
  responseTimeMs: number;
  /** Outcome: `success`, `error`, `timeout`, `rate_limited` or `network_error`. */
  status: ModelCallStatus;
  /** Error text of a failed call, cut to 500 characters; ignored when `status` is `success`. */
  errorMessage?: string | null;
  /** When the call finished; default now. */
  calledAt?: Date;
}

/**
 * Longest error message kept, in characters, as in the database schema (500). Longer messages are
 * cut to it, not rejected.
 *
 * @example
 * ```ts
 * const errorMessage = await upstream.text(); // may be a long HTML error page
 * recorder.recordModelCall({ provider: 'openai', model: 'gpt-4o', responseTimeMs: 95, status: 'error', errorMessage });
 * // stored as errorMessage.slice(0, MAX_ERROR_MESSAGE_LENGTH)
 * ```
 */
export const MAX_ERROR_MESSAGE_LENGTH = 500;
/**
 * Longest provider or model name accepted, in characters (255); `validateModelCall` rejects longer
 * ones.
 *
 * @example
 * ```ts
 * if (model.length > MAX_MODEL_HEALTH_NAME_LENGTH) {
 *   return Response.json({ error: 'model name too long' }, { status: 400 });
 * }
 * ```
 */
export const MAX_MODEL_HEALTH_NAME_LENGTH = 255;
/**
 * Page size of `listModelHealth` when the query has no `limit` (100).
 *
 * @example
 * ```ts
 * const page = await store.listModelHealth({ provider: 'openai' });
 * page.limit === DEFAULT_MODEL_HEALTH_PAGE_SIZE; // true
 * ```
 */
export const DEFAULT_MODEL_HEALTH_PAGE_SIZE = 100;
/**
 * Largest `limit` a model-health query accepts (1000); a larger one is rejected with a
 * `TelemetryInputError`.
 *
 * @example
 * ```ts
 * const requested = Number(url.searchParams.get('limit') ?? DEFAULT_MODEL_HEALTH_PAGE_SIZE);
 * const page = await store.listModelHealth({ limit: Math.min(requested, MAX_MODEL_HEALTH_PAGE_SIZE) });
 * ```
 */
export const MAX_MODEL_HEALTH_PAGE_SIZE = 1000;

/**
 * NUL, which PostgreSQL text cannot hold: in a name it is refused (it would also let two names
 * collide in a key joined by NUL), in an error message (an upstream's bytes) it is removed.
 */
const NUL = '\u0000';

/** `String.prototype.isWellFormed` / `toWellFormed` (ES2024, Node.js 20), not in the ES2022 lib types. */
interface WellFormedString {
  isWellFormed?: () => boolean;
  toWellFormed?: () => string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * @internal Whether a string holds no lone UTF-16 surrogate. PostgreSQL stores UTF-8, which has no
 * encoding for one, and PostgREST refuses the whole JSON request that carries one (`\ud83d`).
 */
export function isWellFormedText(text: string): boolean {
  const native = (text as WellFormedString).isWellFormed;
  if (native !== undefined) return native.call(text);
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

function toWellFormedText(text: string): string {
  const native = (text as WellFormedString).toWellFormed;
  return native !== undefined ? native.call(text) : text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * @internal The error message a store keeps of a call: at most `MAX_ERROR_MESSAGE_LENGTH`
 * characters, without NUL characters and without lone surrogates (an upstream's error body can
 * hold any bytes; PostgreSQL refuses a whole batch over one NUL, PostgREST over one lone
 * surrogate). The cut never splits a surrogate pair: an emoji across character 500 used to leave
 * half of it, and the batch holding it was refused on every retry.
 */
export function storedErrorMessage(message: string): string {
  let clean = message.includes(NUL) ? message.replaceAll(NUL, '') : message;
  if (clean.length > MAX_ERROR_MESSAGE_LENGTH) {
    const last = clean.charCodeAt(MAX_ERROR_MESSAGE_LENGTH - 1);
    clean = clean.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_ERROR_MESSAGE_LENGTH - 1 : MAX_ERROR_MESSAGE_LENGTH);
  }
  return isWellFormedText(clean) ? clean : toWellFormedText(clean);
}

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, in milliseconds since the epoch. */
const EARLIEST_CALL_TIME = -62_135_596_800_000;
const LATEST_CALL_TIME = 253_402_300_799_999;

/**
 * @internal Whether a value is a `Date` a store can keep: years 1 to 9999. `toISOString()` writes
 * other years in the expanded form (`+010000-…`, `-000001-…`) that PostgreSQL refuses, which failed
 * the whole batch on every retry.
 */
export function isStorableDate(value: unknown): value is Date {
  if (!(value instanceof Date)) return false;
  const time = value.getTime();
  return time >= EARLIEST_CALL_TIME && time <= LATEST_CALL_TIME;
}

/** A provider or model name a store can keep: non-empty, not blank, bounded, no NUL, no lone surrogate. */
function isStorableName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.trim() !== '' &&
    value.length <= MAX_MODEL_HEALTH_NAME_LENGTH &&
    !value.includes(NUL) &&
    isWellFormedText(value)
  );
}

function invalid(field: string, message: string): never {
  throw new TelemetryInputError('model_health', `invalid_${field}`, message);
}

/**
 * Throws a `TelemetryInputError` naming the field when a call is malformed: `provider` or `model`
 * empty, blank, longer than 255 characters or holding NUL or a lone UTF-16 surrogate, `responseTimeMs` not a number from 0 to
 * `Number.MAX_SAFE_INTEGER`, an unknown `status`, an `errorMessage` that is not a string or null,
 * or a `calledAt` that is not a valid `Date` in the years 1 to 9999. The error's `reason` is `invalid_<field>`
 * (e.g. `invalid_response_time`) and its `metric` is `model_health`. Returns nothing otherwise.
 *
 * @example
 * ```ts
 * try {
 *   validateModelCall({ provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: -5, status: 'success' });
 * } catch (error) {
 *   if (error instanceof TelemetryInputError) console.warn(error.reason); // 'invalid_response_time'
 * }
 * ```
 */
export function validateModelCall(call: ModelCall): void {
  if (call === null || typeof call !== 'object') invalid('call', 'Invalid model call: expected an object');
  for (const field of ['provider', 'model'] as const) {
    if (!isStorableName(call[field])) {
      invalid(
        field,
        `Invalid model call: ${field} must be a non-empty string of at most ${MAX_MODEL_HEALTH_NAME_LENGTH} characters, without NUL characters or lone surrogates`,
      );
    }
  }
  // Bounded so that sums of response times stay finite and exact enough: two calls of 1e308 ms
  // used to fold into an Infinity total, stored as a null average (and refused by PostgreSQL).
  if (
    typeof call.responseTimeMs !== 'number' ||
    !Number.isFinite(call.responseTimeMs) ||
    call.responseTimeMs < 0 ||
    call.responseTimeMs > Number.MAX_SAFE_INTEGER
  ) {
    invalid(
      'response_time',
      `Invalid model call: responseTimeMs must be a number of milliseconds from 0 to ${Number.MAX_SAFE_INTEGER}, got ${String(call.responseTimeMs)}`,
    );
  }
  if (!(MODEL_CALL_STATUSES as readonly string[]).includes(call.status)) {
    invalid(
      'status',
      `Invalid model call: unknown status "${String(call.status)}"; expected ${MODEL_CALL_STATUSES.join(', ')}`,
    );
  }
  const message: unknown = call.errorMessage;
  if (message !== undefined && message !== null && typeof message !== 'string') {
    invalid('error_message', `Invalid model call: errorMessage must be a string or null, got ${typeof message}`);
  }
  if (call.calledAt !== undefined && !isStorableDate(call.calledAt)) {
    invalid('called_at', 'Invalid model call: calledAt must be a valid Date in the years 1 to 9999');
  }
}

/**
 * Fold one call into a batch entry (or start one when `entry` is undefined) and return the new
 * entry; `entry` itself is not changed. Counts and the response-time sum add up; the `last*` fields
 * follow the call unless it finished before the entry's `lastCalledAt` (`calledAt` defaults to
 * now), except the error message and `lastErrorAt`, which follow a failed call with a message unless
 * it finished before the entry's `lastErrorAt`. An error message is cut to 500 characters. The call is not validated: run
 * `validateModelCall` first.
 *
 * @example
 * ```ts
 * let entry = foldModelCall(undefined, { provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: 420, status: 'success' });
 * entry = foldModelCall(entry, { provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: 1800, status: 'timeout' });
 * // entry.calls === 2, entry.errors === 1, entry.lastStatus === 'timeout'
 * ```
 */
export function foldModelCall(entry: ModelCallAggregate | undefined, call: ModelCall): ModelCallAggregate {
  const at = call.calledAt ?? new Date();
  const success = call.status === 'success';
  const message = success || typeof call.errorMessage !== 'string' ? null : storedErrorMessage(call.errorMessage);
  if (entry === undefined) {
    return {
      provider: call.provider,
      model: call.model,
      calls: 1,
      successes: success ? 1 : 0,
      errors: success ? 0 : 1,
      totalResponseTimeMs: call.responseTimeMs,
      lastResponseTimeMs: call.responseTimeMs,
      lastStatus: call.status,
      lastErrorMessage: message,
      lastErrorAt: message === null ? null : at,
      lastCalledAt: at,
    };
  }
  const newer = at >= entry.lastCalledAt;
  const previousErrorAt = entryErrorAt(entry);
  const newerError = message !== null && (previousErrorAt === null || at >= previousErrorAt);
  return {
    provider: entry.provider,
    model: entry.model,
    calls: entry.calls + 1,
    successes: entry.successes + (success ? 1 : 0),
    errors: entry.errors + (success ? 0 : 1),
    totalResponseTimeMs: entry.totalResponseTimeMs + call.responseTimeMs,
    lastResponseTimeMs: newer ? call.responseTimeMs : entry.lastResponseTimeMs,
    lastStatus: newer ? call.status : entry.lastStatus,
    lastErrorMessage: newerError ? message : entry.lastErrorMessage,
    lastErrorAt: newerError ? at : previousErrorAt,
    lastCalledAt: newer ? at : entry.lastCalledAt,
  };
}

/**
 * @internal When the error message of a batch entry was recorded: its `lastErrorAt`, or
 * `lastCalledAt` when an entry with a message has none (built by hand or by an earlier version);
 * null when the entry has no message.
 */
export function entryErrorAt(entry: ModelCallAggregate): Date | null {
  if (entry.lastErrorMessage === null) return null;
  return entry.lastErrorAt ?? entry.lastCalledAt;
}

/**
 * Validate and default the pagination and filters of a model-health query, for store
 * implementations. Returns a copy with `limit` (default 100) and `offset` (default 0) filled in;
 * throws a `TelemetryInputError` when `limit` is not an integer from 1 to 1000, `offset` is not an
 * integer >= 0, `status` is unknown, `provider` is an empty string or `after` is not a
 * `{ provider, model }` pair of strings.
 *
 * @example
 * ```ts
 * normaliseModelHealthQuery({ provider: 'openai' }); // { provider: 'openai', limit: 100, offset: 0 }
 * normaliseModelHealthQuery({ limit: 5000 }); // throws TelemetryInputError (reason 'invalid_limit')
 * ```
 */
export function normaliseModelHealthQuery(
  query: ModelHealthQuery = {},
): Required<Pick<ModelHealthQuery, 'limit' | 'offset'>> & ModelHealthQuery {
  const limit = query.limit ?? DEFAULT_MODEL_HEALTH_PAGE_SIZE;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MODEL_HEALTH_PAGE_SIZE) {
    invalid('limit', `limit must be an integer from 1 to ${MAX_MODEL_HEALTH_PAGE_SIZE}, got ${String(query.limit)}`);
  }
  if (!Number.isInteger(offset) || offset < 0)
    invalid('offset', `offset must be an integer >= 0, got ${String(query.offset)}`);
  if (query.status !== undefined && !(MODEL_CALL_STATUSES as readonly string[]).includes(query.status)) {
    invalid('status', `unknown status "${String(query.status)}"; expected ${MODEL_CALL_STATUSES.join(', ')}`);
  }
  if (
    query.provider !== undefined &&
    (typeof query.provider !== 'string' ||
      query.provider === '' ||
      query.provider.includes(NUL) ||
      !isWellFormedText(query.provider))
  ) {
    invalid('provider', 'provider must be a non-empty string without NUL characters or lone surrogates');
  }
  const after: unknown = query.after;
  if (
    after !== undefined &&
    (after === null ||
      typeof after !== 'object' ||
      !isKeyText((after as { provider?: unknown }).provider) ||
      !isKeyText((after as { model?: unknown }).model))
  ) {
    invalid('after', 'after must be { provider, model }, two strings without NUL characters or lone surrogates');
  }
  return { ...query, limit, offset };
}

/** A string a key can be compared with in every store (PostgreSQL text holds no NUL or lone surrogate). */
function isKeyText(value: unknown): value is string {
  return typeof value === 'string' && !value.includes(NUL) && isWellFormedText(value);
}

/**
 * Validate `getUnhealthyModels` arguments, for store implementations: throws a
 * `TelemetryInputError` unless `errorThreshold` is a finite number from 0 to 1 and `minCalls` an
 * integer >= 1.
 *
 * @example
 * ```ts
 * validateUnhealthyQuery(0.2, 10); // fine
 * validateUnhealthyQuery(20, 10); // throws: the threshold is a rate (0-1), not a percentage
 * ```
 */
export function validateUnhealthyQuery(errorThreshold: number, minCalls: number): void {
  if (
    typeof errorThreshold !== 'number' ||
    !Number.isFinite(errorThreshold) ||
    errorThreshold < 0 ||
    errorThreshold > 1
  ) {
    invalid('error_threshold', `error_threshold must be a number from 0 to 1, got ${String(errorThreshold)}`);
  }
  if (!Number.isInteger(minCalls) || minCalls < 1)
    invalid('min_calls', `min_calls must be an integer >= 1, got ${String(minCalls)}`);
}

/**
 * Validate `deleteOlderThan` arguments, for store implementations: throws a `TelemetryInputError`
 * unless `days` is a finite number > 0 (fractions allowed).
 *
 * @example
 * ```ts
 * validateRetentionDays(30); // fine
 * validateRetentionDays(0); // throws TelemetryInputError (reason 'invalid_days')
 * ```
 */
export function validateRetentionDays(days: number): void {
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0)
    invalid('days', `days must be a number > 0, got ${String(days)}`);
}
