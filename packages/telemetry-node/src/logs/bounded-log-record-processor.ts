import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BatchLogRecordProcessor,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
  type ReadWriteLogRecord,
} from '@opentelemetry/sdk-logs';
import { FlushDeadline } from '../flush/flush-deadline.js';
import { FlushFailureWatch, countOf, exportFailure } from '../flush/flush-failures.js';

/**
 * Why log records were lost: `queue_full` (refused at `onEmit`, `maxQueueSize` records already in
 * flight), `export_failed` (the exporter reported a failure for their batch, or did not answer
 * within `exportTimeoutMillis`) or `shutdown` (emitted after `shutdown()`).
 *
 * @example
 * ```ts
 * const onDrop = (reason: LogDropReason, count: number) => otel.telemetry.add('telemetryLogsDropped', count, { reason });
 * ```
 */
export type LogDropReason = 'queue_full' | 'export_failed' | 'shutdown';

/**
 * Options of {@link BoundedLogRecordProcessor}.
 *
 * @example
 * ```ts
 * const options: BoundedLogRecordProcessorOptions = {
 *   exporter: new OTLPLogExporter(),
 *   maxQueueSize: 4096,
 *   onDrop: (reason, count) => console.error(`dropped ${count} log records (${reason})`),
 * };
 * ```
 */
export interface BoundedLogRecordProcessorOptions {
  /** Where batches of records go, e.g. an `OTLPLogExporter`. */
  exporter: LogRecordExporter;
  /** Records waiting or being exported at most; more are dropped and counted. Default 2048. */
  maxQueueSize?: number;
  /** Records per export. Default 512. */
  maxExportBatchSize?: number;
  /** Milliseconds between exports. Default 1000. */
  scheduledDelayMillis?: number;
  /** Deadline of one export. Default 30 000. */
  exportTimeoutMillis?: number;
  /** Told about every record that will not reach the exporter's destination. */
  onDrop: (reason: LogDropReason, count: number) => void;
  /**
   * Told when a flush or shutdown begins and ends; give the exporter's transport the same one, so
   * that both end a flush's exports within one timeout of its start. Default: the processor's own.
   */
  flushDeadline?: FlushDeadline;
}

/**
 * The SDK's `BatchLogRecordProcessor` with an explicit bound and an account of every loss: a
 * record is "in flight" from `onEmit` until its export finished, records beyond `maxQueueSize` in
 * flight are refused at once (`queue_full`), and records of a failed export are reported
 * (`export_failed`). `onEmit` never blocks and never throws, so logging on the request path stays
 * cheap however the OTLP endpoint behaves.
 *
 * @example
 * ```ts
 * const processor = new BoundedLogRecordProcessor({ exporter: new OTLPLogExporter(), onDrop: (reason, count) => dropped.add(count, { reason }) });
 * const provider = new LoggerProvider({ processors: [processor] });
 * process.once('SIGTERM', () => void provider.shutdown());
 * ```
 */
export class BoundedLogRecordProcessor implements LogRecordProcessor {
  private readonly batch: BatchLogRecordProcessor;
  private readonly maxQueueSize: number;
  private readonly onDrop: (reason: LogDropReason, count: number) => void;
  private inFlight = 0;
  private isShutDown = false;
  /** Failed exports, reported by the flush they happen in. */
  private readonly failures = new FlushFailureWatch();
  private readonly flushDeadline: FlushDeadline;

  /** A processor exporting through `options.exporter` in batches; `maxExportBatchSize` is capped at `maxQueueSize`. */
  constructor(options: BoundedLogRecordProcessorOptions) {
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    this.onDrop = options.onDrop;
    const flushDeadline = (this.flushDeadline = options.flushDeadline ?? new FlushDeadline());
    const inner = options.exporter;
    const exportTimeoutMillis = options.exportTimeoutMillis ?? 30_000;
    const counting: LogRecordExporter = {
      export: (records: ReadableLogRecord[], done: (result: ExportResult) => void) => {
        // Settle once: on the exporter's answer, or when it has not answered in time (an exporter
        // that never calls back must not keep these records "in flight" forever and block the queue).
        // The SDK's processor waits for the export in flight before it sends what a flush takes: an
        // export starting during a flush gets what is left of the timeout counted from the flush's start.
        let settled = false;
        const settle = (result: ExportResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.inFlight -= records.length;
          if (result.code !== ExportResultCode.SUCCESS) {
            this.onDrop('export_failed', records.length);
            this.failures.record(
              exportFailure(`${countOf(records.length, 'log record', 'log records')} not exported`, result.error),
            );
          }
          done(result);
        };
        const timer = setTimeout(
          () => settle({ code: ExportResultCode.FAILED, error: new Error('log export timed out') }),
          flushDeadline.remaining(exportTimeoutMillis),
        );
        timer.unref();
        try {
          inner.export(records, settle);
        } catch (error) {
          settle({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        }
      },
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
    this.batch = new BatchLogRecordProcessor({
      exporter: counting,
      maxQueueSize: this.maxQueueSize,
      maxExportBatchSize: Math.min(options.maxExportBatchSize ?? 512, this.maxQueueSize),
      scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
      exportTimeoutMillis,
    });
  }

  /** Records emitted and not yet exported (or given up on). */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Queue an emitted `ReadWriteLogRecord` for export, or refuse it at once (reported as
   * `queue_full`) when `maxQueueSize` records are already in flight. Never blocks or throws.
   */
  onEmit(logRecord: ReadWriteLogRecord, _context?: Context): void {
    if (this.isShutDown) {
      this.onDrop('shutdown', 1);
      return;
    }
    if (this.inFlight >= this.maxQueueSize) {
      this.onDrop('queue_full', 1);
      return;
    }
    this.inFlight++;
    this.batch.onEmit(logRecord);
  }

  /**
   * Export every queued record now; resolves when the exports have finished, and rejects when one
   * of them failed (with its error, or an `AggregateError` holding each): the records are lost.
   * Ends within the export timeout: an export in flight is waited for, and the flush's own get what
   * is left of the timeout counted from the call.
   */
  forceFlush(): Promise<void> {
    return this.flushDeadline.during(() => this.failures.during(() => this.batch.forceFlush()));
  }

  /**
   * Export what is queued, then shut down the exporter; records emitted afterwards are dropped
   * (`shutdown`). Rejects as `forceFlush` does when the last export failed; ends within the export
   * timeout as `forceFlush` does.
   */
  shutdown(): Promise<void> {
    this.isShutDown = true;
    return this.flushDeadline.during(() => this.failures.during(() => this.batch.shutdown()));
  }
}
