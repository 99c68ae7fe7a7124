import { context as contextApi, isSpanContextValid, trace } from '@opentelemetry/api';
import { SeverityNumber, logs, type Logger } from '@opentelemetry/api-logs';
import { PACKAGE_VERSION } from '@gatewayz/telemetry';

/**
 * Severity of a {@link StructuredLogger} record, lowest first; exported as the OpenTelemetry
 * severities `DEBUG`, `INFO`, `WARN` and `ERROR`.
 *
 * @example
 * ```ts
 * const level: LogLevel = process.env.NODE_ENV === 'production' ? 'info' : 'debug';
 * const logger = new StructuredLogger({ level });
 * ```
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/**
 * Attributes of a log record: flat keys with primitive values. `null` and `undefined` values are
 * left out of the record.
 *
 * @example
 * ```ts
 * const attributes: LogAttributes = { provider: 'anthropic', model: 'claude-3-5-sonnet', attempt: 2, retried: true };
 * otel.logger.warn('provider attempt failed', attributes);
 * ```
 */
export type LogAttributes = Readonly<Record<string, string | number | boolean | null | undefined>>;

const LEVELS: Record<LogLevel, { rank: number; severity: SeverityNumber; text: string }> = {
  debug: { rank: 10, severity: SeverityNumber.DEBUG, text: 'DEBUG' },
  info: { rank: 20, severity: SeverityNumber.INFO, text: 'INFO' },
  warn: { rank: 30, severity: SeverityNumber.WARN, text: 'WARN' },
  error: { rank: 40, severity: SeverityNumber.ERROR, text: 'ERROR' },
};

/**
 * Whether a string is a {@link LogLevel} (exact, lowercase).
 *
 * @example
 * ```ts
 * const raw = process.env.APP_LOG_LEVEL ?? 'info';
 * const logger = new StructuredLogger({ level: isLogLevel(raw) ? raw : 'info' });
 * ```
 */
export function isLogLevel(value: string): value is LogLevel {
  // Own keys only: `in` also finds what every object inherits (`constructor`, `toString`).
  return Object.hasOwn(LEVELS, value);
}

/**
 * Options of {@link StructuredLogger}.
 *
 * @example
 * ```ts
 * const options: StructuredLoggerOptions = { name: 'my-gateway', level: 'debug', bindings: { component: 'router' } };
 * const logger = new StructuredLogger(options);
 * ```
 */
export interface StructuredLoggerOptions {
  /** Instrumentation scope of the OpenTelemetry logger. Default `@gatewayz/telemetry-node`. */
  name?: string;
  /** Lowest level written and exported. Default `info`. */
  level?: LogLevel;
  /** Where JSON lines go; default standard output. `null` writes none (OTLP only). */
  stream?: { write(line: string): unknown } | null;
  /** Attributes on every record (e.g. `{ component: 'router' }`). */
  bindings?: LogAttributes;
}

/**
 * Structured logs, correlated with traces: each call writes one JSON line (`time`, `level`, `msg`,
 * `trace_id`, `span_id` of the active span, attributes) and emits the same record through the
 * OpenTelemetry logs API, which `startTelemetry()` exports over OTLP in batches. Never blocks and
 * never throws on the request path.
 *
 * @example
 * ```ts
 * const log = otel.logger.child({ component: 'router' });
 * log.warn('provider attempt failed', { provider: 'openai', status: 'timeout' });
 * ```
 */
export class StructuredLogger {
  private readonly otelLogger: Logger;
  private readonly threshold: number;
  private readonly options: StructuredLoggerOptions;

  /** A logger writing to standard output at level `info` and above unless `options` say otherwise. */
  constructor(options: StructuredLoggerOptions = {}) {
    this.options = options;
    this.threshold = LEVELS[options.level ?? 'info'].rank;
    this.otelLogger = logs.getLogger(options.name ?? '@gatewayz/telemetry-node', PACKAGE_VERSION);
  }

  /** A logger adding `bindings` to every record. */
  child(bindings: LogAttributes): StructuredLogger {
    return new StructuredLogger({ ...this.options, bindings: { ...this.options.bindings, ...bindings } });
  }

  /** Whether records of `level` are written, e.g. to skip building costly attributes. */
  enabled(level: LogLevel): boolean {
    return LEVELS[level].rank >= this.threshold;
  }

  /** Write and emit a `debug` record, when the logger's level allows it. */
  debug(message: string, attributes?: LogAttributes): void {
    this.write('debug', message, attributes);
  }
  /** Write and emit an `info` record, when the logger's level allows it. */
  info(message: string, attributes?: LogAttributes): void {
    this.write('info', message, attributes);
  }
  /** Write and emit a `warn` record, when the logger's level allows it. */
  warn(message: string, attributes?: LogAttributes): void {
    this.write('warn', message, attributes);
  }
  /** Write and emit an `error` record. */
  error(message: string, attributes?: LogAttributes): void {
    this.write('error', message, attributes);
  }

  private write(level: LogLevel, message: string, attributes: LogAttributes | undefined): void {
    const spec = LEVELS[level];
    if (spec.rank < this.threshold) return;
    try {
      const active = contextApi.active();
      const spanContext = trace.getSpanContext(active);
      const merged: Record<string, string | number | boolean> = {};
      for (const source of [this.options.bindings, attributes]) {
        if (source === undefined) continue;
        for (const key in source) {
          const value = source[key];
          if (value !== undefined && value !== null) merged[key] = value;
        }
      }
      const stream = this.options.stream === undefined ? process.stdout : this.options.stream;
      if (stream !== null) {
        const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
        // A no-op span (nothing traced) has an all-zero context: it identifies no trace.
        if (spanContext !== undefined && isSpanContextValid(spanContext)) {
          line['trace_id'] = spanContext.traceId;
          line['span_id'] = spanContext.spanId;
        }
        stream.write(`${JSON.stringify({ ...merged, ...line })}\n`);
      }
      this.otelLogger.emit({
        severityNumber: spec.severity,
        severityText: spec.text,
        body: message,
        attributes: merged,
        context: active,
      });
    } catch {
      // A closed stream or a broken exporter must never reach the caller.
    }
  }
}
