/**
 * When the dashboard calls a model healthy, degraded or unhealthy. Both rules look at the model's
 * lifetime error rate (`error_rate` of `/v1/model-health`) and its mean response time
 * (`avg_response_time_ms`); the worse of the two wins.
 */
export interface HealthThresholds {
  /** Error rate (0-1) at or above which a model is unhealthy. */
  readonly unhealthyErrorRate: number;
  /** Mean response time (ms) at or above which a model is unhealthy. */
  readonly unhealthyLatencyMs: number;
  /** Error rate (0-1) at or above which a model is degraded. */
  readonly degradedErrorRate: number;
  /** Mean response time (ms) at or above which a model is degraded. */
  readonly degradedLatencyMs: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = Object.freeze({
  unhealthyErrorRate: 0.2,
  unhealthyLatencyMs: 10_000,
  degradedErrorRate: 0.05,
  degradedLatencyMs: 2_000,
});

export type ModelHealthBadge = 'healthy' | 'degraded' | 'unhealthy';

/** The badge of one model-health item (server-side twin of the page's rule, for tests and docs). */
export function classifyModelHealth(
  item: { error_rate: number; avg_response_time_ms: number | null },
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): ModelHealthBadge {
  const latency = item.avg_response_time_ms ?? 0;
  if (item.error_rate >= thresholds.unhealthyErrorRate || latency >= thresholds.unhealthyLatencyMs) return 'unhealthy';
  if (item.error_rate >= thresholds.degradedErrorRate || latency >= thresholds.degradedLatencyMs) return 'degraded';
  return 'healthy';
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

function duration(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** One sentence describing the thresholds, shown in the page footer. */
export function describeThresholds(thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS): string {
  return (
    `Unhealthy: error rate ≥ ${percent(thresholds.unhealthyErrorRate)} or average response time ≥ ${duration(thresholds.unhealthyLatencyMs)}. ` +
    `Degraded: error rate ≥ ${percent(thresholds.degradedErrorRate)} or average response time ≥ ${duration(thresholds.degradedLatencyMs)}. ` +
    'Healthy: everything else.'
  );
}
