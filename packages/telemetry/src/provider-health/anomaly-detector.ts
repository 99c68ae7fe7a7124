import { diag } from '@opentelemetry/api';
import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import { monotonicNow } from '../scheduling/monotonic-now.js';
import { requireClockOption, requireFunctionOption, requireTelemetryOption } from '../option-checks.js';
import {
  type AnomalyDetectorOptions,
  type AnomalyObservation,
  type AnomalyType,
  type DetectedAnomaly,
  type ErrorSurgeOptions,
  type LatencySpikeOptions,
  type ProviderAnomalyStats,
} from './anomaly-types.js';
import {
  MAX_BUCKETS,
  MAX_PROVIDER_NAME_LENGTH,
  ProviderBuckets,
  errorOptions,
  latencyOptions,
  positiveInteger,
  type DetectorState,
} from './anomaly-window.js';

const NO_ANOMALIES: readonly DetectedAnomaly[] = Object.freeze([]);

/**
 * Latency-spike and error-surge detection per provider over sliding time windows (seed 002). Each
 * `observe()` adds one call to the provider's time buckets and compares the recent window
 * (default the last minute) with the baseline right before it (default the 15 minutes before):
 *
 * - **latency spike**: the window's mean latency of successful calls is at least `multiplier` times
 *   (default 3) the baseline mean and at least `minIncreaseSeconds` (default 1 s) above it;
 * - **error surge**: the window's error rate is at least `threshold` (default 0.25) and at least
 *   `minIncrease` (default 0.1) above the baseline rate.
 *
 * Nothing is called below the minimum sample counts. One episode is one anomaly: a detector fires
 * when its condition starts to hold, stays quiet while it keeps holding, re-arms once it clears,
 * and does not fire again for the provider within `cooldownMs` (default 5 min). Each anomaly adds
 * one to `gatewayz_detected_anomalies_total{type}` through `recordAnomaly(type)`. Memory is fixed:
 * a ring of buckets per provider, at most `maxProviders` providers. Invalid observations are
 * dropped and counted, never thrown.
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({ windowMs: 60_000, cooldownMs: 300_000 });
 * // after each provider call:
 * detector.observe({ provider: 'openai', latencySeconds: 0.84, success: true });
 * ```
 */
export class AnomalyDetector {
  /** Length of the recent window, in milliseconds (default applied). */
  readonly windowMs: number;
  /** Length of the baseline before the window, in milliseconds (default applied). */
  readonly baselineWindowMs: number;
  /** Time-bucket size, in milliseconds (default applied). */
  readonly bucketMs: number;
  /** Quiet time per provider and type after an anomaly, in milliseconds (default applied). */
  readonly cooldownMs: number;
  /** Providers tracked at once (default applied). */
  readonly maxProviders: number;
  private readonly latency: Required<LatencySpikeOptions> | undefined;
  private readonly errors: Required<ErrorSurgeOptions> | undefined;
  private readonly windowBuckets: number;
  private readonly ringSize: number;
  private readonly clock: { now(): number };
  private readonly telemetry: Pick<GatewayTelemetry, 'recordAnomaly'>;
  private readonly onAnomaly: ((anomaly: DetectedAnomaly) => void) | undefined;
  private readonly providers = new Map<string, ProviderBuckets>();
  private readonly detected: Record<AnomalyType, number> = { latency_spike: 0, error_surge: 0 };
  private rejectedObservations = 0;
  private staleObservations = 0;
  private evictedProviders = 0;
  private warnedRejection = false;

