import { OTLPExporterBase, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  ENCODED_TRACE_METRICS_HELPER,
  ENCODED_TRACE_SERIALIZER,
  EncodedSpanExporter,
} from './encoded-span-exporter.js';
import { createOtlpHttpExportDelegateWithDeadline } from '../otlp-transport/otlp-http-export-delegate.js';

/**
 * OTLP/HTTP protobuf span exporter for requests encoded as the spans ended
 * ({@link EncodingBatchSpanProcessor}). It takes the options `OTLPTraceExporter` takes, resolved as
 * the SDK resolves them, so `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`, `_HEADERS`, `_TIMEOUT` and
 * `_COMPRESSION`, retries and the concurrency limit behave as with the stock exporter, apart from
 * the transport's own differences (`createOtlpHttpExportDelegateWithDeadline`, docs/otlp-metrics.md):
 * an attempt ends within the timeout even while a collector trickles its answer, a `Retry-After`
 * naming no wait gets the backoff, and a `2xx` cut by a reset is not sent again. As a plain `SpanExporter` (`export(spans)`) it works behind any span processor too.
 *
 * @example
 * ```ts
 * const exporter = new OtlpProtobufTraceExporter({ url: 'http://collector:4318/v1/traces' });
 * const processor = new EncodingBatchSpanProcessor({ exporter });
 * ```
 */
export class OtlpProtobufTraceExporter extends EncodedSpanExporter {
  constructor(config: OTLPExporterNodeConfigBase = {}) {
    super(
      new OTLPExporterBase(
        createOtlpHttpExportDelegateWithDeadline(
          convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
          ENCODED_TRACE_SERIALIZER,
          'otlp_http_span_exporter',
          ENCODED_TRACE_METRICS_HELPER,
        ),
      ),
    );
  }
}
