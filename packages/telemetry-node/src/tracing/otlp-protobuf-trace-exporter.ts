import { OTLPExporterBase, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  ENCODED_TRACE_METRICS_HELPER,
  ENCODED_TRACE_SERIALIZER,
  EncodedSpanExporter,
} from './encoded-span-exporter.js';

/**
 * OTLP/HTTP protobuf span exporter for requests encoded as the spans ended
 * ({@link EncodingBatchSpanProcessor}). The transport is the SDK's own (`createOtlpHttpExportDelegate`
 * with the options `OTLPTraceExporter` uses), so `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`, `_HEADERS`,
 * `_TIMEOUT` and `_COMPRESSION`, retries and the concurrency limit behave exactly as with the stock
 * exporter. As a plain `SpanExporter` (`export(spans)`) it works behind any span processor too.
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
        createOtlpHttpExportDelegate(
          convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
          ENCODED_TRACE_SERIALIZER,
          'otlp_http_span_exporter',
          ENCODED_TRACE_METRICS_HELPER,
          undefined,
        ),
      ),
    );
  }
}
