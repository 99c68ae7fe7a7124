import type { ModelCallStatus } from './catalog.js';

/** Health of one (provider, model) pair, as persisted by a model-health store (seed 003). */
export interface ModelHealthRecord {
  readonly provider: string;
  readonly model: string;
  readonly callCount: number;
  readonly successCount: number;
  readonly errorCount: number;
  /** Response time of the most recent call, in milliseconds. */
  readonly lastResponseTimeMs: number | null;
  /** Mean response time over all calls, in milliseconds. */
  readonly avgResponseTimeMs: number | null;
  readonly lastStatus: ModelCallStatus;
  readonly lastErrorMessage: string | null;
  readonly lastCalledAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Anything the provider health tracker can read per-model health from. */
export interface ModelHealthSource {
  /** Every tracked (provider, model) record, in no particular order. */
  listAllModelHealth(): Promise<readonly ModelHealthRecord[]>;
}

/**
 * Calls to one (provider, model) folded together by the write-behind recorder. A store applies an
 * entry atomically: counts add up, the mean response time is re-weighted, and the `last*` fields
 * replace the stored ones when `lastCalledAt` is not older than the stored `lastCalledAt`.
 */
export interface ModelCallAggregate {
  readonly provider: string;
  readonly model: string;
  /** Calls folded into this entry (>= 1). */
  readonly calls: number;
  readonly successes: number;
  /** Non-success calls: `calls - successes`. */
  readonly errors: number;
  /** Sum of the calls' response times, in milliseconds. */
  readonly totalResponseTimeMs: number;
  readonly lastResponseTimeMs: number;
  readonly lastStatus: ModelCallStatus;
  /** Message of the most recent failed call in the entry (at most 500 characters), or null. */
  readonly lastErrorMessage: string | null;
  readonly lastCalledAt: Date;
}

/**
 * One flush of the write-behind recorder. `id` makes it idempotent: a store applies a batch id at
 * most once, so a retry after an ambiguous failure (the write landed, the answer was lost) does not
 * count the calls twice.
 */
export interface ModelCallBatch {
  /** UUID of the batch. */
  readonly id: string;
  readonly entries: readonly ModelCallAggregate[];
}

/** Filters and pagination of `listModelHealth`. */
export interface ModelHealthQuery {
  provider?: string;
  /** Filter on `lastStatus`. */
  status?: ModelCallStatus;
  /** Page size, 1-1000. Default 100. */
  limit?: number;
  /** Rows to skip. Default 0. */
  offset?: number;
}

export interface ModelHealthPage {
  readonly items: readonly ModelHealthRecord[];
  /** Rows matching the filters, ignoring pagination. */
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/** Aggregate statistics over every tracked model (seed 003 `get_model_health_stats`). */
export interface ModelHealthStats {
  readonly totalModels: number;
  readonly totalProviders: number;
  readonly totalCalls: number;
  readonly totalSuccesses: number;
  readonly totalErrors: number;
  /** successes / calls, 0 when there were no calls. */
  readonly successRate: number;
  /** Call-weighted mean response time in milliseconds, null without calls. */
  readonly avgResponseTimeMs: number | null;
}

/** Aggregates of one provider's models (seed 003 `get_provider_health_summary`). */
export interface ProviderHealthSummary {
  readonly provider: string;
  readonly totalModels: number;
  readonly totalCalls: number;
  readonly successCount: number;
  readonly errorCount: number;
  readonly successRate: number;
  readonly errorRate: number;
  readonly avgResponseTimeMs: number | null;
  readonly lastCalledAt: Date | null;
}

/**
 * Persistence of per-model health. `MemoryModelHealthStore` is the embedded default;
 * `SupabaseModelHealthStore` (`@gatewayz/telemetry-supabase`) keeps it in PostgreSQL. Both pass the
 * same contract test suite.
 */
export interface ModelHealthStore extends ModelHealthSource {
  /** Apply a batch atomically and at most once per batch id. */
  applyBatch(batch: ModelCallBatch): Promise<void>;
  getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined>;
  /** Records ordered by provider then model. */
  listModelHealth(query?: ModelHealthQuery): Promise<ModelHealthPage>;
  /**
   * Models whose error rate (errors / calls) is at least `errorThreshold` (0-1) and that have at
   * least `minCalls` calls (default 1), worst first.
   */
  getUnhealthyModels(errorThreshold: number, minCalls?: number): Promise<readonly ModelHealthRecord[]>;
  getStats(): Promise<ModelHealthStats>;
  getProviderSummary(provider: string): Promise<ProviderHealthSummary | undefined>;
  /** Every provider's summary, ordered by provider. */
  listProviders(): Promise<readonly ProviderHealthSummary[]>;
  /** Delete records whose last call is older than `days` days; returns how many were deleted. */
  deleteOlderThan(days: number): Promise<number>;
}
