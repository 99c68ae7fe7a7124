import { INVALID_SPAN_CONTEXT, context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BoundedLogRecordProcessor,
  StructuredLogger,
  isLogLevel,
  startTelemetry,
  type LogDropReason,
  type RunningTelemetry,
} from '../src/index.js';

/** An exporter whose exports finish only when the test says so. */
class HeldExporter implements LogRecordExporter {
  readonly held: Array<{ records: ReadableLogRecord[]; done: (result: ExportResult) => void }> = [];
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.held.push({ records, done });
  }
  release(code: ExportResultCode): void {
    for (const entry of this.held.splice(0)) entry.done({ code });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

function lines(): { stream: { write(line: string): void }; parsed: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  return {
    stream: { write: (line) => void written.push(line) },
    parsed: () => written.map((line) => JSON.parse(line)),
  };
}

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('StructuredLogger through startTelemetry', () => {
  it('writes JSON lines and exports records carrying the active span', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const spans = new InMemorySpanExporter();
    const output = lines();
    running = startTelemetry({
      traces: { spanProcessors: [new SimpleSpanProcessor(spans)] },
      logs: { exporter, scheduledDelayMillis: 10 },
      logStream: output.stream,
      hostMetrics: false,
      env: {},
    });
    const span = running.tracer.startSpan('work');
    context.with(trace.setSpan(context.active(), span), () =>
      running!.logger.warn('upstream slow', { provider: 'openai', latency_ms: 5400, skipped: undefined }),
    );
    span.end();
    running.logger.debug('not written at info level');
    await running.forceFlush();
    const [line] = output.parsed();
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'upstream slow',
      provider: 'openai',
      latency_ms: 5400,
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
    expect(line).not.toHaveProperty('skipped');
    expect(output.parsed()).toHaveLength(1);
    const [record] = exporter.getFinishedLogRecords();
    expect(record?.body).toBe('upstream slow');
    expect(record?.severityText).toBe('WARN');
    expect(record?.attributes).toEqual({ provider: 'openai', latency_ms: 5400 });
    expect(record?.spanContext?.traceId).toBe(span.spanContext().traceId);
  });

  it('adds child bindings, honours LOG_LEVEL and rejects an unknown one', () => {
    const output = lines();
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      logStream: output.stream,
      env: { LOG_LEVEL: 'debug' },
    });
    running.logger.child({ component: 'router' }).debug('picked provider', { provider: 'anthropic' });
    expect(output.parsed()[0]).toMatchObject({ level: 'debug', component: 'router', provider: 'anthropic' });
    expect(() => startTelemetry({ env: { LOG_LEVEL: 'loud' } })).toThrow(/LOG_LEVEL/);
    // Names every object inherits are not levels either.
    for (const inherited of ['constructor', 'toString', '__proto__']) {
      expect(isLogLevel(inherited)).toBe(false);
      expect(() => startTelemetry({ env: { LOG_LEVEL: inherited } })).toThrow(/LOG_LEVEL/);
    }
  });

  it('writes no trace_id or span_id under a span that identifies no trace (nothing traced)', () => {
    const output = lines();
    running = startTelemetry({ traces: false, hostMetrics: false, logStream: output.stream, env: {} });
    // Traces off: the tracer is the API's no-op one, whose spans have an all-zero context.
    const span = running.tracer.startSpan('request');
    expect(span.spanContext()).toEqual(INVALID_SPAN_CONTEXT);
    context.with(trace.setSpan(context.active(), span), () => running!.logger.info('served'));
    span.end();
    const [line] = output.parsed();
    expect(line).toMatchObject({ level: 'info', msg: 'served' });
    expect(line).not.toHaveProperty('trace_id');
    expect(line).not.toHaveProperty('span_id');
  });

  it('never throws when its stream does', () => {
    const logger = new StructuredLogger({
      stream: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    });
    expect(() => logger.error('still fine')).not.toThrow();
  });
});

