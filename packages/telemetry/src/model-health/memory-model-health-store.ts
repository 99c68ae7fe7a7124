import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import { ForwardWallClock } from '../metrics/forward-wall-clock.js';
import { validateModelCallBatch } from './model-call-batch.js';
import type {
  ModelCallAggregate,
  ModelCallBatch,
  ModelHealthPage,
  ModelHealthQuery,
  ModelHealthRecord,
  ModelHealthStats,
  ModelHealthStore,
  ProviderHealthSummary,
} from './model-health-store.js';
import {
  entryErrorAt,
  foldModelCall,
  storedErrorMessage,
  normaliseModelHealthQuery,
  validateModelCall,
  validateRetentionDays,
  validateUnhealthyQuery,
  type ModelCall,
} from './model-call.js';

type ModelHealthKey = Pick<ModelHealthRecord, 'provider' | 'model'>;
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
    // Dates are objects a caller can change (`setUTCFullYear`): copies, as the record is.
    lastErrorAt: record.lastErrorAt === null ? null : new Date(record.lastErrorAt.getTime()),
    lastCalledAt: new Date(record.lastCalledAt.getTime()),
    createdAt: new Date(record.createdAt.getTime()),
    updatedAt: new Date(record.updatedAt.getTime()),
  };
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
    lastCalledAt: last === null ? null : new Date(last.getTime()),
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
  /** As the recorder's: a call stamp never goes back, so the latest call wins across a step back. */
  private readonly callStamps = new ForwardWallClock(() => this.now().getTime(), 'hold');

  /**
   * Create an empty store. `now` supplies the time stamped on `createdAt` / `updatedAt`, on a call
   * `recordCall()` is given without `calledAt` (never before the last such stamp, even when the
   * wall clock steps back) and the reference of `deleteOlderThan`; default the system time (inject
   * one in tests).
   */
  constructor(options: { now?: () => Date } = {}) {
    requireOptionsObject(options, 'options', 'an object of options (or nothing)');
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TelemetryConfigurationError('now', `expected a function returning a Date, got ${typeof options.now}`);
    }
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Fold one call in directly (no write-behind). A call without `calledAt` is stamped with `now`,
   * never before the previous stamp. Throws `TelemetryInputError` for a malformed call.
   */
  recordCall(call: ModelCall): void {
    validateModelCall(call);
    const stamped = call.calledAt === undefined ? { ...call, calledAt: new Date(this.callStamps.nowMs()) } : call;
    this.applyEntry(foldModelCall(undefined, stamped));
  }

  /** Apply a batch once per id; rejects with a `TelemetryInputError` for a malformed one (nothing applied). */
  async applyBatch(batch: ModelCallBatch): Promise<void> {
    validateModelCallBatch(batch);
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
        lastErrorAt: null,
        lastCalledAt: new Date(entry.lastCalledAt.getTime()),
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
      record.lastCalledAt = new Date(entry.lastCalledAt.getTime());
    }
    // The message follows its own time, so a late batch's newer error still replaces an older one.
    const errorAt = entryErrorAt(entry);
    if (
      entry.lastErrorMessage !== null &&
      errorAt !== null &&
      (record.lastErrorAt === null || errorAt >= record.lastErrorAt)
    ) {
      record.lastErrorMessage = storedErrorMessage(entry.lastErrorMessage);
      record.lastErrorAt = new Date(errorAt.getTime());
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
    const { limit, offset, provider, status, after } = normaliseModelHealthQuery(query);
    const matching = this.sorted().filter(
      (record) =>
        (provider === undefined || record.provider === provider) &&
        (status === undefined || record.lastStatus === status),
    );
    const start = after === undefined ? 0 : matching.findIndex((record) => compareKeys(record, after) > 0);
    const from = (start === -1 ? matching.length : start) + offset;
    return { items: matching.slice(from, from + limit), total: matching.length, limit, offset };
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

function compareKeys(a: ModelHealthKey, b: ModelHealthKey): number {
  return compareCodePoints(a.provider, b.provider) || compareCodePoints(a.model, b.model);
}

/**
 * Unicode code point order, which is the byte order of UTF-8 and so the `COLLATE "C"` order of
 * the SQL store. JavaScript's `<` compares UTF-16 code units instead, which puts a character
 * beyond U+FFFF (a surrogate pair, e.g. an emoji) before U+E000-U+FFFF (e.g. fullwidth forms):
 * the two stores would page the same rows differently.
 */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit moved so that surrogates (U+D800-U+DFFF) rank above U+E000-U+FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
