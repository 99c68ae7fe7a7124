import type { ModelCallStatus } from '../metrics/metric-definition.js';

/**
 * Health of one (provider, model) pair, as persisted by a model-health store (seed 003). Stores hand
 * out copies: changing a record does not change the store.
 *
 * @example
 * ```ts
 * const record = await store.getModelHealth('openai', 'gpt-4o-mini');
 * if (record !== undefined) {
 *   console.log(`${record.errorCount}/${record.callCount} failed, last status ${record.lastStatus}`);
 * }
 * ```
 */
export interface ModelHealthRecord {
  /** Provider name, e.g. `openai`; with `model`, the key of the record. */
  readonly provider: string;
  /** Model name at the provider, e.g. `gpt-4o-mini`. */
  readonly model: string;
  /** Calls recorded for the pair: `successCount + errorCount`. */
  readonly callCount: number;
  /** Calls whose status was `success`. */
  readonly successCount: number;
  /** Calls with any other status (`error`, `timeout`, `rate_limited`, `network_error`). */
  readonly errorCount: number;
  /** Response time of the most recent call, in milliseconds. */
  readonly lastResponseTimeMs: number | null;
  /** Mean response time over all calls, in milliseconds. */
  readonly avgResponseTimeMs: number | null;
  /** Status of the most recent call. */
  readonly lastStatus: ModelCallStatus;
  /**
   * Message of the most recent failed call that carried one (at most 500 characters), or null. A
   * later successful call does not clear it; compare `lastStatus`. "Most recent" is by call time,
   * whatever order the batches arrived in: see `lastErrorAt`.
   */
  readonly lastErrorMessage: string | null;
  /**
   * When the failed call whose message is `lastErrorMessage` finished; null when there is no
   * message. Also null for a message written before this field existed when the store could not
   * know its time (a Supabase database not yet migrated with `0002_model_health_last_error_at.sql`).
   */
  readonly lastErrorAt: Date | null;
  /** When the most recent call finished. */
  readonly lastCalledAt: Date;
  /** When the store first recorded a call for the pair. */
  readonly createdAt: Date;
  /** When the store last applied calls to the record. */
  readonly updatedAt: Date;
}

/**
 * Anything the provider health tracker can read per-model health from. Every `ModelHealthStore` is
 * one.
 *
 * @example
 * ```ts
 * const source: ModelHealthSource = new MemoryModelHealthStore();
 * const tracker = startProviderHealthTracker({ source, intervalMs: 15_000 });
 * ```
 */
export interface ModelHealthSource {
  /** Every tracked (provider, model) record, in no particular order. */
  listAllModelHealth(): Promise<readonly ModelHealthRecord[]>;
  /**
   * Optional: call `visit` once for every tracked record, in no particular order, without copying
   * them; the tracker uses it instead of `listAllModelHealth()` when present. The records may be
   * the store's own objects: read them during the call only, never keep or change them.
   */
  forEachModelHealth?(visit: (record: ModelHealthRecord) => void): void | Promise<void>;
}

/**
 * Calls to one (provider, model) folded together by the write-behind recorder. A store applies an
 * entry atomically: counts add up, the mean response time is re-weighted, and `lastResponseTimeMs`,
 * `lastStatus` and `lastCalledAt` replace the stored ones when `lastCalledAt` is not older than the
 * stored `lastCalledAt`. The error message has its own time: it replaces the stored one when its
 * `lastErrorAt` is not older than the stored `lastErrorAt`, so a late batch's newer error wins over
 * an older one whatever order batches arrive in (a null `lastErrorMessage` leaves the stored message
 * as it is).
 *
 * @example
 * ```ts
 * const entry: ModelCallAggregate = {
 *   provider: 'openai', model: 'gpt-4o-mini',
 *   calls: 3, successes: 2, errors: 1,
 *   totalResponseTimeMs: 2150, lastResponseTimeMs: 910,
 *   lastStatus: 'rate_limited', lastErrorMessage: '429 Too Many Requests', lastCalledAt: new Date(),
 * };
 * ```
 */
