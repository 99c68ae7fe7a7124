import { DataPointType, type DataPoint, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { METRIC_CATALOG, instrumentName, type MetricKey } from '@gatewayz/telemetry/metrics';
import type { MetricCategoryIndex } from './metric-categories.js';

/**
 * Health score at or above which an available provider counts as healthy (below: degraded).
 *
 * @example
 * ```ts
 * const healthy = score >= HEALTHY_SCORE_THRESHOLD; // 0.8
 * ```
 */
export const HEALTHY_SCORE_THRESHOLD = 0.8;

/**
 * The `providers` section of {@link MetricsSummary}, computed from the provider gauges and the
 * response-time histogram (see {@link buildMetricsSummary}).
 *
 * @example
 * ```ts
 * const providers: ProvidersSummary = {
 *   total_providers: 2, healthy_providers: 1, degraded_providers: 1, unavailable_providers: 0,
 *   avg_error_rate: 0.035, avg_response_time_ms: 812.4,
 * };
 * ```
 */
export interface ProvidersSummary {
  /**
   * Configured providers (the `providers` given to `startTelemetry()`) and any other provider with a
   * `provider_availability` or `gatewayz_provider_health_score` series.
   */
  total_providers: number;
  /** Available providers with a health score of at least {@link HEALTHY_SCORE_THRESHOLD} (or without a score). */
  healthy_providers: number;
  /** Available providers with a health score below {@link HEALTHY_SCORE_THRESHOLD}. */
  degraded_providers: number;
  /** Providers whose `provider_availability` is 0. */
  unavailable_providers: number;
  /** Mean of the per-provider `provider_error_rate` gauges (0-1, 4 decimals); 0 without series. */
  avg_error_rate: number;
  /** Mean of every `provider_response_time_seconds` observation, in milliseconds (1 decimal); 0 without any. */
  avg_response_time_ms: number;
}

/**
 * The `business` section of {@link MetricsSummary}: each figure is the sum over every series of
 * one catalog metric.
 *
 * @example
 * ```ts
 * const business: BusinessSummary = {
 *   active_api_keys: 42, active_subscriptions: 17, total_tokens_used: 1_250_000, total_credits_used: 31.5,
 * };
 * ```
 */
export interface BusinessSummary {
  /** Sum of the `active_api_keys` gauge. */
  active_api_keys: number;
  /** Sum of the `subscription_count` gauge. */
  active_subscriptions: number;
  /**
   * Sum of `tokens_used_total` over its `input` and `output` series: the `cache_read`, `cache_write`
   * and `reasoning` series are subsets of those and are not added again.
   */
  total_tokens_used: number;
  /** Sum of `credits_used_total` over every series, rounded to 6 decimals. */
  total_credits_used: number;
}

/**
 * The JSON served by `/prometheus/metrics/summary`, shaped as the GatewayZ dashboards expect.
 *
 * @example
 * ```ts
 * const response = await otel.metricsHandler(new Request('http://localhost/prometheus/metrics/summary?category=providers'));
 * const summary = (await response.json()) as MetricsSummary;
 * console.log(summary.metrics.providers?.unavailable_providers);
 * ```
 */
export interface MetricsSummary {
  /** Collection time, ISO-8601 UTC without milliseconds (`2025-01-31T12:00:00Z`). */
  timestamp: string;
  /** One section per summary category; only the requested one when `?category=` is given. */
  metrics: {
    providers?: ProvidersSummary;
    business?: BusinessSummary;
  };
}

/**
 * Categories the summary has a section for: the values `?category=` accepts.
 *
 * @example
 * ```ts
 * const valid = (SUMMARY_CATEGORIES as readonly string[]).includes(url.searchParams.get('category') ?? '');
 * ```
 */
export const SUMMARY_CATEGORIES = ['providers', 'business'] as const;
/**
 * A summary section name: `providers` or `business`.
 *
 * @example
 * ```ts
 * const category: SummaryCategory = 'providers';
 * const summary = buildMetricsSummary(resourceMetrics, index, category);
 * ```
 */
export type SummaryCategory = (typeof SUMMARY_CATEGORIES)[number];

/** The collected metrics by catalog key: each key's instrument name under the index's prefix, first scope wins. */
function byKey(
  resourceMetrics: ResourceMetrics,
  index: MetricCategoryIndex,
): { get(key: MetricKey): MetricData | undefined } {
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (!byName.has(metric.descriptor.name)) byName.set(metric.descriptor.name, metric);
    }
  }
  return { get: (key) => byName.get(instrumentName(METRIC_CATALOG[key], index.prefix)) };
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
 * every observation in `provider_response_time_seconds`. An available provider without a health score
 * counts as healthy. `configuredProviders` (the application's providers) are counted from start-up:
 * until the provider health tracker has seen a call of one, it has no gauges and counts as available
 * and healthy (no evidence against it; the gateway routes to it). `category` limits the result to
 * one section; `now` sets the timestamp.
 *
 * @example
 * ```ts
 * const { resourceMetrics } = await exporter.collect();
 * const summary = buildMetricsSummary(resourceMetrics, new MetricCategoryIndex('gatewayz_'), 'providers');
 * ```
 */
export function buildMetricsSummary(
  resourceMetrics: ResourceMetrics,
  index: MetricCategoryIndex,
  category?: SummaryCategory,
  now: Date = new Date(),
  configuredProviders: readonly string[] = [],
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
    const providers = new Set([...configuredProviders, ...availability.keys(), ...scores.keys()]);
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
      total_tokens_used: numberPoints(metrics.get('tokensUsed'))
        .filter((point) => point.attributes['token_type'] === 'input' || point.attributes['token_type'] === 'output')
        .reduce((total, point) => total + point.value, 0),
      total_credits_used: round(sum(metrics.get('creditsUsed')), 6),
    };
  }
  return summary;
}
