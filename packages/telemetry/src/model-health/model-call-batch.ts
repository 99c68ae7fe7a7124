import { TelemetryInputError } from '../errors.js';
import { MODEL_CALL_STATUSES } from '../metrics/metric-definition.js';
import { MAX_MODEL_HEALTH_NAME_LENGTH, isStorableDate, isWellFormedText } from './model-call.js';
import type { ModelCallAggregate, ModelCallBatch } from './model-health-store.js';

function invalid(message: string): never {
  throw new TelemetryInputError('model_health', 'invalid_batch', `Invalid model-call batch: ${message}`);
}

function isCount(value: unknown, minimum: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

function isDuration(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function checkEntry(entry: ModelCallAggregate, index: number): void {
  if (entry === null || typeof entry !== 'object') invalid(`entry ${index} must be an object`);
  const where = `entry ${index} (${String(entry.provider)}/${String(entry.model)})`;
  for (const field of ['provider', 'model'] as const) {
    const value: unknown = entry[field];
    if (
      typeof value !== 'string' ||
      value.trim() === '' ||
      value.length > MAX_MODEL_HEALTH_NAME_LENGTH ||
      value.includes('\u0000') ||
      !isWellFormedText(value)
    ) {
      invalid(
        `${where}: ${field} must be a non-empty string of at most ${MAX_MODEL_HEALTH_NAME_LENGTH} characters, without NUL characters or lone surrogates`,
      );
    }
  }
  if (
    !isCount(entry.calls, 1) ||
    !isCount(entry.successes, 0) ||
    !isCount(entry.errors, 0) ||
    entry.successes + entry.errors !== entry.calls
  ) {
    invalid(
      `${where}: calls must be an integer >= 1 equal to successes + errors, got calls=${String(entry.calls)}, successes=${String(entry.successes)}, errors=${String(entry.errors)}`,
    );
  }
  if (!isDuration(entry.totalResponseTimeMs) || !isDuration(entry.lastResponseTimeMs)) {
    invalid(`${where}: totalResponseTimeMs and lastResponseTimeMs must be finite numbers >= 0`);
  }
  if (!(MODEL_CALL_STATUSES as readonly string[]).includes(entry.lastStatus)) {
    invalid(`${where}: unknown lastStatus "${String(entry.lastStatus)}"; expected ${MODEL_CALL_STATUSES.join(', ')}`);
  }
  if (
    entry.lastErrorMessage !== null &&
    (typeof entry.lastErrorMessage !== 'string' || !isWellFormedText(entry.lastErrorMessage))
  ) {
    invalid(`${where}: lastErrorMessage must be a string without lone surrogates, or null`);
  }
  if (!isStorableDate(entry.lastCalledAt)) {
    invalid(`${where}: lastCalledAt must be a valid Date in the years 1 to 9999`);
  }
  const errorAt: unknown = entry.lastErrorAt;
  if (errorAt !== undefined && errorAt !== null) {
    if (!isStorableDate(errorAt) || errorAt > entry.lastCalledAt) {
      invalid(`${where}: lastErrorAt must be a valid Date in the years 1 to 9999, not after lastCalledAt, or null`);
    }
    if (entry.lastErrorMessage === null) invalid(`${where}: lastErrorAt must be null when lastErrorMessage is null`);
  }
}

/**
 * Throws a `TelemetryInputError` (reason `invalid_batch`, metric `model_health`) naming the first
 * problem when a batch cannot be applied: the id must be a non-empty string, every entry a
 * well-formed `ModelCallAggregate` (names and message without NUL or lone UTF-16 surrogates, counts safe integers with `successes + errors === calls >= 1`,
 * finite response times >= 0, a known `lastStatus`, a valid `lastCalledAt` in the years 1 to 9999). Every store's
 * `applyBatch` runs it before changing anything (a store may ask more of the id, e.g. a UUID), so a
 * malformed batch rejects the same way everywhere instead of storing `NaN` counts.
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
  if (batch === null || typeof batch !== 'object') invalid('expected an object with id and entries');
  if (typeof batch.id !== 'string' || batch.id.trim() === '')
    invalid(`id must be a non-empty string, got ${JSON.stringify(batch.id)}`);
  if (!Array.isArray(batch.entries)) invalid('entries must be an array');
  batch.entries.forEach(checkEntry);
}
