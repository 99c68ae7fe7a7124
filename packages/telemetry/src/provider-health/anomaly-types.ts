import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';

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
 * 10 000 buckets together, `cooldownMs` at least 0, `clock` an object with `now()`, `telemetry` one
 * with `recordAnomaly()` and `onAnomaly` a function; the constructor throws a
 * `TelemetryConfigurationError` otherwise (`observe()` never throws).
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
  /**
   * Time source in milliseconds; default a monotonic clock (`performance.timeOrigin +
   * performance.now()`), which a step of the wall clock does not move.
   */
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
