import type { MetricDefinition } from './metric-definition.js';
import { GATEWAY_METRICS } from './catalog-gateway-metrics.js';
import { GENAI_METRICS } from './catalog-genai-metrics.js';
import { HEALTH_AND_SELF_METRICS } from './catalog-health-metrics.js';
import { ATTRIBUTION_METRICS } from './catalog-attribution-metrics.js';
import { ROUTING_METRICS } from './catalog-routing-metrics.js';

/**
 * Every metric this library can emit. Prometheus names are derived from `name` (plus the prefix
 * when `prefixed`), with `_total` appended to counters by the exposition format.
 *
 * @example
 * ```ts
 * const { name, kind, labels } = METRIC_CATALOG.providerResponseTime;
 * // 'provider_response_time_seconds', 'histogram', ['provider']
 * ```
 */
export const METRIC_CATALOG = {
  ...GATEWAY_METRICS,
  ...ATTRIBUTION_METRICS,
  ...GENAI_METRICS,
  ...ROUTING_METRICS,
  ...HEALTH_AND_SELF_METRICS,
} as const;

/**
 * Key of a metric in `METRIC_CATALOG` (e.g. `providerResponseTime`): what the generic
 * `GatewayTelemetry` methods and `metricName()` take.
 *
 * @example
 * ```ts
 * const key: MetricKey = 'costByProvider';
 * telemetry.metricName(key); // 'gatewayz_cost_by_provider'
 * ```
 */
export type MetricKey = keyof typeof METRIC_CATALOG;
/**
 * The type of `METRIC_CATALOG`, with each definition's literal name, kind, unit and label names.
 *
 * @example
 * ```ts
 * type CostUnit = MetricCatalog['costByProvider']['unit']; // 'USD'
 * ```
 */
export type MetricCatalog = typeof METRIC_CATALOG;

/**
 * Label names of one metric, as a string union.
 *
 * @example
 * ```ts
 * type TokenLabels = LabelName<'tokensUsed'>; // 'provider' | 'model' | 'token_type'
 * ```
 */
export type LabelName<K extends MetricKey> = MetricCatalog[K]['labels'][number];

/**
 * The label object a metric takes, keys typed from the catalog.
 *
 * @example
 * ```ts
 * const labels: LabelsOf<'modelInferenceRequests'> = { provider: 'openai', model: 'gpt-4o-mini', status: 'success' };
 * telemetry.add('modelInferenceRequests', 1, labels);
 * ```
 */
export type LabelsOf<K extends MetricKey> = { readonly [L in LabelName<K>]: string };

/**
 * Every catalog entry with its key, in declaration order.
 *
 * @example
 * ```ts
 * for (const [key, definition] of catalogEntries()) console.log(key, prometheusName(definition));
 * ```
 */
export function catalogEntries(): Array<[MetricKey, MetricDefinition]> {
  return Object.entries(METRIC_CATALOG) as Array<[MetricKey, MetricDefinition]>;
}
