/**
 * `startTelemetry({ env })` reads the OTLP exporters' transport variables (endpoint, headers,
 * timeout, compression) from `env` for every signal and protocol, never from `process.env`: real
 * HTTP and gRPC receivers on loopback, with `process.env` naming another receiver and other headers.
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { otlpGrpcDelegateOptions } from '../src/env/otlp-exporter-config.js';
import { otlpExporterVariables } from '../src/env/otlp-exporter-variables.js';
import { NO_OTLP_TLS } from '../src/env/otlp-tls-from-env.js';
import { captureConfigurationWarnings, NO_TIMEOUT_MILLIS } from '../src/env/standard-variables.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
  vi.unstubAllEnvs();
});

async function receivers(): Promise<{ http: OtlpReceiver; grpc: OtlpGrpcReceiver }> {
  const [http, grpc] = await Promise.all([startOtlpReceiver(), startOtlpGrpcReceiver()]);
  closers.push(
    () => http.close(),
    () => grpc.close(),
  );
  return { http, grpc };
}

/**
 * `process.env` as a deployment around an embedded gateway could have it: another collector for
 * every signal (HTTP and gRPC alike), headers that must not leak, a timeout and compression.
 */
async function wrongProcessEnv(): Promise<{ http: OtlpReceiver; grpc: OtlpGrpcReceiver }> {
  const wrong = await receivers();
  const stub = (signal: string, protocol: string): void => {
    vi.stubEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`, protocol === 'grpc' ? wrong.grpc.url : `${wrong.http.url}/x`);
    vi.stubEnv(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`, 'x-leak=signal,x-tenant=process-env');
  };
  vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', wrong.http.url);
  vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-leak=general,authorization=Bearer%20process-env');
  vi.stubEnv('OTEL_EXPORTER_OTLP_COMPRESSION', 'none');
  for (const signal of ['TRACES', 'LOGS', 'METRICS']) stub(signal, 'http');
  return wrong;
}

function start(env: Record<string, string>): RunningTelemetry {
  running = startTelemetry({
    serviceName: 'env-test',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    contextManager: 'synchronous',
    env: {
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
      OTEL_BLRP_SCHEDULE_DELAY: '3600000',
      ...env,
    },
  });
  return running;
}

const HEADERS_IN_ENV = {
  OTEL_EXPORTER_OTLP_HEADERS: 'x-general=1,x-tenant=general',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=acme-traces',
  OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-tenant=acme-logs',
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=acme-metrics',
  OTEL_METRICS_EXPORTER: 'otlp',
  OTEL_METRIC_EXPORT_INTERVAL: '3600000',
};

