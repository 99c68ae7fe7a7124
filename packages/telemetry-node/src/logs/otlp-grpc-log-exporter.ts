import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyOtlpGrpcOptions, type OTLPGRPCExporterConfigNode } from '@opentelemetry/otlp-grpc-exporter-base';
import { LogsExporterMetricsHelper, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  createRetryingOtlpGrpcExportDelegate,
  type OtlpGrpcService,
} from '../otlp-grpc/retrying-grpc-export-delegate.js';

/** The OTLP logs service every collector serves on its gRPC port. */
export const LOGS_GRPC_SERVICE: OtlpGrpcService<ReadableLogRecord[]> = {
  name: 'LogsExportService',
  path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  componentType: 'otlp_grpc_log_exporter',
  metricsHelper: LogsExporterMetricsHelper,
};

/**
 * OTLP/gRPC log record exporter: what `@opentelemetry/exporter-logs-otlp-grpc` sends, with OTLP
 * retries of transient failures within the export timeout, as the traces and metrics gRPC
 * exporters. Options not given in `config` come from `process.env` as the stock exporter reads them
 * (`OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, `_INSECURE`,
 * `_CERTIFICATE`, `_CLIENT_KEY`, `_CLIENT_CERTIFICATE`); `startTelemetry()` builds its own from
 * the settings of its `env`.
 *
 * @example
 * ```ts
 * const processor = new BatchLogRecordProcessor(new OtlpGrpcLogExporter({ url: 'http://collector:4317' }));
 * ```
 */
export class OtlpGrpcLogExporter extends OTLPExporterBase<ReadableLogRecord[]> implements LogRecordExporter {
  constructor(config: OTLPGRPCExporterConfigNode = {}) {
    super(
      createRetryingOtlpGrpcExportDelegate(
        convertLegacyOtlpGrpcOptions(config, 'LOGS'),
        ProtobufLogsSerializer,
        LOGS_GRPC_SERVICE,
      ),
    );
  }
}