  /**
   * Create a detector with no history. Throws a `TelemetryConfigurationError` for an invalid option
   * (see `AnomalyDetectorOptions`, `LatencySpikeOptions`, `ErrorSurgeOptions`).
   */
  constructor(options: AnomalyDetectorOptions = {}) {
    requireOptionsObject(options, 'options', 'an object of options (or nothing)');
    this.windowMs = options.windowMs ?? 60_000;
    this.baselineWindowMs = options.baselineWindowMs ?? 900_000;
    this.bucketMs = options.bucketMs ?? 10_000;
    this.cooldownMs = options.cooldownMs ?? 300_000;
    this.maxProviders = options.maxProviders ?? 200;
    positiveInteger('bucketMs', this.bucketMs);
    positiveInteger('windowMs', this.windowMs);
    positiveInteger('baselineWindowMs', this.baselineWindowMs);
    positiveInteger('maxProviders', this.maxProviders);
    if (this.windowMs % this.bucketMs !== 0 || this.baselineWindowMs % this.bucketMs !== 0) {
      throw new TelemetryConfigurationError(
        'bucketMs',
        `windowMs (${this.windowMs}) and baselineWindowMs (${this.baselineWindowMs}) must be multiples of bucketMs (${this.bucketMs})`,
      );
    }
    this.windowBuckets = this.windowMs / this.bucketMs;
    this.ringSize = this.windowBuckets + this.baselineWindowMs / this.bucketMs;
    if (this.ringSize > MAX_BUCKETS) {
      throw new TelemetryConfigurationError(
        'bucketMs',
        `windowMs + baselineWindowMs spans ${this.ringSize} buckets of ${this.bucketMs} ms; at most ${MAX_BUCKETS} are allowed, use larger buckets`,
      );
    }
    if (!Number.isFinite(this.cooldownMs) || this.cooldownMs < 0) {
      throw new TelemetryConfigurationError(
        'cooldownMs',
        `expected 0 or more milliseconds, got ${String(options.cooldownMs)}`,
      );
    }
    this.latency = options.latency === false ? undefined : latencyOptions(options.latency ?? {});
    this.errors = options.errors === false ? undefined : errorOptions(options.errors ?? {});
    // Monotonic: a step of the wall clock (NTP setting it) must not move the windows. Stepped
    // back an hour, Date.now() would make every observation older than the ring for ~45 minutes.
    // Both are called from observe(), which never throws: a wrong one is refused here instead.
    requireClockOption(options.clock, 'clock', ['now']);
    requireTelemetryOption(options.telemetry, 'telemetry', ['recordAnomaly']);
    requireFunctionOption(options.onAnomaly, 'onAnomaly', 'a function called with each anomaly');
    this.clock = options.clock ?? { now: monotonicNow };
    this.telemetry = options.telemetry ?? getTelemetry();
    this.onAnomaly = options.onAnomaly;
  }

  /**
   * Feed one finished call. Returns the anomalies this call made the detectors report (usually
   * none). Never throws: invalid observations are dropped and counted in `toJSON()`.
   */
  observe(observation: AnomalyObservation): readonly DetectedAnomaly[] {
    const provider = typeof observation?.provider === 'string' ? observation.provider.trim() : '';
    const latencySeconds = observation?.latencySeconds;
    const validLatency =
      latencySeconds === undefined ||
      (typeof latencySeconds === 'number' && Number.isFinite(latencySeconds) && latencySeconds >= 0);
    if (
      provider === '' ||
      provider.length > MAX_PROVIDER_NAME_LENGTH ||
      typeof observation.success !== 'boolean' ||
      !validLatency
    ) {
      this.reject(observation);
      return NO_ANOMALIES;
    }
    const now = this.clock.now();
    const bucket = Math.floor(now / this.bucketMs);
    const buckets = this.bucketsFor(provider);
    buckets.lastSeen = now;
    if (!buckets.add(bucket, observation.success, latencySeconds)) {
      // Older than the baseline ring (the clock went back): nothing left to add it to; counted.
      this.staleObservations += 1;
      return NO_ANOMALIES;
    }
    return this.evaluate(provider, buckets, Math.max(bucket, buckets.newestBucket), now);
  }

  /** Window and baseline figures of a provider as of now, or undefined when it is not tracked. */
  providerStats(provider: string): ProviderAnomalyStats | undefined {
    const buckets = this.providers.get(provider.trim());
    if (buckets === undefined) return undefined;
    const current = Math.max(Math.floor(this.clock.now() / this.bucketMs), buckets.newestBucket);
    return {
      provider: provider.trim(),
      window: buckets.sum(current - this.windowBuckets, current),
      baseline: buckets.sum(current - this.ringSize, current - this.windowBuckets),
      active: { latency_spike: buckets.states.latency_spike.active, error_surge: buckets.states.error_surge.active },
    };
  }

  /** Forget one provider, or every provider. */
  reset(provider?: string): void {
    if (provider === undefined) this.providers.clear();
    else this.providers.delete(provider.trim());
  }

  /**
   * Settings and counters: providers tracked now, anomalies detected per type, observations
   * rejected as invalid, observations too old for the baseline ring (`staleObservations`: the
   * clock went back by more than the baseline window) and providers evicted over `maxProviders`,
   * since construction.
   */
  toJSON(): {
    windowMs: number;
    baselineWindowMs: number;
    bucketMs: number;
    cooldownMs: number;
    providers: number;
    detected: Record<AnomalyType, number>;
    rejectedObservations: number;
    staleObservations: number;
    evictedProviders: number;
  } {
    return {
      windowMs: this.windowMs,
      baselineWindowMs: this.baselineWindowMs,
      bucketMs: this.bucketMs,
      cooldownMs: this.cooldownMs,
      providers: this.providers.size,
      detected: { ...this.detected },
      rejectedObservations: this.rejectedObservations,
      staleObservations: this.staleObservations,
      evictedProviders: this.evictedProviders,
    };
  }

