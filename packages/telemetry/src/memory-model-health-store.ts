import { MODEL_CALL_STATUSES, type ModelCallStatus } from './catalog.js';
import { TelemetryInputError } from './errors.js';
import type {
  ModelCallAggregate,
  ModelCallBatch,
  ModelHealthPage,
  ModelHealthQuery,
  ModelHealthRecord,
  ModelHealthStats,
  ModelHealthStore,
  ProviderHealthSummary,
} from './model-health.js';

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

type MutableRecord = { -readonly [K in keyof ModelHealthRecord]: ModelHealthRecord[K] };

/**
 * A caller's copy of a stored record. Spelled out field by field: several times faster than an
 * object spread, which matters when the provider health tracker reads 10 000 records a tick.
 */
function copyRecord(record: ModelHealthRecord): ModelHealthRecord {
  return {
    provider: record.provider,
    model: record.model,
    callCount: record.callCount,
    successCount: record.successCount,
    errorCount: record.errorCount,
    lastResponseTimeMs: record.lastResponseTimeMs,
    avgResponseTimeMs: record.avgResponseTimeMs,
    lastStatus: record.lastStatus,
    lastErrorMessage: record.lastErrorMessage,
    lastCalledAt: record.lastCalledAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function invalid(field: string, message: string): never {
  throw new TelemetryInputError('model_health', `invalid_${field}`, message);
}

/**
 * Throws a `TelemetryInputError` naming the field when a call is malformed: `provider` or `model`
 * empty, blank or longer than 255 characters, `responseTimeMs` not a finite number >= 0, an unknown
 * `status`, or a `calledAt` that is not a valid `Date`. The error's `reason` is `invalid_<field>`
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
    const value = call[field];
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_MODEL_HEALTH_NAME_LENGTH) {
      invalid(
        field,
        `Invalid model call: ${field} must be a non-empty string of at most ${MAX_MODEL_HEALTH_NAME_LENGTH} characters`,
      );
    }
  }
  if (typeof call.responseTimeMs !== 'number' || !Number.isFinite(call.responseTimeMs) || call.responseTimeMs < 0) {
    invalid(
      'response_time',
      `Invalid model call: responseTimeMs must be a finite number >= 0, got ${String(call.responseTimeMs)}`,
    );
  }
  if (!(MODEL_CALL_STATUSES as readonly string[]).includes(call.status)) {
    invalid(
      'status',
      `Invalid model call: unknown status "${String(call.status)}"; expected ${MODEL_CALL_STATUSES.join(', ')}`,
    );
  }
  if (call.calledAt !== undefined && (!(call.calledAt instanceof Date) || Number.isNaN(call.calledAt.getTime()))) {
    invalid('called_at', 'Invalid model call: calledAt must be a valid Date');
  }
}

/**
 * Fold one call into a batch entry (or start one when `entry` is undefined) and return the new
 * entry; `entry` itself is not changed. Counts and the response-time sum add up; the `last*` fields
 * follow the call unless it finished before the entry's `lastCalledAt` (`calledAt` defaults to
 * now). An error message is cut to 500 characters. The call is not validated: run
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
  const message = success ? null : ((call.errorMessage ?? null)?.slice(0, MAX_ERROR_MESSAGE_LENGTH) ?? null);
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
      lastCalledAt: at,
    };
  }
  const newer = at >= entry.lastCalledAt;
  return {
    provider: entry.provider,
    model: entry.model,
    calls: entry.calls + 1,
    successes: entry.successes + (success ? 1 : 0),
    errors: entry.errors + (success ? 0 : 1),
    totalResponseTimeMs: entry.totalResponseTimeMs + call.responseTimeMs,
    lastResponseTimeMs: newer ? call.responseTimeMs : entry.lastResponseTimeMs,
    lastStatus: newer ? call.status : entry.lastStatus,
    lastErrorMessage: newer && message !== null ? message : entry.lastErrorMessage,
    lastCalledAt: newer ? at : entry.lastCalledAt,
  };
}

/**
 * Validate and default the pagination and filters of a model-health query, for store
 * implementations. Returns a copy with `limit` (default 100) and `offset` (default 0) filled in;
 * throws a `TelemetryInputError` when `limit` is not an integer from 1 to 1000, `offset` is not an
 * integer >= 0, `status` is unknown or `provider` is an empty string.
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
  if (query.provider !== undefined && (typeof query.provider !== 'string' || query.provider === '')) {
    invalid('provider', 'provider must be a non-empty string');
  }
  return { ...query, limit, offset };
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

function errorRateOf(record: ModelHealthRecord): number {
  return record.callCount > 0 ? record.errorCount / record.callCount : 0;
}

function summarise(provider: string, records: readonly ModelHealthRecord[]): ProviderHealthSummary {
  let calls = 0;
  let successes = 0;
  let errors = 0;
  let totalMs = 0;
  let last: Date | null = null;
  for (const record of records) {
    calls += record.callCount;
    successes += record.successCount;
    errors += record.errorCount;
    totalMs += (record.avgResponseTimeMs ?? 0) * record.callCount;
    if (last === null || record.lastCalledAt > last) last = record.lastCalledAt;
  }
  return {
    provider,
    totalModels: records.length,
    totalCalls: calls,
    successCount: successes,
    errorCount: errors,
    successRate: calls > 0 ? successes / calls : 0,
    errorRate: calls > 0 ? errors / calls : 0,
    avgResponseTimeMs: calls > 0 ? totalMs / calls : null,
    lastCalledAt: last,
  };
}

/** How many applied batch ids are remembered for idempotency. */
const REMEMBERED_BATCHES = 10_000;

/**
 * In-process model-health store: the embedded default. One record per (provider, model) with exact
 * counts and a call-weighted mean response time; batches are applied at most once per id (the last
 * 10 000 batch ids are remembered). The data lives in the process: it is lost on restart and not
 * shared between gateway replicas (use `SupabaseModelHealthStore` for that).
 *
 * @example
 * ```ts
 * const store = new MemoryModelHealthStore();
 * store.recordCall({ provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: 420, status: 'success' });
 * const page = await store.listModelHealth({ provider: 'openai', limit: 20 });
 * ```
 */
export class MemoryModelHealthStore implements ModelHealthStore {
  private readonly records = new Map<string, MutableRecord>();
  private readonly appliedBatches = new Set<string>();
  private readonly now: () => Date;

  /**
   * Create an empty store. `now` supplies the time stamped on `createdAt` / `updatedAt` and the
   * reference of `deleteOlderThan`; default the system time (inject one in tests).
   */
  constructor(options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
  }

  /** Fold one call in directly (no write-behind). Throws `TelemetryInputError` for a malformed call. */
  recordCall(call: ModelCall): void {
    validateModelCall(call);
    this.applyEntry(foldModelCall(undefined, call));
  }

  async applyBatch(batch: ModelCallBatch): Promise<void> {
    if (this.appliedBatches.has(batch.id)) return;
    for (const entry of batch.entries) this.applyEntry(entry);
    this.appliedBatches.add(batch.id);
    if (this.appliedBatches.size > REMEMBERED_BATCHES) {
      const oldest = this.appliedBatches.values().next().value as string;
      this.appliedBatches.delete(oldest);
    }
  }

  private applyEntry(entry: ModelCallAggregate): void {
    const key = `${entry.provider}\u0000${entry.model}`;
    const now = this.now();
    let record = this.records.get(key);
    if (record === undefined) {
      record = {
        provider: entry.provider,
        model: entry.model,
        callCount: 0,
        successCount: 0,
        errorCount: 0,
        lastResponseTimeMs: null,
        avgResponseTimeMs: null,
        lastStatus: entry.lastStatus,
        lastErrorMessage: null,
        lastCalledAt: entry.lastCalledAt,
        createdAt: now,
        updatedAt: now,
      };
      this.records.set(key, record);
    }
    const previousTotal = (record.avgResponseTimeMs ?? 0) * record.callCount;
    record.callCount += entry.calls;
    record.successCount += entry.successes;
    record.errorCount += entry.errors;
    record.avgResponseTimeMs = (previousTotal + entry.totalResponseTimeMs) / record.callCount;
    if (record.lastResponseTimeMs === null || entry.lastCalledAt >= record.lastCalledAt) {
      record.lastResponseTimeMs = entry.lastResponseTimeMs;
      record.lastStatus = entry.lastStatus;
      record.lastCalledAt = entry.lastCalledAt;
      if (entry.lastErrorMessage !== null)
        record.lastErrorMessage = entry.lastErrorMessage.slice(0, MAX_ERROR_MESSAGE_LENGTH);
    }
    record.updatedAt = now;
  }

  async getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined> {
    const record = this.records.get(`${provider}\u0000${model}`);
    return record === undefined ? undefined : copyRecord(record);
  }

  async listAllModelHealth(): Promise<readonly ModelHealthRecord[]> {
    // No order promised here: the provider health tracker reads every record each tick.
    return Array.from(this.records.values(), copyRecord);
  }

  /**
   * Visit every stored record in place (no copies), synchronously. For the provider health
   * tracker, which reads 10 000 records a tick: read them during the call only, never keep them.
   */
  forEachModelHealth(visit: (record: ModelHealthRecord) => void): void {
    for (const record of this.records.values()) visit(record);
  }

  async listModelHealth(query?: ModelHealthQuery): Promise<ModelHealthPage> {
    const { limit, offset, provider, status } = normaliseModelHealthQuery(query);
    const matching = this.sorted().filter(
      (record) =>
        (provider === undefined || record.provider === provider) &&
        (status === undefined || record.lastStatus === status),
    );
    return { items: matching.slice(offset, offset + limit), total: matching.length, limit, offset };
  }

  async getUnhealthyModels(errorThreshold: number, minCalls = 1): Promise<readonly ModelHealthRecord[]> {
    validateUnhealthyQuery(errorThreshold, minCalls);
    return this.sorted()
      .filter((record) => record.callCount >= minCalls && errorRateOf(record) >= errorThreshold)
      .sort((a, b) => errorRateOf(b) - errorRateOf(a) || b.callCount - a.callCount || compareKeys(a, b));
  }

  async getStats(): Promise<ModelHealthStats> {
    const records = this.sorted();
    const summary = summarise('', records);
    return {
      totalModels: records.length,
      totalProviders: new Set(records.map((record) => record.provider)).size,
      totalCalls: summary.totalCalls,
      totalSuccesses: summary.successCount,
      totalErrors: summary.errorCount,
      successRate: summary.successRate,
      avgResponseTimeMs: summary.avgResponseTimeMs,
    };
  }

  async getProviderSummary(provider: string): Promise<ProviderHealthSummary | undefined> {
    const records = this.sorted().filter((record) => record.provider === provider);
    return records.length === 0 ? undefined : summarise(provider, records);
  }

  async listProviders(): Promise<readonly ProviderHealthSummary[]> {
    const byProvider = new Map<string, ModelHealthRecord[]>();
    for (const record of this.sorted()) {
      const list = byProvider.get(record.provider) ?? [];
      list.push(record);
      byProvider.set(record.provider, list);
    }
    return [...byProvider.entries()].map(([provider, records]) => summarise(provider, records));
  }

  async deleteOlderThan(days: number): Promise<number> {
    validateRetentionDays(days);
    const cutoff = this.now().getTime() - days * 86_400_000;
    let deleted = 0;
    for (const [key, record] of this.records) {
      if (record.lastCalledAt.getTime() < cutoff) {
        this.records.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  private sorted(): ModelHealthRecord[] {
    return Array.from(this.records.values(), copyRecord).sort(compareKeys);
  }
}

function compareKeys(a: ModelHealthRecord, b: ModelHealthRecord): number {
  return a.provider < b.provider
    ? -1
    : a.provider > b.provider
      ? 1
      : a.model < b.model
        ? -1
        : a.model > b.model
          ? 1
          : 0;
}
