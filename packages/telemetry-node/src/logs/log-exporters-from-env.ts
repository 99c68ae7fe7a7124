import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { JsonLogsSerializer, LogsExporterMetricsHelper, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import {
  ConsoleLogRecordExporter,
  type LogRecordExporter,
  type LogRecordLimits,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  readEnvDuration,
  readEnvInteger,
  readEnvExporterNames,
  readEnvString,
  readEnvTimeout,
} from '../env/standard-variables.js';
import { otlpGrpcDelegateOptions, otlpHttpDelegateOptions } from '../env/otlp-exporter-config.js';
import { otlpExporterVariables, otlpProtocolFromEnv } from '../env/otlp-exporter-variables.js';
import { otlpTlsFromEnv } from '../env/otlp-tls-from-env.js';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { createRetryingOtlpGrpcExportDelegate } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import { countingRejections, reportingRejectedItems } from '../otlp-metrics/partial-success.js';
import { LOGS_GRPC_SERVICE } from './otlp-grpc-log-exporter.js';
import { createOtlpHttpExportDelegateWithDeadline } from '../otlp-transport/otlp-http-export-delegate.js';

/** The batch settings `OTEL_BLRP_*` give, each `undefined` when unset or invalid (the default then applies). */
export interface LogBatchFromEnv {
  maxQueueSize: number | undefined;
  maxExportBatchSize: number | undefined;
  scheduledDelayMillis: number | undefined;
  exportTimeoutMillis: number | undefined;
}

/**
 * The OTLP log exporter for `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`
 * (default `http/protobuf`); log records the backend rejects from an accepted request (an OTLP
 * partial success) go to `onRejected`, with a warning when rejections start. Its exports are bounded
 * by the flushes of `flushDeadline`.
 */
function otlpLogExporter(
  env: NodeJS.ProcessEnv,
  onRejected: (count: number) => void,
  flushDeadline: FlushDeadline | undefined,
): LogRecordExporter {
  const protocol = otlpProtocolFromEnv(env, 'LOGS');
  // Every transport setting comes from `env`: the SDK's exporter classes would read `process.env`.
  const variables = otlpExporterVariables(env, 'LOGS', protocol === 'grpc');
  // TLS files are read now, once: a bad one fails start-up, not every export.
  const tls = otlpTlsFromEnv(env, 'LOGS');
  const onResponse = countingRejections({
    items: 'log records',
    url: variables.url,
    series: 'gatewayz_telemetry_logs_dropped_total{reason="rejected"}',
    count: onRejected,
  });
  if (protocol === 'grpc')
    return new OTLPExporterBase(
      createRetryingOtlpGrpcExportDelegate(
        otlpGrpcDelegateOptions(variables, tls),
        reportingRejectedItems(ProtobufLogsSerializer, 'rejectedLogRecords', onResponse),
        LOGS_GRPC_SERVICE,
        flushDeadline,
      ),
    );
  const json = protocol === 'http/json';
  return new OTLPExporterBase<ReadableLogRecord[]>(
    createOtlpHttpExportDelegateWithDeadline(
      otlpHttpDelegateOptions(variables, tls, 'LOGS', json ? 'application/json' : 'application/x-protobuf'),
      reportingRejectedItems(json ? JsonLogsSerializer : ProtobufLogsSerializer, 'rejectedLogRecords', onResponse),
      'otlp_http_log_exporter',
      LogsExporterMetricsHelper,
      flushDeadline,
    ),
  );
}

/**
 * The log exporters the standard variables ask for. `OTEL_LOGS_EXPORTER` is a comma list of `otlp`
 * and `console`, or `none`; unset, logs are exported over OTLP only when an OTLP endpoint variable
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`) is set, and otherwise stay on
 * standard output. Unknown names are warned about and skipped; a list of unknown names only is
 * ignored, as if unset. The OTLP exporter speaks the
 * protocol of `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL` (default
 * `http/protobuf`) and reads its endpoint, headers, timeout and compression from the standard
 * variables itself; the records its backend rejects from an accepted request (an OTLP partial
 * success) are reported to `onRejected`. Give the processors' `flushDeadline` so that an export
 * starting during their flush gets what is left of one timeout counted from the flush's start.
 *
 * @example
 * ```ts
 * const exporters = createLogExportersFromEnv(
 *   { OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
 *   (count) => telemetry.add('telemetryLogsDropped', count, { reason: 'rejected' }),
 * );
 * ```
 */
export function createLogExportersFromEnv(
  env: NodeJS.ProcessEnv,
  onRejected: (count: number) => void = () => {},
  flushDeadline?: FlushDeadline,
): LogRecordExporter[] {
  const names = readEnvExporterNames(
    env,
    'OTEL_LOGS_EXPORTER',
    ['otlp', 'console'],
    'otlp, console or none',
    'exporting no logs',
  );
  if (names === undefined) {
    const endpointSet =
      readEnvString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined ||
      readEnvString(env, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT') !== undefined;
    return endpointSet ? [otlpLogExporter(env, onRejected, flushDeadline)] : [];
  }
  const exporters: LogRecordExporter[] = [];
  for (const name of names) {
    if (name === 'otlp') exporters.push(otlpLogExporter(env, onRejected, flushDeadline));
    else exporters.push(new ConsoleLogRecordExporter());
  }
  return exporters;
}

/**
 * `OTEL_BLRP_*`: sizes positive, the delay non-negative, the export timeout non-negative with `0` for
 * no limit (both durations at most 2^31 − 1 ms, the longest timer Node.js keeps).
 */
export function logBatchFromEnv(env: NodeJS.ProcessEnv): LogBatchFromEnv {
  return {
    maxQueueSize: readEnvInteger(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 1),
    maxExportBatchSize: readEnvInteger(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1),
    scheduledDelayMillis: readEnvDuration(env, 'OTEL_BLRP_SCHEDULE_DELAY'),
    exportTimeoutMillis: readEnvTimeout(env, 'OTEL_BLRP_EXPORT_TIMEOUT'),
  };
}

/**
 * The log record limits of the standard variables, each a non-negative integer:
 * `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT` and `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, falling
 * back to the general `OTEL_ATTRIBUTE_*`; unset or invalid ones take the specification's defaults
 * (128 attributes, no length limit).
 *
 * @example
 * ```ts
 * logRecordLimitsFromEnv({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256' }); // { attributeCountLimit: 128, attributeValueLengthLimit: 256 }
 * ```
 */
export function logRecordLimitsFromEnv(env: NodeJS.ProcessEnv): Required<LogRecordLimits> {
  return {
    attributeCountLimit:
      readEnvInteger(env, 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 0) ??
      readEnvInteger(env, 'OTEL_ATTRIBUTE_COUNT_LIMIT', 0) ??
      128,
    attributeValueLengthLimit:
      readEnvInteger(env, 'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0) ??
      readEnvInteger(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0) ??
      Infinity,
  };
}
