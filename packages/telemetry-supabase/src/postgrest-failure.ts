import { MIGRATIONS, MODEL_HEALTH_MIGRATION } from './migrations.js';
import {
  SupabaseModelHealthStoreError,
  type SupabaseModelHealthStoreErrorCode,
} from './supabase-model-health-store-error.js';

/** The error object supabase-js (postgrest-js) returns next to `data`. */
export interface PostgrestFailure {
  message?: unknown;
  details?: unknown;
  hint?: unknown;
  code?: unknown;
}

/** PostgREST codes meaning "cannot talk to PostgreSQL right now". */
const UNAVAILABLE_POSTGREST_CODES = new Set(['PGRST000', 'PGRST001', 'PGRST002', 'PGRST003']);
/** PostgREST codes of a rejected JWT. */
const JWT_POSTGREST_CODES = new Set(['PGRST300', 'PGRST301', 'PGRST302']);

const JWT_PATTERN = /\beyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*/g;
const SUPABASE_KEY_PATTERN = /\bsb_(?:secret|publishable)_[\w-]+/g;

/** Remove anything that looks like an API key or JWT (and the given secrets) from a text. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 8) result = result.split(secret).join('[redacted]');
  }
  return result.replace(JWT_PATTERN, '[redacted]').replace(SUPABASE_KEY_PATTERN, '[redacted]');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The longest server text (message, details, hint) an error carries; a body that is not JSON becomes the message whole. */
export const MAX_SERVER_TEXT = 500;

/** `value` cut to {@link MAX_SERVER_TEXT} characters, saying how long it was (cut after redaction, so no secret is half-shown). */
function bounded(value: string): string {
  if (value.length <= MAX_SERVER_TEXT) return value;
  return `${value.slice(0, MAX_SERVER_TEXT)}… (${value.length} characters in all)`;
}

/** Whether a PostgreSQL SQLSTATE describes a condition that can clear up on its own. */
function transientSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources
    code.startsWith('57P') || // server shutting down / cannot connect now
    code === '40001' || // serialization failure
    code === '40P01' || // deadlock detected
    code === '55P03' || // lock not available
    code === '57014' // statement timeout / cancelled
  );
}

function classify(
  status: number,
  databaseCode: string | undefined,
  message: string,
  emptyError: boolean,
): { code: SupabaseModelHealthStoreErrorCode; retryable: boolean; fix: string } {
  if (status === 0 && /abort|timeout/i.test(message)) {
    return {
      code: 'TIMEOUT',
      retryable: true,
      fix: 'no answer in time; retrying the same batch is safe (batches apply at most once)',
    };
  }
  if (
    status === 0 ||
    status === 502 ||
    status === 503 ||
    status === 504 ||
    (databaseCode !== undefined && UNAVAILABLE_POSTGREST_CODES.has(databaseCode))
  ) {
    return {
      code: 'UNAVAILABLE',
      retryable: true,
      fix: 'Supabase/PostgREST or PostgreSQL is unreachable; retry later',
    };
  }
  // PostgREST 12 answers 400 with an error whose code and message are both empty
  // ({"code":"","details":null,"hint":null,"message":""}) when its connection to PostgreSQL drops
  // in the middle of a call, e.g. while the database restarts. Every error PostgREST or PostgreSQL
  // reports for a bad request carries a code, so an empty one is the connection, not the request.
  if (status === 400 && emptyError) {
    return {
      code: 'UNAVAILABLE',
      retryable: true,
      fix: 'PostgREST answered without an error code or message, as it does when its connection to PostgreSQL drops mid-call; retrying the same batch is safe (batches apply at most once)',
    };
  }
  if (databaseCode === 'PGRST202' || databaseCode === '42883' || (status === 404 && databaseCode === undefined)) {
    return {
      code: 'NOT_MIGRATED',
      retryable: false,
      fix: `apply migrations/${MODEL_HEALTH_MIGRATION} from @gatewayz/telemetry-supabase to the database, then the later migrations in order (${MIGRATIONS.filter((name) => name !== MODEL_HEALTH_MIGRATION).join(', ')}), and reload the PostgREST schema cache`,
    };
  }
  if (databaseCode !== undefined && JWT_POSTGREST_CODES.has(databaseCode)) {
    return {
      code: 'PERMISSION_DENIED',
      retryable: false,
      fix: "the API key was rejected: check that it is this project's service-role key and has not expired",
    };
  }
  if (status === 401 || status === 403 || databaseCode === '42501') {
    return {
      code: 'PERMISSION_DENIED',
      retryable: false,
      fix: 'writes and retention need the service-role key; the anon and authenticated roles may only read',
    };
  }
  // postgrest-js reports a 2xx whose body is not JSON (a proxy's page, a cut answer) as an error
  // carrying the body: not something the database refused.
  if (status >= 200 && status < 300) {
    return {
      code: 'INVALID_RESPONSE',
      retryable: false,
      fix: 'the answer was not the JSON the SQL function returns: something other than PostgREST (a proxy, a load balancer) may be answering',
    };
  }
  // record_model_calls raises lock_not_available for a delivery of a batch that an earlier delivery
  // (one whose request timed out) is still applying, rather than waiting on it.
  if (databaseCode === '55P03') {
    return {
      code: 'REJECTED',
      retryable: true,
      fix: 'a lock was not available (for a batch, an earlier delivery of it is still being applied); retry later: the batch applies at most once',
    };
  }
  if (databaseCode !== undefined && transientSqlState(databaseCode)) {
    return { code: 'REJECTED', retryable: true, fix: 'a transient database condition; retry' };
  }
  return { code: 'REJECTED', retryable: status >= 500, fix: 'the database refused the call' };
}

