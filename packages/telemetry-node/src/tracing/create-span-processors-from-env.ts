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

const BATCH_VARIABLES = {
  maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE',
  scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY',
  exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT',
  maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
} as const;

/**
 * The span processors the standard variables ask for, built the way `NodeSDK` builds them (a stock
 * `BatchSpanProcessor` configured by `OTEL_BSP_*` in front of the OTLP/HTTP exporter that
 * `OTEL_EXPORTER_OTLP_TRACES_*` configure, protobuf unless the protocol says `http/json`), with one
 * difference: sampled spans the processor drops (queue full) or fails to export are reported to
 * `onDrop` instead of only to a debug log.
 *
 * Returns `undefined` for what it does not build (`OTEL_TRACES_EXPORTER` other than `otlp`, or the
 * `grpc` protocol): the caller then leaves the choice to `NodeSDK`, as before.
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
  let exporter = options.exporter;
  if (exporter === undefined) {
    const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    if (exporters.length > 1 || (exporters.length === 1 && exporters[0] !== 'otlp')) return undefined;
    const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? '').trim();
    if (protocol === '' || protocol === 'http/protobuf') exporter = new OTLPHttpProtobufTraceExporter();
    else if (protocol === 'http/json') exporter = new OTLPHttpJsonTraceExporter();
    else {
      diag.debug(`@gatewayz/telemetry-node: trace protocol "${protocol}" is configured by NodeSDK`);
      return undefined;
    }
  }
  const config: BufferConfig & { selfObsMeterProvider: MeterProvider } = {
    maxQueueSize: nonNegativeFromEnv(env, BATCH_VARIABLES.maxQueueSize),
    scheduledDelayMillis: nonNegativeFromEnv(env, BATCH_VARIABLES.scheduledDelayMillis),
    exportTimeoutMillis: nonNegativeFromEnv(env, BATCH_VARIABLES.exportTimeoutMillis),
    maxExportBatchSize: nonNegativeFromEnv(env, BATCH_VARIABLES.maxExportBatchSize),
    // The processor's standard self-observability hook (typed on `@opentelemetry/sdk-trace`'s
    // options, passed through unchanged by this package's constructor).
    selfObsMeterProvider: createSpanDropMeterProvider(options.onDrop),
  };
  return [new BatchSpanProcessor(exporter, config)];
}

/** An `OTEL_BSP_*` value; unset or blank leaves the SDK default (as `NodeSDK` does). */
function nonNegativeFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new TelemetryConfigurationError(name, `expected a non-negative integer, got "${raw}"`);
  return value;
}
