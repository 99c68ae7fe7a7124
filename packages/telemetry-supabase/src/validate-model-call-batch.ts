import { TelemetryInputError } from '@gatewayz/telemetry';
import { validateModelCallBatch as validateBatch, type ModelCallBatch } from '@gatewayz/telemetry/model-health';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Throws a `TelemetryInputError` (reason `invalid_batch`) naming the first problem when a batch
 * could not be applied: the id must be a UUID (the `model_health_applied_batches` key), every entry
 * a well-formed `ModelCallAggregate` (the checks of `validateModelCallBatch` from
 * `@gatewayz/telemetry/model-health`, which every store runs). `SupabaseModelHealthStore.applyBatch`
 * runs it before any request.
 *
 * @example
 * ```ts
 * validateModelCallBatch({
 *   id: randomUUID(),
 *   entries: [{ provider: 'anthropic', model: 'claude-3-5-haiku', calls: 2, successes: 2, errors: 0,
 *     totalResponseTimeMs: 910, lastResponseTimeMs: 430, lastStatus: 'success', lastErrorMessage: null, lastCalledAt: new Date() }],
 * });
 * ```
 */
export function validateModelCallBatch(batch: ModelCallBatch): void {
  validateBatch(batch);
  if (!UUID_PATTERN.test(batch.id)) {
    throw new TelemetryInputError(
      'model_health',
      'invalid_batch',
      `Invalid model-call batch: id must be a UUID, got ${JSON.stringify(batch.id)}`,
    );
  }
}
