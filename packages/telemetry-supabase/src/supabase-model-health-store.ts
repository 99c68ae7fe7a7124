import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { TelemetryConfigurationError, TelemetryInputError, getTelemetry } from '@gatewayz/telemetry';
import {
  normaliseModelHealthQuery,
  validateRetentionDays,
  validateUnhealthyQuery,
  type ModelCallBatch,
  type ModelHealthPage,
  type ModelHealthQuery,
  type ModelHealthRecord,
  type ModelHealthStats,
  type ModelHealthStore,
  type ProviderHealthSummary,
} from '@gatewayz/telemetry/model-health';

import {
  entryToJson,
  integerFrom,
  pageFromJson,
  recordFromRow,
  rowsOf,
  statsFromRow,
  summaryFromRow,
} from './model-health-rows.js';
import { redactSecrets, storeErrorFromFailure, type PostgrestFailure } from './postgrest-failure.js';
import { UnusedRealtimeTransport } from './unused-realtime-transport.js';
import { validateModelCallBatch } from './validate-model-call-batch.js';

/**
 * Anything that can take `database_query_duration_seconds` observations, e.g. a `GatewayTelemetry`.
 *
 * @example
 * ```ts
 * const recorder: DatabaseQueryRecorder = otel.telemetry;
 * const store = new SupabaseModelHealthStore({ client: supabase, telemetry: recorder });
 * ```
 */
export interface DatabaseQueryRecorder {
  /** Record one request to the SQL function `operation` that took `seconds`. */
  recordDatabaseQuery(operation: string, seconds: number): void;
}

/** A supabase-js client typed with any generated `Database` type (or none). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the store queries its own tables, whatever Database type the caller's client carries
type AnySupabaseClient = SupabaseClient<any, any, any>;

/**
 * Options of {@link SupabaseModelHealthStore}: a supabase-js `client`, or `url` and `serviceRoleKey`
 * to create one.
 *
 * @example
 * ```ts
 * const options: SupabaseModelHealthStoreOptions = {
 *   url: process.env.SUPABASE_URL!,
 *   serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY!,
 *   requestTimeoutMs: 5_000,
 * };
 * const store = new SupabaseModelHealthStore(options);
 * ```
 */
export interface SupabaseModelHealthStoreOptions {
  /**
   * A supabase-js client authorised as `service_role` (reads work with any key; writes and
   * retention need the service role). Give this, or `url` and `serviceRoleKey`.
   */
  client?: AnySupabaseClient;
  /** Project URL, e.g. `https://abcd.supabase.co`; used with `serviceRoleKey` when no client is given. */
  url?: string;
  /** Service-role key (keep it server-side); used with `url` when no client is given. */
  serviceRoleKey?: string;
  /** Abort a request after this many milliseconds; default 10 000. */
  requestTimeoutMs?: number;
  /**
   * Called after every request with the SQL function name (`record_model_calls`,
   * `get_all_model_health`, …) and its duration in seconds, whether it succeeded or not.
   * Default: `telemetry.recordDatabaseQuery`, i.e. `database_query_duration_seconds{operation}`.
   */
  onQuery?: (operation: string, seconds: number) => void;
  /** Where the default `onQuery` records; default the shared `getTelemetry()` instance. */
  telemetry?: DatabaseQueryRecorder;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** The longest delay a Node.js timer (and `AbortSignal.timeout()`) keeps: about 24.8 days. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

interface RpcAnswer {
  data: unknown;
  error: PostgrestFailure | null;
  status: number;
}

function requireString(operation: string, field: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TelemetryInputError(
      'model_health',
      `invalid_${field}`,
      `${operation}: ${field} must be a string, got ${typeof value}`,
    );
  }
  // PostgreSQL text cannot hold NUL: the database would refuse the call (and the REST API answer 503).
  if (value.includes('\u0000')) {
    throw new TelemetryInputError(
      'model_health',
      `invalid_${field}`,
      `${operation}: ${field} must not contain NUL characters`,
    );
  }
  // Nor can UTF-8 hold a lone UTF-16 surrogate: PostgREST would refuse the JSON of the request.
  if ((value as { isWellFormed?: () => boolean }).isWellFormed?.() === false) {
    throw new TelemetryInputError(
      'model_health',
      `invalid_${field}`,
      `${operation}: ${field} must not contain lone UTF-16 surrogates`,
    );
  }
  return value;
}