/**
 * Turn a failed supabase-js answer (or a thrown error) into a {@link SupabaseModelHealthStoreError}
 * whose message says which SQL function failed and why, without secrets.
 */
export function storeErrorFromFailure(
  operation: string,
  status: number,
  failure: PostgrestFailure,
  secrets: readonly string[],
  thrown?: unknown,
): SupabaseModelHealthStoreError {
  const databaseCode = text(failure.code);
  const reported = text(failure.message);
  const serverMessage = reported ?? 'no error message';
  const emptyError =
    databaseCode === undefined &&
    reported === undefined &&
    text(failure.details) === undefined &&
    text(failure.hint) === undefined;
  const { code, retryable, fix } = classify(status, databaseCode, serverMessage, emptyError);
  // Without an HTTP answer, postgrest-js puts the network error's cause (ECONNREFUSED, …) in details.
  const networkCause =
    status === 0
      ? text(failure.details)
          ?.split('\n')
          .find((line) => line.startsWith('Caused by:'))
      : undefined;
  const where = [status > 0 ? `HTTP ${status}` : 'no HTTP answer', databaseCode]
    .filter((part) => part !== undefined)
    .join(', ');
  // Server texts are redacted whole, then cut: a body that is not JSON arrives here as the message.
  const shownMessage = bounded(redactSecrets(serverMessage, secrets)).replace(/\.+$/, '');
  const shownCause = networkCause !== undefined ? ` (${bounded(redactSecrets(networkCause, secrets))})` : '';
  const message = redactSecrets(
    `Supabase model-health store: ${operation} failed (${bounded(where)}): ${shownMessage}${shownCause}. ${fix[0]?.toUpperCase() ?? ''}${fix.slice(1)}.`,
    secrets,
  );
  const redacted = (value: unknown): string | undefined =>
    typeof value === 'string' ? bounded(redactSecrets(value, secrets)) : undefined;
  return new SupabaseModelHealthStoreError({
    code,
    operation,
    message,
    status,
    ...(databaseCode !== undefined ? { databaseCode } : {}),
    retryable,
    cause: thrown ?? {
      code: databaseCode,
      message: redacted(failure.message),
      details: redacted(failure.details),
      hint: redacted(failure.hint),
    },
  });
}

/** A response whose shape is not what the SQL function returns. */
export function invalidResponse(operation: string, problem: string): SupabaseModelHealthStoreError {
  return new SupabaseModelHealthStoreError({
    code: 'INVALID_RESPONSE',
    operation,
    message: `Supabase model-health store: ${operation} returned an unexpected response: ${problem}. Is the database on the same migration version as @gatewayz/telemetry-supabase?`,
    retryable: false,
  });
}
