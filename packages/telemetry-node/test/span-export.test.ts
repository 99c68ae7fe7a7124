import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpanKind, SpanStatusCode, context, diag, trace, type Span } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { endGenAiSpan, startGenAiSpan } from '@gatewayz/telemetry/genai';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import {
  EncodingBatchSpanProcessor,
  createSpanProcessorsFromEnv,
  type EncodedTraceExporter,
  type EncodedTraceRequest,
} from '../src/tracing/index.js';
import {
  decodeProtobufRequest,
  decodeTraces,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpReceiverOptions,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';

const nanos = (time: [number, number]): string => (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();

/** What the receiver should have decoded for a span the SDK recorded. */
function expectedFromRecorded(span: ReadableSpan): ReceivedSpan {
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: { ...span.attributes } as ReceivedSpan['attributes'],
    status: span.status.message === undefined ? { code: span.status.code } : { ...span.status },
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: nanos(event.time),
      attributes: { ...event.attributes } as ReceivedSpan['attributes'],
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: { ...link.attributes } as ReceivedSpan['attributes'],
    })),
    resource: { ...span.resource.attributes } as ReceivedSpan['resource'],
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version, attributes: {} },
  };
}

/** The request shapes of the example gateway: a server span, a GenAI client child, an error with an event and a link. */
function recordGatewaySpans(running: RunningTelemetry): ReadableSpan[] {
  const recorded: Span[] = [];
  for (let request = 0; request < 3; request++) {
    const server = running.tracer.startSpan('POST /v1/chat/completions', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions' },
    });
    const attempt = startGenAiSpan(
      running.tracer,
      {
        operationName: 'chat',
        providerName: 'openai',
        requestModel: 'gpt-4o-mini',
        serverAddress: 'api.openai.com',
        serverPort: 443,
        maxTokens: 256,
      },
      trace.setSpan(context.active(), server),
    );
    endGenAiSpan(
      attempt,
      request === 2
        ? { errorType: 'rate_limited' }
        : { responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 12, outputTokens: 30, finishReasons: ['stop'] },
    );
    server.addEvent('upstream.retry', { 'gatewayz.attempt': 2, 'gatewayz.delay_s': 0.25, 'gatewayz.final': false });
    server.addLink({ context: attempt.spanContext(), attributes: { 'link.kind': 'attempt' } });
    server.setAttribute('http.response.status_code', request === 2 ? 502 : 200);
    if (request === 2) server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
    server.end();
    recorded.push(attempt, server);
  }
  return recorded as unknown as ReadableSpan[];
}

