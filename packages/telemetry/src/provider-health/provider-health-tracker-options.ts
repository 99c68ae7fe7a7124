import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import type { ModelHealthSource } from '../model-health/model-health-store.js';
import type { TrackerClock } from '../scheduling/periodic-task.js';

/*
 * The options, the snapshot and the handle of `startProviderHealthTracker()`
 * (provider-health-tracker.ts).
 */

/**
 * What the tracker computed for one provider on its last tick.
 *
 * @example
 * ```ts
 * const [best] = await tracker.tick(); // best health first
 * if (best !== undefined) console.log(`prefer ${best.provider} (score ${best.healthScore.toFixed(2)})`);
 * ```
 */
export interface ProviderHealthSnapshot {
  /** Provider name, e.g. `openai`. */
  readonly provider: string;
  /** Models of the provider in the source. */
  readonly models: number;
  /** 1 when at least one call succeeded in the last interval with calls, else 0. */
  readonly availability: number;
  /** Error rate (0-1) over the same calls as `availability`. */
  readonly errorRate: number;
  /** Mean response time in seconds, or null before any call. */
  readonly responseTimeSeconds: number | null;
  /**
   * `providerHealthScore()` of these figures (0-1), as set on `gatewayz_provider_health_score`; a
   * null response time counts as 0 s.
   */
  readonly healthScore: number;
  /** Whether the figures cover only the last interval (true) or all recorded calls (false). */
  readonly windowed: boolean;
}

/**
 * Options of `startProviderHealthTracker`; only `source` is required. It throws a
 * `TelemetryConfigurationError` for an `intervalMs` under 10 or above 2147483647 (2^31 − 1, about
 * 24.8 days: the longest delay a timer keeps), a `source` without a `listAllModelHealth()` method, a
 * `clock` without `now()`, `setTimeout()` and `clearTimeout()`, or a `telemetry` that is not a
 * `GatewayTelemetry`.
 *
 * @example
 * ```ts
 * const tracker = startProviderHealthTracker({ source: store, intervalMs: 15_000, runImmediately: false });
 * ```
 */
export interface ProviderHealthTrackerOptions {
  /** Where per-model health comes from: a model-health store. */
  source: ModelHealthSource;
  /** Milliseconds between ticks, from 10 to 2147483647 (about 24.8 days). Default 30 000. */
  intervalMs?: number;
  /** Timer functions; default the real ones, unref'd. */
  clock?: TrackerClock;
  /** Telemetry instance to set gauges on; default the shared one. */
  telemetry?: GatewayTelemetry;
  /** Run the first tick at once instead of after one interval. Default true. */
  runImmediately?: boolean;
}

/**
 * A running provider health tracker, as returned by `startProviderHealthTracker`.
 *
 * @example
 * ```ts
 * // Order a failover chain by health, unknown providers last.
 * const chain = ['openai', 'anthropic', 'groq'].sort(
 *   (a, b) => (tracker.healthScore(b) ?? -1) - (tracker.healthScore(a) ?? -1),
 * );
 * ```
 */
export interface ProviderHealthTracker {
  /** Stop ticking; resolves once a tick in flight has finished. Safe to call more than once. */
  stop(this: void): Promise<void>;
  /**
   * Run one tick now, or join the one in flight (also used by tests); resolves with the new
   * snapshot. Never rejects: a failed tick is logged and counted, and resolves with the previous
   * snapshot.
   */
  tick(this: void): Promise<readonly ProviderHealthSnapshot[]>;
  /** The snapshot of the last successful tick, best health first. */
  snapshot(this: void): readonly ProviderHealthSnapshot[];
  /** Health score of one provider from the last tick, or undefined when unknown. */
  healthScore(this: void, provider: string): number | undefined;
  /**
   * Interval, successful and failed ticks, the number of models it keeps state for, and the last
   * snapshot; `JSON.stringify(tracker)` uses it.
   */
  toJSON(this: void): {
    intervalMs: number;
    ticks: number;
    failures: number;
    /** Model names the tracker keeps counts and an uptime window for (see `startProviderHealthTracker`). */
    trackedModels: number;
    providers: readonly ProviderHealthSnapshot[];
  };
}
