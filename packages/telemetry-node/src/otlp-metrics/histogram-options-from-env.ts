/**
 * The options of the helpers' histograms that the standard variables and the resolved metrics
 * export set: exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`) on every exporter, and the exponential
 * histograms the OTLP push sends.
 */
import type { ExemplarFilter, ExponentialHistogramLimits } from '@gatewayz/telemetry';
import { EXEMPLAR_FILTERS } from '@gatewayz/telemetry/metrics';
import { readEnvEnum } from '../env/standard-variables.js';
import type { ResolvedMetricsExport } from './metrics-export-config.js';

/**
 * `OTEL_METRICS_EXEMPLAR_FILTER` for the helpers' histograms, on every exporter (the OpenMetrics
 * exposition and the OTLP push alike): `trace_based`, the specification's default, keeps per bucket
 * the latest observation made inside a sampled span; `always_on` the latest observation whatever
 * its context, with the trace and span ids when a sampled span was active (without them otherwise,
 * as OTLP allows); `always_off` keeps none. Any case; another value is warned about and
 * `trace_based` applies. Returns the helpers' `exemplars` option, or `undefined` when the variable
 * is unset or ignored (their default, `trace_based`).
 *
 * @example
 * ```ts
 * exemplarsFromEnv({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_on' }); // 'always_on'
 * ```
 */
export function exemplarsFromEnv(env: NodeJS.ProcessEnv): ExemplarFilter | undefined {
  return readEnvEnum(env, 'OTEL_METRICS_EXEMPLAR_FILTER', EXEMPLAR_FILTERS, 'using trace_based');
}

/**
 * The helpers' histogram options `env` and the resolved export ask for: exemplars per
 * `OTEL_METRICS_EXEMPLAR_FILTER` (see {@link exemplarsFromEnv}), and exponential histograms, kept
 * beside the explicit buckets (which the Prometheus endpoints read) when the OTLP push sends them.
 *
 * @example
 * ```ts
 * new GatewayTelemetry({ exportVia: 'producer', ...histogramOptionsFrom(env, resolveMetricsExport(undefined, env)) });
 * ```
 */
export function histogramOptionsFrom(
  env: NodeJS.ProcessEnv,
  resolved: ResolvedMetricsExport,
): { exemplars?: ExemplarFilter; exponentialHistograms?: ExponentialHistogramLimits } {
  const exemplars = exemplarsFromEnv(env);
  const exponentialHistograms = resolved.otlp?.exponentialHistograms;
  return {
    ...(exemplars !== undefined ? { exemplars } : {}),
    ...(exponentialHistograms !== undefined ? { exponentialHistograms } : {}),
  };
}