/**
 * Model-health store on Supabase (PostgreSQL through PostgREST, with supabase-js). Each method is
 * one HTTP round trip to one SQL function of the package's migrations (`0001_model_health_tracking.sql`,
 * `0002_model_health_last_error_at.sql`, `0003_model_health_concurrency.sql`); a batch of
 * any size is applied by one `record_model_calls` call, atomically and at most once per batch id,
 * with exact counts across concurrent gateway replicas.
 *
 * Inputs are validated before any request (`TelemetryInputError`); failed requests throw a
 * {@link SupabaseModelHealthStoreError} saying whether a retry can help. Every request is timed into
 * `database_query_duration_seconds{operation}`.
 *
 * @example
 * ```ts
 * const store = new SupabaseModelHealthStore({ url: process.env.SUPABASE_URL!, serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY! });
 * const unhealthy = await store.getUnhealthyModels(0.2, 10);
 * ```
 */
export class SupabaseModelHealthStore implements ModelHealthStore {
  private readonly client: AnySupabaseClient;
  private readonly requestTimeoutMs: number;
  private readonly onQuery: (operation: string, seconds: number) => void;
  /** Values never to show in an error message. */
  private readonly secrets: readonly string[];

  /**
   * A store using `options.client`, or a new supabase-js client for `url` and `serviceRoleKey`
   * (no session persistence or token refresh, no realtime: it needs no WebSocket). Throws a
   * `TelemetryConfigurationError` when neither is usable (a `client` without `rpc()`, a `url` that is
   * not an http(s) URL, an empty key, or anything else `createClient` throws for, as its `cause`), when
   * `requestTimeoutMs` is not a positive number of at most 2,147,483,647, or `onQuery` / `telemetry`
   * is of the wrong type.
   * Sends no request.
   */
  constructor(options: SupabaseModelHealthStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TelemetryConfigurationError('options', 'expected { client } or { url, serviceRoleKey }');
    }
    const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // AbortSignal.timeout() fires a longer delay than a Node.js timer keeps (2^31 - 1 ms) at once:
    // every request would time out.
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMER_DELAY_MS) {
      throw new TelemetryConfigurationError(
        'requestTimeoutMs',
        `must be a number of milliseconds > 0 and at most ${MAX_TIMER_DELAY_MS}, got ${String(options.requestTimeoutMs)}`,
      );
    }
    this.requestTimeoutMs = timeout;
    if (options.client !== undefined) {
      if (typeof (options.client as Partial<AnySupabaseClient> | null)?.rpc !== 'function')
        throw new TelemetryConfigurationError(
          'client',
          'must be a supabase-js client (createClient from @supabase/supabase-js)',
        );
      this.client = options.client;
      this.secrets = typeof options.serviceRoleKey === 'string' ? [options.serviceRoleKey] : [];
    } else {
      if (typeof options.url !== 'string' || !/^https?:\/\//i.test(options.url)) {
        throw new TelemetryConfigurationError(
          'url',
          'pass the Supabase project URL (https://<project>.supabase.co) as `url`, or a supabase-js client as `client`',
        );
      }
      if (typeof options.serviceRoleKey !== 'string' || options.serviceRoleKey.trim() === '') {
        throw new TelemetryConfigurationError(
          'serviceRoleKey',
          'pass the project service-role key as `serviceRoleKey` (from the SUPABASE_SERVICE_ROLE_KEY secret), or a supabase-js client as `client`',
        );
      }
      if (!URL.canParse(options.url)) {
        throw new TelemetryConfigurationError(
          'url',
          `"${options.url.slice(0, 200)}" is not a URL; pass the Supabase project URL, e.g. https://<project>.supabase.co`,
        );
      }
      try {
        this.client = createClient(options.url, options.serviceRoleKey, {
          auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
          realtime: { transport: UnusedRealtimeTransport },
        });
      } catch (error) {
        const reason = redactSecrets(error instanceof Error ? error.message : String(error), [options.serviceRoleKey]);
        const failure = new TelemetryConfigurationError(
          'url',
          `supabase-js could not create a client for "${options.url.slice(0, 200)}" and the given serviceRoleKey: ${reason}`,
        );
        // TelemetryConfigurationError takes no cause: set it as the Error constructor would.
        Object.defineProperty(failure, 'cause', { value: error, writable: true, configurable: true });
        throw failure;
      }
      this.secrets = [options.serviceRoleKey];
    }
    if (options.onQuery !== undefined && typeof options.onQuery !== 'function') {
      throw new TelemetryConfigurationError(
        'onQuery',
        `expected a function (operation, seconds) => void, got ${typeof options.onQuery}`,
      );
    }
    if (
      options.telemetry !== undefined &&
      typeof (options.telemetry as { recordDatabaseQuery?: unknown } | null)?.recordDatabaseQuery !== 'function'
    ) {
      throw new TelemetryConfigurationError('telemetry', 'expected a GatewayTelemetry instance');
    }
    if (options.onQuery !== undefined) {
      this.onQuery = options.onQuery;
    } else {
      const telemetry = options.telemetry;
      this.onQuery = (operation, seconds) => (telemetry ?? getTelemetry()).recordDatabaseQuery(operation, seconds);
    }
  }

  /** Call one SQL function: one HTTP request, timed, errors turned into `SupabaseModelHealthStoreError`. */
  private async call(operation: string, args: Record<string, unknown>): Promise<unknown> {
    const started = performance.now();
    let answer: RpcAnswer;
    try {
      answer = (await this.client
        .rpc(operation, args)
        .abortSignal(AbortSignal.timeout(this.requestTimeoutMs))) as RpcAnswer;
    } catch (error) {
      this.timed(operation, started);
      throw storeErrorFromFailure(
        operation,
        0,
        { message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
        this.secrets,
        error,
      );
    }
    this.timed(operation, started);
    if (answer.error !== null && answer.error !== undefined) {
      throw storeErrorFromFailure(operation, answer.status, answer.error, this.secrets);
    }
    return answer.data;
  }

  private timed(operation: string, started: number): void {
    try {
      this.onQuery(operation, (performance.now() - started) / 1000);
    } catch {
      // Metrics must never break the store.
    }
  }

  async applyBatch(batch: ModelCallBatch): Promise<void> {
    validateModelCallBatch(batch);
    const data = await this.call('record_model_calls', {
      p_batch_id: batch.id,
      p_entries: batch.entries.map(entryToJson),
    });
    integerFrom('record_model_calls', data);
  }

  async getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined> {
    const data = await this.call('get_model_health', {
      p_provider: requireString('getModelHealth', 'provider', provider),
      p_model: requireString('getModelHealth', 'model', model),
    });
    const rows = rowsOf('get_model_health', data);
    return rows.length === 0 ? undefined : recordFromRow('get_model_health', rows[0]);
  }

  async listAllModelHealth(): Promise<readonly ModelHealthRecord[]> {
    // p_limit null: every row in one JSON value (not subject to PostgREST's max-rows cap).
    const data = await this.call('get_all_model_health', {
      p_provider: null,
      p_status: null,
      p_limit: null,
      p_offset: 0,
    });
    return pageFromJson('get_all_model_health', data).items;
  }

  async listModelHealth(query?: ModelHealthQuery): Promise<ModelHealthPage> {
    const { limit, offset, provider, status, after } = normaliseModelHealthQuery(query);
    const data = await this.call('get_all_model_health', {
      p_provider: provider ?? null,
      p_status: status ?? null,
      p_limit: limit,
      p_offset: offset,
      // Only with a cursor: without one, a database still on the migration's earlier
      // four-parameter signature keeps answering until the migration is applied again.
      ...(after !== undefined ? { p_after_provider: after.provider, p_after_model: after.model } : {}),
    });
    const { total, items } = pageFromJson('get_all_model_health', data);
    return { items, total, limit, offset };
  }

  async getUnhealthyModels(errorThreshold: number, minCalls = 1): Promise<readonly ModelHealthRecord[]> {
    validateUnhealthyQuery(errorThreshold, minCalls);
    const data = await this.call('get_unhealthy_models', { error_threshold: errorThreshold, min_calls: minCalls });
    return rowsOf('get_unhealthy_models', data).map((row) => recordFromRow('get_unhealthy_models', row));
  }

  async getStats(): Promise<ModelHealthStats> {
    const rows = rowsOf('get_model_health_stats', await this.call('get_model_health_stats', {}));
    return statsFromRow('get_model_health_stats', rows[0]);
  }

  async getProviderSummary(provider: string): Promise<ProviderHealthSummary | undefined> {
    const data = await this.call('get_provider_health_summary', {
      p_provider: requireString('getProviderSummary', 'provider', provider),
    });
    const rows = rowsOf('get_provider_health_summary', data);
    return rows.length === 0 ? undefined : summaryFromRow('get_provider_health_summary', rows[0]);
  }

  async listProviders(): Promise<readonly ProviderHealthSummary[]> {
    const data = await this.call('get_all_provider_health_summaries', {});
    return rowsOf('get_all_provider_health_summaries', data).map((row) =>
      summaryFromRow('get_all_provider_health_summaries', row),
    );
  }

  async deleteOlderThan(days: number): Promise<number> {
    validateRetentionDays(days);
    return integerFrom('delete_old_health_records', await this.call('delete_old_health_records', { days }));
  }
}