describe('span export (startTelemetry with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)', () => {
  let running: RunningTelemetry | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await running?.shutdown();
    await receiver?.close();
    running = undefined;
    receiver = undefined;
    vi.unstubAllEnvs();
  });

  async function start(
    protocol: string,
    extraEnv: Record<string, string> = {},
    receiverOptions: OtlpReceiverOptions = {},
  ): Promise<RunningTelemetry> {
    receiver = await startOtlpReceiver(receiverOptions);
    const env = {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
      OTEL_TRACES_SAMPLER: 'always_on',
      ...extraEnv,
    };
    // The exporters read their endpoint from process.env, as in production.
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    running = startTelemetry({
      serviceName: 'span-export-test',
      serviceVersion: '9.9.9',
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      contextManager: 'synchronous',
      env: { ...env },
    });
    return running;
  }

  for (const [protocol, processor] of [
    ['http/protobuf', 'encoding'],
    ['http/protobuf', 'batch'],
    ['http/json', 'batch'],
  ] as const) {
    it(`exports every span, attribute, event, link, status and resource as recorded (${protocol}, ${processor} processor)`, async () => {
      const otel = await start(protocol, processor === 'batch' ? { GATEWAYZ_SPAN_PROCESSOR: 'batch' } : {});
      expect(otel.tracesEnabled).toBe(true);
      const recorded = recordGatewaySpans(otel);
      await otel.forceFlush();
      const received = await receiver!.waitForSpans((spans) => spans.length >= recorded.length);
      expect(receiver!.requests().every((request) => request.contentType.includes(protocol.slice(5)))).toBe(true);
      expect(received).toHaveLength(recorded.length);
      const bySpanId = new Map(received.map((span) => [span.spanId, span]));
      for (const span of recorded) {
        const expected = expectedFromRecorded(span);
        expect(expected.resource['service.name']).toBe('span-export-test');
        expect(bySpanId.get(expected.spanId)).toEqual(expected);
      }
    });
  }

  for (const processor of ['encoding', 'batch']) {
    it(`counts spans whose export failed in gatewayz_telemetry_spans_dropped_total (${processor} processor)`, async () => {
      const otel = await start(
        'http/protobuf',
        { GATEWAYZ_SPAN_PROCESSOR: processor },
        { failFirst: 1000, failStatus: 400 },
      );
      const recorded = recordGatewaySpans(otel);
      const flushed = await otel.forceFlush().then(
        () => undefined,
        (error: unknown) => error,
      );
      // The flush names what was lost, whichever processor lost it.
      expect(flushed).toBeInstanceOf(AggregateError);
      expect((flushed as AggregateError).message).toMatch(/forceFlush: (\d+ )?spans not exported: /);
      const response = await otel.metricsHandler(new Request('http://gateway/metrics'));
      const text = await response.text();
      expect(text).toContain(`gatewayz_telemetry_spans_dropped_total{reason="export_failed"} ${recorded.length}`);
      expect(receiver!.requests().length).toBeGreaterThan(0);
    });
  }
});

/** An exporter that fails every export, after a tick, like a rejected HTTP request. */
class RejectingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exported += spans.length;
    setImmediate(() => done({ code: ExportResultCode.FAILED, error: new Error('HTTP 400') }));
  }
  async shutdown(): Promise<void> {}
}

/** An encoded-request exporter that answers each request when the test says so. */
class ManualEncodedExporter implements EncodedTraceExporter {
  /**
   * Each request as handed over, a copy of its bytes as a transport would have sent them (a request
   * answered with success may have its buffer reused), and the function that answers it.
   */
  readonly requests: Array<{ request: EncodedTraceRequest; sent: Uint8Array; answer: (success: boolean) => void }> = [];
  exportEncoded(request: EncodedTraceRequest, done: (result: ExportResult) => void): void {
    this.requests.push({
      request,
      sent: request.bytes.slice(),
      answer: (success) =>
        done(success ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('503') }),
    });
  }
  async shutdown(): Promise<void> {}
}

/** A span exporter for the SDK's processor that answers each export when the test says so. */
class ManualSpanExporter implements SpanExporter {
  readonly exports: Array<{ spans: number; answer: (success: boolean) => void }> = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exports.push({
      spans: spans.length,
      answer: (success) =>
        done(success ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('503') }),
    });
  }
  async shutdown(): Promise<void> {}
}

