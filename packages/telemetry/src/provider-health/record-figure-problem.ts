import type { DropReason } from '../metrics/recorder-types.js';
import type { ModelHealthRecord } from '../model-health/model-health-store.js';

/** Why the provider health tracker cannot use a model-health record, and the warning to give. */
export interface RecordFigureProblem {
  /** The `reason` label of `gatewayz_telemetry_dropped_total`. */
  readonly reason: DropReason;
  /** What is wrong, naming the record and the field. */
  readonly message: string;
}

const COUNT_FIELDS = ['callCount', 'successCount', 'errorCount'] as const;

/**
 * @internal What makes `record` unusable for the tracker's sums, or `undefined` when its counts are
 * whole numbers >= 0 (at most `Number.MAX_SAFE_INTEGER`) and its `avgResponseTimeMs` is a number
 * >= 0 or null. A custom `ModelHealthSource` (or a store read from plain JavaScript) can hand out
 * anything; one NaN would make its provider's sums NaN, an Infinity the whole tick throw.
 *
 * @example
 * ```ts
 * recordFigureProblem({ ...record, callCount: Number.NaN })?.reason; // 'not_a_number'
 * ```
 */
export function recordFigureProblem(record: ModelHealthRecord): RecordFigureProblem | undefined {
  const average = record.avgResponseTimeMs as unknown;
  // The usual case, checked without a loop: the tracker calls this for every record on every tick.
  if (
    isCount(record.callCount) &&
    isCount(record.successCount) &&
    isCount(record.errorCount) &&
    (average === null || average === undefined || (typeof average === 'number' && average >= 0 && average < Infinity))
  ) {
    return undefined;
  }
  for (const field of COUNT_FIELDS) {
    const problem = figureProblem(record, field, record[field], true);
    if (problem !== undefined) return problem;
  }
  // Left out by a JavaScript source: no response time yet, as null.
  if (average === null || average === undefined) return undefined;
  return figureProblem(record, 'avgResponseTimeMs', average, false);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function figureProblem(
  record: ModelHealthRecord,
  field: string,
  value: unknown,
  count: boolean,
): RecordFigureProblem | undefined {
  let reason: DropReason;
  if (typeof value !== 'number' || Number.isNaN(value)) reason = 'not_a_number';
  else if (!Number.isFinite(value)) reason = 'not_finite';
  else if (value < 0 || (count && !Number.isSafeInteger(value))) reason = 'out_of_range';
  else return undefined;
  const shown = typeof value === 'string' ? `"${value.slice(0, 32)}"` : String(value);
  const expected = count ? 'a whole number of calls >= 0' : 'milliseconds >= 0, or null';
  return {
    reason,
    message: `Model-health record ${String(record.provider).slice(0, 128)}/${String(record.model).slice(0, 128)} has ${field} ${shown}, expected ${expected}; the provider health tracker skipped it`,
  };
}