describe('startTelemetry({ env }): OTLP exporters read their transport from env alone', () => {
  for (const [protocol, processor] of [
    ['http/protobuf', 'encoding'],
    ['http/protobuf', 'batch'],
    ['http/json', 'batch'],
  ] as const) {
    it(`traces over ${protocol} (${processor} processor), logs and metrics go to env's endpoint with env's headers, gzipped`, async () => {
      const wrong = await wrongProcessEnv();
      const right = await receivers();
      const otel = start({
        ...HEADERS_IN_ENV,
        OTEL_EXPORTER_OTLP_ENDPOINT: `${right.http.url}/`,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_LOGS_EXPORTER: 'otlp',
        GATEWAYZ_SPAN_PROCESSOR: processor,
      });
      otel.tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }).end();
      otel.logger.info('routed', { provider: 'openai' });
      otel.telemetry.incrementCostByProvider('openai', 0.25);
      await otel.forceFlush();
      expect(right.http.spans().map((span) => span.name)).toEqual(['POST /v1/chat/completions']);
      expect(right.http.logRecords().map((record) => record.body)).toEqual(['routed']);
      const requests = right.http.requests();
      expect(requests.map((request) => request.path).sort()).toEqual(['/v1/logs', '/v1/metrics', '/v1/traces']);
      expect(right.http.metrics().map((metric) => metric.name)).toContain('gatewayz_cost_by_provider');
      for (const request of requests) {
        const signal = request.path.slice('/v1/'.length);
        expect(request.headers).toMatchObject({ 'x-general': '1', 'x-tenant': `acme-${signal}` });
        expect(request.headers).not.toHaveProperty('x-leak');
        expect(request.headers).not.toHaveProperty('authorization');
        expect(request.headers['content-encoding']).toBe('gzip');
        expect(request.contentType).toContain(protocol === 'http/json' ? 'json' : 'protobuf');
      }
      expect(wrong.http.requestCount).toBe(0);
      expect(wrong.grpc.calls()).toEqual([]);
    });
  }

  for (const processor of ['encoding', 'batch']) {
    it(`traces (${processor} processor), logs and metrics over grpc go to env's collector with env's headers as metadata`, async () => {
      const wrong = await wrongProcessEnv();
      const right = await receivers();
      const otel = start({
        ...HEADERS_IN_ENV,
        OTEL_EXPORTER_OTLP_ENDPOINT: right.grpc.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_LOGS_EXPORTER: 'otlp',
        GATEWAYZ_SPAN_PROCESSOR: processor,
      });
      otel.tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }).end();
      otel.logger.info('routed', { provider: 'openai' });
      otel.telemetry.incrementCostByProvider('openai', 0.25);
      await otel.forceFlush();
      expect(right.grpc.spans().map((span) => span.name)).toEqual(['POST /v1/chat/completions']);
      expect(right.grpc.logRecords().map((record) => record.body)).toEqual(['routed']);
      const bySignal = new Map(right.grpc.calls().map((call) => [call.signal, call.metadata]));
      expect(right.grpc.metrics().map((metric) => metric.name)).toContain('gatewayz_cost_by_provider');
      for (const signal of ['traces', 'logs', 'metrics'] as const) {
        expect(bySignal.get(signal)).toMatchObject({ 'x-general': '1', 'x-tenant': `acme-${signal}` });
        expect(bySignal.get(signal)).not.toHaveProperty('x-leak');
        expect(bySignal.get(signal)).not.toHaveProperty('authorization');
      }
      expect(wrong.http.requestCount).toBe(0);
      expect(wrong.grpc.calls()).toEqual([]);
    });
  }

  it("uses the export timeout of env: a silent collector fails the batch after env's 300 ms, not process.env's 60 s", async () => {
    // A collector that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/traces`;
    vi.stubEnv('OTEL_EXPORTER_OTLP_TIMEOUT', '60000');
    const otel = start({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: silentUrl,
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '300',
      OTEL_METRICS_EXPORTER: 'prometheus',
    });
    otel.tracer.startSpan('slow export').end();
    const started = performance.now();
    await otel.forceFlush().catch(() => {});
    expect(performance.now() - started).toBeLessThan(3_000);
    const text = await (await otel.metricsHandler(new Request('http://gateway/metrics'))).text();
    expect(text).toContain('gatewayz_telemetry_spans_dropped_total{reason="export_failed"} 1');
  });
});