describe('BoundedLogRecordProcessor', () => {
  function setup(exporter: LogRecordExporter, maxQueueSize: number, exportTimeoutMillis = 30_000) {
    const drops: Record<LogDropReason, number> = { queue_full: 0, export_failed: 0, shutdown: 0 };
    const processor = new BoundedLogRecordProcessor({
      exporter,
      maxQueueSize,
      maxExportBatchSize: 5,
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis,
      onDrop: (reason, count) => (drops[reason] += count),
    });
    const provider = new LoggerProvider({ processors: [processor] });
    const logger = provider.getLogger('test');
    return {
      processor,
      provider,
      drops,
      emit: (count: number) => {
        for (let index = 0; index < count; index++) logger.emit({ body: `record ${index}` });
      },
    };
  }

  it('refuses records beyond maxQueueSize while exports are stuck, and counts them', async () => {
    const exporter = new HeldExporter();
    const { processor, drops, emit } = setup(exporter, 10);
    emit(100);
    expect(processor.pending).toBe(10);
    expect(drops.queue_full).toBe(90);
    const flushed = processor.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    exporter.release(ExportResultCode.SUCCESS);
    await new Promise((resolve) => setImmediate(resolve));
    exporter.release(ExportResultCode.SUCCESS);
    await flushed;
    expect(processor.pending).toBe(0);
    emit(3);
    expect(drops.queue_full).toBe(90);
  });

  it('counts the records of failed exports', async () => {
    const failing: LogRecordExporter = {
      export: (records, done) => done({ code: ExportResultCode.FAILED }),
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const { processor, drops, emit } = setup(failing, 100);
    // Fewer than a batch: the flush is what exports them, and it says they are lost, as the
    // specification asks of ForceFlush.
    emit(4);
    await expect(processor.forceFlush()).rejects.toThrow(/^4 log records not exported: export failed$/);
    expect(drops.export_failed).toBe(4);
    // Several batches (of 5): every record is counted, whichever export lost it.
    emit(12);
    await expect(processor.forceFlush()).rejects.toThrow(/log records not exported: export failed/);
    expect(drops.export_failed).toBe(16);
    expect(processor.pending).toBe(0);
    // A later flush with nothing lost resolves: a failure is reported by the flush it happened in.
    await processor.forceFlush();
  });

  it('shutdown shuts the exporter down even when its last export failed, and says what was lost', async () => {
    let shutDown = false;
    const failing: LogRecordExporter = {
      export: (records, done) => done({ code: ExportResultCode.FAILED, error: new Error('HTTP 503') }),
      shutdown: async () => {
        shutDown = true;
      },
      forceFlush: async () => {},
    };
    const { processor, emit } = setup(failing, 100);
    emit(1);
    await expect(processor.shutdown()).rejects.toThrow(/^1 log record not exported: HTTP 503$/);
    expect(shutDown).toBe(true);
  });

  it('exports everything pending on shutdown', async () => {
    const exported: ReadableLogRecord[] = [];
    const collecting: LogRecordExporter = {
      export: (records, done) => {
        exported.push(...records);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const { provider, emit } = setup(collecting, 100);
    emit(17);
    await provider.shutdown();
    expect(exported).toHaveLength(17);
  });

  it('counts records emitted after shutdown as dropped, not as pending', async () => {
    const collecting: LogRecordExporter = {
      export: (_records, done) => done({ code: ExportResultCode.SUCCESS }),
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const { processor, drops } = setup(collecting, 100);
    await processor.shutdown();
    const provider = new LoggerProvider({ processors: [processor] });
    for (let index = 0; index < 4; index++) provider.getLogger('late').emit({ body: 'too late' });
    expect(drops.shutdown).toBe(4);
    expect(processor.pending).toBe(0);
  });

  it('gives up on an exporter that never answers: the records count as failed and free the queue', async () => {
    const silent: LogRecordExporter = {
      export: () => {},
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const { processor, drops, emit } = setup(silent, 10, 50);
    emit(10);
    expect(processor.pending).toBe(10);
    await processor.forceFlush().catch(() => {});
    await expect.poll(() => processor.pending, { timeout: 2_000 }).toBe(0);
    expect(drops.export_failed).toBe(10);
    emit(3);
    expect(drops.queue_full).toBe(0);
  });
});
