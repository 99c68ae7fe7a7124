import { TraceFlags, diag, type Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TraceRequestBuilder, type EncodedTraceRequest } from './encoded-trace-request.js';
import { FlushDeadline } from '../flush/flush-deadline.js';
import { countOf, exportFailure, flushFailure } from '../flush/flush-failures.js';
import type { SpanDropReason } from './span-drop-meter-provider.js';

/** Where {@link EncodingBatchSpanProcessor} sends its requests. */
export interface EncodedTraceExporter {
  exportEncoded(
    request: EncodedTraceRequest,
    resultCallback: (result: { code: ExportResultCode; error?: Error }) => void,
  ): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Options of {@link EncodingBatchSpanProcessor}; the batch ones mean what `OTEL_BSP_*` mean. */
export interface EncodingBatchSpanProcessorOptions {
  exporter: EncodedTraceExporter;
  /**
   * Spans waiting for export (encoded, not yet handed to the exporter) beyond which new spans are
   * dropped; default 2048. As in the SDK's processor, the batch being exported does not count.
   */
  maxQueueSize?: number;
  /** Spans per export request; default 512. */
  maxExportBatchSize?: number;
  /** Longest wait before a partial batch is exported; default 5000 ms. */
  scheduledDelayMillis?: number;
  /** Export time limit, after which the request counts as failed; default 30000 ms. */
  exportTimeoutMillis?: number;
  /** Sampled spans that were not exported: queue full, or the export failed. */
  onDrop?: (reason: SpanDropReason, count: number) => void;
  /**
   * Told when a flush or shutdown begins and ends; give the exporter's transport the same one, so
   * that both end a flush's exports within one timeout of its start. Default: the processor's own.
   */
  flushDeadline?: FlushDeadline;
}

/**
 * A batch span processor that encodes each sampled span into OTLP protobuf when it ends and keeps
 * only the bytes: the span object dies young instead of waiting (and being promoted to old space)
 * for its batch, and encoding runs while the span's data is still in cache. Batching, limits and
 * defaults are those of the SDK's `BatchSpanProcessor` (`OTEL_BSP_*`); what it drops is reported.
 * As there, one batch is exported at a time and up to `maxQueueSize` spans wait behind it, so
 * between flushes at most `maxQueueSize + maxExportBatchSize` spans are held (a flush sends every
 * waiting batch at once).
 *
 * @example
 * ```ts
 * const processor = new EncodingBatchSpanProcessor({
 *   exporter: new OtlpProtobufTraceExporter(),
 *   onDrop: (reason, count) => telemetry.add('telemetrySpansDropped', count, { reason }),
 * });
 * const provider = new BasicTracerProvider({ spanProcessors: [processor] });
 * ```
 */
export class EncodingBatchSpanProcessor implements SpanProcessor {
  private readonly exporter: EncodedTraceExporter;
  private readonly maxQueueSize: number;
  private readonly maxExportBatchSize: number;
  private readonly scheduledDelayMillis: number;
  private readonly exportTimeoutMillis: number;
  private readonly onDrop: (reason: SpanDropReason, count: number) => void;
  private readonly flushDeadline: FlushDeadline;
  private readonly builder = new TraceRequestBuilder();
  /** Requests sent and not yet answered; each settles to the reason it failed, if it did. */
  private readonly inFlight = new Set<Promise<Error | undefined>>();
  /** Requests sent and not yet answered (nor given up on): the batch being exported. */
  private exporting = 0;
  /** Batches sealed while another was being exported, oldest first: they wait for its answer. */
  private readonly ready: EncodedTraceRequest[] = [];
  /** Spans in {@link ready}. */
  private spansReady = 0;
  private timer: NodeJS.Timeout | undefined;
  private isShutdown = false;
  /** `shutdown()` is flushing: a span that ends now is sent at once, and the flush waits for it. */
  private closing = false;
  /** What `shutdown()` returns, made by its first call. */
  private shutdownDone: Promise<void> | undefined;
  /** Set while the spans wait for their resource's asynchronous attributes (see `send`). */
  private resourceWait: Promise<void> | undefined;
  /** While `resourceWait` runs: end it (as timed out) `afterMillis` from now, if it has not ended by then. */
  private cutResourceWait: ((afterMillis: number) => void) | undefined;
  /** Spans that ended during that wait, kept as they are to be encoded in batches at its end. */
  private readonly waiting: ReadableSpan[] = [];
  /** A wait for them ran out: later batches are not held back again. */
  private resourceWaitTimedOut = false;

