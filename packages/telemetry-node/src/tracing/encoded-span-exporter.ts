import type { ExportResult } from '@opentelemetry/core';
import type { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { ProtobufTraceSerializer, type IExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest, type EncodedTraceRequest } from './encoded-trace-request.js';

/** For the SDK's export delegates: an encoded request's bytes go as they are; the answer is read as usual. */
export const ENCODED_TRACE_SERIALIZER = {
  serializeRequest: (request: EncodedTraceRequest): Uint8Array => request.bytes,
  deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
};

/** Counts an encoded request's spans for the SDK's exporter self-metrics. */
export const ENCODED_TRACE_METRICS_HELPER: IExporterMetricsHelper<EncodedTraceRequest> = {
  name: 'span',
  countItems: (request) => request.spanCount,
};

/**
 * A span exporter over one of the SDK's OTLP transports, for requests encoded as the spans ended
 * ({@link EncodingBatchSpanProcessor}): the encoded protobuf `ExportTraceServiceRequest` is what
 * OTLP/HTTP and OTLP/gRPC both carry, so {@link OtlpProtobufTraceExporter} and
 * {@link OtlpGrpcTraceExporter} differ only by the transport they pass here. As a plain
 * `SpanExporter` (`export(spans)`) it works behind any span processor too.
 */
export abstract class EncodedSpanExporter implements SpanExporter {
  protected constructor(private readonly transport: OTLPExporterBase<EncodedTraceRequest>) {}

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

/**
 * An encoded-span exporter over a transport its caller assembled: `startTelemetry()`'s, from the
 * settings of its `env` alone (see `otlpHttpDelegateOptions`).
 */
export class AssembledEncodedSpanExporter extends EncodedSpanExporter {
  constructor(transport: OTLPExporterBase<EncodedTraceRequest>) {
    super(transport);
  }
}
