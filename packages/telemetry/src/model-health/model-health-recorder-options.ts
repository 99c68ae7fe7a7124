import { TelemetryConfigurationError } from '../errors.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import type { TrackerClock } from '../scheduling/periodic-task.js';
import type { ModelHealthStore } from './model-health-store.js';

/*
 * The options and the close result of `ModelHealthRecorder` (model-health-recorder.ts), and how
 * its numeric options are checked.
 */

/**
 * Options of `new ModelHealthRecorder()`; only `store` is required. The numeric options must be
 * positive integers (milliseconds or counts; `flushIntervalMs` and `retryMaxDelayMs` at most
 * 2,147,483,647, the longest delay a Node.js timer keeps) and `retryMaxDelayMs` at least
 * `retryInitialDelayMs`; `telemetry` must be a `GatewayTelemetry`, `clock` have `now()`,
 * `setTimeout()` and `clearTimeout()`, and `newBatchId` be a function. The constructor throws a
 * `TelemetryConfigurationError` otherwise, rather than the flush timer failing later.
 *
 * @example
 * ```ts
 * const recorder = new ModelHealthRecorder({
 *   store,
 *   flushIntervalMs: 2_000,
 *   retryMaxDelayMs: 60_000,
 *   onInvalidCall: process.env.NODE_ENV === 'production' ? 'drop' : 'throw',
 * });
 * ```
 */
export interface ModelHealthRecorderOptions {
  /** Where batches are written. */
  store: ModelHealthStore;
  /** Milliseconds between flushes while the store is healthy. Default 1000. */
  flushIntervalMs?: number;
  /** Distinct (provider, model) pairs held while waiting for a flush; calls for new pairs beyond it are dropped and counted. Default 10 000. */
  maxPendingModels?: number;
  /** Entries per batch (one database round trip each). Default 1000. */
  maxBatchEntries?: number;
  /** First retry delay after a failed flush, in milliseconds; doubles up to `retryMaxDelayMs`. Default 500. */
  retryInitialDelayMs?: number;
  /** Longest retry delay, in milliseconds. Default 30 000. */
  retryMaxDelayMs?: number;
  /** Telemetry instance for the recorder's own metrics; default the shared one. */
  telemetry?: GatewayTelemetry;
  /**
   * Timer functions and time; default the real ones, unref'd. `now()` stamps calls recorded without
   * `calledAt` (never before the previous stamp); `monotonicNow()`, or `now()` when the clock has
   * none, measures `close()`'s deadline.
   */
  clock?: TrackerClock;
  /** `drop` (default) drops and counts malformed calls; `throw` throws `TelemetryInputError` (development). */
  onInvalidCall?: 'drop' | 'throw';
  /**
   * Batch id generator; default `crypto.randomUUID()`. Called once per batch, before the batch is
   * taken from the queue: when it throws or returns anything but a non-empty string, the calls stay
   * queued and the write counts as failed (`flush()` rejects with that error, the loop retries with
   * backoff).
   */
  newBatchId?: () => string;
}

/**
 * What `close()` achieved.
 *
 * @example
 * ```ts
 * const { flushed, pendingCalls } = await recorder.close({ timeoutMs: 5_000 });
 * if (!flushed) console.error(`${pendingCalls} model calls were not written before shutdown`);
 * ```
 */
export interface ModelHealthRecorderCloseResult {
  /** True when every recorded call reached the store. */
  flushed: boolean;
  /** Calls still not written (non-zero only when the store stayed down until the deadline). */
  pendingCalls: number;
}

/** A positive integer option (`fallback` when not given), at most `max`; a `TelemetryConfigurationError` otherwise. */
export function positiveInteger(option: string, value: number | undefined, fallback: number, max = Infinity): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1 || result > max) {
    throw new TelemetryConfigurationError(
      option,
      `expected a positive integer${max === Infinity ? '' : ` of at most ${max}`}, got ${String(value)}`,
    );
  }
  return result;
}
