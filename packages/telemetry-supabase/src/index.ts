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
export { MIGRATIONS, MIGRATIONS_DIR, MODEL_HEALTH_MIGRATION, migrationPath, readMigrationSql } from './migrations.js';
