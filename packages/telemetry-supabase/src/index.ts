/**
 * Model-health store for `@gatewayz/telemetry` on Supabase: per (provider, model) call counts,
 * error rates and response times in PostgreSQL, written and read through supabase-js and PostgREST,
 * plus the SQL migration that creates the tables and functions.
 *
 * @example
 * ```ts
 * import { ModelHealthRecorder } from '@gatewayz/telemetry/model-health';
 * import { SupabaseModelHealthStore } from '@gatewayz/telemetry-supabase';
 *
 * const store = new SupabaseModelHealthStore({ url: process.env.SUPABASE_URL!, serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY! });
 * const recorder = new ModelHealthRecorder({ store });
 * recorder.recordModelCall({ provider: 'openai', model: 'gpt-4o-mini', status: 'success', responseTimeMs: 420 });
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry-supabase
 */
export { SupabaseModelHealthStore } from './supabase-model-health-store.js';
export type { SupabaseModelHealthStoreOptions, DatabaseQueryRecorder } from './supabase-model-health-store.js';
export { SupabaseModelHealthStoreError } from './supabase-model-health-store-error.js';
export type {
  SupabaseModelHealthStoreErrorCode,
  SupabaseModelHealthStoreErrorDetails,
} from './supabase-model-health-store-error.js';
export { validateModelCallBatch } from './validate-model-call-batch.js';
export { entryToJson } from './model-health-rows.js';
export type { ModelCallEntryJson } from './model-health-rows.js';
export {
  CONCURRENCY_MIGRATION,
  LAST_ERROR_AT_MIGRATION,
  MIGRATIONS,
  MIGRATIONS_DIR,
  MODEL_HEALTH_MIGRATION,
  migrationPath,
  readMigrationSql,
} from './migrations.js';
