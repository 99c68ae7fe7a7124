import { FlushDeadline } from '../flush/flush-deadline.js';
import type { StartTelemetryOptions } from '../sdk/start-telemetry.js';
import { BoundedLogRecordProcessor, type LogDropReason } from './bounded-log-record-processor.js';
import { createLogExportersFromEnv, logBatchFromEnv } from './log-exporters-from-env.js';

/**
 * The log record processors `startTelemetry()` gives its logger provider: none for `logs: false`,
 * else one bounded batch processor for the `exporter` given or for each exporter
 * `OTEL_LOGS_EXPORTER` of `env` lists, with the batch settings of the option, else `OTEL_BLRP_*`.
 * Records lost are reported to `onDrop`: by the processors, and as `rejected` the records an OTLP
 * backend rejects from a request it accepted (a partial success; the export itself succeeded).
 * Throws a `TelemetryConfigurationError` for a TLS file of `env` that cannot be used.
 *
 * @example
 * ```ts
 * const processors = createLogRecordProcessors(undefined, process.env, (reason, count) =>
 *   telemetry.add('telemetryLogsDropped', count, { reason }),
 * );
 * ```
 */
export function createLogRecordProcessors(
  option: StartTelemetryOptions['logs'],
  env: NodeJS.ProcessEnv,
  onDrop: (reason: LogDropReason | 'rejected', count: number) => void,
): BoundedLogRecordProcessor[] {
  if (option === false) return [];
  // The processors' flushes bound the OTLP transport's exports: one export timeout per flush.
  const flushDeadline = new FlushDeadline();
  const exporters =
    option?.exporter !== undefined
      ? [option.exporter]
      : createLogExportersFromEnv(env, (count) => onDrop('rejected', count), flushDeadline);
  const batch = exporters.length > 0 ? logBatchFromEnv(env) : undefined;
  return exporters.map(
    (exporter) =>
      new BoundedLogRecordProcessor({
        exporter,
        maxQueueSize: option?.maxQueueSize ?? batch?.maxQueueSize ?? 2048,
        scheduledDelayMillis: option?.scheduledDelayMillis ?? batch?.scheduledDelayMillis ?? 1000,
        ...(batch?.maxExportBatchSize !== undefined ? { maxExportBatchSize: batch.maxExportBatchSize } : {}),
        ...(batch?.exportTimeoutMillis !== undefined ? { exportTimeoutMillis: batch.exportTimeoutMillis } : {}),
        onDrop,
        flushDeadline,
      }),
  );
}
