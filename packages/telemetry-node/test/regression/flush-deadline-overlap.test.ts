import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { FlushDeadline } from '../../src/flush/flush-deadline.js';
import {
  EncodingBatchSpanProcessor,
  type EncodedTraceExporter,
} from '../../src/tracing/encoding-batch-span-processor.js';

/*
 * Flushes that overlap: a shutdown called while an earlier forceFlush waits on a hung request. The
 * first version of the flush deadline counted every export from the earliest flush running, so the
 * shutdown's own request got what was left of that flush (95 ms of 1000) and its span was dropped
 * although the collector answered in 300 ms. Each call's exports now count from the latest start.
 * Likewise a flush that found the spans already waiting for their resource's attributes (a wait a
 * full batch began, outside any flush) sat through the whole wait and then had no time to send.
 */

describe('overlapping flushes', () => {
  it('a shutdown during a flush stuck on a hung request gets its own whole timeout, and its spans go out', async () => {
    let calls = 0;
    const exporter: EncodedTraceExporter = {
      exportEncoded(_request, done): void {
        calls += 1;
        if (calls === 1) return; // the first request never gets an answer
        setTimeout(() => done({ code: ExportResultCode.SUCCESS }), 300);
      },
      shutdown: async (): Promise<void> => {},
      forceFlush: async (): Promise<void> => {},
    };
    const drops: Array<[string, number]> = [];
    const processor = new EncodingBatchSpanProcessor({
      exporter,
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis: 1000,
      onDrop: (reason, count) => drops.push([reason, count]),
    });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc' }),
      spanProcessors: [processor],
    });
    const tracer = provider.getTracer('test');
    tracer.startSpan('one').end();
    const flushed = processor.forceFlush().then(
      () => 'resolved',
      (error: unknown) => String(error),
    );
    await new Promise((resolve) => setTimeout(resolve, 900));
    tracer.startSpan('two').end();
    await processor.shutdown().catch(() => undefined);
    expect(await flushed).toMatch(/1 span not exported: no answer within 1000 ms/);
    // Only the hung request's span is lost; the shutdown's was answered in 300 ms.
    expect(drops).toEqual([['export_failed', 1]]);
    expect(calls).toBe(2);
  });

  it('counts from the latest flush running, and from none once they ended', () => {
    let now = 0;
    const deadline = new FlushDeadline(() => now);
    expect(deadline.remaining(1000)).toBe(1000);
    const endFirst = deadline.begin();
    now = 900;
    expect(deadline.remaining(1000)).toBe(100);
    const endSecond = deadline.begin();
    expect(deadline.remaining(1000)).toBe(1000);
    now = 1500;
    expect(deadline.remaining(1000)).toBe(400);
    endSecond();
    expect(deadline.remaining(1000)).toBe(0);
    endFirst();
    expect(deadline.running).toBe(false);
    expect(deadline.remaining(1000)).toBe(1000);
  });

  it('a flush that finds spans waiting for their resource keeps the wait to half of what is left, and sends them', async () => {
    const sent: number[] = [];
    const exporter: EncodedTraceExporter = {
      exportEncoded(_request, done): void {
        sent.push(Date.now());
        setTimeout(() => done({ code: ExportResultCode.SUCCESS }), 300);
      },
      shutdown: async (): Promise<void> => {},
    };
    const drops: Array<[string, number]> = [];
    const provider = new BasicTracerProvider({
      // An attribute a slow detector never settles.
      resource: resourceFromAttributes({ 'service.name': 'svc', 'cloud.region': new Promise<string>(() => {}) }),
      spanProcessors: [
        new EncodingBatchSpanProcessor({
          exporter,
          maxExportBatchSize: 1,
          scheduledDelayMillis: 60_000,
          exportTimeoutMillis: 1000,
          onDrop: (reason, count) => drops.push([reason, count]),
        }),
      ],
    });
    // A full batch begins the wait for the resource, outside any flush.
    provider.getTracer('test').startSpan('one').end();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await provider.forceFlush();
    expect(drops).toEqual([]);
    expect(sent).toHaveLength(1);
    // Sent about half the flush's timeout in (500 ms), not when the wait's own 1000 ms ran out.
    expect(sent[0]! - started).toBeLessThan(800);
  });
});