export interface ModelCallAggregate {
  /** Provider name, e.g. `openai`. */
  readonly provider: string;
  /** Model name at the provider, e.g. `gpt-4o-mini`. */
  readonly model: string;
  /** Calls folded into this entry (>= 1). */
  readonly calls: number;
  /** Calls whose status was `success`. */
  readonly successes: number;
  /** Non-success calls: `calls - successes`. */
  readonly errors: number;
  /** Sum of the calls' response times, in milliseconds. */
  readonly totalResponseTimeMs: number;
  /** Response time of the most recent call in the entry, in milliseconds. */
  readonly lastResponseTimeMs: number;
  /** Status of the most recent call in the entry. */
  readonly lastStatus: ModelCallStatus;
  /** Message of the most recent failed call in the entry (at most 500 characters), or null. */
  readonly lastErrorMessage: string | null;
  /**
   * When the failed call whose message is `lastErrorMessage` finished (not after `lastCalledAt`);
   * null or absent when there is no message. Absent with a message (a batch built by hand, or by an
   * earlier version), the message is taken to be from `lastCalledAt`.
   */
  readonly lastErrorAt?: Date | null;
  /** When the most recent call in the entry finished. */
  readonly lastCalledAt: Date;
}

/**
 * One flush of the write-behind recorder. `id` makes it idempotent: a store applies a batch id at
 * most once, so a retry after an ambiguous failure (the write landed, the answer was lost) does not
 * count the calls twice.
 *
 * @example
 * ```ts
 * const batch: ModelCallBatch = { id: crypto.randomUUID(), entries: [entry] };
 * await store.applyBatch(batch);
 * await store.applyBatch(batch); // same id: not counted again
 * ```
 */
export interface ModelCallBatch {
  /** UUID of the batch. */
  readonly id: string;
  /** The folded calls; the recorder puts each (provider, model) in one entry per batch. */
  readonly entries: readonly ModelCallAggregate[];
}

/**
 * Filters and pagination of `listModelHealth`. Stores check it with `normaliseModelHealthQuery`,
 * so an out-of-range value rejects with a `TelemetryInputError`.
 *
 * @example
 * ```ts
 * const query: ModelHealthQuery = { provider: 'openai', status: 'rate_limited', limit: 50, offset: 0 };
 * const page = await store.listModelHealth(query);
 * const last = page.items.at(-1);
 * const next = last === undefined ? undefined : await store.listModelHealth({ ...query, after: last });
 * ```
 */
export interface ModelHealthQuery {
  /** Only this provider's models (a non-empty string). */
  provider?: string;
  /** Filter on `lastStatus`. */
  status?: ModelCallStatus;
  /** Page size, 1-1000. Default 100. */
  limit?: number;
  /** Rows to skip. Default 0. */
  offset?: number;
  /**
   * Keyset paging: only records after this (provider, model) key in the list order (provider, then
   * model, by Unicode code point). Pass the last record of the previous page. Unlike `offset`, pages
   * read this way neither repeat nor skip a record when others are added or deleted in between;
   * `total` still counts every record that matches the filters.
   */
  after?: { readonly provider: string; readonly model: string };
}

/**
 * One page of `listModelHealth` results.
 *
 * @example
 * ```ts
 * for (let offset = 0; ; offset += 100) {
 *   const page = await store.listModelHealth({ limit: 100, offset });
 *   for (const record of page.items) console.log(record.provider, record.model, record.lastStatus);
 *   if (offset + page.limit >= page.total) break;
 * }
 * ```
 */
export interface ModelHealthPage {
  /** The records of this page, ordered by provider then model. */
  readonly items: readonly ModelHealthRecord[];
  /** Rows matching the filters, ignoring pagination. */
  readonly total: number;
  /** Page size used: the query's `limit`, or the default 100. */
  readonly limit: number;
  /** Matching rows skipped before this page. */
  readonly offset: number;
}

/**
 * Aggregate statistics over every tracked model (seed 003 `get_model_health_stats`).
 *
 * @example
 * ```ts
 * const stats = await store.getStats();
 * console.log(`${stats.totalModels} models, ${(stats.successRate * 100).toFixed(2)}% success`);
 * ```
 */