  private bucketsFor(provider: string): ProviderBuckets {
    let buckets = this.providers.get(provider);
    if (buckets !== undefined) return buckets;
    if (this.providers.size >= this.maxProviders) this.evictLeastRecentlySeen();
    buckets = new ProviderBuckets(this.ringSize);
    this.providers.set(provider, buckets);
    return buckets;
  }

  private evictLeastRecentlySeen(): void {
    let oldest: string | undefined;
    let oldestSeen = Infinity;
    for (const [name, buckets] of this.providers) {
      if (buckets.lastSeen < oldestSeen) {
        oldestSeen = buckets.lastSeen;
        oldest = name;
      }
    }
    if (oldest !== undefined) {
      this.providers.delete(oldest);
      this.evictedProviders += 1;
    }
  }

  private evaluate(
    provider: string,
    buckets: ProviderBuckets,
    current: number,
    now: number,
  ): readonly DetectedAnomaly[] {
    const window = buckets.sum(current - this.windowBuckets, current);
    const baseline = buckets.sum(current - this.ringSize, current - this.windowBuckets);
    let found: DetectedAnomaly[] | undefined;

    if (
      this.latency !== undefined &&
      window.latencySamples >= this.latency.minSamples &&
      window.meanLatencySeconds !== null
    ) {
      const enoughBaseline =
        baseline.latencySamples >= this.latency.minBaselineSamples && baseline.meanLatencySeconds !== null;
      // Without a baseline there is nothing to call a spike against: leave the state as it is.
      if (enoughBaseline) {
        const base = baseline.meanLatencySeconds;
        const mean = window.meanLatencySeconds;
        const spiking = mean >= base * this.latency.multiplier && mean - base >= this.latency.minIncreaseSeconds;
        const anomaly = this.transition(buckets.states.latency_spike, spiking, now, {
          type: 'latency_spike',
          provider,
          at: now,
          value: mean,
          baseline: base,
          samples: window.latencySamples,
        });
        if (anomaly !== undefined) (found ??= []).push(anomaly);
      }
    }

    if (this.errors !== undefined && window.calls >= this.errors.minSamples && window.errorRate !== null) {
      const baselineRate = baseline.calls >= this.errors.minBaselineSamples ? baseline.errorRate : null;
      const rate = window.errorRate;
      const surging = rate >= this.errors.threshold && rate - (baselineRate ?? 0) >= this.errors.minIncrease;
      const anomaly = this.transition(buckets.states.error_surge, surging, now, {
        type: 'error_surge',
        provider,
        at: now,
        value: rate,
        baseline: baselineRate,
        samples: window.calls,
      });
      if (anomaly !== undefined) (found ??= []).push(anomaly);
    }

    return found ?? NO_ANOMALIES;
  }

  /** Fire on the rising edge of a condition, unless within the cooldown of the last firing. */
  private transition(
    state: DetectorState,
    holds: boolean,
    now: number,
    anomaly: DetectedAnomaly,
  ): DetectedAnomaly | undefined {
    if (!holds) {
      state.active = false;
      return undefined;
    }
    if (state.active) return undefined;
    state.active = true;
    // A new episode inside the cooldown is treated as the tail of the previous one.
    if (now - state.lastFiredAt < this.cooldownMs) return undefined;
    state.lastFiredAt = now;
    this.detected[anomaly.type] += 1;
    this.telemetry.recordAnomaly(anomaly.type);
    if (this.onAnomaly !== undefined) {
      try {
        this.onAnomaly(anomaly);
      } catch (error) {
        diag.error('@gatewayz/telemetry: an onAnomaly callback threw; the anomaly was still counted', error);
      }
    }
    return anomaly;
  }

  private reject(observation: unknown): void {
    this.rejectedObservations += 1;
    if (this.warnedRejection) return;
    this.warnedRejection = true;
    let shown: string;
    try {
      shown = JSON.stringify(observation)?.slice(0, 200) ?? String(observation);
    } catch {
      shown = String(observation);
    }
    diag.warn(
      `@gatewayz/telemetry: anomaly detector dropped an invalid observation ${shown}; expected { provider: non-empty string, ` +
        `success: boolean, latencySeconds?: finite number >= 0 }. Further drops are only counted (toJSON().rejectedObservations).`,
    );
  }
}
