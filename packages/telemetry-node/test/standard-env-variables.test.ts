/**
 * The standard `OTEL_*` variables do what the OpenTelemetry specification says ("SDK environment
 * variables", "OTLP exporter"), checked end to end: telemetry starts with the variable set and the
 * real OTLP/HTTP receiver shows what arrived. Most cases here did not hold before the audit of the
 * standard variables (see the changeset); the rest guard what already did. The TLS fixture is a
 * self-signed certificate for 127.0.0.1 made for this test only.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiagLogLevel, ROOT_CONTEXT, diag, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { ConsoleLogRecordExporter } from '@opentelemetry/sdk-logs';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import { EncodingBatchSpanProcessor, createSpanProcessorsFromEnv } from '../src/tracing/index.js';
import { createLogExportersFromEnv } from '../src/logs/log-exporters-from-env.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';

let running: RunningTelemetry | undefined;
let receiver: OtlpReceiver | undefined;
let tlsServer: Server | undefined;
let warnings: string[] = [];

afterEach(async () => {
  await running?.shutdown();
  await receiver?.close();
  await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
  running = undefined;
  receiver = undefined;
  tlsServer = undefined;
  vi.unstubAllEnvs();
  diag.disable();
  propagation.disable();
});

/** Capture `diag.warn` from here on. */
function captureWarnings(): void {
  warnings = [];
  const logger: DiagLogger = {
    error: (message) => warnings.push(message),
    warn: (message) => warnings.push(message),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
}

/**
 * Start telemetry against a fresh receiver with `variables` set in `process.env` (the SDK's
 * exporters read their endpoint there, as in production) and passed as `env`.
 */
async function start(variables: Record<string, string>): Promise<RunningTelemetry> {
  receiver = await startOtlpReceiver();
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/$/, ''), ...variables };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  running = startTelemetry({ hostMetrics: false, runtimeMetrics: false, logStream: null, env: { ...env } });
  return running;
}

/** One span with three attributes, an event and a link of three attributes each, then a log record. */
async function recordAndFlush(otel: RunningTelemetry): Promise<void> {
  const tracer = trace.getTracer('standard-env-test');
  const linked = tracer.startSpan('linked');
  linked.end();
  const span = tracer.startSpan('work', {
    attributes: { first: 1, second: 2, third: 3 },
    links: [{ context: linked.spanContext(), attributes: { l1: 1, l2: 2, l3: 3 } }],
  });
  span.addEvent('step', { e1: 1, e2: 2, e3: 3 });
  span.end();
  otel.logger.info('hello');
  await otel.forceFlush();
}

describe('OTEL_LOGS_EXPORTER and the logs protocol', () => {
  it('exports no logs with OTEL_LOGS_EXPORTER=none, even when an OTLP endpoint is set', async () => {
    const otel = await start({ OTEL_LOGS_EXPORTER: 'none' });
    expect(otel.logsExported).toBe(false);
    await recordAndFlush(otel);
    await receiver!.waitForSpans((spans) => spans.length >= 2);
    expect(receiver!.requests().filter((request) => request.path === '/v1/logs')).toEqual([]);
  });

  it('sends logs as http/protobuf by default and as JSON when OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json', async () => {
    let otel = await start({});
    await recordAndFlush(otel);
    await receiver!.waitForLogRecords((records) => records.length >= 1);
    expect(receiver!.requests().find((request) => request.path === '/v1/logs')?.contentType).toBe(
      'application/x-protobuf',
    );
    await otel.shutdown();
    await receiver!.close();

    otel = await start({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'HTTP/JSON' });
    await recordAndFlush(otel);
    const records = await receiver!.waitForLogRecords((received) => received.length >= 1);
    expect(records[0]?.body).toBe('hello');
    expect(receiver!.requests().find((request) => request.path === '/v1/logs')?.contentType).toBe('application/json');
  });

  it('reads every OTEL_BLRP_* variable: a delay of 0 exports at once, batches of OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', async () => {
    const otel = await start({ OTEL_BLRP_SCHEDULE_DELAY: '0', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '1' });
    otel.logger.info('first');
    otel.logger.info('second');
    // No forceFlush(): the records leave on the processor's own schedule.
    const records = await receiver!.waitForLogRecords((received) => received.length >= 2, 5_000);
    expect(records.map((record) => record.body)).toEqual(['first', 'second']);
    expect(receiver!.requests().filter((request) => request.path === '/v1/logs')).toHaveLength(2);
  });

  it('builds a console exporter for console and skips unknown names with a warning', () => {
    captureWarnings();
    const exporters = createLogExportersFromEnv({ OTEL_LOGS_EXPORTER: 'Console,carrier-pigeon' });
    expect(exporters).toHaveLength(1);
    expect(exporters[0]).toBeInstanceOf(ConsoleLogRecordExporter);
    expect(warnings.join('\n')).toMatch(/OTEL_LOGS_EXPORTER="carrier-pigeon"/);
    expect(createLogExportersFromEnv({ OTEL_LOGS_EXPORTER: '' })).toEqual([]);
  });
});

