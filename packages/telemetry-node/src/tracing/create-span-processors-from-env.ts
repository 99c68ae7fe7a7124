import { diag, type MeterProvider } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPHttpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  type BufferConfig,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { readEnvInteger, readEnvList, readEnvString, readEnvTimeout } from '../env/standard-variables.js';
import { otlpHttpAgentOptions, otlpTlsFromEnv } from '../env/otlp-tls-from-env.js';
import { otlpGrpcCredentials, otlpGrpcEndpointFromEnv } from '../otlp-grpc/otlp-grpc-credentials.js';
import { EncodingBatchSpanProcessor } from './encoding-batch-span-processor.js';
import { OtlpGrpcTraceExporter } from './otlp-grpc-trace-exporter.js';
import { OtlpProtobufTraceExporter } from './otlp-protobuf-trace-exporter.js';
import { createSpanDropMeterProvider, type SpanDropReason } from './span-drop-meter-provider.js';

/** Options of {@link createSpanProcessorsFromEnv}. */
export interface SpanProcessorsFromEnvOptions {
  /** Environment to read `OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_*PROTOCOL` and `OTEL_BSP_*` from. */
  env: NodeJS.ProcessEnv;
  /** Exporter to batch into instead of the OTLP exporter the variables describe. */
  exporter?: SpanExporter;
  /** Called with the sampled spans that were not exported: queue full or export failed. */
  onDrop: (reason: SpanDropReason, count: number) => void;
}

/**
 * The span processors the standard variables ask for: a batch processor configured by `OTEL_BSP_*`
 * in front of an OTLP exporter configured by `OTEL_EXPORTER_OTLP_TRACES_*`. For the protobuf
 * protocols (`http/protobuf`, the default, and `grpc`) that is {@link EncodingBatchSpanProcessor}
 * with {@link OtlpProtobufTraceExporter} or {@link OtlpGrpcTraceExporter} (same batching, same bytes
 * on the wire, a fraction of the CPU); with `GATEWAYZ_SPAN_PROCESSOR=batch`, an explicit `exporter`
 * or `http/json`, the stock `BatchSpanProcessor`, as `NodeSDK` builds it. Either way, sampled spans
 * dropped on a full queue or a failed export are reported to `onDrop` instead of only to a debug log.
 *
 * Returns `undefined` for what it does not build (`OTEL_TRACES_EXPORTER` other than `otlp`, or a
 * protocol the specification does not name): the caller then leaves the choice to `NodeSDK`.
 *
 * @example
 * ```ts
 * const spanProcessors = createSpanProcessorsFromEnv({
 *   env: process.env,
 *   onDrop: (reason, count) => telemetry.add('telemetrySpansDropped', count, { reason }),
 * });
 * ```
 */
export function createSpanProcessorsFromEnv(options: SpanProcessorsFromEnvOptions): SpanProcessor[] | undefined {
  const { env } = options;
  const processorChoice = (env['GATEWAYZ_SPAN_PROCESSOR'] ?? '').trim() || 'encoding';
  if (processorChoice !== 'encoding' && processorChoice !== 'batch')
    throw new TelemetryConfigurationError(
      'GATEWAYZ_SPAN_PROCESSOR',
      `expected encoding (default) or batch, got "${processorChoice}"`,
    );
  const batch = batchConfigFromEnv(env);
  let exporter = options.exporter;
  if (exporter === undefined) {
    const exporters = readEnvList(env, 'OTEL_TRACES_EXPORTER') ?? [];
    if (exporters.length > 1 || (exporters.length === 1 && exporters[0] !== 'otlp')) return undefined;
    const protocol = (
      readEnvString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
      readEnvString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ??
      ''
    ).toLowerCase();
    if (protocol !== '' && protocol !== 'http/protobuf' && protocol !== 'grpc' && protocol !== 'http/json') {
      diag.debug(`@gatewayz/telemetry-node: trace protocol "${protocol}" is configured by NodeSDK`);
      return undefined;
    }
    // TLS files come from `env`, read now: the SDK's transports would read `process.env` at the first export.
    const tls = otlpTlsFromEnv(env, 'TRACES');
    const httpConfig = { httpAgentOptions: otlpHttpAgentOptions(tls) };
    if (protocol === 'http/json') exporter = new OTLPHttpJsonTraceExporter(httpConfig);
    else {
      // Both carry the same protobuf request; only the transport differs.
      const url = otlpGrpcEndpointFromEnv(env, 'TRACES');
      const encodedExporter =
        protocol === 'grpc'
          ? new OtlpGrpcTraceExporter({ url, credentials: otlpGrpcCredentials(url, tls) })
          : new OtlpProtobufTraceExporter(httpConfig);
      if (processorChoice === 'encoding') {
        // Spans are encoded as they end and only their bytes wait for the batch (see the class).
        const onDrop = options.onDrop;
        return [new EncodingBatchSpanProcessor({ ...batch, exporter: encodedExporter, onDrop })];
      }
      exporter = protocol === 'grpc' ? encodedExporter : new OTLPHttpProtobufTraceExporter(httpConfig);
    }
  }
  const config: BufferConfig & { selfObsMeterProvider: MeterProvider } = {
    ...batch,
    // The processor's standard self-observability hook (typed on `@opentelemetry/sdk-trace`'s
    // options, passed through unchanged by this package's constructor).
    selfObsMeterProvider: createSpanDropMeterProvider(options.onDrop),
  };
  return [new BatchSpanProcessor(exporter, config)];
}

/**
 * `OTEL_BSP_*` as the specification defines them: sizes are positive integers, the delay a
 * non-negative one, the export timeout a non-negative one where `0` means no limit. A value outside
 * that is warned about and ignored: the specification's default applies, as when unset or blank.
 * Every field is given, so the stock processor never reads `process.env` again behind `env`'s back.
 */
export function batchConfigFromEnv(env: NodeJS.ProcessEnv): Required<BufferConfig> {
  return {
    maxQueueSize: readEnvInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1) ?? 2048,
    scheduledDelayMillis: readEnvInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', 0) ?? 5000,
    exportTimeoutMillis: readEnvTimeout(env, 'OTEL_BSP_EXPORT_TIMEOUT') ?? 30_000,
    maxExportBatchSize: readEnvInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1) ?? 512,
  };
}