export interface ModelHealthStats {
  /** Tracked (provider, model) pairs. */
  readonly totalModels: number;
  /** Distinct providers among them. */
  readonly totalProviders: number;
  /** Calls recorded over all models. */
  readonly totalCalls: number;
  /** Calls whose status was `success`. */
  readonly totalSuccesses: number;
  /** Calls with any other status. */
  readonly totalErrors: number;
  /** successes / calls (0-1), 0 when there were no calls. */
  readonly successRate: number;
  /** Call-weighted mean response time in milliseconds, null without calls. */
  readonly avgResponseTimeMs: number | null;
}

/**
 * Aggregates of one provider's models (seed 003 `get_provider_health_summary`).
 *
 * @example
 * ```ts
 * const summary = await store.getProviderSummary('anthropic');
 * if (summary !== undefined && summary.errorRate > 0.2) {
 *   console.warn(`anthropic: ${summary.errorCount} of ${summary.totalCalls} calls failed`);
 * }
 * ```
 */
export interface ProviderHealthSummary {
  /** Provider name, e.g. `anthropic`. */
  readonly provider: string;
  /** Tracked models of the provider. */
  readonly totalModels: number;
  /** Calls recorded over the provider's models. */
  readonly totalCalls: number;
  /** Calls whose status was `success`. */
  readonly successCount: number;
  /** Calls with any other status. */
  readonly errorCount: number;
  /** successCount / totalCalls (0-1), 0 without calls. */
  readonly successRate: number;
  /** errorCount / totalCalls (0-1), 0 without calls. */
  readonly errorRate: number;
  /** Call-weighted mean response time over the provider's models, in milliseconds; null without calls. */
  readonly avgResponseTimeMs: number | null;
  /** Most recent call to any of the provider's models, or null when none is known. */
  readonly lastCalledAt: Date | null;
}

/**
 * Persistence of per-model health. `MemoryModelHealthStore` is the embedded default;
 * `SupabaseModelHealthStore` (`@gatewayz/telemetry-supabase`) keeps it in PostgreSQL. Both pass the
 * same contract test suite. Gateways write through a `ModelHealthRecorder` and read the store
 * directly (REST handlers, the provider health tracker).
 *
 * @example
 * ```ts
 * const store: ModelHealthStore = new MemoryModelHealthStore();
 * const recorder = new ModelHealthRecorder({ store });
 * // ... later, e.g. in an alerting job:
 * const unhealthy = await store.getUnhealthyModels(0.2, 10);
 * ```
 */
export interface ModelHealthStore extends ModelHealthSource {
  /**
   * Apply a batch atomically and at most once per batch id. Rejects with a `TelemetryInputError`
   * (reason `invalid_batch`) before changing anything when the batch is malformed (see
   * `validateModelCallBatch`).
   */
  applyBatch(batch: ModelCallBatch): Promise<void>;
  /** The record of one (provider, model), or undefined when no call to it is recorded. */
  getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined>;
  /**
   * Records ordered by provider then model, filtered and paginated by `query`. Rejects with a
   * `TelemetryInputError` for an invalid query (see `normaliseModelHealthQuery`).
   */
  listModelHealth(query?: ModelHealthQuery): Promise<ModelHealthPage>;
  /**
   * Models whose error rate (errors / calls) is at least `errorThreshold` (0-1) and that have at
   * least `minCalls` calls (default 1), worst first. Rejects with a `TelemetryInputError` for a
   * threshold outside 0-1 or a `minCalls` that is not an integer >= 1.
   */
  getUnhealthyModels(errorThreshold: number, minCalls?: number): Promise<readonly ModelHealthRecord[]>;
  /** Aggregate statistics over every tracked model. */
  getStats(): Promise<ModelHealthStats>;
  /** Aggregates of one provider's models, or undefined when the provider has no tracked model. */
  getProviderSummary(provider: string): Promise<ProviderHealthSummary | undefined>;
  /** Every provider's summary, ordered by provider. */
  listProviders(): Promise<readonly ProviderHealthSummary[]>;
  /**
   * Delete records whose last call is older than `days` days; returns how many were deleted.
   * Rejects with a `TelemetryInputError` unless `days` is a finite number > 0.
   */
  deleteOlderThan(days: number): Promise<number>;
}
