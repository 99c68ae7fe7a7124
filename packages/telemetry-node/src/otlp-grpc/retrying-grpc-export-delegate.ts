/**
 * The OTLP/gRPC export delegate of all three signals: the SDK's own parts (gRPC transport, export
 * delegate, exporter self-metrics) with {@link createRetryingGrpcTransport} between the delegate and
 * the transport, so a collector's transient refusal (UNAVAILABLE from its memory limiter, say) costs
 * a retry rather than the batch.
 */
import { createOtlpNetworkExportDelegate, type IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import {
  createOtlpGrpcExporterMetrics,
  type convertLegacyOtlpGrpcOptions,
} from '@opentelemetry/otlp-grpc-exporter-base';
// The package has no `exports` map, so this path resolves from ESM and CJS alike; its index does not
// re-export the transport, and the version is pinned exactly in package.json.
import { createOtlpGrpcExporterTransport } from '@opentelemetry/otlp-grpc-exporter-base/build/src/grpc-exporter-transport.js';
import type { IExporterMetricsHelper, ISerializer } from '@opentelemetry/otlp-transformer';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { createRetryingGrpcTransport } from './retrying-grpc-transport.js';

/** The resolved gRPC options `convertLegacyOtlpGrpcOptions` returns (endpoint, credentials, metadata, timeout, ...). */
export type OtlpGrpcOptions = ReturnType<typeof convertLegacyOtlpGrpcOptions>;

/** Which gRPC service an exporter calls, and how the SDK's exporter self-metrics name it. */
export interface OtlpGrpcService<Internal> {
  /** The service name, e.g. `TraceExportService`. */
  name: string;
  /** The unary Export method path, e.g. `/opentelemetry.proto.collector.trace.v1.TraceService/Export`. */
  path: string;
  /** The `otel.component.type` of the exporter's self-metrics, e.g. `otlp_grpc_span_exporter`. */
  componentType: string;
  metricsHelper: IExporterMetricsHelper<Internal>;
}

/**
 * An export delegate (for `OTLPExporterBase` / `OTLPMetricExporterBase`) sending `serializer`'s
 * bytes to `service` over gRPC, retrying transient failures within `options.timeoutMillis` (while a
 * flush of `flushDeadline` runs, within that timeout counted from the flush's start).
 *
 * @example
 * ```ts
 * const delegate = createRetryingOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions({}, 'LOGS'), ProtobufLogsSerializer, {
 *   name: 'LogsExportService',
 *   path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
 *   componentType: 'otlp_grpc_log_exporter',
 *   metricsHelper: LogsExporterMetricsHelper,
 * });
 * const exporter = new OTLPExporterBase(delegate);
 * ```
 */
export function createRetryingOtlpGrpcExportDelegate<Internal, Response>(
  options: OtlpGrpcOptions,
  serializer: ISerializer<Internal, Response>,
  service: OtlpGrpcService<Internal>,
  flushDeadline?: FlushDeadline,
): IOtlpExportDelegate<Internal> {
  const transport = createOtlpGrpcExporterTransport({
    address: options.url,
    compression: options.compression,
    credentials: options.credentials,
    metadata: options.metadata,
    ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    grpcName: service.name,
    grpcPath: service.path,
  });
  return createOtlpNetworkExportDelegate(
    options,
    serializer,
    createOtlpGrpcExporterMetrics(service.componentType, service.metricsHelper, options.url, undefined),
    createRetryingGrpcTransport(transport, { flushDeadline }),
  );
}