describe('EncodingBatchSpanProcessor', () => {
  it('batches by maxExportBatchSize, bounds what waits by maxQueueSize, and reports every span it does not deliver', async () => {
    const exporter = new ManualEncodedExporter();
    const drops: Record<string, number> = {};
    const processor = new EncodingBatchSpanProcessor({
      exporter,
      maxQueueSize: 6,
      maxExportBatchSize: 3,
      scheduledDelayMillis: 60_000,
      onDrop: (reason, count) => void (drops[reason] = (drops[reason] ?? 0) + count),
    });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const tracer = provider.getTracer('test');
    for (let index = 0; index < 10; index++) tracer.startSpan(`span ${index}`).end();
    // One batch of 3 being exported, two of 3 waiting behind it fill the queue of 6: one span is dropped.
    expect(exporter.requests.map((entry) => entry.request.spanCount)).toEqual([3]);
    expect(drops).toEqual({ queue_full: 1 });
    exporter.requests[0]!.answer(true);
    // The answer lets the next batch go, and only that one.
    expect(exporter.requests.map((entry) => entry.request.spanCount)).toEqual([3, 3]);
    exporter.requests[1]!.answer(false);
    expect(drops).toEqual({ queue_full: 1, export_failed: 3 });
    // A partial batch waits for forceFlush (or the scheduled delay); the flush sends every waiting batch at once.
    tracer.startSpan('late').end();
    expect(exporter.requests).toHaveLength(3);
    const flushed = processor.forceFlush();
    expect(exporter.requests.map((entry) => entry.request.spanCount)).toEqual([3, 3, 3, 1]);
    exporter.requests[2]!.answer(true);
    exporter.requests[3]!.answer(true);
    await flushed;
    await provider.shutdown();
  });

  it("counts only the spans waiting against maxQueueSize, as the SDK's BatchSpanProcessor does, one batch in flight", async () => {
    const options = { maxQueueSize: 6, maxExportBatchSize: 3, scheduledDelayMillis: 60_000 };
    const encoded = new ManualEncodedExporter();
    const dropped: number[] = [];
    const ours = new BasicTracerProvider({
      spanProcessors: [
        new EncodingBatchSpanProcessor({
          exporter: encoded,
          ...options,
          onDrop: (_reason, count) => dropped.push(count),
        }),
      ],
    }).getTracer('test');
    const stock = new ManualSpanExporter();
    const sdk = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(stock, options)],
    }).getTracer('test');
    const batches = () => ({
      ours: encoded.requests.map((entry) => entry.request.spanCount),
      sdk: stock.exports.map((entry) => entry.spans),
    });
    const endSpans = (count: number) => {
      for (let index = 0; index < count; index++) {
        ours.startSpan(`span ${index}`).end();
        sdk.startSpan(`span ${index}`).end();
      }
    };
    // While the collector does not answer, one batch is out and a full queue waits behind it.
    endSpans(10);
    expect(batches()).toEqual({ ours: [3], sdk: [3] });
    expect(dropped).toHaveLength(1);
    // Memory stays bounded: more spans are dropped, no other request starts.
    endSpans(50);
    expect(batches()).toEqual({ ours: [3], sdk: [3] });
    expect(dropped).toHaveLength(51);
    for (let answered = 0; answered < 3; answered++) {
      encoded.requests[answered]!.answer(true);
      stock.exports[answered]!.answer(true);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Both delivered the batch in flight and the six spans that waited: 9 of 60.
    expect(batches()).toEqual({ ours: [3, 3, 3], sdk: [3, 3, 3] });
  });

  it('reuses the memory of a request answered with success, never of one unanswered or failed', async () => {
    const exporter = new ManualEncodedExporter();
    const processor = new EncodingBatchSpanProcessor({ exporter, maxExportBatchSize: 2, scheduledDelayMillis: 60_000 });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const tracer = provider.getTracer('test');
    const batch = (name: string) => {
      tracer.startSpan(`${name} 1`).end();
      tracer.startSpan(`${name} 2`).end();
      return exporter.requests.at(-1)!;
    };
    const unchanged = (entry: (typeof exporter.requests)[number]) =>
      expect(Buffer.from(entry.request.bytes).equals(Buffer.from(entry.sent))).toBe(true);
    const a = batch('a');
    batch('b');
    // The second batch waits for the first one's answer: separate memory, and sealing it left the
    // first as it was sent.
    a.answer(false);
    const b = exporter.requests.at(-1)!;
    expect(b.request.bytes.buffer).not.toBe(a.request.bytes.buffer);
    unchanged(a);
    batch('c');
    b.answer(true);
    const c = exporter.requests.at(-1)!;
    // A failed request's memory is not reused: a transport may still be writing it. (`c` was
    // sealed before `b` was answered, so it has fresh memory too.)
    expect([a.request.bytes.buffer, b.request.bytes.buffer]).not.toContain(c.request.bytes.buffer);
    unchanged(a);
    unchanged(b);
    batch('d');
    c.answer(true);
    const d = exporter.requests.at(-1)!;
    // Sealed after `b` succeeded: its memory.
    expect(d.request.bytes.buffer).toBe(b.request.bytes.buffer);
    unchanged(c);
    unchanged(d);
    d.answer(true);
    await provider.shutdown();
  });

  it('forceFlush and shutdown say which requests failed; a failure before the flush is not blamed on it', async () => {
    const exporter = new ManualEncodedExporter();
    let shutDown = false;
    exporter.shutdown = async () => void (shutDown = true);
    const processor = new EncodingBatchSpanProcessor({ exporter, maxExportBatchSize: 2, scheduledDelayMillis: 60_000 });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test');
    // A full batch goes at once and fails before any flush: counted, but no flush lost it.
    tracer.startSpan('a').end();
    tracer.startSpan('b').end();
    exporter.requests[0]!.answer(false);
    tracer.startSpan('c').end();
    const first = processor.forceFlush();
    exporter.requests[1]!.answer(true);
    await first;
    // One request in flight (sent when its batch filled) and one the flush sends: both fail.
    tracer.startSpan('d').end();
    tracer.startSpan('e').end();
    tracer.startSpan('f').end();
    const second = processor.forceFlush().then(
      () => undefined,
      (error: unknown) => error,
    );
    exporter.requests[2]!.answer(false);
    await new Promise((resolve) => setImmediate(resolve));
    // The flush also waits for the request it sent itself.
    const lost = (await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 50))])) as unknown;
    expect(lost).toBeUndefined();
    exporter.requests[3]!.answer(false);
    const failure = await second;
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      '2 spans not exported: 503',
      '1 span not exported: 503',
    ]);
    // Shutdown flushes the last span, shuts the exporter down although that export fails, and rejects.
    tracer.startSpan('g').end();
    const shutdown = processor.shutdown();
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(5));
    exporter.requests[4]!.answer(false);
    await expect(shutdown).rejects.toThrow(/^1 span not exported: 503$/);
    expect(shutDown).toBe(true);
  });

  it('a request that never gets an answer fails the flush after the export timeout', async () => {
    const exporter = new ManualEncodedExporter();
    const processor = new EncodingBatchSpanProcessor({
      exporter,
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis: 100,
    });
    new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test').startSpan('silent').end();
    await expect(processor.forceFlush()).rejects.toThrow(/^1 span not exported: no answer within 100 ms$/);
  });

  /** Resource attributes of each span of `request`, decoded as a collector would. */
  const resourcesIn = (sent: Uint8Array): Array<Record<string, unknown>> =>
    decodeTraces(decodeProtobufRequest('/v1/traces', sent)).map((span) => span.resource);

  it("waits for the resource's asynchronous attributes before a batch goes out, and spans that ended before they settled carry them too", async () => {
    const exporter = new ManualEncodedExporter();
    let settle: (region: string) => void = () => {};
    const region = new Promise<string>((resolve) => (settle = resolve));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc', 'cloud.region': region }),
      spanProcessors: [new EncodingBatchSpanProcessor({ exporter, scheduledDelayMillis: 60_000 })],
    });
    const tracer = provider.getTracer('test');
    tracer.startSpan('before the detector answered').end();
    const flushed = provider.forceFlush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Still waiting for the region: nothing sent yet.
    expect(exporter.requests).toHaveLength(0);
    settle('eu-west-1');
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(1));
    exporter.requests[0]!.answer(true);
    await flushed;
    tracer.startSpan('after').end();
    const second = provider.forceFlush();
    exporter.requests[1]!.answer(true);
    await second;
    expect(exporter.requests.flatMap((entry) => resourcesIn(entry.sent))).toEqual([
      { 'service.name': 'svc', 'cloud.region': 'eu-west-1' },
      { 'service.name': 'svc', 'cloud.region': 'eu-west-1' },
    ]);
    await provider.shutdown();
  });

  it('an attribute that never settles holds the spans of a flush back for half its export timeout only, then they go without it', async () => {
    const exporter = new ManualEncodedExporter();
    const warn = vi.spyOn(diag, 'warn');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc', 'cloud.region': new Promise<string>(() => {}) }),
      spanProcessors: [
        new EncodingBatchSpanProcessor({ exporter, scheduledDelayMillis: 60_000, exportTimeoutMillis: 200 }),
      ],
    });
    const tracer = provider.getTracer('test');
    tracer.startSpan('one').end();
    const started = Date.now();
    const flushed = provider.forceFlush();
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(1), { timeout: 2000 });
    // Half of the flush's 200 ms: the other half is the export's.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    exporter.requests[0]!.answer(true);
    await flushed;
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('resource attributes still pending after 100 ms'));
    // Later batches are not held back again.
    tracer.startSpan('two').end();
    const second = provider.forceFlush();
    expect(exporter.requests).toHaveLength(2);
    exporter.requests[1]!.answer(true);
    await second;
    expect(exporter.requests.flatMap((entry) => resourcesIn(entry.sent))).toEqual([
      { 'service.name': 'svc' },
      { 'service.name': 'svc' },
    ]);
    warn.mockRestore();
  });

  it('keeps to maxExportBatchSize when the spans waited for their resource (spans that ended meanwhile included)', async () => {
    const exporter = new ManualEncodedExporter();
    let settle: (region: string) => void = () => {};
    const region = new Promise<string>((resolve) => (settle = resolve));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc', 'cloud.region': region }),
      spanProcessors: [
        new EncodingBatchSpanProcessor({ exporter, maxExportBatchSize: 2, scheduledDelayMillis: 60_000 }),
      ],
    });
    const tracer = provider.getTracer('test');
    // The second span fills a batch, whose send waits for the region; eight more end meanwhile.
    for (let index = 0; index < 10; index++) tracer.startSpan(`span ${index}`).end();
    expect(exporter.requests).toHaveLength(0);
    settle('eu-west-1');
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(1));
    // One batch at a time: each answer lets the next go.
    for (let index = 0; index < 5; index++) exporter.requests[index]!.answer(true);
    expect(exporter.requests.map((entry) => entry.request.spanCount)).toEqual([2, 2, 2, 2, 2]);
    expect(exporter.requests.flatMap((entry) => resourcesIn(entry.sent))).toHaveLength(10);
    expect(
      new Set(exporter.requests.flatMap((entry) => resourcesIn(entry.sent).map((r) => r['cloud.region']))),
    ).toEqual(new Set(['eu-west-1']));
    await provider.shutdown();
  });

  it('exports the spans that end while shutdown() is flushing (requests finishing during a shutdown)', async () => {
    const exporter = new ManualEncodedExporter();
    const drops: Record<string, number> = {};
    const processor = new EncodingBatchSpanProcessor({
      exporter,
      scheduledDelayMillis: 60_000,
      onDrop: (reason, count) => void (drops[reason] = (drops[reason] ?? 0) + count),
    });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test');
    tracer.startSpan('before shutdown').end();
    const shutdown = processor.shutdown();
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(1));
    // The collector has not answered yet: a request in flight ends its span now.
    tracer.startSpan('during shutdown').end();
    await vi.waitFor(() => expect(exporter.requests).toHaveLength(2));
    exporter.requests[0]!.answer(true);
    exporter.requests[1]!.answer(true);
    await shutdown;
    expect(
      exporter.requests.map((entry) => decodeTraces(decodeProtobufRequest('/v1/traces', entry.sent))[0]?.name),
    ).toEqual(['before shutdown', 'during shutdown']);
    expect(drops).toEqual({});
    // After shutdown, spans are no longer taken.
    tracer.startSpan('after shutdown').end();
    expect(exporter.requests).toHaveLength(2);
  });

  it('exports a partial batch after scheduledDelayMillis', () => {
    vi.useFakeTimers();
    try {
      const exporter = new ManualEncodedExporter();
      const provider = new BasicTracerProvider({
        spanProcessors: [new EncodingBatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
      });
      provider.getTracer('test').startSpan('one').end();
      vi.advanceTimersByTime(999);
      expect(exporter.requests).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(exporter.requests.map((entry) => entry.request.spanCount)).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('createSpanProcessorsFromEnv', () => {
  it('shuts the exporter of the stock processor down even when its last export failed', async () => {
    const exporter = new RejectingExporter();
    let shutDown = false;
    exporter.shutdown = async () => void (shutDown = true);
    const [processor] = createSpanProcessorsFromEnv({
      env: { OTEL_BSP_SCHEDULE_DELAY: '60000' },
      exporter,
      onDrop: () => {},
    });
    new BasicTracerProvider({ spanProcessors: [processor!] }).getTracer('test').startSpan('lost').end();
    await processor!.shutdown().catch(() => {});
    expect(exporter.exported).toBe(1);
    expect(shutDown).toBe(true);
  });

  it('reports every sampled span it does not deliver: queue full or export failed', async () => {
    const exporter = new RejectingExporter();
    const drops: Record<string, number> = {};
    const processors = createSpanProcessorsFromEnv({
      env: { OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4', OTEL_BSP_SCHEDULE_DELAY: '60000' },
      exporter,
      onDrop: (reason, count) => void (drops[reason] = (drops[reason] ?? 0) + count),
    })!;
    const provider = new BasicTracerProvider({ spanProcessors: processors });
    const tracer = provider.getTracer('test');
    for (let index = 0; index < 20; index++) tracer.startSpan(`span ${index}`).end();
    await provider.forceFlush().catch(() => {});
    await provider.shutdown().catch(() => {});
    expect(drops['queue_full']).toBeGreaterThan(0);
    expect(drops['export_failed']).toBe(exporter.exported);
    expect(drops['queue_full']! + drops['export_failed']!).toBe(20);
  });

  it('reads OTEL_TRACES_EXPORTER and the protocol from env, building every pipeline itself', () => {
    const onDrop = (): void => {};
    expect(createSpanProcessorsFromEnv({ env: {}, onDrop })[0]).toBeInstanceOf(EncodingBatchSpanProcessor);
    expect(createSpanProcessorsFromEnv({ env: { GATEWAYZ_SPAN_PROCESSOR: 'batch' }, onDrop })[0]).toBeInstanceOf(
      BatchSpanProcessor,
    );
    expect(() => createSpanProcessorsFromEnv({ env: { GATEWAYZ_SPAN_PROCESSOR: 'fast' }, onDrop })).toThrow(
      /GATEWAYZ_SPAN_PROCESSOR/,
    );
    expect(createSpanProcessorsFromEnv({ env: { OTEL_TRACES_EXPORTER: 'otlp' }, onDrop })).toHaveLength(1);
    const [consoleProcessor, ...others] = createSpanProcessorsFromEnv({
      env: { OTEL_TRACES_EXPORTER: 'console' },
      onDrop,
    });
    expect(consoleProcessor).toBeInstanceOf(SimpleSpanProcessor);
    expect(others).toEqual([]);
    expect(createSpanProcessorsFromEnv({ env: { OTEL_TRACES_EXPORTER: 'otlp,console' }, onDrop })).toEqual([
      expect.any(EncodingBatchSpanProcessor),
      expect.any(SimpleSpanProcessor),
    ]);
    expect(createSpanProcessorsFromEnv({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, onDrop })[0]).toBeInstanceOf(
      EncodingBatchSpanProcessor,
    );
    expect(
      createSpanProcessorsFromEnv({
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', GATEWAYZ_SPAN_PROCESSOR: 'batch' },
        onDrop,
      })[0],
    ).toBeInstanceOf(BatchSpanProcessor);
    // A protocol the specification does not name is warned about and ignored: http/protobuf applies.
    expect(createSpanProcessorsFromEnv({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, onDrop })[0]).toBeInstanceOf(
      EncodingBatchSpanProcessor,
    );
    expect(createSpanProcessorsFromEnv({ env: { OTEL_TRACES_EXPORTER: 'OTLP' }, onDrop })[0]).toBeInstanceOf(
      EncodingBatchSpanProcessor,
    );
  });
});
