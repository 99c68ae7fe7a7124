/**
 * Model health (seed 003): per (provider, model) call counts, error rates and response times.
 *
 * - `model-health-store.ts`: the `ModelHealthStore` contract and its record, query and page types
 * - `model-call.ts`: one call (`ModelCall`), its validation and limits, and `foldModelCall()`, the
 *   aggregation every store applies (the memory store here, the Supabase store in
 *   `@gatewayz/telemetry-supabase`)
 * - `model-health-recorder.ts`: the synchronous, write-behind `recordModelCall()` in front of a store
 *   (its options in `model-health-recorder-options.ts`)
 * - `memory-model-health-store.ts`: the embedded in-process store
 *
 * @example
 * ```ts
 * import { MemoryModelHealthStore, ModelHealthRecorder } from '@gatewayz/telemetry/model-health';
 *
 * const recorder = new ModelHealthRecorder({ store: new MemoryModelHealthStore() });
 * recorder.recordModelCall({ provider: 'openai', model: 'gpt-4o-mini', status: 'success', responseTimeMs: 420 });
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/model-health
 */
export type {
  ModelHealthRecord,
  ModelHealthSource,
  ModelHealthStore,
  ModelCallAggregate,
  ModelCallBatch,
  ModelHealthQuery,
  ModelHealthPage,
  ModelHealthStats,
  ProviderHealthSummary,
} from './model-health-store.js';
export { validateModelCallBatch } from './model-call-batch.js';
export {
  validateModelCall,
  foldModelCall,
  normaliseModelHealthQuery,
  validateUnhealthyQuery,
  validateRetentionDays,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_MODEL_HEALTH_NAME_LENGTH,
  DEFAULT_MODEL_HEALTH_PAGE_SIZE,
  MAX_MODEL_HEALTH_PAGE_SIZE,
} from './model-call.js';
export type { ModelCall } from './model-call.js';
export { MemoryModelHealthStore } from './memory-model-health-store.js';
export { ModelHealthRecorder } from './model-health-recorder.js';
export type { ModelHealthRecorderOptions, ModelHealthRecorderCloseResult } from './model-health-recorder.js';
