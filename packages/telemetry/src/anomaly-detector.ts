import { diag } from '@opentelemetry/api';
import { TelemetryConfigurationError } from './errors.js';
import type { GatewayTelemetry } from './gateway-telemetry.js';
import { getTelemetry } from './default-telemetry.js';

/**
 * The anomaly types the detector reports, as exported in `gatewayz_detected_anomalies_total{type}`.
 *
 * @example
 * ```ts
 * const { detected } = detector.toJSON();
 * for (const type of ANOMALY_TYPES) console.log(type, detected[type]);
 * ```
 */
export const ANOMALY_TYPES = ['latency_spike', 'error_surge'] as const;
/**
 * One of `ANOMALY_TYPES`: `latency_spike` or `error_surge`.
 *
 * @example
 * ```ts
 * const severity: Record<AnomalyType, 'warning' | 'critical'> = { latency_spike: 'warning', error_surge: 'critical' };
 * const detector = new AnomalyDetector({ onAnomaly: (anomaly) => console.warn(severity[anomaly.type], anomaly.provider) });
 * ```
 */
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

/**
 * One finished provider call, as fed to `AnomalyDetector.observe()`.
 *
 * @example
 * ```ts
 * detector.observe({ provider: 'openai', latencySeconds: 0.84, success: true });
 * detector.observe({ provider: 'anthropic', success: false }); // failed call, latency unknown
 * ```
 */
export interface AnomalyObservation {
  /** Provider the call went to, e.g. `openai`; trimmed, must be non-empty and at most 128 characters. */
  provider: string;
  /** Duration of the call in seconds; leave out when unknown. Only successful calls feed latency. */
  latencySeconds?: number;
  /** Whether the call succeeded; every call counts towards the error rate. */
  success: boolean;
}

/**
 * Settings of the latency-spike detector (`AnomalyDetectorOptions.latency`). The constructor throws
 * a `TelemetryConfigurationError` for a `multiplier` under 1, a negative `minIncreaseSeconds`, or
 * sample counts that are not positive integers.
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({ latency: { multiplier: 2, minIncreaseSeconds: 0.5, minSamples: 10 } });
 * ```
 */
export interface LatencySpikeOptions {
  /** The window's mean latency must reach this multiple of the baseline mean. Default 3. */
  multiplier?: number;
  /** ...and exceed the baseline mean by at least this many seconds, so fast providers do not alarm on jitter. Default 1. */
  minIncreaseSeconds?: number;
  /** Successful calls with a latency needed in the window. Default 20. */
  minSamples?: number;
  /** Successful calls with a latency needed in the baseline; without them no spike is called. Default 50. */
  minBaselineSamples?: number;
}

/**
 * Settings of the error-surge detector (`AnomalyDetectorOptions.errors`). The constructor throws a
 * `TelemetryConfigurationError` for a `threshold` outside (0, 1], a `minIncrease` outside [0, 1), or
 * sample counts that are not positive integers.
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({ errors: { threshold: 0.5, minIncrease: 0.2 }, latency: false });
 * ```
 */
export interface ErrorSurgeOptions {
  /** Error rate (0-1] of the window at which a surge is called. Default 0.25. */
  threshold?: number;
  /** ...and at least this much above the baseline error rate, so a chronically failing provider is not a surge. Default 0.1. */
  minIncrease?: number;
  /** Calls needed in the window. Default 20. */
  minSamples?: number;
  /** Calls needed in the baseline to use its error rate; with fewer the baseline counts as 0. Default 20. */
  minBaselineSamples?: number;
}

/**
 * Options of `new AnomalyDetector()`, all optional. `windowMs`, `baselineWindowMs`, `bucketMs` and
 * `maxProviders` must be positive integers, the two windows multiples of `bucketMs` spanning at most
 * 10 000 buckets together, and `cooldownMs` at least 0; the constructor throws a
 * `TelemetryConfigurationError` otherwise.
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({
 *   windowMs: 120_000,
 *   baselineWindowMs: 1_800_000,
 *   bucketMs: 15_000,
 *   onAnomaly: (anomaly) => console.warn(`${anomaly.type} at ${anomaly.provider}`),
 * });
 * ```
 */
