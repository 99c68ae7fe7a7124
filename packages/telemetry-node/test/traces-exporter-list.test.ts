/**
 * `OTEL_TRACES_EXPORTER` as the specification defines it (a comma list of `otlp`, `zipkin`, `console`
 * or `none`, default `otlp`), every exporter built from the `env` given to `startTelemetry()`.
 * Before, anything but `otlp` alone (and an OTLP protocol the specification does not name) was left
 * to `NodeSDK`, which built it from `process.env`: each test here puts a decoy receiver in
 * `process.env` and checks it gets nothing. Real receivers on loopback: the OTLP/HTTP one of
 * test-support and a Zipkin v2 JSON one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { CollectingDiagLogger } from '../../telemetry/test/helpers.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import { EncodingBatchSpanProcessor, createSpanProcessorsFromEnv } from '../src/tracing/index.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startZipkinReceiver, type ZipkinReceiver } from '../../../test-support/zipkin-receiver.js';

const closers: Array<() => Promise<void>> = [];
let running: RunningTelemetry | undefined;
let warnings: string[] = [];

afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  for (const close of closers.splice(0).reverse()) await close();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  diag.disable();
});

async function zipkinReceiver(): Promise<ZipkinReceiver> {
  const receiver = await startZipkinReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

async function otlpReceiver(): Promise<OtlpReceiver> {
  const receiver = await startOtlpReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

/** Capture `diag.warn` from here on (configuration warnings go there). */
function captureWarnings(): void {
  warnings = [];
  const logger: DiagLogger = {
    error: () => {},
    warn: (message) => warnings.push(message),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
}

function start(env: Record<string, string>): RunningTelemetry {
  running = startTelemetry({
    serviceName: 'traces-exporter-list',
    hostMetrics: false,
    runtimeMetrics: false,
    logs: false,
    logStream: null,
    env,
  });
  return running;
}

/** A server span with attributes and its client child, ended. */
function recordSpans(otel: RunningTelemetry, suffix = ''): void {
  const server = otel.tracer.startSpan(`POST /v1/chat/completions${suffix}`, {
    attributes: { 'http.request.method': 'POST', 'gatewayz.attempts': 2 },
  });
  server.end();
}

const processors = (env: Record<string, string>): SpanProcessor[] =>
  createSpanProcessorsFromEnv({ env, onDrop: () => {} });

describe('OTEL_TRACES_EXPORTER=zipkin', () => {
  it("sends Zipkin v2 JSON to env's OTEL_EXPORTER_ZIPKIN_ENDPOINT, not to process.env's, without any OTLP variable", async () => {
    const zipkin = await zipkinReceiver();
    const decoy = await zipkinReceiver();
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'zipkin');
    vi.stubEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', decoy.url);
    const otel = start({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url });
    expect(otel.tracesEnabled).toBe(true);
    recordSpans(otel);
    await otel.forceFlush();
    const [span] = await zipkin.waitForSpans((spans) => spans.length >= 1);
    expect(span).toMatchObject({
      name: 'POST /v1/chat/completions',
      localEndpoint: { serviceName: 'traces-exporter-list' },
      tags: { 'http.request.method': 'POST', 'gatewayz.attempts': '2' },
    });
    expect(zipkin.requests()).toEqual([{ method: 'POST', path: '/api/v2/spans', contentType: 'application/json' }]);
    expect(decoy.requests()).toEqual([]);
  });

  it('flushes the batch on shutdown: a span ended just before shutdown() arrives', async () => {
    const zipkin = await zipkinReceiver();
    const decoy = await zipkinReceiver();
    vi.stubEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', decoy.url);
    // The default schedule delay (5 s) is far beyond the test: only shutdown's flush can send it.
    const otel = start({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url });
    recordSpans(otel, ' last');
    await otel.shutdown();
    running = undefined;
    expect(zipkin.spans().map((span) => span.name)).toEqual(['POST /v1/chat/completions last']);
    expect(decoy.requests()).toEqual([]);
  });

  it('gives up an export after OTEL_EXPORTER_ZIPKIN_TIMEOUT and counts its spans as dropped', async () => {
    const zipkin = await zipkinReceiver();
    zipkin.hangNext(1);
    const otel = start({
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url,
      OTEL_EXPORTER_ZIPKIN_TIMEOUT: '300',
      OTEL_BSP_EXPORT_TIMEOUT: '20000',
    });
    recordSpans(otel);
    const started = performance.now();
    // The flush reports the failed export, as one error naming it.
    const failure = await otel.forceFlush().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).message).toBe(
      '@gatewayz/telemetry-node: forceFlush: spans not exported: Zipkin export timed out after 300 ms (OTEL_EXPORTER_ZIPKIN_TIMEOUT)',
    );
    expect((failure as AggregateError).errors).toHaveLength(1);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    expect(zipkin.requests()).toHaveLength(1);
    const text = await (await otel.metricsHandler(new Request('http://gateway/metrics'))).text();
    expect(text).toMatch(/gatewayz_telemetry_spans_dropped_total\{reason="export_failed"\} 1\b/);
    // The hung request is still open: shutdown waits for it no longer than the timeout either.
    const shutdownStarted = performance.now();
    await otel.shutdown();
    running = undefined;
    expect(performance.now() - shutdownStarted).toBeLessThan(5_000);
  });

  it('a span export failing on shutdown does not cut the other signals short, and what was lost is logged', async () => {
    const zipkin = await zipkinReceiver();
    zipkin.hangNext(1);
    const logsReceiver = await otlpReceiver();
    // The collector takes a second to answer the last log export.
    logsReceiver.slowNext(1, 1000);
    const logger = new CollectingDiagLogger().install(DiagLogLevel.ERROR);
    running = startTelemetry({
      serviceName: 'traces-exporter-list',
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url,
        OTEL_EXPORTER_ZIPKIN_TIMEOUT: '200',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: logsReceiver.logsUrl,
        OTEL_METRICS_EXPORTER: 'none',
      },
    });
    recordSpans(running);
    running.logger.warn('the last log record', { provider: 'openai' });
    const started = performance.now();
    await running.shutdown();
    running = undefined;
    // The span export fails after 200 ms; shutdown still waits for the log export's answer.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(logsReceiver.logRecords().map((record) => record.body)).toEqual(['the last log record']);
    expect(logger.errors.map((error) => error.message)).toEqual([
      '@gatewayz/telemetry-node: shutdown: spans not exported: Zipkin export timed out after 200 ms (OTEL_EXPORTER_ZIPKIN_TIMEOUT)',
    ]);
  });

  it('refuses an OTEL_EXPORTER_ZIPKIN_ENDPOINT that is not an http(s) URL, naming the variable', () => {
    for (const endpoint of ['ftp://zipkin:9411/api/v2/spans', 'zipkin:9411', 'not a url']) {
      const attempt = (): unknown =>
        processors({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: endpoint });
      expect(attempt).toThrow(TelemetryConfigurationError);
      expect(attempt).toThrow(/OTEL_EXPORTER_ZIPKIN_ENDPOINT/);
    }
    expect(() =>
      start({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'ftp://zipkin:9411/api/v2/spans' }),
    ).toThrow(/OTEL_EXPORTER_ZIPKIN_ENDPOINT/);
  });
});

