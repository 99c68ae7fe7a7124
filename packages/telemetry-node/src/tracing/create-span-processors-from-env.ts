import { diag, type MeterProvider } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  type BufferConfig,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { readEnvInteger, readEnvList, readEnvString, readEnvTimeout } from '../env/standard-variables.js';
import { EncodingBatchSpanProcessor } from './encoding-batch-span-processor.js';
import { encodedSpanExporterFromEnv, httpSpanExporterFromEnv } from './otlp-trace-exporters-from-env.js';
import { createSpanDropMeterProvider, type SpanDropReason } from './span-drop-meter-provider.js';

/** Options of {@link createSpanProcessorsFromEnv}. */
export interface SpanProcessorsFromEnvOptions {
  /**
   * Environment to read `OTEL_TRACES_EXPORTER`, `OTEL_BSP_*` and the OTLP exporter's variables
   * (`OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, `_ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`) from.
   */
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
    if (protocol === '' || protocol === 'http/protobuf' || protocol === 'grpc') {
      // Both carry the same protobuf request; only the transport differs. Every transport setting
      // comes from `env`: the SDK's exporter classes would read `process.env`.
      if (processorChoice === 'encoding') {
        // Spans are encoded as they end and only their bytes wait for the batch (see the class).
        const encodedExporter = encodedSpanExporterFromEnv(env, protocol === 'grpc');
        const onDrop = options.onDrop;
        return [new EncodingBatchSpanProcessor({ ...batch, exporter: encodedExporter, onDrop })];
      }
      exporter = protocol === 'grpc' ? encodedSpanExporterFromEnv(env, true) : httpSpanExporterFromEnv(env, false);
    } else if (protocol === 'http/json') exporter = httpSpanExporterFromEnv(env, true);
    else {
      diag.debug(`@gatewayz/telemetry-node: trace protocol "${protocol}" is configured by NodeSDK`);
      return undefined;
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
