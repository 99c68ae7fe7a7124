import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyOtlpGrpcOptions, type OTLPGRPCExporterConfigNode } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  createRetryingOtlpGrpcExportDelegate,
  type OtlpGrpcService,
} from '../otlp-grpc/retrying-grpc-export-delegate.js';
import type { EncodedTraceRequest } from './encoded-trace-request.js';
import {
  ENCODED_TRACE_METRICS_HELPER,
  ENCODED_TRACE_SERIALIZER,
  EncodedSpanExporter,
} from './encoded-span-exporter.js';

/** The OTLP trace service every collector serves on its gRPC port, for encoded requests. */
export const ENCODED_TRACE_GRPC_SERVICE: OtlpGrpcService<EncodedTraceRequest> = {
  name: 'TraceExportService',
  path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  componentType: 'otlp_grpc_span_exporter',
  metricsHelper: ENCODED_TRACE_METRICS_HELPER,
};

/**
 * OTLP/gRPC span exporter for requests encoded as the spans ended
 * ({@link EncodingBatchSpanProcessor}). An encoded request is already the protobuf
 * `ExportTraceServiceRequest` a gRPC Export call carries, so only the transport differs from
 * {@link OtlpProtobufTraceExporter}: the SDK's own gRPC transport (`@grpc/grpc-js`, options as
 * `@opentelemetry/exporter-trace-otlp-grpc` reads them) with OTLP retries of transient failures
 * within the export timeout, and a serializer that hands the bytes through. Options not given in
 * `config` come from `process.env` as the stock exporter reads them (`OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`,
 * default `http://localhost:4317`, `_HEADERS` as metadata, `_TIMEOUT`, `_COMPRESSION`, `_INSECURE`,
 * `_CERTIFICATE`, `_CLIENT_KEY`, `_CLIENT_CERTIFICATE`); `startTelemetry()` builds its own from
 * the settings of its `env`. As a plain `SpanExporter` it works
 * behind any span processor too.
 *
 * @example
 * ```ts
 * const exporter = new OtlpGrpcTraceExporter({ url: 'http://collector:4317' });
 * const processor = new EncodingBatchSpanProcessor({ exporter });
 * ```
 */
export class OtlpGrpcTraceExporter extends EncodedSpanExporter {
  constructor(config: OTLPGRPCExporterConfigNode = {}) {
    super(
      new OTLPExporterBase(
        createRetryingOtlpGrpcExportDelegate(
          convertLegacyOtlpGrpcOptions(config, 'TRACES'),
          ENCODED_TRACE_SERIALIZER,
          ENCODED_TRACE_GRPC_SERVICE,
        ),
      ),
    );
  }
}