describe('OTEL_TRACES_EXPORTER lists', () => {
  it("otlp,zipkin: a span reaches env's OTLP receiver and env's Zipkin receiver, and none of process.env's", async () => {
    const otlp = await otlpReceiver();
    const zipkin = await zipkinReceiver();
    const decoyOtlp = await otlpReceiver();
    const decoyZipkin = await zipkinReceiver();
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp,zipkin');
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', decoyOtlp.url);
    vi.stubEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', decoyZipkin.url);
    const otel = start({
      OTEL_TRACES_EXPORTER: ' OTLP , zipkin ,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url,
    });
    recordSpans(otel);
    await otel.forceFlush();
    const [received] = await otlp.waitForSpans((spans) => spans.length >= 1);
    const [zipkinSpan] = await zipkin.waitForSpans((spans) => spans.length >= 1);
    expect(received).toMatchObject({ name: 'POST /v1/chat/completions', attributes: { 'gatewayz.attempts': 2 } });
    expect(zipkinSpan).toMatchObject({
      name: 'POST /v1/chat/completions',
      traceId: received!.traceId,
      id: received!.spanId,
    });
    // `otlp` listed twice is one pipeline: the span arrived once.
    expect(otlp.spans()).toHaveLength(1);
    expect(decoyOtlp.requestCount).toBe(0);
    expect(decoyZipkin.requests()).toEqual([]);
  });

  it('console: prints each span with the SDK ConsoleSpanExporter, whatever process.env says', async () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'none');
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((item: unknown) => void printed.push(item));
    const otel = start({ OTEL_TRACES_EXPORTER: 'console' });
    expect(otel.tracesEnabled).toBe(true);
    recordSpans(otel, ' printed');
    await otel.forceFlush();
    expect(printed).toEqual([
      expect.objectContaining({
        name: 'POST /v1/chat/completions printed',
        attributes: { 'http.request.method': 'POST', 'gatewayz.attempts': 2 },
      }),
    ]);
  });

  it('none alone builds no processors and leaves traces off', () => {
    expect(processors({ OTEL_TRACES_EXPORTER: 'none' })).toEqual([]);
    expect(processors({ OTEL_TRACES_EXPORTER: 'NONE' })).toEqual([]);
    expect(start({ OTEL_TRACES_EXPORTER: 'none' }).tracesEnabled).toBe(false);
  });

  it('none with other names still exports nothing, with a warning naming the variable', async () => {
    const zipkin = await zipkinReceiver();
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'zipkin');
    vi.stubEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', zipkin.url);
    captureWarnings();
    const otel = start({ OTEL_TRACES_EXPORTER: 'zipkin,none', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url });
    expect(otel.tracesEnabled).toBe(false);
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_TRACES_EXPORTER="zipkin,none"; expected "none" alone, exporting no spans',
    ]);
    recordSpans(otel);
    await otel.shutdown();
    running = undefined;
    expect(zipkin.requests()).toEqual([]);
  });

  it('skips unknown names (the deprecated logging too) with a warning each, and builds the known ones', () => {
    captureWarnings();
    const built = processors({ OTEL_TRACES_EXPORTER: 'jaeger,console,logging' });
    expect(built).toHaveLength(1);
    expect(built[0]).toBeInstanceOf(SimpleSpanProcessor);
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_TRACES_EXPORTER="jaeger"; expected otlp, zipkin, console or none, skipping it',
      '@gatewayz/telemetry-node: ignoring OTEL_TRACES_EXPORTER="logging"; expected otlp, zipkin, console or none, skipping it',
    ]);
    // Unknown names only: the setting is ignored, as if unset (OTLP).
    const [unset] = processors({ OTEL_TRACES_EXPORTER: 'jaeger' });
    expect(unset).toBeInstanceOf(EncodingBatchSpanProcessor);
  });

  it('builds one processor per distinct name, in the order listed', () => {
    const built = processors({ OTEL_TRACES_EXPORTER: 'console,zipkin,otlp,ZIPKIN' });
    // The stock batch processor is a subclass of the SDK's (its exporter shut down however the flush ended).
    expect(built).toHaveLength(3);
    expect(built[0]!.constructor).toBe(SimpleSpanProcessor);
    expect(built[1]).toBeInstanceOf(BatchSpanProcessor);
    expect(built[2]!.constructor).toBe(EncodingBatchSpanProcessor);
  });
});

