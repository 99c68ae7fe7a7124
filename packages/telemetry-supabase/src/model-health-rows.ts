import { MODEL_CALL_STATUSES, type ModelCallStatus } from '@gatewayz/telemetry';
import {
  type ModelCallAggregate,
  type ModelHealthRecord,
  type ModelHealthStats,
  type ProviderHealthSummary,
} from '@gatewayz/telemetry/model-health';

import { parsePostgresTimestamp } from './postgres-timestamp.js';
import { invalidResponse } from './postgrest-failure.js';

/**
 * One element of `record_model_calls`' `p_entries`: a `ModelCallAggregate` in the snake_case JSON
 * the SQL function reads.
 *
 * @example
 * ```ts
 * const entry: ModelCallEntryJson = {
 *   provider: 'openai', model: 'gpt-4o-mini', calls: 3, successes: 2, errors: 1,
 *   total_response_time_ms: 1260, last_response_time_ms: 380, last_status: 'timeout',
 *   last_error_message: 'upstream timed out after 30 s', last_error_at: '2025-01-31T12:00:00.000Z',
 *   last_called_at: '2025-01-31T12:00:00.000Z',
 * };
 * ```
 */
export interface ModelCallEntryJson {
  /** Provider name, e.g. `openai`. */
  provider: string;
  /** Model name as the provider spells it, e.g. `gpt-4o-mini`. */
  model: string;
  /** Calls folded into the entry (>= 1). */
  calls: number;
  /** Successful calls. */
  successes: number;
  /** Non-success calls: `calls - successes`. */
  errors: number;
  /** Sum of the calls' response times, in milliseconds. */
  total_response_time_ms: number;
  /** Response time of the most recent call, in milliseconds. */
  last_response_time_ms: number;
  /** Status of the most recent call. */
  last_status: ModelCallStatus;
  /** Message of the most recent failed call, or null. */
  last_error_message: string | null;
  /**
   * ISO-8601, UTC: when the call of `last_error_message` finished, or null. Null (or absent) with a
   * message, the database takes `last_called_at`.
   */
  last_error_at: string | null;
  /** ISO-8601, UTC. */
  last_called_at: string;
}

/**
 * The JSON of one batch entry: the `ModelCallAggregate` with snake_case keys and `lastCalledAt` as
 * an ISO-8601 UTC string.
 *
 * @example
 * ```ts
 * const { error } = await supabase.rpc('record_model_calls', { p_batch_id: batch.id, p_entries: batch.entries.map(entryToJson) });
 * ```
 */
export function entryToJson(entry: ModelCallAggregate): ModelCallEntryJson {
  return {
    provider: entry.provider,
    model: entry.model,
    calls: entry.calls,
    successes: entry.successes,
    errors: entry.errors,
    total_response_time_ms: entry.totalResponseTimeMs,
    last_response_time_ms: entry.lastResponseTimeMs,
    last_status: entry.lastStatus,
    // PostgreSQL text cannot hold NUL: one in a message would make the database refuse the whole batch.
    last_error_message: entry.lastErrorMessage?.replaceAll('\u0000', '') ?? null,
    last_error_at: entry.lastErrorMessage === null ? null : (entry.lastErrorAt?.toISOString() ?? null),
    last_called_at: entry.lastCalledAt.toISOString(),
  };
}

type Row = Record<string, unknown>;

/** Reads fields of one row, failing with an `INVALID_RESPONSE` error that names the field. */
class RowReader {
  constructor(
    private readonly operation: string,
    private readonly row: Row,
  ) {}

  private fail(field: string, expected: string): never {
    throw invalidResponse(
      this.operation,
      `field "${field}" should be ${expected}, got ${JSON.stringify(this.row[field]) ?? 'undefined'}`,
    );
  }

  string(field: string): string {
    const value = this.row[field];
    return typeof value === 'string' ? value : this.fail(field, 'a string');
  }

  nullableString(field: string): string | null {
    const value = this.row[field];
    if (value === null || value === undefined) return null;
    return typeof value === 'string' ? value : this.fail(field, 'a string or null');
  }

  /** PostgREST sends bigint and double precision as JSON numbers; accept numeric strings too. */
  number(field: string): number {
    const value = this.row[field];
    const parsed =
      typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    return Number.isFinite(parsed) ? parsed : this.fail(field, 'a finite number');
  }

