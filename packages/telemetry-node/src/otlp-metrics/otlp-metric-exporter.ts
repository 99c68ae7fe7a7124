/**
 * The maintained OTLP metric exporters, assembled from the parts the
 * `@opentelemetry/exporter-metrics-otlp-{proto,http,grpc}` classes use (export delegate, transport,
 * stock serializer), with the serializer wrapped to add exemplars and to report partial successes.
 * Options are given explicitly from the resolved configuration, so `startTelemetry({ env })` is what
 * counts.
 */
import {
  AggregationTemporalityPreference,
  OTLPMetricExporterBase,
  type OTLPMetricExporterOptions,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { CompressionAlgorithm, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, type OTLPGRPCExporterConfigNode } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  JsonMetricsSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { grpcMetadataOf } from '../env/otlp-exporter-config.js';
import { createRetryingOtlpGrpcExportDelegate } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import type { MetricsTemporalityPreference, ResolvedOtlpMetrics } from './metrics-export-config.js';
import { withExemplars, type ExemplarLookup } from './exemplar-serializer.js';
import { reportingRejections, type RejectedDataPoints } from './partial-success.js';

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
 * is the same as for `http/protobuf`; headers go as metadata; an `http://` endpoint is plaintext, `https://` TLS
 * with `OTEL_EXPORTER_OTLP_(METRICS_)CERTIFICATE`, `_CLIENT_KEY` and `_CLIENT_CERTIFICATE`, a
 * `host:port` TLS unless `OTEL_EXPORTER_OTLP_(METRICS_)INSECURE` is `true`, as the SDK reads them).
 *
 * @example
 * ```ts
 * const exporter = createOtlpMetricExporter(resolved.otlp, () => undefined, (rejected) => count(rejected.dataPoints));
 * ```
 */
export function createOtlpMetricExporter(
  config: ResolvedOtlpMetrics,
  exemplars: ExemplarLookup,
  onRejected: (rejected: RejectedDataPoints) => void,
): PushMetricExporter {
  const shared = {
    timeoutMillis: Math.min(config.timeoutMillis, config.exportTimeoutMillis),
    compression: config.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    temporalityPreference: PREFERENCES[config.temporalityPreference],
  };
  const json = config.protocol === 'http/json';
  const serializer = reportingRejections(
    withExemplars(json ? JsonMetricsSerializer : ProtobufMetricsSerializer, json ? 'json' : 'protobuf', exemplars),
    onRejected,
  );
  if (config.protocol === 'grpc') {
    const options: OTLPMetricExporterOptions & OTLPGRPCExporterConfigNode = {
      ...shared,
      url: config.url,
      metadata: grpcMetadataOf(config.headers),
    };
    const delegate = createRetryingOtlpGrpcExportDelegate(
      convertLegacyOtlpGrpcOptions(options, 'METRICS'),
      serializer,
      {
        name: 'MetricsExportService',
        path: METRICS_EXPORT_METHOD,
        componentType: 'otlp_grpc_metric_exporter',
        metricsHelper: MetricsExporterMetricsHelper,
      },
    );
    return new OTLPMetricExporterBase(delegate, options);
  }
  const options: OTLPMetricExporterOptions & OTLPExporterNodeConfigBase = {
    ...shared,
    url: config.url,
    headers: { ...config.headers },
  };
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(options, 'METRICS', 'v1/metrics', {
      'Content-Type': json ? 'application/json' : 'application/x-protobuf',
    }),
    serializer,
    'otlp_http_metric_exporter',
    MetricsExporterMetricsHelper,
    undefined,
  );
  return new OTLPMetricExporterBase(delegate, options);
}