describe('service.name', () => {
  it('comes from OTEL_RESOURCE_ATTRIBUTES when OTEL_SERVICE_NAME is unset or empty', async () => {
    const otel = await start({
      OTEL_SERVICE_NAME: '',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,service.name=checkout%20api',
    });
    await recordAndFlush(otel);
    const spans = await receiver!.waitForSpans((received) => received.length >= 2);
    expect(spans[0]?.resource['service.name']).toBe('checkout api');
    const records = await receiver!.waitForLogRecords((received) => received.length >= 1);
    expect(records[0]?.resource['service.name']).toBe('checkout api');
  });

  it('is OTEL_SERVICE_NAME when both are set', async () => {
    const otel = await start({ OTEL_SERVICE_NAME: 'billing', OTEL_RESOURCE_ATTRIBUTES: 'service.name=checkout' });
    await recordAndFlush(otel);
    const spans = await receiver!.waitForSpans((received) => received.length >= 2);
    expect(spans[0]?.resource['service.name']).toBe('billing');
  });
});

describe('tracer provider variables', () => {
  it('applies OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT and OTEL_LINK_ATTRIBUTE_COUNT_LIMIT to exported spans', async () => {
    const otel = await start({
      OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '1',
      OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '2',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2',
    });
    await recordAndFlush(otel);
    const spans = await receiver!.waitForSpans((received) => received.length >= 2);
    const work = spans.find((span) => span.name === 'work')!;
    expect(Object.keys(work.attributes)).toHaveLength(2);
    expect(Object.keys(work.events[0]!.attributes)).toHaveLength(1);
    expect(Object.keys(work.links[0]!.attributes)).toHaveLength(2);
  });

  it('reads OTEL_TRACES_SAMPLER case-insensitively', async () => {
    const otel = await start({ OTEL_TRACES_SAMPLER: 'ALWAYS_OFF' });
    await recordAndFlush(otel);
    await receiver!.waitForLogRecords((records) => records.length >= 1);
    expect(receiver!.spans()).toEqual([]);
  });

  it('ignores an OTEL_TRACES_SAMPLER_ARG outside [0, 1] with a warning (ratio 1)', async () => {
    captureWarnings();
    const otel = await start({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' });
    expect(warnings.join('\n')).toMatch(/OTEL_TRACES_SAMPLER_ARG="7"/);
    await recordAndFlush(otel);
    await receiver!.waitForSpans((spans) => spans.length >= 2);
  });

  it('reports traces as off with OTEL_TRACES_EXPORTER=none', async () => {
    const otel = await start({ OTEL_TRACES_EXPORTER: 'none' });
    expect(otel.tracesEnabled).toBe(false);
  });
});

describe('OTEL_BSP_*', () => {
  it('treats OTEL_BSP_EXPORT_TIMEOUT=0 as no limit: a slow export is not counted as failed', async () => {
    const otel = await start({ OTEL_BSP_EXPORT_TIMEOUT: '0' });
    await recordAndFlush(otel);
    await receiver!.waitForSpans((spans) => spans.length >= 2);
    const text = await (await otel.metricsHandler(new Request('http://gateway/metrics'))).text();
    expect(text).not.toMatch(/gatewayz_telemetry_spans_dropped_total\{reason="export_failed"\} [1-9]/);
  });

  it('ignores a zero queue or batch size and an unparsable value with a warning, keeping the defaults', async () => {
    captureWarnings();
    const otel = await start({
      OTEL_BSP_MAX_QUEUE_SIZE: '0',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
    });
    expect(warnings.join('\n')).toMatch(/OTEL_BSP_MAX_QUEUE_SIZE="0"/);
    expect(warnings.join('\n')).toMatch(/OTEL_BSP_MAX_EXPORT_BATCH_SIZE="0"/);
    expect(warnings.join('\n')).toMatch(/OTEL_BSP_SCHEDULE_DELAY="soon"/);
    await recordAndFlush(otel);
    const spans = await receiver!.waitForSpans((received) => received.length >= 2);
    expect(spans).toHaveLength(2);
    // Both spans went out in one request: the batch size is the default, not one span per request.
    expect(receiver!.requests().filter((request) => request.path === '/v1/traces')).toHaveLength(1);
  });

  it('builds the encoding processor with the defaults for invalid values instead of throwing', () => {
    captureWarnings();
    const processors = createSpanProcessorsFromEnv({ env: { OTEL_BSP_MAX_QUEUE_SIZE: '-5' }, onDrop: () => {} });
    expect(processors?.[0]).toBeInstanceOf(EncodingBatchSpanProcessor);
    expect(warnings.join('\n')).toMatch(/OTEL_BSP_MAX_QUEUE_SIZE="-5"/);
  });
});

describe('OTLP metrics push variables', () => {
  it.each([
    [{ OTEL_METRICS_EXPORTER: 'otpl,prometheus' }, 'OTEL_METRICS_EXPORTER="otpl"', { prometheus: true, otlp: false }],
    [{ OTEL_METRICS_EXPORTER: 'none,otlp' }, 'OTEL_METRICS_EXPORTER="none,otlp"', { prometheus: false, otlp: false }],
    [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'thrift' },
      '"thrift"',
      { protocol: 'http/protobuf' },
    ],
    [
      {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'thrift',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      },
      'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="thrift"; expected one of http/protobuf, http/json, grpc, using the generic protocol',
      { protocol: 'grpc' },
    ],
    [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1.5s' },
      '"1.5s"',
      { exportIntervalMillis: 60_000 },
    ],
    [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' },
      '"sometimes"',
      { temporalityPreference: 'cumulative' },
    ],
    [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'novalue,x-tenant=a' },
      '"novalue"',
      { headers: { 'x-tenant': 'a' } },
    ],
  ])('warns about %o and uses the default', (env, warning, expected) => {
    captureWarnings();
    const resolved = resolveMetricsExport(undefined, env);
    expect(warnings.join('\n')).toContain(warning);
    const { prometheus, otlp, ...rest } = expected as Record<string, unknown>;
    if (prometheus !== undefined) expect(resolved.prometheus).toBe(prometheus);
    if (otlp !== undefined) expect(resolved.otlp !== undefined).toBe(otlp);
    if (Object.keys(rest).length > 0) expect(resolved.otlp).toMatchObject(rest);
  });

  it('treats an OTLP timeout of 0 as no limit', () => {
    const resolved = resolveMetricsExport(undefined, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TIMEOUT: '0',
    });
    expect(resolved.otlp?.timeoutMillis).toBe(2_147_483_647);
  });

  it('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION chooses the pushed histograms (any case); another value is warned about and means explicit', () => {
    const base = { OTEL_METRICS_EXPORTER: 'otlp' };
    const limits = (value: string | undefined): unknown =>
      resolveMetricsExport(undefined, { ...base, OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: value }).otlp
        ?.exponentialHistograms;
    expect(limits(undefined)).toBeUndefined();
    expect(limits('explicit_bucket_histogram')).toBeUndefined();
    expect(limits('base2_exponential_bucket_histogram')).toEqual({ maxSize: 160, maxScale: 20 });
    expect(limits(' BASE2_Exponential_Bucket_Histogram ')).toEqual({ maxSize: 160, maxScale: 20 });
    const { result, warnings } = captureConfigurationWarnings(() => limits('exponential'));
    expect(result).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION.*"exponential"/),
    ]);
  });

  it('honours OTEL_EXPORTER_OTLP_CERTIFICATE for the push (and does not report it unsupported)', async () => {
    const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
    const paths: string[] = [];
    tlsServer = createServer(
      { key: readFileSync(fixture('loopback-tls-key.pem')), cert: readFileSync(fixture('loopback-tls-cert.pem')) },
      (request, response) => {
        paths.push(request.url ?? '');
        request.resume();
        request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
      },
    );
    await new Promise<void>((resolve) => tlsServer!.listen(0, '127.0.0.1', resolve));
    const { port } = tlsServer.address() as AddressInfo;
    const env = {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `https://127.0.0.1:${port}/v1/metrics`,
      OTEL_EXPORTER_OTLP_CERTIFICATE: fixture('loopback-tls-cert.pem'),
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    running = startTelemetry({ traces: false, hostMetrics: false, runtimeMetrics: false, logStream: null, env });
    running.telemetry.add('telemetrySpansDropped', 1, { reason: 'queue_full' });
    await running.forceFlush();
    expect(paths).toContain('/v1/metrics');
  });
});

