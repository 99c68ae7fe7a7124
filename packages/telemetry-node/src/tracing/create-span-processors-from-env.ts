import type { MeterProvider } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type BufferConfig,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import {
  readEnvDuration,
  readEnvInteger,
  readEnvExporterNames,
  readEnvString,
  readEnvTimeout,
} from '../env/standard-variables.js';
import { otlpProtocolFromEnv } from '../env/otlp-exporter-variables.js';
import { FlushDeadline } from '../flush/flush-deadline.js';
import { EncodingBatchSpanProcessor } from './encoding-batch-span-processor.js';
import { encodedSpanExporterFromEnv, httpSpanExporterFromEnv } from './otlp-trace-exporters-from-env.js';
import { createSpanDropMeterProvider, type SpanDropReason } from './span-drop-meter-provider.js';
import { zipkinSpanExporterFromEnv } from './zipkin-span-exporter-from-env.js';

/** Options of {@link createSpanProcessorsFromEnv}. */
export interface SpanProcessorsFromEnvOptions {
  /**
   * Environment to read `OTEL_TRACES_EXPORTER`, `OTEL_BSP_*`, the OTLP exporter's variables
   * (`OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, `_ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, the
   * TLS files) and the Zipkin exporter's (`OTEL_EXPORTER_ZIPKIN_ENDPOINT`, `_TIMEOUT`) from.
   */
  env: NodeJS.ProcessEnv;
  /** Exporter to batch into instead of the exporters `OTEL_TRACES_EXPORTER` names. */
  exporter?: SpanExporter;
  /**
   * Called with the sampled spans that were not exported: queue full, export failed, or rejected by
   * the OTLP backend from an accepted request (a partial success).
   */
  onDrop: (reason: SpanDropReason, count: number) => void;
}

/**
 * The span processors the standard variables ask for, every one built from `env` (none left to
 * `NodeSDK`, which would read `process.env`). `OTEL_TRACES_EXPORTER` is a comma list (default `otlp`)
 * of:
 *
 * - `otlp`: a batch processor configured by `OTEL_BSP_*` in front of an OTLP exporter configured by
 *   `OTEL_EXPORTER_OTLP_TRACES_*`. For the protobuf protocols (`http/protobuf`, the default, and
 *   `grpc`) that is {@link EncodingBatchSpanProcessor} with {@link OtlpProtobufTraceExporter} or
 *   {@link OtlpGrpcTraceExporter} (same batching, same bytes on the wire, a fraction of the CPU);
 *   with `GATEWAYZ_SPAN_PROCESSOR=batch` or `http/json`, the stock `BatchSpanProcessor`. A protocol
 *   the specification does not name is warned about and ignored (the generic variable, then
 *   `http/protobuf`, applies), as for logs and metrics.
 * - `zipkin`: the stock `BatchSpanProcessor` (`OTEL_BSP_*`) in front of the SDK's `ZipkinExporter`,
 *   sending to `OTEL_EXPORTER_ZIPKIN_ENDPOINT` within `OTEL_EXPORTER_ZIPKIN_TIMEOUT`.
 * - `console`: a `SimpleSpanProcessor` printing each span with the SDK's `ConsoleSpanExporter`.
 * - `none`: no processors; listed with other names, it still wins, with a warning.
 *
 * Unknown names are warned about and skipped; a list of unknown names only is ignored, as if unset
 * (`otlp`). With an explicit `exporter`, the list is not read:
 * one stock batch processor exports to it. Sampled spans a batch processor drops on a full queue
 * or a failed export, and those an OTLP backend rejects from a request it accepted (a partial
 * success), are reported to `onDrop` instead of only to a debug log.
 *
 * @example
 * ```ts
 * const spanProcessors = createSpanProcessorsFromEnv({
 *   env: { OTEL_TRACES_EXPORTER: 'otlp,zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans' },
 *   onDrop: (reason, count) => telemetry.add('telemetrySpansDropped', count, { reason }),
 * });
 * ```
 */
/**
 * Whether `env` asks for traces at all: an OTLP endpoint (general or for traces), or an
 * `OTEL_TRACES_EXPORTER` that names a known exporter or `none` (blank is unset, as everywhere else,
 * and a list of unknown names only is ignored, as if unset).
 */
export function tracesConfiguredByEnv(env: NodeJS.ProcessEnv): boolean {
  return (
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'].some(
      (name) => readEnvString(env, name) !== undefined,
    ) || tracesExporterNames(env) !== undefined
  );
}

/** `OTEL_TRACES_EXPORTER`'s known names, `[]` for `none`, `undefined` when unset or naming none known. */
function tracesExporterNames(env: NodeJS.ProcessEnv): string[] | undefined {
  return readEnvExporterNames(
    env,
    'OTEL_TRACES_EXPORTER',
    ['otlp', 'zipkin', 'console'],
    'otlp, zipkin, console or none',
    'exporting no spans',
  );
}

export function createSpanProcessorsFromEnv(options: SpanProcessorsFromEnvOptions): SpanProcessor[] {
  const { env, onDrop } = options;
  const processorChoice = (env['GATEWAYZ_SPAN_PROCESSOR'] ?? '').trim() || 'encoding';
  if (processorChoice !== 'encoding' && processorChoice !== 'batch')
    throw new TelemetryConfigurationError(
      'GATEWAYZ_SPAN_PROCESSOR',
      `expected encoding (default) or batch, got "${processorChoice}"`,
    );
  // Read once: a bad OTEL_BSP_* value is warned about once, however many processors use it.
  const batch = batchConfigFromEnv(env);
  if (options.exporter !== undefined) return [countingBatchSpanProcessor(options.exporter, batch, onDrop)];
  const processors: SpanProcessor[] = [];
  for (const name of tracesExporterNames(env) ?? ['otlp']) {
    if (name === 'otlp') processors.push(otlpSpanProcessor(env, batch, processorChoice === 'encoding', onDrop));
    else if (name === 'zipkin')
      processors.push(countingBatchSpanProcessor(zipkinSpanExporterFromEnv(env), batch, onDrop));
    else processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  }
  return processors;
}

