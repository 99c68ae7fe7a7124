import { MODEL_CALL_STATUSES, type ModelCallStatus } from './catalog.js';
import { TelemetryInputError } from './errors.js';
import type { ModelHealthRecord, ModelHealthSource } from './model-health.js';

/** One finished call to a model at a provider. */
export interface ModelCall {
  provider: string;
  model: string;
  responseTimeMs: number;
  status: ModelCallStatus;
  errorMessage?: string | null;
  /** When the call finished; default now. */
  calledAt?: Date;
}

/** Longest error message kept, as in the database schema. */
export const MAX_ERROR_MESSAGE_LENGTH = 500;

type MutableRecord = { -readonly [K in keyof ModelHealthRecord]: ModelHealthRecord[K] };

/** Throws a `TelemetryInputError` naming the field when a call is malformed. */
export function validateModelCall(call: ModelCall): void {
  const fail = (field: string, message: string): never => {
    throw new TelemetryInputError('model_health', `invalid_${field}`, `Invalid model call: ${message}`);
  };
  if (typeof call.provider !== 'string' || call.provider.trim() === '') fail('provider', 'provider must be a non-empty string');
  if (typeof call.model !== 'string' || call.model.trim() === '') fail('model', 'model must be a non-empty string');
  if (typeof call.responseTimeMs !== 'number' || !Number.isFinite(call.responseTimeMs) || call.responseTimeMs < 0) {
    fail('response_time', `responseTimeMs must be a finite number >= 0, got ${String(call.responseTimeMs)}`);
  }
  if (!(MODEL_CALL_STATUSES as readonly string[]).includes(call.status)) {
    fail('status', `unknown status "${String(call.status)}"; expected ${MODEL_CALL_STATUSES.join(', ')}`);
  }
}

/**
 * In-process model-health store: the embedded default. Keeps one record per (provider, model) with
 * exact counts and a running mean response time.
 *
 * @example
 * ```ts
 * const store = new MemoryModelHealthStore();
 * store.recordCall({ provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: 420, status: 'success' });
 * const records = await store.listAllModelHealth();
 * ```
 */
export class MemoryModelHealthStore implements ModelHealthSource {
  private readonly records = new Map<string, MutableRecord>();

  /** Fold one call into its record. Throws `TelemetryInputError` for a malformed call. */
  recordCall(call: ModelCall): void {
    validateModelCall(call);
    const key = `${call.provider}\u0000${call.model}`;
    const at = call.calledAt ?? new Date();
    const errorMessage =
      call.status === 'success' ? null : (call.errorMessage ?? null)?.slice(0, MAX_ERROR_MESSAGE_LENGTH) ?? null;
    let record = this.records.get(key);
    if (record === undefined) {
      record = {
        provider: call.provider,
        model: call.model,
        callCount: 0,
        successCount: 0,
        errorCount: 0,
        lastResponseTimeMs: null,
        avgResponseTimeMs: null,
        lastStatus: call.status,
        lastErrorMessage: null,
        lastCalledAt: at,
        createdAt: at,
        updatedAt: at,
      };
      this.records.set(key, record);
    }
    const previousTotal = (record.avgResponseTimeMs ?? 0) * record.callCount;
    record.callCount += 1;
    if (call.status === 'success') record.successCount += 1;
    else record.errorCount += 1;
    record.avgResponseTimeMs = (previousTotal + call.responseTimeMs) / record.callCount;
    record.lastResponseTimeMs = call.responseTimeMs;
    record.lastStatus = call.status;
    if (errorMessage !== null) record.lastErrorMessage = errorMessage;
    if (at >= record.lastCalledAt) record.lastCalledAt = at;
    record.updatedAt = new Date();
  }

  /** Fold a batch of calls. */
  async recordCalls(calls: readonly ModelCall[]): Promise<void> {
    for (const call of calls) validateModelCall(call);
    for (const call of calls) this.recordCall(call);
  }

  async getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined> {
    const record = this.records.get(`${provider}\u0000${model}`);
    return record === undefined ? undefined : { ...record };
  }

  async listAllModelHealth(): Promise<readonly ModelHealthRecord[]> {
    return [...this.records.values()].map((record) => ({ ...record }));
  }
}