describe('OTEL_METRICS_EXPORTER=console', () => {
  it('exports every OTEL_METRIC_EXPORT_INTERVAL, as the specification sets it for every periodic reader', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((item: unknown) => void printed.push(item));
    try {
      running = startTelemetry({
        traces: false,
        logs: false,
        hostMetrics: false,
        runtimeMetrics: false,
        logStream: null,
        env: {
          OTEL_METRICS_EXPORTER: 'console',
          OTEL_METRIC_EXPORT_INTERVAL: '1000',
          OTEL_METRIC_EXPORT_TIMEOUT: '500',
          OTEL_NODE_RESOURCE_DETECTORS: 'none',
        },
      });
      running.telemetry.incrementCostByProvider('openai', 0.25);
      await vi.advanceTimersByTimeAsync(3_500);
      const exports = printed.filter(
        (item) => (item as { descriptor?: { name?: string } }).descriptor?.name === 'gatewayz_cost_by_provider',
      );
      // One print of the metric per export: at 1, 2 and 3 s (the SDK's default interval is 60 s).
      expect(exports).toHaveLength(3);
    } finally {
      vi.useRealTimers();
      // Its last export (on shutdown) prints too: still into `printed`.
      await running?.shutdown();
      running = undefined;
      vi.restoreAllMocks();
    }
  });

  it('reads OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT for its reader as for the OTLP push (the timeout never above the interval)', () => {
    const consoleReader = (env: NodeJS.ProcessEnv): unknown =>
      resolveMetricsExport(undefined, { OTEL_METRICS_EXPORTER: 'console', ...env }).console;
    expect(consoleReader({})).toEqual({ exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
    expect(consoleReader({ OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '500' })).toEqual({
      exportIntervalMillis: 1000,
      exportTimeoutMillis: 500,
    });
    expect(consoleReader({ OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '0' })).toEqual({
      exportIntervalMillis: 1000,
      exportTimeoutMillis: 1000,
    });
    // One warning for a bad value both readers read.
    const { result, warnings } = captureConfigurationWarnings(() =>
      resolveMetricsExport(undefined, { OTEL_METRICS_EXPORTER: 'otlp,console', OTEL_METRIC_EXPORT_INTERVAL: 'often' }),
    );
    expect(result.console?.exportIntervalMillis).toBe(60_000);
    expect(warnings).toEqual([expect.stringContaining('OTEL_METRIC_EXPORT_INTERVAL="often"')]);
  });
});

describe('OTEL_PROPAGATORS', () => {
  const incoming = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    b3: '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1',
  };
  /** Headers an outbound call carries for a request that came in with `incoming`. */
  function forwarded(): Record<string, string> {
    const headers: Record<string, string> = {};
    propagation.inject(propagation.extract(ROOT_CONTEXT, incoming), headers);
    return headers;
  }
  const quiet = { traces: false, hostMetrics: false, runtimeMetrics: false, logStream: null } as const;

  it('still propagates trace context when OTEL_SDK_DISABLED=true', async () => {
    propagation.disable();
    running = startTelemetry({ ...quiet, env: { OTEL_SDK_DISABLED: 'true' } });
    expect(running.disabled).toBe(true);
    expect(forwarded()).toEqual({ traceparent: incoming.traceparent });
    await running.shutdown();
    running = startTelemetry({ ...quiet, env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_PROPAGATORS: 'b3' } });
    expect(forwarded()).toEqual({ b3: incoming.b3 });
  });

  it.each([
    ['running', {}],
    ['disabled', { OTEL_SDK_DISABLED: 'true' }],
  ])('keeps a propagator the application registered first, through shutdown (%s)', async (_state, env) => {
    propagation.disable();
    const { B3Propagator } = await import('@opentelemetry/propagator-b3');
    expect(propagation.setGlobalPropagator(new B3Propagator())).toBe(true);
    running = startTelemetry({ ...quiet, env });
    expect(forwarded()).toEqual({ b3: incoming.b3 });
    await running.shutdown();
    running = undefined;
    // Not ours to remove: the application's calls still carry trace context.
    expect(forwarded()).toEqual({ b3: incoming.b3 });
  });

  it('reads names case-insensitively and skips unknown ones with a warning', () => {
    propagation.disable();
    captureWarnings();
    running = startTelemetry({ ...quiet, env: { OTEL_PROPAGATORS: 'B3MULTI,tracecontext,carrier-pigeon' } });
    expect(warnings.join('\n')).toMatch(/OTEL_PROPAGATORS="carrier-pigeon"/);
    expect(forwarded()).toMatchObject({
      traceparent: incoming.traceparent,
      'x-b3-traceid': '0af7651916cd43dd8448eb211c80319c',
      'x-b3-spanid': 'b7ad6b7169203331',
    });
  });
});

