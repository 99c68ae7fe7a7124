/**
 * The maintained OTLP metric exporters, assembled from the parts the
 * `@opentelemetry/exporter-metrics-otlp-{proto,http,grpc}` classes use (export delegate, transport,
 * stock serializer), with the serializer wrapped to add exemplars and to report partial successes.
 * Options are given explicitly from the resolved configuration, so `startTelemetry({ env })` is what
 * counts.
 */
import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  JsonMetricsSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import {
  AggregationType,
  InstrumentType,
  type AggregationOption,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { otlpGrpcDelegateOptions, otlpHttpDelegateOptions } from '../env/otlp-exporter-config.js';
import type { OtlpExporterVariables } from '../env/otlp-exporter-variables.js';
import { NO_OTLP_TLS } from '../env/otlp-tls-from-env.js';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { createRetryingOtlpGrpcExportDelegate } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import type { MetricsTemporalityPreference, ResolvedOtlpMetrics } from './metrics-export-config.js';
import { withExemplars, type ExemplarLookup } from './exemplar-serializer.js';
import { reportingRejections, type RejectedItems } from './partial-success.js';
import { createOtlpHttpExportDelegateWithDeadline } from '../otlp-transport/otlp-http-export-delegate.js';

/** The unary method of the OTLP metrics service every collector serves on its gRPC port. */
const METRICS_EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const PREFERENCES: Record<MetricsTemporalityPreference, AggregationTemporalityPreference> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/**
 * The OTLP exporter `config.protocol` names: `http/protobuf` or `http/json` over the SDK's retrying
 * HTTP transport, or `grpc` over its `@grpc/grpc-js` transport with our retries (the protobuf request
 * is the same as for `http/protobuf`; headers go as metadata; an `http://` endpoint is plaintext, `https://` TLS,
 * a `host:port` TLS unless `config.tls.insecure`). TLS trusts `config.tls`'s CA and presents its
 * client certificate, over either transport; the TLS variables of `process.env` are not read. An
 * export starting while a flush of `flushDeadline` (the reader's) runs gets what is left of the
 * timeout counted from the flush's start.
 *
 * @example
 * ```ts
 * const exporter = createOtlpMetricExporter(resolved.otlp, () => undefined, (rejected) => count(rejected.count));
 * ```
 */
export function createOtlpMetricExporter(
  config: ResolvedOtlpMetrics,
  exemplars: ExemplarLookup,
  onRejected: (rejected: RejectedItems) => void,
  flushDeadline?: FlushDeadline,
): PushMetricExporter {
  // The SDK's own histograms (the runtime metrics') follow the same choice as the helpers'.
  const exponential = config.exponentialHistograms;
  const histogramAggregation: AggregationOption =
    exponential === undefined
      ? { type: AggregationType.DEFAULT }
      : { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: exponential.maxSize } };
  const preferences = {
    temporalityPreference: PREFERENCES[config.temporalityPreference],
    aggregationPreference: (type: InstrumentType): AggregationOption =>
      type === InstrumentType.HISTOGRAM ? histogramAggregation : { type: AggregationType.DEFAULT },
  };
  const json = config.protocol === 'http/json';
  const serializer = reportingRejections(
    withExemplars(json ? JsonMetricsSerializer : ProtobufMetricsSerializer, json ? 'json' : 'protobuf', exemplars),
    onRejected,
  );
  // Everything the transport needs, from the resolved configuration alone (see otlpHttpDelegateOptions).
  const variables: OtlpExporterVariables = {
    url: config.url,
    headers: config.headers,
    timeoutMillis: Math.min(config.timeoutMillis, config.exportTimeoutMillis),
    compression: config.compression,
  };
  const tls = config.tls ?? NO_OTLP_TLS;
  if (config.protocol === 'grpc') {
    const delegate = createRetryingOtlpGrpcExportDelegate(
      otlpGrpcDelegateOptions(variables, tls),
      serializer,
      {
        name: 'MetricsExportService',
        path: METRICS_EXPORT_METHOD,
        componentType: 'otlp_grpc_metric_exporter',
        metricsHelper: MetricsExporterMetricsHelper,
      },
      flushDeadline,
    );
    return new OTLPMetricExporterBase(delegate, preferences);
  }
  const delegate = createOtlpHttpExportDelegateWithDeadline(
    otlpHttpDelegateOptions(variables, tls, 'METRICS', json ? 'application/json' : 'application/x-protobuf'),
    serializer,
    'otlp_http_metric_exporter',
    MetricsExporterMetricsHelper,
    flushDeadline,
  );
  return new OTLPMetricExporterBase(delegate, preferences);
}