describe('otlpExporterVariables', () => {
  it('appends the signal path to the general endpoint over HTTP, uses signal endpoints as written and gRPC endpoints as given', () => {
    const general = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/base/' };
    expect(otlpExporterVariables(general, 'TRACES', false).url).toBe('https://collector:4318/base/v1/traces');
    expect(otlpExporterVariables(general, 'LOGS', false).url).toBe('https://collector:4318/base/v1/logs');
    expect(otlpExporterVariables(general, 'LOGS', true).url).toBe('https://collector:4318/base/');
    const specific = { ...general, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/ingest' };
    expect(otlpExporterVariables(specific, 'TRACES', false).url).toBe('http://tempo:4318/ingest');
    expect(otlpExporterVariables({}, 'TRACES', false).url).toBe('http://localhost:4318/v1/traces');
    expect(otlpExporterVariables({}, 'LOGS', true).url).toBe('http://localhost:4317');
    expect(otlpExporterVariables({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, 'TRACES', true).url).toBe(
      'collector:4317',
    );
  });

  it('throws a configuration error naming the variable for an endpoint that is not an http(s) URL', () => {
    expect(() =>
      otlpExporterVariables({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'collector:4318' }, 'LOGS', false),
    ).toThrowError(/OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/);
    expect(() =>
      otlpExporterVariables({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector' }, 'TRACES', false),
    ).toThrowError(/OTEL_EXPORTER_OTLP_ENDPOINT.*http or https/);
  });

  it('merges headers key by key, the signal winning; reads the timeout (0 = no limit) and compression', () => {
    const variables = otlpExporterVariables(
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc,x-tenant=general',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=traces',
        OTEL_EXPORTER_OTLP_TIMEOUT: '0',
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'GZIP',
      },
      'TRACES',
      false,
    );
    expect(variables.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 'traces' });
    expect(variables.timeoutMillis).toBe(NO_TIMEOUT_MILLIS);
    expect(variables.compression).toBe('gzip');
    expect(otlpExporterVariables({}, 'LOGS', false)).toMatchObject({ timeoutMillis: 10_000, compression: 'none' });
  });

  it('warns about an unparsable timeout or compression and uses the default', () => {
    const { result, warnings } = captureConfigurationWarnings(() =>
      otlpExporterVariables(
        { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '5s', OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' },
        'LOGS',
        false,
      ),
    );
    expect(result).toMatchObject({ timeoutMillis: 10_000, compression: 'none' });
    expect(warnings).toEqual([
      expect.stringContaining('OTEL_EXPORTER_OTLP_LOGS_TIMEOUT="5s"'),
      expect.stringContaining('OTEL_EXPORTER_OTLP_COMPRESSION="brotli"'),
    ]);
  });
});

describe('otlpGrpcDelegateOptions', () => {
  it("leaves out, with one warning naming the variable, a header gRPC metadata cannot carry; reads nothing of process.env's", () => {
    // The SDK's own reading of process.env throws on the first and merges in the second.
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-tenant=caf%C3%A9');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'x-leak=process-env');
    const { result, warnings } = captureConfigurationWarnings(() =>
      otlpGrpcDelegateOptions(
        otlpExporterVariables({ OTEL_EXPORTER_OTLP_HEADERS: 'x-trace-bin=abc,x-tenant=acme' }, 'TRACES', true),
        NO_OTLP_TLS,
      ),
    );
    expect(warnings).toEqual([
      expect.stringContaining('the "x-trace-bin" entry of OTEL_EXPORTER_OTLP_HEADERS: gRPC metadata cannot carry it'),
    ]);
    expect(result.metadata().getMap()).toEqual({ 'x-tenant': 'acme' });
  });
});

describe('OTLP/HTTP headers Node.js cannot send', () => {
  it('are warned about once at start-up, naming the variable and the entry, and left out; every signal sends the others', async () => {
    const right = await receivers();
    const lines: string[] = [];
    running = startTelemetry({
      serviceName: 'env-test',
      hostMetrics: false,
      runtimeMetrics: false,
      contextManager: 'synchronous',
      logStream: { write: (line: string) => lines.push(line) },
      env: {
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_EXPORTER_OTLP_ENDPOINT: right.http.url,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
        // A line break, and a character beyond Latin-1 (the euro sign): every export failed on them.
        OTEL_EXPORTER_OTLP_HEADERS: 'x-general=1,x-newline=a%0Ab,x-euro=%E2%82%AC',
        // Latin-1 is what Node.js sends: kept.
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-latin=caf%C3%A9,x-control=%07',
      },
    });
    running.tracer.startSpan('POST /v1/chat/completions').end();
    running.logger.info('routed');
    running.telemetry.incrementCostByProvider('openai', 0.25);
    await running.forceFlush();
    const warnings = lines
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
      .filter((message) => message.startsWith('@gatewayz/telemetry-node: ignoring'));
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/the "x-control" entry of OTEL_EXPORTER_OTLP_LOGS_HEADERS: Node.js cannot send its value/),
      expect.stringMatching(/the "x-euro" entry of OTEL_EXPORTER_OTLP_HEADERS: Node.js cannot send its value/),
      expect.stringMatching(/the "x-newline" entry of OTEL_EXPORTER_OTLP_HEADERS: Node.js cannot send its value/),
    ]);
    const requests = right.http.requests();
    expect(requests.map((request) => request.path).sort()).toEqual(['/v1/logs', '/v1/metrics', '/v1/traces']);
    for (const request of requests) {
      expect(request.headers['x-general']).toBe('1');
      for (const left of ['x-newline', 'x-euro', 'x-control']) expect(request.headers).not.toHaveProperty(left);
    }
    expect(requests.find((request) => request.path === '/v1/logs')?.headers['x-latin']).toBe('café');
  });
});