describe('variables of exporters that do not run here', () => {
  it('warns that OTEL_EXPORTER_PROMETHEUS_HOST and _PORT start no server', () => {
    captureWarnings();
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: '9464' },
    });
    expect(warnings.join('\n')).toMatch(/OTEL_EXPORTER_PROMETHEUS_PORT ignored/);
  });
});

describe('where the warnings go', () => {
  /** Start telemetry with `env`, its log records written to `lines`. */
  const startLoggingTo = (lines: string[], env: Record<string, string>): RunningTelemetry =>
    startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: { write: (line: string) => lines.push(line) },
      env,
    });

  it('writes each ignored value to the returned logger as a warn record, with no diagnostic logger installed', () => {
    const lines: string[] = [];
    running = startLoggingTo(lines, {
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_PROPAGATORS: 'tracecontext,carrier-pigeon',
    });
    const records = lines.map((line) => JSON.parse(line) as { level: string; msg?: string; message?: string });
    const warned = records.filter((record) => record.level === 'warn').map((record) => JSON.stringify(record));
    expect(warned).toHaveLength(2);
    expect(warned.join('\n')).toMatch(/OTEL_TRACES_SAMPLER=\\"sometimes\\"/);
    expect(warned.join('\n')).toMatch(/OTEL_PROPAGATORS=\\"carrier-pigeon\\"/);
  });

  it('writes nothing when every value is valid, and the warnings of one start do not leak into the next', () => {
    const first: string[] = [];
    running = startLoggingTo(first, { OTEL_TRACES_SAMPLER: 'sometimes' });
    expect(first).toHaveLength(1);
    return running.shutdown().then(() => {
      const second: string[] = [];
      running = startLoggingTo(second, { OTEL_TRACES_SAMPLER: 'ALWAYS_OFF' });
      expect(second).toEqual([]);
    });
  });
});
