/**
 * The `gen_ai.client.operation.exception` event (`emitGenAiOperationException`) through a real Logs
 * SDK: its name, its WARN severity, the `exception.*` attributes read as `span.recordException()`
 * reads them, the call's attributes beside them, its correlation with the call's span, and the
 * events it loses (never thrown, counted and warned about once).
 */
import { logs as logsApi, SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getTelemetry, setTelemetry } from '../src/index.js';
import { emitGenAiOperationException, semconv, type GenAiEventLogger } from '../src/genai/index.js';
import { CollectingDiagLogger, createTelemetry, type CollectedMetrics } from './helpers.js';

const EVENT = 'gen_ai.client.operation.exception';

class UpstreamTimeout extends Error {
  override readonly name = 'UpstreamTimeout';
}

let records: InMemoryLogRecordExporter;
let loggerProvider: LoggerProvider;
let logger: Logger;
let diagnostics: CollectingDiagLogger;
let collect: () => Promise<CollectedMetrics>;
let shutdownMetrics: () => Promise<void>;
let previous: ReturnType<typeof getTelemetry>;
beforeEach(() => {
  records = new InMemoryLogRecordExporter();
  loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: records })] });
  logger = loggerProvider.getLogger('test');
  diagnostics = new CollectingDiagLogger().install();
  // The helper takes no instance: what it loses is counted in the shared one.
  const created = createTelemetry();
  collect = created.collect;
  shutdownMetrics = () => created.harness.shutdown();
  previous = getTelemetry();
  setTelemetry(created.telemetry);
});
afterEach(async () => {
  setTelemetry(previous);
  CollectingDiagLogger.uninstall();
  await Promise.all([loggerProvider.shutdown(), shutdownMetrics()]);
});

/** `gatewayz_telemetry_logs_dropped_total` as [reason, count] rows. */
async function lost(): Promise<Array<[unknown, unknown]>> {
  return (await collect())
    .points('gatewayz_telemetry_logs_dropped')
    .map((point): [unknown, unknown] => [point.attributes['reason'], point.value]);
}

describe('emitGenAiOperationException', () => {
  it('emits one WARN gen_ai.client.operation.exception record with the exception, correlated with the span', () => {
    const tracerProvider = new BasicTracerProvider();
    const span = tracerProvider.getTracer('test').startSpan('chat gpt-4o-mini');
    const error = new UpstreamTimeout('No response within 30000 ms');
    emitGenAiOperationException(logger, error, trace.setSpan(ROOT_CONTEXT, span));
    span.end();
    const [record, ...others] = records.getFinishedLogRecords();
    expect(others).toEqual([]);
    expect(semconv.EVENT_GEN_AI_CLIENT_OPERATION_EXCEPTION).toBe(EVENT);
    expect(record!.eventName).toBe(EVENT);
    expect(record!.severityNumber).toBe(SeverityNumber.WARN);
    expect(record!.severityNumber).toBe(13);
    expect(record!.severityText).toBe('WARN');
    expect(record!.attributes).toEqual({
      'exception.type': 'UpstreamTimeout',
      'exception.message': 'No response within 30000 ms',
      'exception.stacktrace': error.stack,
    });
    expect(record!.spanContext?.traceId).toBe(span.spanContext().traceId);
    expect(record!.spanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('reads the type as span.recordException() does: a code first, then the name; a string is a message', () => {
    emitGenAiOperationException(logger, { code: 'ECONNRESET', name: 'Error', message: 'socket hang up' });
    emitGenAiOperationException(logger, { name: 'UpstreamFailure' });
    emitGenAiOperationException(logger, 'Upstream error (HTTP 500)');
    expect(records.getFinishedLogRecords().map((record) => record.attributes)).toEqual([
      { 'exception.type': 'ECONNRESET', 'exception.message': 'socket hang up' },
      { 'exception.type': 'UpstreamFailure' },
      { 'exception.message': 'Upstream error (HTTP 500)' },
    ]);
  });

  it("adds the call's attributes, which cannot replace the exception's own", () => {
    const own = {
      'error.type': '500',
      'gen_ai.provider.name': 'openai',
      'exception.message': 'replaced?',
      'gatewayz.left_out': undefined,
    };
    emitGenAiOperationException(
      logger,
      { name: 'UpstreamFailure', message: 'Upstream error (HTTP 500)' },
      undefined,
      own,
    );
    const [record] = records.getFinishedLogRecords();
    expect(record!.attributes).toEqual({
      'exception.type': 'UpstreamFailure',
      'exception.message': 'Upstream error (HTTP 500)',
      'error.type': '500',
      'gen_ai.provider.name': 'openai',
    });
    expect(record!.spanContext).toBeUndefined();
  });

  it('never throws on an exception with neither a type nor a message: counts each as invalid_details, warns once', async () => {
    for (const exception of [null, undefined, {}, { message: 42 }, '', 42])
      expect(() => emitGenAiOperationException(logger, exception as never)).not.toThrow();
    expect(records.getFinishedLogRecords()).toEqual([]);
    expect(diagnostics.ownWarnings).toEqual([
      '@gatewayz/telemetry: gen_ai.client.operation.exception event not emitted: its exception could not be read (TypeError: exception must be an Error, an object with a code, name or message, or a message, got null). Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason invalid_details).',
    ]);
    expect(await lost()).toEqual([['invalid_details', 6]]);
    emitGenAiOperationException(logger, new Error('still emitted'));
    expect(records.getFinishedLogRecords()).toHaveLength(1);
  });

  it('never throws when the logger does: warns once, counts each lost event as emit_failed', async () => {
    const throwing: GenAiEventLogger = {
      emit: () => {
        throw new Error('disk full');
      },
    };
    expect(() => emitGenAiOperationException(throwing, new Error('a'))).not.toThrow();
    expect(() => emitGenAiOperationException(throwing, new Error('b'))).not.toThrow();
    expect(diagnostics.ownWarnings).toEqual([
      '@gatewayz/telemetry: gen_ai.client.operation.exception event not emitted: the logger threw (Error: disk full). Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason emit_failed).',
    ]);
    expect(await lost()).toEqual([['emit_failed', 2]]);
  });

  it('takes a Logger of @opentelemetry/api-logs as it is (typed), and the no-op one', () => {
    const typed: GenAiEventLogger = logsApi.getLogger('no-op');
    expect(() => emitGenAiOperationException(typed, new Error('x'))).not.toThrow();
    const sdkLogger: GenAiEventLogger = logger;
    emitGenAiOperationException(sdkLogger, new Error('y'));
    expect(records.getFinishedLogRecords()).toHaveLength(1);
  });
});
