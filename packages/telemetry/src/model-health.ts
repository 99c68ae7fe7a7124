import type { ModelCallStatus } from './catalog.js';

/** Health of one (provider, model) pair, as persisted by a model-health store (seed 003). */
export interface ModelHealthRecord {
  readonly provider: string;
  readonly model: string;
  readonly callCount: number;
  readonly successCount: number;
  readonly errorCount: number;
  /** Response time of the most recent call, in milliseconds. */
  readonly lastResponseTimeMs: number | null;
  /** Mean response time over all calls, in milliseconds. */
  readonly avgResponseTimeMs: number | null;
  readonly lastStatus: ModelCallStatus;
  readonly lastErrorMessage: string | null;
  readonly lastCalledAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Anything the provider health tracker can read per-model health from. */
export interface ModelHealthSource {
  /** Every tracked (provider, model) record. */
  listAllModelHealth(): Promise<readonly ModelHealthRecord[]>;
}