export interface AnomalyDetectorOptions {
  /** The recent window compared against the baseline, in milliseconds. Default 60 000. */
  windowMs?: number;
  /** The baseline: the period right before the window, in milliseconds. Default 900 000 (15 min). */
  baselineWindowMs?: number;
  /** Time-bucket size; the window and the baseline must be multiples of it. Default 10 000. */
  bucketMs?: number;
  /** After an anomaly, the same type is not reported again for the provider within this time. Default 300 000. */
  cooldownMs?: number;
  /** Providers tracked at once; beyond it the one seen least recently is forgotten. Default 200. */
  maxProviders?: number;
  /** Latency-spike detector settings, or `false` to turn it off. */
  latency?: LatencySpikeOptions | false;
  /** Error-surge detector settings, or `false` to turn it off. */
  errors?: ErrorSurgeOptions | false;
  /** Time source in milliseconds; default `Date.now`. */
  clock?: { now(): number };
  /** Telemetry instance to count anomalies on; default the shared one. */
  telemetry?: Pick<GatewayTelemetry, 'recordAnomaly'>;
  /** Called for every anomaly, after it is counted (alerting hooks, logs). */
  onAnomaly?: (anomaly: DetectedAnomaly) => void;
}

/**
 * An anomaly as reported by `observe()` and passed to `onAnomaly`.
 *
 * @example
 * ```ts
 * for (const anomaly of detector.observe({ provider: 'openai', latencySeconds: 7.9, success: true })) {
 *   console.warn(`${anomaly.type} at ${anomaly.provider}: ${anomaly.value} (baseline ${anomaly.baseline})`);
 * }
 * ```
 */
export interface DetectedAnomaly {
  /** Which detector fired. */
  readonly type: AnomalyType;
  /** The provider concerned, trimmed. */
  readonly provider: string;
  /** Clock time of detection, in milliseconds. */
  readonly at: number;
  /** Mean latency in seconds (latency spikes) or error rate (error surges) over the window. */
  readonly value: number;
  /** The same figure over the baseline, or null when the baseline had too few calls. */
  readonly baseline: number | null;
  /** Calls in the window the value is computed from. */
  readonly samples: number;
}

/**
 * Window and baseline figures of one provider, for inspection.
 *
 * @example
 * ```ts
 * const stats = detector.providerStats('openai');
 * if (stats?.active.error_surge) console.warn(`error rate ${stats.window.errorRate} vs ${stats.baseline.errorRate}`);
 * ```
 */
export interface ProviderAnomalyStats {
  /** The provider, trimmed. */
  readonly provider: string;
  /** Figures of the recent window (the last `windowMs`). */
  readonly window: AnomalyWindowFigures;
  /** Figures of the baseline: the `baselineWindowMs` right before the window. */
  readonly baseline: AnomalyWindowFigures;
  /** Whether each detector currently considers the provider anomalous. */
  readonly active: Readonly<Record<AnomalyType, boolean>>;
}

/**
 * Call totals of one period (the window or the baseline) of one provider.
 *
 * @example
 * ```ts
 * const window = detector.providerStats('openai')?.window;
 * if (window !== undefined && window.meanLatencySeconds !== null) {
 *   console.log(`${window.latencySamples} timed calls, mean ${window.meanLatencySeconds.toFixed(2)} s`);
 * }
 * ```
 */
export interface AnomalyWindowFigures {
  /** Calls observed, successful or not. */
  readonly calls: number;
  /** Failed calls. */
  readonly errors: number;
  /** errors / calls (0-1), or null without calls. */
  readonly errorRate: number | null;
  /** Successful calls that carried a latency. */
  readonly latencySamples: number;
  /** Mean latency of those calls in seconds, or null without any. */
  readonly meanLatencySeconds: number | null;
}

const MAX_PROVIDER_NAME_LENGTH = 128;
const MAX_BUCKETS = 10_000;
const NO_ANOMALIES: readonly DetectedAnomaly[] = Object.freeze([]);

interface DetectorState {
  active: boolean;
  lastFiredAt: number;
}

/** Per-provider time buckets in a ring: fixed memory however much traffic arrives. */
class ProviderBuckets {
  readonly epochs: Float64Array;
  readonly calls: Float64Array;
  readonly errors: Float64Array;
  readonly latencyCount: Float64Array;
  readonly latencySum: Float64Array;
  newestBucket = -Infinity;
  lastSeen = 0;
  readonly states: Record<AnomalyType, DetectorState> = {
    latency_spike: { active: false, lastFiredAt: -Infinity },
    error_surge: { active: false, lastFiredAt: -Infinity },
  };

