/**
 * The Zipkin span exporter `OTEL_TRACES_EXPORTER=zipkin` asks for: the SDK's `ZipkinExporter`
 * (Zipkin v2 JSON over HTTP) with its endpoint and timeout read from the `env` given.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { checkOtlpEndpoint } from '../env/otlp-exporter-variables.js';
import { readEnvString, readEnvTimeout } from '../env/standard-variables.js';

/** The specification's default `OTEL_EXPORTER_ZIPKIN_ENDPOINT`. */
const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans';

/**
 * The SDK's `ZipkinExporter` sending to `OTEL_EXPORTER_ZIPKIN_ENDPOINT` (default
 * `http://localhost:9411/api/v2/spans`), each export given up after `OTEL_EXPORTER_ZIPKIN_TIMEOUT`
 * milliseconds (default 10,000; `0` means no limit). The URL is always passed in: left out, the
 * exporter would read `process.env`. An endpoint that is not an http(s) URL throws a
 * `TelemetryConfigurationError` naming the variable.
 */
export function zipkinSpanExporterFromEnv(env: NodeJS.ProcessEnv): SpanExporter {
  const name = 'OTEL_EXPORTER_ZIPKIN_ENDPOINT';
  const url = checkOtlpEndpoint(readEnvString(env, name) ?? DEFAULT_ZIPKIN_ENDPOINT, name, false);
  const timeoutMillis = readEnvTimeout(env, 'OTEL_EXPORTER_ZIPKIN_TIMEOUT') ?? 10_000;
  return new TimeLimitedSpanExporter(new ZipkinExporter({ url }), timeoutMillis);
}

/**
 * Gives each export, flush and shutdown of `exporter` at most `timeoutMillis`: the SDK's
 * `ZipkinExporter` has no timeout of its own (a collector that accepts the connection and never
 * answers would hold the batch until `OTEL_BSP_EXPORT_TIMEOUT`, and `shutdown()` forever). A late
 * export is reported failed (the processor counts it as dropped); its request is not aborted, as the
 * exporter gives no handle on it, and ends when the collector or the socket does.
 */
class TimeLimitedSpanExporter implements SpanExporter {
  constructor(
    private readonly exporter: SpanExporter,
    private readonly timeoutMillis: number,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let settled = false;
    const settle = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resultCallback(result);
    };
    const timer = setTimeout(
      () => settle({ code: ExportResultCode.FAILED, error: this.timeoutError('export') }),
      this.timeoutMillis,
    );
    timer.unref();
    this.exporter.export(spans, settle);
  }

  forceFlush(): Promise<void> {
    return this.limited(this.exporter.forceFlush?.() ?? Promise.resolve(), 'flush');
  }

  shutdown(): Promise<void> {
    return this.limited(this.exporter.shutdown(), 'shutdown');
  }

  private limited(task: Promise<void>, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timeoutError(what)), this.timeoutMillis);
      timer.unref();
    });
    return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
  }

  private timeoutError(what: string): Error {
    return new Error(`Zipkin ${what} timed out after ${this.timeoutMillis} ms (OTEL_EXPORTER_ZIPKIN_TIMEOUT)`);
  }
}
