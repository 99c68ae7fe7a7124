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
import {
  convertLegacyOtlpGrpcOptions,
  createEmptyMetadata,
  type OTLPGRPCExporterConfigNode,
} from '@opentelemetry/otlp-grpc-exporter-base';
import {
  JsonMetricsSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { warnConfiguration } from '../env/standard-variables.js';
import { createRetryingOtlpGrpcExportDelegate } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import { otlpGrpcCredentials } from '../otlp-grpc/otlp-grpc-credentials.js';
import { otlpHttpAgentOptions, type OtlpTlsSettings } from '../env/otlp-tls-from-env.js';
import type { MetricsTemporalityPreference, ResolvedOtlpMetrics } from './metrics-export-config.js';
import { withExemplars, type ExemplarLookup } from './exemplar-serializer.js';
import { reportingRejections, type RejectedDataPoints } from './partial-success.js';

/** The unary method of the OTLP metrics service every collector serves on its gRPC port. */
const METRICS_EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const NO_TLS_SETTINGS: OtlpTlsSettings = {
  certificateAuthority: undefined,
  clientKey: undefined,
  clientCertificate: undefined,
  insecure: false,
};

const PREFERENCES: Record<MetricsTemporalityPreference, AggregationTemporalityPreference> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/** gRPC metadata carrying `headers`; a header gRPC cannot carry is warned about and left out. */
function metadataOf(headers: Readonly<Record<string, string>>): ReturnType<typeof createEmptyMetadata> {
  const metadata = createEmptyMetadata();
  for (const [name, value] of Object.entries(headers)) {
    try {
      metadata.set(name, value);
    } catch (error) {
      warnConfiguration(
        `@gatewayz/telemetry-node: OTLP header "${name}" cannot be sent as gRPC metadata (${
          error instanceof Error ? error.message : String(error)
        }); leaving it out`,
      );
    }
  }
  return metadata;
}

/**
 * The OTLP exporter `config.protocol` names: `http/protobuf` or `http/json` over the SDK's retrying
 * HTTP transport, or `grpc` over its `@grpc/grpc-js` transport with our retries (the protobuf request
 * is the same as for `http/protobuf`; headers go as metadata; an `http://` endpoint is plaintext, `https://` TLS,
 * a `host:port` TLS unless `config.tls.insecure`). TLS trusts `config.tls`'s CA and presents its
 * client certificate, over either transport; the TLS variables of `process.env` are not read.
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
  const tls = config.tls ?? NO_TLS_SETTINGS;
  if (config.protocol === 'grpc') {
    const options: OTLPMetricExporterOptions & OTLPGRPCExporterConfigNode = {
      ...shared,
      url: config.url,
      metadata: metadataOf(config.headers),
      credentials: otlpGrpcCredentials(config.url, tls),
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
    httpAgentOptions: otlpHttpAgentOptions(tls),
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
