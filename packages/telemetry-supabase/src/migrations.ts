import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { TelemetryConfigurationError } from '@gatewayz/telemetry';

/**
 * File name of the migration that creates the model-health table, functions and policies.
 *
 * @example
 * ```ts
 * copyFileSync(migrationPath(MODEL_HEALTH_MIGRATION), `supabase/migrations/20250131120000_${MODEL_HEALTH_MIGRATION}`);
 * ```
 */
export const MODEL_HEALTH_MIGRATION = '0001_model_health_tracking.sql';

/**
 * File name of the migration that gives the last error message its own time (`last_error_at`), so
 * it follows the most recent failed call whatever order batches arrive in. Apply it after
 * {@link MODEL_HEALTH_MIGRATION}.
 *
 * @example
 * ```ts
 * await pg.query(readMigrationSql(LAST_ERROR_AT_MIGRATION));
 * ```
 */
export const LAST_ERROR_AT_MIGRATION = '0002_model_health_last_error_at.sql';

/**
 * File name of the migration for concurrent writes: a repeated delivery of a batch that is still
 * being applied fails at once with a retryable error instead of waiting (and holding a PostgREST
 * connection), and retention locks rows in the order flushes do, so the two no longer deadlock.
 * Apply it after {@link LAST_ERROR_AT_MIGRATION}.
 *
 * @example
 * ```ts
 * await pg.query(readMigrationSql(CONCURRENCY_MIGRATION));
 * ```
 */
export const CONCURRENCY_MIGRATION = '0003_model_health_concurrency.sql';

/**
 * Every migration of this package, in the order to apply them.
 *
 * @example
 * ```ts
 * for (const name of MIGRATIONS) await pg.query(readMigrationSql(name));
 * ```
 */
export const MIGRATIONS: readonly string[] = [MODEL_HEALTH_MIGRATION, LAST_ERROR_AT_MIGRATION, CONCURRENCY_MIGRATION];

/**
 * Absolute path of the package's `migrations/` directory. `src/` and `dist/` both sit next to it,
 * and the CommonJS build gets `import.meta.url` from tsup's shim, so this holds for ESM, CJS and
 * the sources alike.
 *
 * @example
 * ```ts
 * const files = readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql'));
 * ```
 */
export const MIGRATIONS_DIR: string = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * Absolute path of one of the package's migrations (default: the model-health migration), for
 * `psql -f` or to copy into `supabase/migrations/`. Throws a `TelemetryConfigurationError` for a
 * name not in {@link MIGRATIONS}.
 *
 * @example
 * ```ts
 * execFileSync('psql', [databaseUrl, '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-f', migrationPath()]);
 * ```
 */
export function migrationPath(name: string = MODEL_HEALTH_MIGRATION): string {
  if (!MIGRATIONS.includes(name)) {
    throw new TelemetryConfigurationError(
      'migration',
      `unknown migration "${name}"; expected one of ${MIGRATIONS.join(', ')}`,
    );
  }
  return join(MIGRATIONS_DIR, name);
}

/**
 * The SQL text of one of the package's migrations (default: the model-health migration), read
 * synchronously. Throws a `TelemetryConfigurationError` for a name not in {@link MIGRATIONS}.
 *
 * @example
 * ```ts
 * await pg.query(readMigrationSql());
 * ```
 */
export function readMigrationSql(name: string = MODEL_HEALTH_MIGRATION): string {
  return readFileSync(migrationPath(name), 'utf8');
}
