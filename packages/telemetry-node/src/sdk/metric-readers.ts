/**
 * The metric readers `startTelemetry()` gives the SDK, one per exporter the configuration asks for.
 * Each reader has its own producer over the same in-process series: reading never changes them, so
 * every path carries the same values and nothing is counted twice.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { GatewayTelemetry } from '@gatewayz/telemetry';
import type { ExemplarDataPoint } from '../exposition/exemplar-data-point.js';
import type { ResolvedMetricsExport } from '../otlp-metrics/metrics-export-config.js';
import { createOtlpMetricsReader } from '../otlp-metrics/otlp-metrics-reader.js';
import { createTelemetryMetricProducer } from './telemetry-metric-producer.js';
import { warnConfiguration } from '../env/standard-variables.js';

/** The readers for `metricsExport`, and the Prometheus exporter among them (the metrics endpoints' source) if any. */
export function createMetricReaders(
  telemetry: GatewayTelemetry,
  metricsExport: ResolvedMetricsExport,
  withScopeInfo: boolean,
): { readonly exporter: PrometheusExporter | undefined; readonly readers: MetricReader[] } {
  const exporter = metricsExport.prometheus
    ? new PrometheusExporter({
        preventServerStart: true,
        withoutScopeInfo: !withScopeInfo,
        metricProducers: [createTelemetryMetricProducer(telemetry)],
      })
    : undefined;
  const readers: MetricReader[] = exporter !== undefined ? [exporter] : [];
  if (metricsExport.otlp !== undefined) {
    readers.push(
      createOtlpMetricsReader(
        metricsExport.otlp,
        createTelemetryMetricProducer(telemetry, {
          histograms: metricsExport.otlp.exponentialHistograms !== undefined ? 'exponential' : 'explicit',
        }),
        (reason) => telemetry.add('telemetryExportFailures', 1, { signal: 'metrics', reason }),
        (point) => (point as ExemplarDataPoint).exemplars?.slots.filter((slot) => slot !== undefined),
      ),
    );
  }
  if (metricsExport.console !== undefined) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new ConsoleMetricExporter(),
        metricProducers: [createTelemetryMetricProducer(telemetry)],
        // OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT, which the specification sets for every periodic reader.
        exportIntervalMillis: metricsExport.console.exportIntervalMillis,
        exportTimeoutMillis: metricsExport.console.exportTimeoutMillis,
      }),
    );
  }
  if (metricsExport.prometheusServerVariables.length > 0) {
    warnConfiguration(
      `@gatewayz/telemetry-node: ${metricsExport.prometheusServerVariables.join(', ')} ignored: the Prometheus exporter starts no server of its own; serve metricsHandler (or nodeMetricsListener) on the application's port`,
    );
  }
  return { exporter, readers };
}