  constructor(options: EncodingBatchSpanProcessorOptions) {
    this.exporter = options.exporter;
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    this.maxExportBatchSize = Math.min(options.maxExportBatchSize ?? 512, this.maxQueueSize);
    this.scheduledDelayMillis = options.scheduledDelayMillis ?? 5000;
    this.exportTimeoutMillis = options.exportTimeoutMillis ?? 30000;
    this.onDrop = options.onDrop ?? (() => {});
    this.flushDeadline = options.flushDeadline ?? new FlushDeadline();
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.isShutdown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    // Spans waiting count; the batch being exported does not (the SDK's processor takes it out of
    // its queue when the export starts).
    if (this.builder.spanCount + this.waiting.length + this.spansReady >= this.maxQueueSize) {
      this.onDrop('queue_full', 1);
      return;
    }
    // The spans of the current request wait for their resource: later ones wait apart, so that
    // the requests sent at the end of the wait keep to `maxExportBatchSize`.
    if (this.resourceWait !== undefined) {
      this.waiting.push(span);
      return;
    }
    if (!this.encode(span)) return;
    if (this.closing || this.builder.spanCount >= this.maxExportBatchSize) this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.send(), this.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  /**
   * Export every span ended so far and wait for the requests still unanswered. Rejects when one of
   * them failed (the collector refused it, or it timed out): with that request's error, or an
   * `AggregateError` holding each, so a caller flushing before a freeze or exit learns that spans
   * were lost (they are also counted through `onDrop`). Ends within the export timeout: requests
   * sent during the flush get what is left of it, counted from the flush's start.
   */
  forceFlush(): Promise<void> {
    return this.flushDeadline.during(() => this.flushAll());
  }

  private async flushAll(): Promise<void> {
    // A flush does not wait for one answer before the next batch: every waiting batch goes now,
    // and those sealed at the end of a wait for the resource's attributes when it ends.
    this.send();
    this.exportReady(true);
    // A wait begun before this flush (a full batch, the timer) keeps at most half of what is left
    // of the flush's timeout, as one the flush begins: the spans then still have time to go out.
    this.cutResourceWait?.(this.flushDeadline.remaining(this.exportTimeoutMillis) / 2);
    await this.resourceWait;
    this.exportReady(true);
    const failure = flushFailure((await Promise.all([...this.inFlight])).filter((failed) => failed !== undefined));
    if (failure !== undefined) throw failure;
  }

  /**
   * Flush, then shut the exporter down even if the flush failed; rejects as `forceFlush` does.
   * Spans that end while the flush runs (requests finishing during a shutdown) are exported too,
   * within the export timeout counted from the call, as every request of the shutdown.
   */
  shutdown(): Promise<void> {
    // A second call waits for the first one's work, as the SDK's processors do.
    return (this.shutdownDone ??= this.flushDeadline.during(() => this.closeAndFlush()));
  }

  private async closeAndFlush(): Promise<void> {
    this.closing = true;
    let failure: Error | undefined;
    try {
      // Each flush waits for what was sent before it; what ended since was sent as it ended. A
      // process that goes on making spans while it shuts down gets a bounded number of rounds.
      for (let round = 0; round < MAX_SHUTDOWN_ROUNDS; round++) {
        try {
          await this.flushAll();
        } catch (error) {
          // forceFlush rejects with the request's Error or an AggregateError of them.
          failure ??= error instanceof Error ? error : new Error(String(error));
        }
        if (
          this.builder.spanCount === 0 &&
          this.waiting.length === 0 &&
          this.ready.length === 0 &&
          this.inFlight.size === 0
        )
          break;
      }
    } finally {
      this.isShutdown = true;
      await this.exporter.shutdown();
    }
    if (failure !== undefined) throw failure;
  }

  /** Add `span` to the request being built; false (counted) when it cannot be encoded. */
  private encode(span: ReadableSpan): boolean {
    try {
      this.builder.add(span);
      return true;
    } catch (error) {
      diag.error('@gatewayz/telemetry-node: could not encode a span for export', error);
      this.onDrop('export_failed', 1);
      return false;
    }
  }

  /**
   * Seal the spans encoded so far into one request and export it, or, while another is being
   * exported, queue it behind that one; first, if their resource still has asynchronous
   * attributes pending, wait for them (at most the export timeout, half of what is left of it
   * during a flush, and once: a detector that never answers must not hold spans back for good).
   */
  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // The send at the end of the wait takes the spans that ended meanwhile.
    if (this.resourceWait !== undefined) return;
    const pending = this.resourceWaitTimedOut ? [] : this.builder.pendingResources();
    if (pending.length > 0) {
      // During a flush the export after the wait needs time of its own within the flush's one
      // timeout: the wait takes at most half of what is left (spans sent without the attribute,
      // rather than held until no time is left to send them).
      const waitMillis = this.flushDeadline.running
        ? this.flushDeadline.remaining(this.exportTimeoutMillis) / 2
        : this.exportTimeoutMillis;
      const waitStart = performance.now();
      let waitedMillis = waitMillis;
      let cutTimer: NodeJS.Timeout | undefined;
      const cutShort = new Promise<false>((resolve) => {
        this.cutResourceWait = (afterMillis) => {
          clearTimeout(cutTimer);
          waitedMillis = Math.min(waitedMillis, performance.now() - waitStart + afterMillis);
          cutTimer = setTimeout(() => resolve(false), afterMillis);
          cutTimer.unref();
        };
      });
      this.resourceWait = settledWithin(pending, waitMillis, cutShort).then((settled) => {
        clearTimeout(cutTimer);
        this.cutResourceWait = undefined;
        if (!settled) {
          this.resourceWaitTimedOut = true;
          diag.warn(
            `@gatewayz/telemetry-node: resource attributes still pending after ${Math.round(waitedMillis)} ms; exporting spans without them`,
          );
        }
        this.resourceWait = undefined;
        // The spans of the wait, then those that ended during it, a request per `maxExportBatchSize`.
        this.send();
        for (const waited of this.waiting.splice(0)) {
          if (this.encode(waited) && this.builder.spanCount >= this.maxExportBatchSize) this.send();
        }
        this.send();
      });
      return;
    }
    const request = this.builder.seal();
    if (request !== undefined) {
      this.ready.push(request);
      this.spansReady += request.spanCount;
    }
    this.exportReady(this.closing);
  }