describe('an OTLP traces protocol the specification does not name', () => {
  it('is warned about and ignored: the generic protocol applies, then http/protobuf, sent to env’s endpoint', async () => {
    const otlp = await otlpReceiver();
    const decoy = await otlpReceiver();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', decoy.url);
    captureWarnings();
    const otel = start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' });
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_EXPORTER_OTLP_PROTOCOL="thrift"; expected one of http/protobuf, http/json, grpc, using http/protobuf',
    ]);
    recordSpans(otel);
    await otel.forceFlush();
    await otlp.waitForSpans((spans) => spans.length >= 1);
    expect(otlp.requests().map((request) => request.contentType)).toEqual(['application/x-protobuf']);
    expect(decoy.requestCount).toBe(0);
  });

  it('a signal protocol it does not name falls back to the generic one', () => {
    captureWarnings();
    const [processor] = processors({
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/Thrift',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    // http/json goes through the stock batch processor; the protobuf protocols through ours.
    expect(processor).toBeInstanceOf(BatchSpanProcessor);
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="HTTP/Thrift"; expected one of http/protobuf, http/json, grpc, using the generic protocol',
    ]);
  });
});

describe('an explicit exporter', () => {
  it('is batched into as before, whatever OTEL_TRACES_EXPORTER lists', async () => {
    const exporter = new InMemorySpanExporter();
    const built = createSpanProcessorsFromEnv({
      env: { OTEL_TRACES_EXPORTER: 'none' },
      exporter,
      onDrop: () => {},
    });
    const provider = new BasicTracerProvider({ spanProcessors: built });
    provider.getTracer('explicit').startSpan('explicit').end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['explicit']);
    await provider.shutdown();
  });
});
