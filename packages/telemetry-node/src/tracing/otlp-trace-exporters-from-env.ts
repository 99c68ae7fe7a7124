/**
 * The OTLP span exporters `createSpanProcessorsFromEnv()` builds: the SDK's own parts (export
 * delegate, transport, serializer, self-metrics helper), as its exporter classes assemble them, with
 * every transport setting read from the `env` given (see `otlpExporterVariables` and
 * `otlpTlsFromEnv`) and none from `process.env`. Spans the backend rejects from an accepted request
 * (an OTLP partial success) are reported to the caller's `onRejected`.
 */
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  JsonTraceSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpGrpcDelegateOptions, otlpHttpDelegateOptions } from '../env/otlp-exporter-config.js';
import { otlpExporterVariables } from '../env/otlp-exporter-variables.js';
import { otlpTlsFromEnv } from '../env/otlp-tls-from-env.js';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { countingRejections, reportingRejectedItems, type RejectedItems } from '../otlp-metrics/partial-success.js';
import { createRetryingOtlpGrpcExportDelegate } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import {
  AssembledEncodedSpanExporter,
  ENCODED_TRACE_METRICS_HELPER,
  ENCODED_TRACE_SERIALIZER,
  type EncodedSpanExporter,
} from './encoded-span-exporter.js';
import { ENCODED_TRACE_GRPC_SERVICE } from './otlp-grpc-trace-exporter.js';
import { createOtlpHttpExportDelegateWithDeadline } from '../otlp-transport/otlp-http-export-delegate.js';

/** The `otel.component.type` of the SDK's OTLP/HTTP span exporters' self-metrics. */
const HTTP_SPAN_EXPORTER = 'otlp_http_span_exporter';

/** Counts the spans the backend at `url` rejects with `onRejected`, with a warning when rejections start. */
function countingRejectedSpans(
  url: string,
  onRejected: (count: number) => void,
): (rejected: RejectedItems | undefined) => void {
  return countingRejections({
    items: 'spans',
    url,
    series: 'gatewayz_telemetry_spans_dropped_total{reason="rejected"}',
    count: onRejected,
  });
}

/**
 * The exporter of requests encoded as the spans ended, over OTLP/gRPC (`grpc`) or OTLP/HTTP
 * protobuf: what {@link OtlpGrpcTraceExporter} and {@link OtlpProtobufTraceExporter} send. Its
 * exports are bounded by the flushes of `flushDeadline` (the processor's).
 */
export function encodedSpanExporterFromEnv(
  env: NodeJS.ProcessEnv,
  grpc: boolean,
  onRejected: (count: number) => void,
  flushDeadline?: FlushDeadline,
): EncodedSpanExporter {
  const variables = otlpExporterVariables(env, 'TRACES', grpc);
  // TLS files are read now, once: a bad one fails start-up, not every export.
  const tls = otlpTlsFromEnv(env, 'TRACES');
  const serializer = reportingRejectedItems(
    ENCODED_TRACE_SERIALIZER,
    'rejectedSpans',
    countingRejectedSpans(variables.url, onRejected),
  );
  if (grpc)
    return new AssembledEncodedSpanExporter(
      new OTLPExporterBase(
        createRetryingOtlpGrpcExportDelegate(
          otlpGrpcDelegateOptions(variables, tls),
          serializer,
          ENCODED_TRACE_GRPC_SERVICE,
          flushDeadline,
        ),
      ),
    );
  return new AssembledEncodedSpanExporter(
    new OTLPExporterBase(
      createOtlpHttpExportDelegateWithDeadline(
        otlpHttpDelegateOptions(variables, tls, 'TRACES', 'application/x-protobuf'),
        serializer,
        HTTP_SPAN_EXPORTER,
        ENCODED_TRACE_METRICS_HELPER,
        flushDeadline,
      ),
    ),
  );
}

/**
 * The SDK's OTLP/HTTP span exporter (`http/protobuf` or `http/json`), for the stock batch processor:
 * what `OTLPTraceExporter` of `@opentelemetry/exporter-trace-otlp-proto` / `-http` sends. Its
 * exports are bounded by the flushes of `flushDeadline` (the processor's).
 */
export function httpSpanExporterFromEnv(
  env: NodeJS.ProcessEnv,
  json: boolean,
  onRejected: (count: number) => void,
  flushDeadline?: FlushDeadline,
): SpanExporter {
  const variables = otlpExporterVariables(env, 'TRACES', false);
  const tls = otlpTlsFromEnv(env, 'TRACES');
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegateWithDeadline(
      otlpHttpDelegateOptions(variables, tls, 'TRACES', json ? 'application/json' : 'application/x-protobuf'),
      reportingRejectedItems(
        json ? JsonTraceSerializer : ProtobufTraceSerializer,
        'rejectedSpans',
        countingRejectedSpans(variables.url, onRejected),
      ),
      HTTP_SPAN_EXPORTER,
      TraceExporterMetricsHelper,
      flushDeadline,
    ),
  );
}