  /**
   * Export the oldest waiting batch when none is being exported, as the SDK's processor does; with
   * `all` (a flush, a shutdown), every waiting batch at once.
   */
  private exportReady(all: boolean): void {
    while (this.ready.length > 0 && (all || this.exporting === 0)) {
      const request = this.ready.shift() as EncodedTraceRequest;
      this.spansReady -= request.spanCount;
      this.export(request);
    }
  }

  /** Hand `request` to the exporter; its answer (or the export timeout) lets the next batch go. */
  private export(request: EncodedTraceRequest): void {
    const count = request.spanCount;
    this.exporting++;
    // Resolves (never rejects: a timer's send has nobody to catch) to why the request failed, if it did.
    const exported = new Promise<Error | undefined>((resolve) => {
      let settled = false;
      const settle = (failure: Error | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        this.exporting--;
        if (failure !== undefined) this.onDrop('export_failed', count);
        resolve(failure);
        this.exportReady(this.closing);
      };
      // During a flush, what is left of the timeout counted from the flush's start.
      const timeoutMillis = this.flushDeadline.remaining(this.exportTimeoutMillis);
      const timeout = setTimeout(
        () => settle(exportFailure(notExported(count), `no answer within ${Math.round(timeoutMillis)} ms`)),
        timeoutMillis,
      );
      timeout.unref();
      try {
        this.exporter.exportEncoded(request, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            settle(exportFailure(notExported(count), result.error));
            return;
          }
          // Answered with success: the transport has sent every byte, so the buffer can be reused.
          // After a failure it is left alone (a transport may still hold a write of it).
          request.release?.();
          settle(undefined);
        });
      } catch (error) {
        diag.error('@gatewayz/telemetry-node: span export threw', error);
        settle(exportFailure(notExported(count), error));
      }
    });
    this.inFlight.add(exported);
    void exported.then(() => this.inFlight.delete(exported));
  }
}

/** Flushes `shutdown()` runs at most, for spans that keep ending while it flushes. */
const MAX_SHUTDOWN_ROUNDS = 16;

/** Whether every resource's asynchronous attributes settled within `timeoutMillis`. */
async function settledWithin(
  resources: readonly Resource[],
  timeoutMillis: number,
  cutShort: Promise<false>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMillis);
    timer.unref();
  });
  const waits = resources.map((resource) => resource.waitForAsyncAttributes?.() ?? Promise.resolve());
  const settled = Promise.all(waits).then(
    () => true as const,
    // A rejected attribute is dropped by the resource itself; nothing more to wait for.
    () => true as const,
  );
  try {
    return await Promise.race([settled, timedOut, cutShort]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a failed request of `count` spans is named. */
function notExported(count: number): string {
  return `${countOf(count, 'span', 'spans')} not exported`;
}
