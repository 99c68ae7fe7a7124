export { createSpanProcessorsFromEnv, type SpanProcessorsFromEnvOptions } from './create-span-processors-from-env.js';
export { createSpanDropMeterProvider, type SpanDropReason } from './span-drop-meter-provider.js';
export {
  EncodingBatchSpanProcessor,
  type EncodedTraceExporter,
  type EncodingBatchSpanProcessorOptions,
} from './encoding-batch-span-processor.js';
export { OtlpProtobufTraceExporter } from './otlp-protobuf-trace-exporter.js';
export { OtlpGrpcTraceExporter } from './otlp-grpc-trace-exporter.js';
export { TraceRequestBuilder, encodeTraceRequest, type EncodedTraceRequest } from './encoded-trace-request.js';
