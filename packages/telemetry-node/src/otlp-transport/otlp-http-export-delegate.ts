/**
 * The OTLP/HTTP export delegate of all three signals: the SDK's own parts (export delegate, bounded
 * queue of exports in flight, exporter self-metrics) around {@link createOtlpHttpTransport}, whose
 * attempts end within the export timeout, retried by {@link createRetryingTransport} within the same
 * timeout (a `Retry-After` that names no wait gets the backoff). In place of the SDK's
 * `createOtlpHttpExportDelegate`, whose attempts a collector trickling its answer could hold for
 * ever, and with them `forceFlush()` and `shutdown()`.
 */
import { createOtlpNetworkExportDelegate, type IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExporterMetrics } from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExporterMetricsHelper, ISerializer } from '@opentelemetry/otlp-transformer';
import type { OtlpHttpDelegateOptions } from '../env/otlp-exporter-config.js';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { createOtlpHttpTransport } from './otlp-http-transport.js';
import { createRetryingTransport, type RetryDelay } from './retrying-transport.js';

/** An HTTP answer's wait: the `Retry-After` of a retryable status, or else the backoff. */
export const httpRetryDelay: RetryDelay = (response, backoffMillis) =>
  response.status === 'retryable' ? (response.retryInMillis ?? backoffMillis) : undefined;

/**
 * An export delegate (for `OTLPExporterBase` / `OTLPMetricExporterBase`) posting `serializer`'s bytes
 * to `options.url`, every attempt and retry within `options.timeoutMillis`, and while a flush of
 * `flushDeadline` runs within that timeout counted from the flush's start. `componentType` and
 * `metricsHelper` name the exporter in the SDK's self-metrics, as for `createOtlpHttpExportDelegate`.
 *
 * @example
 * ```ts
 * const delegate = createOtlpHttpExportDelegateWithDeadline(
 *   convertLegacyHttpOptions({}, 'LOGS', 'v1/logs', { 'Content-Type': 'application/x-protobuf' }),
 *   ProtobufLogsSerializer,
 *   'otlp_http_log_exporter',
 *   LogsExporterMetricsHelper,
 * );
 * const exporter = new OTLPExporterBase(delegate);
 * ```
 */
export function createOtlpHttpExportDelegateWithDeadline<Internal, Response>(
  options: OtlpHttpDelegateOptions,
  serializer: ISerializer<Internal, Response>,
  componentType: string,
  metricsHelper: IExporterMetricsHelper<Internal>,
  flushDeadline?: FlushDeadline,
): IOtlpExportDelegate<Internal> {
  return createOtlpNetworkExportDelegate(
    options,
    serializer,
    createOtlpHttpExporterMetrics(componentType, metricsHelper, options.url, undefined),
    createRetryingTransport(createOtlpHttpTransport(options), httpRetryDelay, { flushDeadline }),
  );
}
