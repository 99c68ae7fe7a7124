import { diag } from '@opentelemetry/api';
import { MODEL_CALL_STATUSES } from '../metrics/metric-definition.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import { TelemetryConfigurationError, TelemetryInputError, requireOptionsObject } from '../errors.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import { ForwardWallClock } from '../metrics/forward-wall-clock.js';
import {
  isStorableDate,
  isWellFormedText,
  storedErrorMessage,
  MAX_MODEL_HEALTH_NAME_LENGTH,
  validateModelCall,
  type ModelCall,
} from './model-call.js';
import type { ModelCallAggregate, ModelCallBatch, ModelHealthStore } from './model-health-store.js';
import { MAX_TIMER_DELAY_MS, deadlineClockNow, systemClock, type TrackerClock } from '../scheduling/periodic-task.js';
import {
  TRACKER_CLOCK_METHODS,
  TRACKER_CLOCK_OPTIONAL_METHODS,
  requireClockOption,
  requireFunctionOption,
  requireTelemetryOption,
} from '../option-checks.js';
import {
  positiveInteger,
  type ModelHealthRecorderCloseResult,
  type ModelHealthRecorderOptions,
} from './model-health-recorder-options.js';

export type { ModelHealthRecorderCloseResult, ModelHealthRecorderOptions } from './model-health-recorder-options.js';

interface PendingEntry {
  provider: string;
  model: string;
  calls: number;
  successes: number;
  totalResponseTimeMs: number;
  lastResponseTimeMs: number;
  lastStatus: ModelCall['status'];
  lastErrorMessage: string | null;
  /** When the call of `lastErrorMessage` finished; meaningless while it is null. */
  lastErrorAtMs: number;
  lastCalledAtMs: number;
  /** Creation order: entries are written oldest first, so `flush()` knows when its calls landed. */
  seq: number;
}

/**
 * Write-behind recording of model calls. `recordModelCall()` is synchronous and allocation-light:
 * it folds the call into an in-memory entry per (provider, model). A background flusher writes the
 * entries in batches, one store round trip per batch; each batch carries an id the store applies at
 * most once, and a failed batch is retried unchanged with exponential backoff until it lands, so no
 * call is lost or counted twice. Memory is bounded by `maxPendingModels`; `close()` flushes what is
 * left before shutdown.
 *
 * @example
 * ```ts
 * const recorder = new ModelHealthRecorder({ store: new MemoryModelHealthStore() });
 * recorder.recordModelCall({ provider: 'openai', model: 'gpt-4o-mini', responseTimeMs: 420, status: 'success' });
 * await recorder.close();
 * ```
 */
export class ModelHealthRecorder {
  private readonly store: ModelHealthStore;
  private readonly flushIntervalMs: number;
  private readonly maxPendingModels: number;
  private readonly maxBatchEntries: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly telemetry: GatewayTelemetry;
  private readonly clock: TrackerClock;
  private readonly onInvalidCall: 'drop' | 'throw';
  private readonly newBatchId: () => string;

  private readonly pending = new Map<string, Map<string, PendingEntry>>();
  /** The pending entries in creation order. */
  private readonly queue = new Set<PendingEntry>();
  private lastSeq = 0;
  /** Every entry up to this `seq` is in the store. */
  private writtenThrough = 0;
  /** Calls recorded before the last successful write started are still pending. */
  private backlog = false;
  private pendingCallCount = 0;
  private inFlight: { batch: ModelCallBatch; calls: number; through: number } | undefined;
  private consecutiveFailures = 0;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly warned = new Set<string>();
  /**
   * The time to stamp a call with, never before the last stamp: stepped back (NTP correcting the
   * clock), the wall clock would give newer calls older stamps, and "the latest call wins" (here and
   * in the store) would ignore them for the length of the step.
   */
  private readonly callStamps = new ForwardWallClock(() => this.clock.now(), 'hold');
  private stats = { recorded: 0, dropped: 0, batchesWritten: 0, failedFlushes: 0 };

