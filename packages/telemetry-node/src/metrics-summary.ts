import { DataPointType, type DataPoint, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricKey } from '@gatewayz/telemetry';
import type { MetricCategoryIndex } from './metric-categories.js';

/** Health score at or above which an available provider counts as healthy (below: degraded). */
export const HEALTHY_SCORE_THRESHOLD = 0.8;

export interface ProvidersSummary {
  total_providers: number;
  healthy_providers: number;
  degraded_providers: number;
  unavailable_providers: number;
  avg_error_rate: number;
  avg_response_time_ms: number;
}

export interface BusinessSummary {
  active_api_keys: number;
  active_subscriptions: number;
  total_tokens_used: number;
  total_credits_used: number;
}

/** The JSON served by `/prometheus/metrics/summary`, shaped as the GatewayZ dashboards expect. */
export interface MetricsSummary {
  timestamp: string;
  metrics: {
    providers?: ProvidersSummary;
    business?: BusinessSummary;
  };
}

/** Categories the summary has a section for. */
export const SUMMARY_CATEGORIES = ['providers', 'business'] as const;
export type SummaryCategory = (typeof SUMMARY_CATEGORIES)[number];

function byKey(resourceMetrics: ResourceMetrics, index: MetricCategoryIndex): Map<MetricKey, MetricData> {
  const found = new Map<MetricKey, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const key = index.keyOf(metric.descriptor.name);
      if (key !== undefined && !found.has(key)) found.set(key, metric);
    }
  }
  return found;
}

function numberPoints(metric: MetricData | undefined): Array<DataPoint<number>> {
  if (metric === undefined || metric.dataPointType === DataPointType.HISTOGRAM) return [];
  return metric.dataPoints as Array<DataPoint<number>>;
}

function sum(metric: MetricData | undefined): number {
  return numberPoints(metric).reduce((total, point) => total + point.value, 0);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Build the summary from one collection. Provider classification uses the tracker's gauges:
 * unavailable when `provider_availability` is 0, healthy when available with
 * `gatewayz_provider_health_score` >= 0.8, degraded otherwise. `avg_response_time_ms` is the mean of
 * every observation in `provider_response_time_seconds`.
 */
export function buildMetricsSummary(
  resourceMetrics: ResourceMetrics,
  index: MetricCategoryIndex,
  category?: SummaryCategory,
  now: Date = new Date(),
): MetricsSummary {
  const metrics = byKey(resourceMetrics, index);
  const summary: MetricsSummary = { timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), metrics: {} };

  if (category === undefined || category === 'providers') {
    const availability = new Map<string, number>();
    for (const point of numberPoints(metrics.get('providerAvailability'))) {
      availability.set(String(point.attributes['provider']), point.value);
    }
    const scores = new Map<string, number>();
    for (const point of numberPoints(metrics.get('providerHealthScore'))) {
      scores.set(String(point.attributes['provider']), point.value);
    }
    const providers = new Set([...availability.keys(), ...scores.keys()]);
    let healthy = 0;
    let degraded = 0;
    let unavailable = 0;
    for (const provider of providers) {
      if (availability.get(provider) === 0) unavailable++;
      else if ((scores.get(provider) ?? 1) >= HEALTHY_SCORE_THRESHOLD) healthy++;
      else degraded++;
    }
    const errorRates = numberPoints(metrics.get('providerErrorRate')).map((point) => point.value);
    let count = 0;
    let total = 0;
    const responseTimes = metrics.get('providerResponseTime');
    if (responseTimes?.dataPointType === DataPointType.HISTOGRAM) {
      for (const point of responseTimes.dataPoints) {
        count += point.value.count;
        total += point.value.sum ?? 0;
      }
    }
    summary.metrics.providers = {
      total_providers: providers.size,
      healthy_providers: healthy,
      degraded_providers: degraded,
      unavailable_providers: unavailable,
      avg_error_rate: errorRates.length > 0 ? round(errorRates.reduce((a, b) => a + b, 0) / errorRates.length, 4) : 0,
      avg_response_time_ms: count > 0 ? round((total / count) * 1000, 1) : 0,
    };
  }

  if (category === undefined || category === 'business') {
    summary.metrics.business = {
      active_api_keys: sum(metrics.get('activeApiKeys')),
      active_subscriptions: sum(metrics.get('subscriptionCount')),
      total_tokens_used: sum(metrics.get('tokensUsed')),
      total_credits_used: round(sum(metrics.get('creditsUsed')), 6),
    };
  }
  return summary;
}
