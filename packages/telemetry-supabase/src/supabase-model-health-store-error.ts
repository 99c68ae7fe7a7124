import { TelemetryError } from '@gatewayz/telemetry';

/**
 * Machine-readable reason of a {@link SupabaseModelHealthStoreError}.
 *
 * - `UNAVAILABLE`: the network, PostgREST or PostgreSQL could not be reached or is overloaded
 *   (HTTP 502/503/504, PostgREST `PGRST000`-`PGRST003`, a failed fetch). Retry later.
 * - `TIMEOUT`: no answer within `requestTimeoutMs`. The write may or may not have landed; retrying
 *   the same batch is safe because batches are applied at most once per id.
 * - `PERMISSION_DENIED`: the key is not allowed to do this (HTTP 401/403, SQL state 42501). Writes
 *   need the service-role key.
 * - `NOT_MIGRATED`: the SQL function does not exist (PostgREST `PGRST202`): apply the migration.
 * - `REJECTED`: the database refused the call (a constraint, an invalid argument, a deadlock).
 * - `INVALID_RESPONSE`: the answer did not have the expected shape.
 *
 * @example
 * ```ts
 * if (SupabaseModelHealthStoreError.isInstance(error) && error.code === 'NOT_MIGRATED') {
 *   console.error('apply', migrationPath(), 'to the database');
 * }
 * ```
 */
export type SupabaseModelHealthStoreErrorCode =
  'UNAVAILABLE' | 'TIMEOUT' | 'PERMISSION_DENIED' | 'NOT_MIGRATED' | 'REJECTED' | 'INVALID_RESPONSE';

/**
 * What {@link SupabaseModelHealthStoreError} is built from.
 *
 * @example
 * ```ts
 * const error = new SupabaseModelHealthStoreError({
 *   code: 'UNAVAILABLE', operation: 'record_model_calls', status: 503, retryable: true,
 *   message: 'Supabase model-health store: record_model_calls failed (HTTP 503)',
 * });
 * ```
 */
export interface SupabaseModelHealthStoreErrorDetails {
  /** Why the call failed. */
  code: SupabaseModelHealthStoreErrorCode;
  /** SQL function called, e.g. `record_model_calls`. */
  operation: string;
  /** The error message; must not contain keys or JWTs. */
  message: string;
  /** HTTP status of the PostgREST answer; 0 when there was none. */
  status?: number;
  /** PostgREST (`PGRST…`) or PostgreSQL (SQLSTATE) error code, when the server sent one. */
  databaseCode?: string;
  /** Whether the same call can succeed later. */
  retryable: boolean;
  /** The underlying error (thrown error, or the PostgREST error object with secrets removed); set as `Error.cause`. */
  cause?: unknown;
}

const MARKER = '@gatewayz/telemetry.error.SupabaseModelHealthStoreError';
const brand = Symbol.for(MARKER);

/**
 * A `SupabaseModelHealthStore` call failed. `code` says why (see
 * {@link SupabaseModelHealthStoreErrorCode}), `retryable` whether trying again later can succeed.
 * The message names the SQL function and the server's reason; it never contains an API key.
 *
 * @example
 * ```ts
 * try {
 *   await store.applyBatch(batch);
 * } catch (error) {
 *   if (SupabaseModelHealthStoreError.isInstance(error) && error.retryable) scheduleRetry(batch);
 *   else throw error;
 * }
 * ```
 */
export class SupabaseModelHealthStoreError extends TelemetryError<SupabaseModelHealthStoreErrorCode> {
  private readonly [brand] = true;
  /** Always `SupabaseModelHealthStoreError`. */
  override readonly name = 'SupabaseModelHealthStoreError';
  /** SQL function called, e.g. `record_model_calls`. */
  readonly operation: string;
  /** HTTP status of the PostgREST answer; 0 when there was none; undefined for `INVALID_RESPONSE`. */
  readonly status: number | undefined;
  /** PostgREST (`PGRST…`) or PostgreSQL (SQLSTATE) error code, when the server sent one. */
  readonly databaseCode: string | undefined;
  /** Whether trying the same call again later can succeed (for a batch: safely, it applies at most once). */
  readonly retryable: boolean;

  /** An error from `details`; `details.cause` becomes the standard `cause`. */
  constructor(details: SupabaseModelHealthStoreErrorDetails) {
    super(details.code, details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.operation = details.operation;
    this.status = details.status;
    this.databaseCode = details.databaseCode;
    this.retryable = details.retryable;
  }

  /** Whether `value` is a `SupabaseModelHealthStoreError`, from any build or copy of the package. */
  static override isInstance(value: unknown): value is SupabaseModelHealthStoreError {
    return TelemetryError.hasMarker(value, MARKER);
  }
}