  constructor(readonly size: number) {
    this.epochs = new Float64Array(size).fill(-Infinity);
    this.calls = new Float64Array(size);
    this.errors = new Float64Array(size);
    this.latencyCount = new Float64Array(size);
    this.latencySum = new Float64Array(size);
  }

  /** Add a call to `bucket`; false when the bucket has already left the ring. */
  add(bucket: number, success: boolean, latencySeconds: number | undefined): boolean {
    if (bucket <= this.newestBucket - this.size) return false;
    const slot = bucket % this.size;
    if (this.epochs[slot] !== bucket) {
      this.epochs[slot] = bucket;
      this.calls[slot] = 0;
      this.errors[slot] = 0;
      this.latencyCount[slot] = 0;
      this.latencySum[slot] = 0;
    }
    this.calls[slot] = (this.calls[slot] as number) + 1;
    if (!success) this.errors[slot] = (this.errors[slot] as number) + 1;
    else if (latencySeconds !== undefined) {
      this.latencyCount[slot] = (this.latencyCount[slot] as number) + 1;
      this.latencySum[slot] = (this.latencySum[slot] as number) + latencySeconds;
    }
    if (bucket > this.newestBucket) this.newestBucket = bucket;
    return true;
  }

  /** Totals over buckets `from` (exclusive) to `to` (inclusive). */
  sum(from: number, to: number): AnomalyWindowFigures {
    let calls = 0;
    let errors = 0;
    let latencySamples = 0;
    let latencySum = 0;
    for (let slot = 0; slot < this.size; slot++) {
      const epoch = this.epochs[slot] as number;
      if (epoch <= from || epoch > to) continue;
      calls += this.calls[slot] as number;
      errors += this.errors[slot] as number;
      latencySamples += this.latencyCount[slot] as number;
      latencySum += this.latencySum[slot] as number;
    }
    return {
      calls,
      errors,
      errorRate: calls > 0 ? errors / calls : null,
      latencySamples,
      meanLatencySeconds: latencySamples > 0 ? latencySum / latencySamples : null,
    };
  }
}

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
    this.clock = options.clock ?? { now: () => Date.now() };
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

function positiveInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TelemetryConfigurationError(option, `expected a positive integer, got ${String(value)}`);
  }
}

function latencyOptions(options: LatencySpikeOptions): Required<LatencySpikeOptions> {
  const resolved = {
    multiplier: options.multiplier ?? 3,
    minIncreaseSeconds: options.minIncreaseSeconds ?? 1,
    minSamples: options.minSamples ?? 20,
    minBaselineSamples: options.minBaselineSamples ?? 50,
  };
  if (!Number.isFinite(resolved.multiplier) || resolved.multiplier < 1) {
    throw new TelemetryConfigurationError(
      'latency.multiplier',
      `expected a number of at least 1, got ${String(options.multiplier)}`,
    );
  }
  if (!Number.isFinite(resolved.minIncreaseSeconds) || resolved.minIncreaseSeconds < 0) {
    throw new TelemetryConfigurationError(
      'latency.minIncreaseSeconds',
      `expected 0 or more seconds, got ${String(options.minIncreaseSeconds)}`,
    );
  }
  positiveInteger('latency.minSamples', resolved.minSamples);
  positiveInteger('latency.minBaselineSamples', resolved.minBaselineSamples);
  return resolved;
}

function errorOptions(options: ErrorSurgeOptions): Required<ErrorSurgeOptions> {
  const resolved = {
    threshold: options.threshold ?? 0.25,
    minIncrease: options.minIncrease ?? 0.1,
    minSamples: options.minSamples ?? 20,
    minBaselineSamples: options.minBaselineSamples ?? 20,
  };
  if (!Number.isFinite(resolved.threshold) || resolved.threshold <= 0 || resolved.threshold > 1) {
    throw new TelemetryConfigurationError(
      'errors.threshold',
      `expected an error rate in (0, 1], got ${String(options.threshold)}`,
    );
  }
  if (!Number.isFinite(resolved.minIncrease) || resolved.minIncrease < 0 || resolved.minIncrease >= 1) {
    throw new TelemetryConfigurationError(
      'errors.minIncrease',
      `expected a rate in [0, 1), got ${String(options.minIncrease)}`,
    );
  }
  positiveInteger('errors.minSamples', resolved.minSamples);
  positiveInteger('errors.minBaselineSamples', resolved.minBaselineSamples);
  return resolved;
}