/** The OTLP pipeline for `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL` (default `http/protobuf`). */
function otlpSpanProcessor(
  env: NodeJS.ProcessEnv,
  batch: Required<BufferConfig>,
  encoding: boolean,
  onDrop: (reason: SpanDropReason, count: number) => void,
): SpanProcessor {
  const protocol = otlpProtocolFromEnv(env, 'TRACES');
  // The export of such a request succeeded: only the counter hears of these spans.
  const onRejected = (count: number): void => onDrop('rejected', count);
  // The processor's flushes bound the transport's exports: one export timeout per flush.
  const flushDeadline = new FlushDeadline();
  // Every transport setting comes from `env`: the SDK's exporter classes would read `process.env`.
  if (protocol === 'http/json')
    return countingBatchSpanProcessor(
      httpSpanExporterFromEnv(env, true, onRejected, flushDeadline),
      batch,
      onDrop,
      flushDeadline,
    );
  // Both protobuf protocols carry the same request; only the transport differs.
  const grpc = protocol === 'grpc';
  if (encoding)
    // Spans are encoded as they end and only their bytes wait for the batch (see the class).
    return new EncodingBatchSpanProcessor({
      ...batch,
      exporter: encodedSpanExporterFromEnv(env, grpc, onRejected, flushDeadline),
      onDrop,
      flushDeadline,
    });
  const exporter = grpc
    ? encodedSpanExporterFromEnv(env, true, onRejected, flushDeadline)
    : httpSpanExporterFromEnv(env, false, onRejected, flushDeadline);
  return countingBatchSpanProcessor(exporter, batch, onDrop, flushDeadline);
}

/** The stock `BatchSpanProcessor` with `batch` (`OTEL_BSP_*` from `env`), its drops reported to `onDrop`. */
function countingBatchSpanProcessor(
  exporter: SpanExporter,
  batch: Required<BufferConfig>,
  onDrop: (reason: SpanDropReason, count: number) => void,
  flushDeadline: FlushDeadline = new FlushDeadline(),
): SpanProcessor {
  const config: BufferConfig & { selfObsMeterProvider: MeterProvider } = {
    ...batch,
    // The processor's standard self-observability hook (typed on `@opentelemetry/sdk-trace`'s
    // options, passed through unchanged by this package's constructor).
    selfObsMeterProvider: createSpanDropMeterProvider(onDrop),
  };
  return new ShutdownAlwaysBatchSpanProcessor(exporter, config, flushDeadline);
}

/**
 * The stock processor, its exporter shut down even when the last flush failed: the SDK's
 * `shutdown()` shuts the exporter down only after a flush that succeeded, so an exporter whose
 * collector was down at shutdown kept its connections and timers. A failed flush is reported as
 * lost spans (`spans not exported: <cause>`), as `EncodingBatchSpanProcessor` reports it, instead of
 * the exporter's bare error (`connect ECONNREFUSED …`), which does not say what was lost; the stock
 * processor does not tell how many spans the failed request held. Its flushes are told to
 * `flushDeadline`, which the OTLP exporters' transports share: the exports a flush starts after
 * waiting for one in flight get what is left of one timeout.
 */
class ShutdownAlwaysBatchSpanProcessor extends BatchSpanProcessor {
  private readonly spanExporter: SpanExporter;

  constructor(
    exporter: SpanExporter,
    config: BufferConfig,
    private readonly flushDeadline: FlushDeadline,
  ) {
    super(exporter, config);
    this.spanExporter = exporter;
  }

  override async forceFlush(): Promise<void> {
    try {
      await this.flushDeadline.during(() => super.forceFlush());
    } catch (error) {
      throw spansLost(error);
    }
  }

  override async shutdown(): Promise<void> {
    try {
      await this.flushDeadline.during(() => super.shutdown());
    } catch (error) {
      // The flush failed before the SDK reached the exporter's shutdown: run it, then report the failure.
      await this.spanExporter.shutdown().catch(() => {});
      throw spansLost(error);
    }
  }
}

/** A failed flush of the stock processor, named as the spans it lost. */
function spansLost(error: unknown): Error {
  const cause = error instanceof Error ? error.message : String(error);
  return new Error(`spans not exported: ${cause}`, { cause: error });
}

/**
 * `OTEL_BSP_*` as the specification defines them: sizes are positive integers, the delay a
 * non-negative one, the export timeout a non-negative one where `0` means no limit (both durations
 * at most 2^31 − 1 ms, the longest timer Node.js keeps). A value outside that is warned about and ignored: the specification's default applies, as when unset or blank.
 * Every field is given, so the stock processor never reads `process.env` again behind `env`'s back.
 */
export function batchConfigFromEnv(env: NodeJS.ProcessEnv): Required<BufferConfig> {
  return {
    maxQueueSize: readEnvInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1) ?? 2048,
    scheduledDelayMillis: readEnvDuration(env, 'OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    exportTimeoutMillis: readEnvTimeout(env, 'OTEL_BSP_EXPORT_TIMEOUT') ?? 30_000,
    maxExportBatchSize: readEnvInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1) ?? 512,
  };
}