  /**
   * Create a recorder and start its background flusher (on the default clock an unref'd timer, so
   * it does not keep the process alive). Throws a `TelemetryConfigurationError` when `store` has no
   * `applyBatch()` method or an option is invalid (see `ModelHealthRecorderOptions`).
   */
  constructor(options: ModelHealthRecorderOptions) {
    requireOptionsObject(options, 'options', 'an object with at least `store`');
    if (typeof options.store?.applyBatch !== 'function') {
      throw new TelemetryConfigurationError('store', 'expected a model-health store with an applyBatch() method');
    }
    this.store = options.store;
    this.flushIntervalMs = positiveInteger('flushIntervalMs', options.flushIntervalMs, 1000, MAX_TIMER_DELAY_MS);
    this.maxPendingModels = positiveInteger('maxPendingModels', options.maxPendingModels, 10_000);
    this.maxBatchEntries = positiveInteger('maxBatchEntries', options.maxBatchEntries, 1000);
    this.retryInitialDelayMs = positiveInteger('retryInitialDelayMs', options.retryInitialDelayMs, 500);
    this.retryMaxDelayMs = positiveInteger('retryMaxDelayMs', options.retryMaxDelayMs, 30_000, MAX_TIMER_DELAY_MS);
    if (this.retryMaxDelayMs < this.retryInitialDelayMs) {
      throw new TelemetryConfigurationError('retryMaxDelayMs', 'must be at least retryInitialDelayMs');
    }
    this.onInvalidCall = options.onInvalidCall ?? 'drop';
    if (this.onInvalidCall !== 'drop' && this.onInvalidCall !== 'throw') {
      throw new TelemetryConfigurationError(
        'onInvalidCall',
        `expected "drop" or "throw", got "${String(options.onInvalidCall)}"`,
      );
    }
    // Checked here: all three are first called from the flush timer, where a TypeError would end the process.
    requireTelemetryOption(options.telemetry, 'telemetry');
    requireClockOption(options.clock, 'clock', TRACKER_CLOCK_METHODS, TRACKER_CLOCK_OPTIONAL_METHODS);
    requireFunctionOption(options.newBatchId, 'newBatchId', 'a function returning a batch id string');
    this.telemetry = options.telemetry ?? getTelemetry();
    this.clock = options.clock ?? systemClock;
    this.newBatchId = options.newBatchId ?? (() => globalThis.crypto.randomUUID());
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Record one finished call. Synchronous, never blocks; invalid calls are dropped and counted in
   * `gatewayz_model_health_dropped_total{reason="invalid_call"}` (or thrown with
   * `onInvalidCall: 'throw'`), calls for a new (provider, model) when `maxPendingModels` pairs are
   * already waiting are dropped and counted with `reason="buffer_full"`.
   */
  recordModelCall(call: ModelCall): void {
    if (!isWellFormed(call)) {
      if (this.onInvalidCall === 'throw') validateModelCall(call);
      this.drop('invalid_call', () => {
        try {
          validateModelCall(call);
          return 'Invalid model call';
        } catch (error) {
          return (error as TelemetryInputError).message;
        }
      });
      return;
    }
    if (this.closed) {
      this.drop('closed', () => 'Model call recorded after close(); it was not written');
      return;
    }
    let byModel = this.pending.get(call.provider);
    let entry = byModel?.get(call.model);
    const at = call.calledAt !== undefined ? call.calledAt.getTime() : this.callStamps.nowMs();
    const success = call.status === 'success';
    if (entry === undefined) {
      if (this.queue.size >= this.maxPendingModels) {
        this.drop(
          'buffer_full',
          () =>
            `${this.maxPendingModels} models are waiting to be written (is the store down?); new models' calls are dropped until a flush succeeds`,
        );
        return;
      }
      entry = {
        provider: call.provider,
        model: call.model,
        calls: 0,
        successes: 0,
        totalResponseTimeMs: 0,
        lastResponseTimeMs: call.responseTimeMs,
        lastStatus: call.status,
        lastErrorMessage: null,
        lastErrorAtMs: at,
        lastCalledAtMs: at,
        seq: ++this.lastSeq,
      };
      if (byModel === undefined) this.pending.set(call.provider, (byModel = new Map<string, PendingEntry>()));
      byModel.set(call.model, entry);
      this.queue.add(entry);
    }
    entry.calls++;
    if (success) entry.successes++;
    entry.totalResponseTimeMs += call.responseTimeMs;
    if (at >= entry.lastCalledAtMs) {
      entry.lastCalledAtMs = at;
      entry.lastResponseTimeMs = call.responseTimeMs;
      entry.lastStatus = call.status;
    }
    // The message has its own time: an older call recorded late must not hide a newer error.
    if (
      !success &&
      typeof call.errorMessage === 'string' &&
      (entry.lastErrorMessage === null || at >= entry.lastErrorAtMs)
    ) {
      entry.lastErrorMessage = storedErrorMessage(call.errorMessage);
      entry.lastErrorAtMs = at;
    }
    this.pendingCallCount++;
    this.stats.recorded++;
  }

  /** Calls recorded but not yet written (pending plus the batch being written). */
  get pendingCalls(): number {
    return this.pendingCallCount + (this.inFlight?.calls ?? 0);
  }

  /**
   * Write everything recorded so far now. Resolves when it is in the store (calls recorded
   * meanwhile may go with it, or are left to the background loop); rejects with the store's error
   * if a write fails (the batch is kept and retried by the background loop).
   */
  async flush(): Promise<void> {
    // Not until nothing is pending: under steady traffic and a slow store that never comes.
    const through = this.lastSeq;
    for (;;) {
      if (this.running !== undefined) await this.running.catch(() => {});
      if (this.writtenThrough >= through) return;
      const failuresBefore = this.stats.failedFlushes;
      await this.runFlush();
      if (this.stats.failedFlushes > failuresBefore) throw this.lastError;
    }
  }

  /**
   * Stop the background loop and write what is left, retrying with backoff until `timeoutMs`
   * (milliseconds, default 10 s); when the next backoff delay would reach the deadline, the last try
   * is made `retryInitialDelayMs` before it (halfway there when less time is left). Calls recorded
   * afterwards are dropped and counted. Never rejects, and resolves by the deadline even when a
   * write hangs: if the store is down or too slow it logs through `diag` and resolves with
   * `flushed: false` (a write still in flight counts as pending; it may land later, and a later
   * `close()` retries it under the same batch id, so it counts once).
   * `timeoutMs` may be `Infinity` (retry until written); one that is not a number of 0 or more
   * (NaN, negative) is the default. The deadline is measured on the clock's monotonic reading, which
   * a step of the wall clock does not move (see `TrackerClock.monotonicNow`).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<ModelHealthRecorderCloseResult> {
    const timeoutMs = options.timeoutMs;
    const deadline =
      deadlineClockNow(this.clock) + (typeof timeoutMs === 'number' && timeoutMs >= 0 ? timeoutMs : 10_000);
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (let lastTry = false; ;) {
      const outcome = await this.beforeDeadline(
        this.flush().then(
          () => 'flushed' as const,
          () => 'failed' as const,
        ),
        deadline,
      );
      if (outcome === 'flushed') return { flushed: true, pendingCalls: 0 };
      const left = deadline - deadlineClockNow(this.clock);
      if (outcome === 'expired' || lastTry || left <= 0) {
        diag.error(
          `@gatewayz/telemetry: ${this.pendingCalls} model calls could not be written before shutdown: the model-health store is ${outcome === 'expired' ? 'too slow' : 'unavailable'}`,
        );
        return { flushed: false, pendingCalls: this.pendingCalls };
      }
      const delay = this.backoffDelay();
      // When the backoff would reach the deadline the time left still holds one try, made early
      // enough for the write to land: retryInitialDelayMs before the deadline, or halfway there.
      lastTry = delay >= left;
      await this.sleep(lastTry ? Math.max(left - this.retryInitialDelayMs, left / 2) : delay);
    }
  }

  /** What `work` settled to, or `expired` when the clock's deadline reading reaches `deadline` first. */
  private async beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T | 'expired'> {
    let handle: unknown;
    const expired = new Promise<'expired'>((resolve) => {
      // A timer longer than Node keeps would fire at once: wait in steps it keeps (a deadline of
      // Infinity never expires).
      const arm = (): void => {
        const left = Math.max(0, deadline - deadlineClockNow(this.clock));
        handle =
          left > MAX_TIMER_DELAY_MS
            ? this.startTimer(arm, MAX_TIMER_DELAY_MS)
            : this.startTimer(() => resolve('expired'), left);
      };
      arm();
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      if (this.clock === systemClock) clearTimeout(handle as ReturnType<typeof setTimeout>);
      else this.clock.clearTimeout(handle);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.startTimer(resolve, ms));
  }

  /** A referenced timer during shutdown: an unref'd one could let the process exit mid-flush. */
  private startTimer(callback: () => void, ms: number): unknown {
    return this.clock === systemClock ? setTimeout(callback, ms) : this.clock.setTimeout(callback, ms);
  }

  /**
   * Counters for health checks and debugging: calls and (provider, model) pairs waiting to be
   * written, and since construction the calls recorded and dropped, batches written and failed
   * flushes. `JSON.stringify(recorder)` uses it.
   */
  toJSON(): {
    pendingCalls: number;
    pendingModels: number;
    recorded: number;
    dropped: number;
    batchesWritten: number;
    failedFlushes: number;
  } {
    return { pendingCalls: this.pendingCalls, pendingModels: this.queue.size, ...this.stats };
  }

  private lastError: unknown;

  private runFlush(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.running = this.writeOneBatch().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async writeOneBatch(): Promise<void> {
    if (this.inFlight === undefined && this.pendingCallCount === 0) return;
    const waiting = this.lastSeq;
    try {
      // A newBatchId() that throws leaves the calls queued and is retried as a failed write is.
      this.inFlight ??= this.takeBatch();
      const { batch, through } = this.inFlight;
      await this.store.applyBatch(batch);
      this.inFlight = undefined;
      this.writtenThrough = through;
      this.backlog = (this.queue.values().next().value?.seq ?? Infinity) <= waiting;
      this.consecutiveFailures = 0;
      this.stats.batchesWritten++;
      if (this.warned.delete('store_down'))
        diag.info('@gatewayz/telemetry: model-health store reachable again; pending calls written');
    } catch (error) {
      this.lastError = error;
      this.consecutiveFailures++;
      this.stats.failedFlushes++;
      this.telemetry.add('modelHealthFlushErrors', 1, {});
      if (!this.warned.has('store_down')) {
        this.warned.add('store_down');
        diag.warn(
          '@gatewayz/telemetry: writing model health failed; the batch is kept and retried with backoff',
          error,
        );
      }
    } finally {
      this.telemetry.set('modelHealthPendingCalls', this.pendingCalls, {});
    }
  }

  private takeBatch(): { batch: ModelCallBatch; calls: number; through: number } {
    const id: unknown = this.newBatchId();
    if (typeof id !== 'string' || id === '')
      throw new TypeError(`newBatchId() returned ${String(id) || '""'}, not an id`);
    const entries: ModelCallAggregate[] = [];
    let calls = 0;
    let through = this.writtenThrough;
    for (const entry of this.queue) {
      if (entries.length >= this.maxBatchEntries) break;
      entries.push({
        provider: entry.provider,
        model: entry.model,
        calls: entry.calls,
        successes: entry.successes,
        errors: entry.calls - entry.successes,
        totalResponseTimeMs: entry.totalResponseTimeMs,
        lastResponseTimeMs: entry.lastResponseTimeMs,
        lastStatus: entry.lastStatus,
        lastErrorMessage: entry.lastErrorMessage,
        lastErrorAt: entry.lastErrorMessage === null ? null : new Date(entry.lastErrorAtMs),
        lastCalledAt: new Date(entry.lastCalledAtMs),
      });
      calls += entry.calls;
      through = entry.seq;
      this.queue.delete(entry);
      const byModel = this.pending.get(entry.provider) as Map<string, PendingEntry>;
      byModel.delete(entry.model);
      if (byModel.size === 0) this.pending.delete(entry.provider);
    }
    this.pendingCallCount -= calls;
    return { batch: { id, entries }, calls, through };
  }

  private backoffDelay(): number {
    const exponent = Math.min(this.consecutiveFailures - 1, 30);
    return Math.min(this.retryMaxDelayMs, this.retryInitialDelayMs * 2 ** Math.max(0, exponent));
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.runFlush().then(() => {
        if (this.consecutiveFailures > 0) this.schedule(this.backoffDelay());
        // A backlog is drained at once; calls recorded during the write wait for the interval.
        else this.schedule(this.backlog && this.pendingCallCount > 0 ? 0 : this.flushIntervalMs);
      });
    }, delay);
  }

  private drop(reason: string, message: () => string): void {
    this.stats.dropped++;
    this.telemetry.add('modelHealthDropped', 1, { reason });
    if (!this.warned.has(`drop:${reason}`)) {
      this.warned.add(`drop:${reason}`);
      diag.warn(
        `@gatewayz/telemetry: ${message()}. Further drops (reason "${reason}") are counted in gatewayz_model_health_dropped_total without a warning.`,
      );
    }
  }
}

/** Fast structural check of a call; the detailed message comes from `validateModelCall`. */
function isWellFormed(call: ModelCall): boolean {
  return (
    call !== null &&
    typeof call === 'object' &&
    typeof call.provider === 'string' &&
    call.provider.length > 0 &&
    call.provider.length <= MAX_MODEL_HEALTH_NAME_LENGTH &&
    call.provider.trim().length > 0 &&
    !call.provider.includes('\u0000') &&
    isWellFormedText(call.provider) &&
    typeof call.model === 'string' &&
    call.model.length > 0 &&
    call.model.length <= MAX_MODEL_HEALTH_NAME_LENGTH &&
    call.model.trim().length > 0 &&
    !call.model.includes('\u0000') &&
    isWellFormedText(call.model) &&
    typeof call.responseTimeMs === 'number' &&
    call.responseTimeMs >= 0 &&
    call.responseTimeMs <= Number.MAX_SAFE_INTEGER &&
    (MODEL_CALL_STATUSES as readonly string[]).includes(call.status) &&
    (call.errorMessage === undefined || call.errorMessage === null || typeof call.errorMessage === 'string') &&
    (call.calledAt === undefined || isStorableDate(call.calledAt))
  );
}
