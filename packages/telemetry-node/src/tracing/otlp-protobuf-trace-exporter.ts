import type { ExportResult } from '@opentelemetry/core';
import { OTLPExporterBase, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest, type EncodedTraceRequest } from './encoded-trace-request.js';

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
export class OtlpProtobufTraceExporter implements SpanExporter {
  private readonly transport: OTLPExporterBase<EncodedTraceRequest>;

  constructor(config: OTLPExporterNodeConfigBase = {}) {
    this.transport = new OTLPExporterBase(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        {
          serializeRequest: (request: EncodedTraceRequest) => request.bytes,
          deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
        },
        'otlp_http_span_exporter',
        { name: 'span', countItems: (request: EncodedTraceRequest) => request.spanCount },
        undefined,
      ),
    );
  }

  /** Export spans handed over by any processor: encoded here, then sent. */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.transport.export(encodeTraceRequest(spans), resultCallback);
  }

  /** Send a request encoded as its spans ended. */
  exportEncoded(request: EncodedTraceRequest, resultCallback: (result: ExportResult) => void): void {
    this.transport.export(request, resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.transport.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.transport.shutdown();
  }
}
