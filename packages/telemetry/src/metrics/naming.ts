import type { MetricDefinition } from './metric-definition.js';

/**
 * Default prefix put in front of metrics declared with `prefixed: true`.
 *
 * @example
 * ```ts
 * instrumentName(METRIC_CATALOG.providerHealthScore, DEFAULT_METRIC_PREFIX); // 'gatewayz_provider_health_score'
 * ```
 */
export const DEFAULT_METRIC_PREFIX = 'gatewayz_';

/**
 * The OpenTelemetry instrument name of a catalog metric under a given prefix (default `gatewayz_`).
 * Metrics declared with `prefixed: false` keep their bare name.
 *
 * @example
 * ```ts
 * instrumentName(METRIC_CATALOG.costByProvider, 'acme_'); // 'acme_cost_by_provider'
 * instrumentName(METRIC_CATALOG.providerAvailability, 'acme_'); // 'provider_availability'
 * ```
 */
export function instrumentName(definition: MetricDefinition, prefix: string = DEFAULT_METRIC_PREFIX): string {
  return definition.prefixed ? prefix + definition.name : definition.name;
}

/**
 * The name a metric is exposed under in the Prometheus text format: dots and other characters
 * Prometheus does not allow become `_`, and counters get `_total`.
 *
 * @example
 * ```ts
 * prometheusName(METRIC_CATALOG.costByProvider); // 'gatewayz_cost_by_provider_total'
 * prometheusName(METRIC_CATALOG.genAiOperationDuration); // 'gen_ai_client_operation_duration'
 * ```
 */
export function prometheusName(definition: MetricDefinition, prefix: string = DEFAULT_METRIC_PREFIX): string {
  return prometheusExposedName(instrumentName(definition, prefix), definition.kind === 'counter');
}

/**
 * An instrument name made a valid Prometheus metric name, as the exposition writes it: escaped,
 * sanitised (see `sanitizePrometheusName()`), and `_` in front of a leading digit. The serializers of
 * `@gatewayz/telemetry-node` name every family with it.
 *
 * @example
 * ```ts
 * prometheusBaseName('gen_ai.client.operation.duration'); // 'gen_ai_client_operation_duration'
 * prometheusBaseName('5xx.rate'); // '_5xx_rate'
 * ```
 */
export function prometheusBaseName(instrumentName: string): string {
  const name = sanitizePrometheusName(escapePrometheusText(instrumentName));
  return name.length > 0 && name[0]! >= '0' && name[0]! <= '9' ? `_${name}` : name;
}

/**
 * The name an instrument's samples are exposed under: `prometheusBaseName()`, with `_total`
 * appended to a counter (a monotonic sum) that does not end in it already.
 *
 * @example
 * ```ts
 * prometheusExposedName('gatewayz_cost_by_provider', true); // 'gatewayz_cost_by_provider_total'
 * prometheusExposedName('provider_error_rate', false); // 'provider_error_rate'
 * ```
 */
export function prometheusExposedName(instrumentName: string, counter: boolean): string {
  const name = prometheusBaseName(instrumentName);
  return counter && !name.endsWith('_total') ? `${name}_total` : name;
}

/**
 * Escape text for a `# HELP` line or a label value of the Prometheus and OpenMetrics text formats:
 * backslash and line feed (label values also escape `"`).
 *
 * @example
 * ```ts
 * escapePrometheusText('latency\nin seconds'); // 'latency\\nin seconds'
 * ```
 */
export function escapePrometheusText(text: string): string {
  if (!/[\\\n]/.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * The Prometheus type a catalog metric is exposed as: counters as `counter`, histograms as
 * `histogram`, gauges and up-down counters as `gauge`.
 *
 * @example
 * ```ts
 * prometheusType(METRIC_CATALOG.httpRequestsInProgress); // 'gauge'
 * ```
 */
export function prometheusType(definition: MetricDefinition): 'counter' | 'gauge' | 'histogram' {
  if (definition.kind === 'counter') return 'counter';
  if (definition.kind === 'histogram') return 'histogram';
  return 'gauge';
}

/**
 * Replace characters Prometheus does not allow in names with `_`, as the OTel exporter does, and
 * collapse runs of `_` into one.
 *
 * @example
 * ```ts
 * sanitizePrometheusName('gen_ai.client.token.usage'); // 'gen_ai_client_token_usage'
 * ```
 */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
}