  nullableNumber(field: string): number | null {
    const value = this.row[field];
    return value === null || value === undefined ? null : this.number(field);
  }

  /**
   * PostgREST sends timestamptz as ISO-8601 strings with up to microseconds and the session time
   * zone's offset, which has seconds before about 1883 (`-04:56:02`).
   */
  date(field: string): Date {
    const value = this.row[field];
    const parsed = typeof value === 'string' ? parsePostgresTimestamp(value) : undefined;
    return parsed ?? this.fail(field, 'an ISO-8601 timestamp with an offset');
  }

  nullableDate(field: string): Date | null {
    const value = this.row[field];
    return value === null || value === undefined ? null : this.date(field);
  }

  status(field: string): ModelCallStatus {
    const value = this.row[field];
    return (MODEL_CALL_STATUSES as readonly unknown[]).includes(value)
      ? (value as ModelCallStatus)
      : this.fail(field, `one of ${MODEL_CALL_STATUSES.join(', ')}`);
  }
}

function asRow(operation: string, value: unknown): Row {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidResponse(operation, `expected a row object, got ${JSON.stringify(value)}`);
  return value as Row;
}

/** The rows of a set-returning function. */
export function rowsOf(operation: string, data: unknown): Row[] {
  if (!Array.isArray(data)) throw invalidResponse(operation, `expected an array of rows, got ${typeof data}`);
  return data.map((row) => asRow(operation, row));
}

/** A `model_health_tracking` row as a `ModelHealthRecord`. */
export function recordFromRow(operation: string, value: unknown): ModelHealthRecord {
  const row = new RowReader(operation, asRow(operation, value));
  return {
    provider: row.string('provider'),
    model: row.string('model'),
    callCount: row.number('call_count'),
    successCount: row.number('success_count'),
    errorCount: row.number('error_count'),
    lastResponseTimeMs: row.nullableNumber('last_response_time_ms'),
    avgResponseTimeMs: row.nullableNumber('avg_response_time_ms'),
    lastStatus: row.status('last_status'),
    lastErrorMessage: row.nullableString('last_error_message'),
    // Absent on a database without migration 0002 (a store upgraded before the migration is applied).
    lastErrorAt: row.nullableDate('last_error_at'),
    lastCalledAt: row.date('last_called_at'),
    createdAt: row.date('created_at'),
    updatedAt: row.date('updated_at'),
  };
}

/** The `get_model_health_stats` row. */
export function statsFromRow(operation: string, value: unknown): ModelHealthStats {
  const row = new RowReader(operation, asRow(operation, value));
  return {
    totalModels: row.number('total_models'),
    totalProviders: row.number('total_providers'),
    totalCalls: row.number('total_calls'),
    totalSuccesses: row.number('total_successes'),
    totalErrors: row.number('total_errors'),
    successRate: row.number('success_rate'),
    avgResponseTimeMs: row.nullableNumber('avg_response_time_ms'),
  };
}

/** A `get_provider_health_summary` / `get_all_provider_health_summaries` row. */
export function summaryFromRow(operation: string, value: unknown): ProviderHealthSummary {
  const row = new RowReader(operation, asRow(operation, value));
  return {
    provider: row.string('provider'),
    totalModels: row.number('total_models'),
    totalCalls: row.number('total_calls'),
    successCount: row.number('success_count'),
    errorCount: row.number('error_count'),
    successRate: row.number('success_rate'),
    errorRate: row.number('error_rate'),
    avgResponseTimeMs: row.nullableNumber('avg_response_time_ms'),
    lastCalledAt: row.nullableDate('last_called_at'),
  };
}

/** The `get_all_model_health` object: `{ total, items }`. */
export function pageFromJson(operation: string, value: unknown): { total: number; items: ModelHealthRecord[] } {
  const page = asRow(operation, value);
  const total = new RowReader(operation, page).number('total');
  if (!Array.isArray(page.items)) throw invalidResponse(operation, 'field "items" should be an array');
  return { total, items: page.items.map((item) => recordFromRow(operation, item)) };
}

/** A scalar integer result (`record_model_calls`, `delete_old_health_records`). */
export function integerFrom(operation: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw invalidResponse(operation, `expected an integer, got ${JSON.stringify(value)}`);
}
