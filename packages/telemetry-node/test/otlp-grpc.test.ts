/**
 * OTLP/gRPC (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`) for all three signals, against a real gRPC
 * receiver (`@grpc/grpc-js` server on loopback): what arrives, which variable wins, metadata,
 * compression, failures and shutdown.
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import {
  OTLP_GRPC_METHODS,
  startOtlpGrpcReceiver,
  type OtlpGrpcReceiver,
  type OtlpSignal,
} from '../../../test-support/otlp-grpc-receiver.js';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
  vi.unstubAllEnvs();
});

async function grpcReceiver(port?: number): Promise<OtlpGrpcReceiver> {
  const receiver = await startOtlpGrpcReceiver(port === undefined ? {} : { port });
  closers.push(() => receiver.close());
  return receiver;
}

async function httpReceiver(): Promise<OtlpReceiver> {
  const receiver = await startOtlpReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

/**
 * Start telemetry with `env`, which the trace and log exporters read from `process.env` (as in
 * production) and the metrics push from the `env` option: both get it. Batches wait for a flush.
 * The returned logger writes to `logStream` (default nowhere).
 */
function start(
  env: Record<string, string>,
  logStream: { write(line: string): unknown } | null = null,
): RunningTelemetry {
  const full = {
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_METRIC_EXPORT_INTERVAL: '3600000',
    OTEL_BSP_SCHEDULE_DELAY: '3600000',
    OTEL_BLRP_SCHEDULE_DELAY: '3600000',
    ...env,
  };
  for (const [name, value] of Object.entries(full)) vi.stubEnv(name, value);
  running = startTelemetry({
    serviceName: 'grpc-test',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream,
    contextManager: 'synchronous',
    env: { ...full },
  });
  return running;
}

/** All three signals over OTLP to `endpoint` with `protocol`. */
function allSignals(endpoint: string, protocol = 'grpc', extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_TRACES_EXPORTER: 'otlp',
    ...extra,
  };
}

/** A request's worth of each signal: a server span with a child, model metrics, a log record. */
function recordRequest(otel: RunningTelemetry, index = 0): void {
  const server = otel.tracer.startSpan('POST /v1/chat/completions', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'gatewayz.request': index },
  });
  context.with(trace.setSpan(context.active(), server), () => {
    const attempt = otel.tracer.startSpan('chat gpt-4o', { kind: SpanKind.CLIENT });
    otel.telemetry.recordProviderResponseTime('openai', 0.5 + index);
    attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 502' });
    attempt.end();
    otel.logger.warn('upstream slow', { provider: 'openai', attempt: index });
  });
  server.end();
  otel.telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.4);
  otel.telemetry.incrementCostByProvider('openai', 0.125);
}

/** What a metric carries, without timestamps or the per-process instance id. */
function contentOf(metrics: ReceivedMetric[]): unknown[] {
  return metrics
    .map((metric) => {
      const { 'service.instance.id': _instance, ...resource } = metric.resource;
      return {
        name: metric.name,
        type: metric.type,
        unit: metric.unit,
        isMonotonic: metric.isMonotonic,
        aggregationTemporality: metric.aggregationTemporality,
        resource,
        scope: metric.scope,
        points: metric.dataPoints.map((point) => {
          const { startTimeUnixNano: _start, timeUnixNano: _time, exemplars: _exemplars, ...raw } = point.raw;
          return { attributes: point.attributes, value: point.value, raw };
        }),
      };
    })
    .sort((left, right) => left.name.localeCompare(right.name));
}

const failures = (otel: RunningTelemetry, reason: string): number =>
  otel.telemetry.currentValue('telemetryExportFailures', { signal: 'metrics', reason }) ?? 0;

describe('OTLP/gRPC: each signal arrives with the content the HTTP path sends', () => {
  it('metrics: the same series, values and histograms as over http/protobuf', async () => {
    const contents: unknown[][] = [];
    for (const protocol of ['http/protobuf', 'grpc'] as const) {
      const receiver = protocol === 'grpc' ? await grpcReceiver() : await httpReceiver();
      const otel = start({
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: protocol === 'grpc' ? receiver.url : (receiver as OtlpReceiver).metricsUrl,
      });
      for (let index = 0; index < 5; index++) recordRequest(otel, index);
      otel.telemetry.setCircuitBreakerState('anthropic', 'open');
      await otel.forceFlush();
      contents.push(contentOf(receiver.metrics()));
      await otel.shutdown();
      running = undefined;
      if (protocol === 'grpc') {
        const calls = (receiver as OtlpGrpcReceiver).calls();
        expect(calls.length).toBeGreaterThan(0);
        expect(calls.every((call) => call.method === OTLP_GRPC_METHODS.metrics && call.status === 0)).toBe(true);
      }
    }
    const [overHttp, overGrpc] = contents as [Array<{ name: string }>, Array<{ name: string }>];
    expect(overGrpc.map((metric) => metric.name)).toEqual(expect.arrayContaining(['model_inference_requests']));
    expect(overGrpc).toEqual(overHttp);
  });

  it('traces: every span of a request, as recorded, through the encoding batch processor', async () => {
    const receiver = await grpcReceiver();
    const otel = start({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(otel.tracesEnabled).toBe(true);
    recordRequest(otel);
    await otel.forceFlush();
    const spans = await receiver.waitForSpans((received) => received.length >= 2);
    expect(receiver.calls().map((call) => call.method)).toEqual([OTLP_GRPC_METHODS.traces]);
    const server = spans.find((span) => span.name === 'POST /v1/chat/completions');
    const attempt = spans.find((span) => span.name === 'chat gpt-4o');
    expect(server).toMatchObject({
      kind: 2,
      parentSpanId: undefined,
      attributes: { 'http.request.method': 'POST', 'gatewayz.request': 0 },
      resource: { 'service.name': 'grpc-test' },
    });
    expect(attempt).toMatchObject({
      kind: 3,
      traceId: server?.traceId,
      parentSpanId: server?.spanId,
      status: { code: 2, message: 'upstream 502' },
    });
  });

  it('logs: records with body, attributes and the active span', async () => {
    const receiver = await grpcReceiver();
    const otel = start(allSignals(receiver.url, 'grpc', { OTEL_METRICS_EXPORTER: 'none' }));
    expect(otel.logsExported).toBe(true);
    const span = otel.tracer.startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => otel.logger.error('provider failed', { provider: 'x' }));
    span.end();
    await otel.forceFlush();
    const [record] = await receiver.waitForLogRecords((records) => records.length >= 1);
    expect(
      receiver
        .calls()
        .filter((call) => call.signal === 'logs')
        .map((call) => call.method),
    ).toEqual([OTLP_GRPC_METHODS.logs]);
    expect(record).toMatchObject({
      body: 'provider failed',
      severityText: 'ERROR',
      attributes: { provider: 'x' },
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      resource: { 'service.name': 'grpc-test' },
    });
  });
});

describe('OTLP/gRPC: which variables count', () => {
  it('the per-signal protocol beats the general one, in both directions', async () => {
    const grpc = await grpcReceiver();
    const http = await httpReceiver();
    // General grpc; traces ask for http/protobuf.
    let otel = start(
      allSignals(grpc.url, 'grpc', {
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: http.tracesUrl,
      }),
    );
    recordRequest(otel);
    await otel.forceFlush();
    expect(http.requests().map((request) => request.path)).toEqual(['/v1/traces']);
    expect(new Set(grpc.calls().map((call) => call.signal))).toEqual(new Set(['metrics', 'logs']));
    await otel.shutdown();
    vi.unstubAllEnvs();
    grpc.reset();
    http.reset();
    // General http/protobuf; metrics ask for grpc.
    otel = start({
      ...allSignals(http.url, 'http/protobuf'),
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: grpc.url,
    });
    recordRequest(otel);
    await otel.forceFlush();
    expect(grpc.calls().map((call) => call.signal)).toEqual(['metrics']);
    expect(new Set(http.requests().map((request) => request.path))).toEqual(new Set(['/v1/traces', '/v1/logs']));
  });

  it('OTEL_EXPORTER_OTLP_HEADERS and the per-signal headers arrive as gRPC metadata', async () => {
    const receiver = await grpcReceiver();
    const otel = start(
      allSignals(receiver.url, 'grpc', {
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme,authorization=Bearer%20t0k3n',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-signal=metrics',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-signal=traces,x-tenant=tracing',
      }),
    );
    recordRequest(otel);
    await otel.forceFlush();
    const bySignal = new Map(receiver.calls().map((call) => [call.signal, call.metadata]));
    expect(bySignal.get('metrics')).toMatchObject({
      'x-tenant': 'acme',
      authorization: 'Bearer t0k3n',
      'x-signal': 'metrics',
    });
    expect(bySignal.get('traces')).toMatchObject({ 'x-tenant': 'tracing', authorization: 'Bearer t0k3n' });
    expect(bySignal.get('logs')).toMatchObject({ 'x-tenant': 'acme', authorization: 'Bearer t0k3n' });
    expect(bySignal.get('logs')).not.toHaveProperty('x-signal');
  });

  it('a header gRPC metadata cannot carry (in process.env too) is warned about once, naming the variable, and left out; every signal sends the others', async () => {
    const receiver = await grpcReceiver();
    const lines: string[] = [];
    // The SDK's own reading of these in process.env threw from startTelemetry().
    const otel = start(
      allSignals(receiver.url, 'grpc', {
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=secret,x-tenant=caf%C3%A9,x-trace-bin=abc',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-signal=metrics,x+y=1',
      }),
      { write: (line: string) => lines.push(line) },
    );
    recordRequest(otel);
    await otel.forceFlush();
    const warnings = lines
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
      .filter((message) => message.startsWith('@gatewayz/telemetry-node: ignoring'));
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/the "x\+y" entry of OTEL_EXPORTER_OTLP_METRICS_HEADERS: gRPC metadata cannot carry it/),
      expect.stringMatching(/the "x-tenant" entry of OTEL_EXPORTER_OTLP_HEADERS: gRPC metadata cannot carry it/),
      expect.stringMatching(/the "x-trace-bin" entry of OTEL_EXPORTER_OTLP_HEADERS: gRPC metadata cannot carry it/),
    ]);
    const bySignal = new Map(receiver.calls().map((call) => [call.signal, call.metadata]));
    expect([...bySignal.keys()].sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const metadata of bySignal.values()) {
      expect(metadata['api-key']).toBe('secret');
      for (const left of ['x-tenant', 'x-trace-bin', 'x+y']) expect(metadata).not.toHaveProperty(left);
    }
    expect(bySignal.get('metrics')).toMatchObject({ 'x-signal': 'metrics' });
  });

  it('OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses every signal on the wire', async () => {
    const wire: Record<string, { wireBytes: number; messageBytes: number }> = {};
    for (const compression of ['none', 'gzip']) {
      const receiver = await grpcReceiver();
      const otel = start(allSignals(receiver.url, 'grpc', { OTEL_EXPORTER_OTLP_COMPRESSION: compression }));
      // Repetitive content, as telemetry is: spans and records that differ in one number.
      for (let index = 0; index < 200; index++) recordRequest(otel, index);
      await otel.forceFlush();
      const calls = receiver.calls();
      expect(new Set(calls.map((call) => call.signal))).toEqual(new Set(['traces', 'metrics', 'logs']));
      expect(receiver.spans()).toHaveLength(400);
      expect(receiver.logRecords()).toHaveLength(200);
      wire[compression] = {
        wireBytes: receiver.wireBytes,
        messageBytes: calls.reduce((total, call) => total + call.bytes.length, 0),
      };
      await otel.shutdown();
      running = undefined;
      vi.unstubAllEnvs();
    }
    // Uncompressed, the wire carries the messages and some framing; gzip-coded, a fraction of them.
    expect(wire['none']!.wireBytes).toBeGreaterThan(wire['none']!.messageBytes);
    expect(wire['gzip']!.wireBytes).toBeLessThan(wire['gzip']!.messageBytes / 2);
  });
});

describe('OTLP/gRPC: failures are counted, never a crash or a hang', () => {
  it('metrics: an error status and a partial success are counted; the delta of a refused push travels on', async () => {
    const receiver = await grpcReceiver();
    const otel = start({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1500',
    });
    const cost = (): number[] =>
      receiver
        .metrics()
        .filter((metric) => metric.name === 'gatewayz_cost_by_provider')
        .map((metric) => metric.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0));
    otel.telemetry.incrementCostByProvider('openai', 1);
    receiver.failNext(1, GrpcStatus.INVALID_ARGUMENT, 'bad request');
    expect(await flushFailures(otel)).toEqual(['metrics not exported (http_error): 3 INVALID_ARGUMENT: bad request']);
    expect(failures(otel, 'http_error')).toBe(1);
    // UNAVAILABLE answered by the collector itself, until the retries run out of time, is its
    // answer, not a connection failure.
    receiver.failNext(1000, GrpcStatus.UNAVAILABLE, 'overloaded');
    expect(await flushFailures(otel)).toEqual(['metrics not exported (http_error): 14 UNAVAILABLE: overloaded']);
    expect(failures(otel, 'http_error')).toBe(2);
    receiver.failNext(0);
    otel.telemetry.incrementCostByProvider('openai', 2);
    // Three rejected of a push of two points: no more can be lost than were sent.
    receiver.partialSuccessNext(1, 3, 'three points out of range');
    expect(await flushFailures(otel)).toEqual([
      'metrics not exported (rejected): the backend rejected 2 data points: three points out of range',
    ]);
    expect(failures(otel, 'rejected')).toBe(1);
    otel.telemetry.incrementCostByProvider('openai', 4);
    await otel.forceFlush();
    // The refused pushes' 1 went with the next one; the partly accepted one is not sent again.
    expect(cost()).toEqual([3, 4]);
    expect(failures(otel, 'network_error') + failures(otel, 'timeout') + failures(otel, 'exporter_error')).toBe(0);
  });

  it('an unreachable receiver: metrics failures and dropped spans are counted, shutdown returns promptly', async () => {
    const gone = await grpcReceiver();
    const url = gone.url;
    await gone.close();
    const otel = start(allSignals(url, 'grpc', { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }));
    recordRequest(otel);
    expect(await flushFailures(otel)).toEqual([
      expect.stringMatching(/^1 log record not exported: 14 UNAVAILABLE: No connection established/),
      expect.stringMatching(/^2 spans not exported: 14 UNAVAILABLE: No connection established/),
      expect.stringMatching(/^metrics not exported \(network_error\): 14 UNAVAILABLE: No connection established/),
    ]);
    expect(failures(otel, 'network_error')).toBe(1);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(2);
    recordRequest(otel);
    const started = Date.now();
    await otel.shutdown();
    running = undefined;
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a collector that accepts connections and never answers: a timeout, and shutdown within the OTLP timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;
    const otel = start(allSignals(`http://127.0.0.1:${port}`, 'grpc', { OTEL_EXPORTER_OTLP_TIMEOUT: '1000' }));
    recordRequest(otel);
    const flushStarted = Date.now();
    expect(await flushFailures(otel)).toEqual([
      expect.stringMatching(/^1 log record not exported: 4 DEADLINE_EXCEEDED/),
      expect.stringMatching(/^2 spans not exported: 4 DEADLINE_EXCEEDED/),
      expect.stringMatching(/^metrics not exported \(timeout\): 4 DEADLINE_EXCEEDED/),
    ]);
    // Spans, metrics and logs are flushed side by side too (one after another: about 3 s).
    expect(Date.now() - flushStarted).toBeLessThan(2_500);
    expect(failures(otel, 'timeout')).toBe(1);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(2);
    recordRequest(otel);
    const started = Date.now();
    await otel.shutdown();
    running = undefined;
    // Spans, metrics and logs wait side by side: one timeout, not three.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('traces: a receiver answering an error status has its spans counted as dropped', async () => {
    const receiver = await grpcReceiver();
    const otel = start(allSignals(receiver.url, 'grpc', { OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }));
    receiver.failNext(1000, GrpcStatus.RESOURCE_EXHAUSTED, 'over quota');
    for (let index = 0; index < 3; index++) recordRequest(otel, index);
    expect(await flushFailures(otel)).toEqual(['6 spans not exported: 8 RESOURCE_EXHAUSTED: over quota']);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(6);
    expect(receiver.calls().every((call) => call.status === GrpcStatus.RESOURCE_EXHAUSTED)).toBe(true);
  });
});

/** The Export calls of `signal` the receiver saw, as the status each was answered with. */
const statuses = (receiver: OtlpGrpcReceiver, signal: OtlpSignal): number[] =>
  receiver
    .calls()
    .filter((call) => call.signal === signal)
    .map((call) => call.status);

/** Only `signal` exported over gRPC to `url`. */
function onlySignal(url: string, signal: OtlpSignal, extra: Record<string, string> = {}): Record<string, string> {
  return allSignals(url, 'grpc', {
    OTEL_TRACES_EXPORTER: signal === 'traces' ? 'otlp' : 'none',
    OTEL_METRICS_EXPORTER: signal === 'metrics' ? 'otlp' : 'none',
    OTEL_LOGS_EXPORTER: signal === 'logs' ? 'otlp' : 'none',
    ...extra,
  });
}

const modelRequests = (receiver: OtlpGrpcReceiver): number[] =>
  receiver
    .metrics()
    .filter((metric) => metric.name === 'model_inference_requests')
    .flatMap((metric) => metric.dataPoints.map((point) => point.value ?? 0));

describe('OTLP/gRPC: transient failures are retried within the export timeout', () => {
  it.each(['traces', 'metrics', 'logs'] as const)(
    '%s: UNAVAILABLE twice, then OK: the batch arrives once and nothing is counted as failed',
    async (signal) => {
      const receiver = await grpcReceiver();
      const otel = start(onlySignal(receiver.url, signal));
      recordRequest(otel);
      receiver.failNext(2, GrpcStatus.UNAVAILABLE, 'memory limiter refused the data');
      await otel.forceFlush();
      expect(statuses(receiver, signal)).toEqual([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE, GrpcStatus.OK]);
      const calls = receiver.calls();
      // Exponential backoff: waits of 1 s and 1.5 s, ±20 %, so at least 800 and 1,200 ms. A busy
      // machine only lengthens a wait measured from the call before it, but a late second call
      // shortens the wait after it; their sum cannot shrink (the margins are timer rounding, and
      // 100 ms of such lateness for the second wait alone).
      const firstWait = calls[1]!.receivedAt - calls[0]!.receivedAt;
      const secondWait = calls[2]!.receivedAt - calls[1]!.receivedAt;
      expect(firstWait).toBeGreaterThanOrEqual(790);
      expect(firstWait + secondWait).toBeGreaterThanOrEqual(1990);
      expect(secondWait).toBeGreaterThanOrEqual(1100);
      if (signal === 'traces') expect(receiver.spans()).toHaveLength(2);
      if (signal === 'logs') expect(receiver.logRecords()).toHaveLength(1);
      if (signal === 'metrics') expect(modelRequests(receiver)).toEqual([1]);
      expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' }) ?? 0).toBe(0);
      for (const reason of ['http_error', 'network_error', 'timeout', 'exporter_error'])
        expect(failures(otel, reason)).toBe(0);
    },
  );

  it.each([
    ['INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, undefined],
    ['RESOURCE_EXHAUSTED without RetryInfo', GrpcStatus.RESOURCE_EXHAUSTED, undefined],
    ['UNAVAILABLE whose RetryInfo asks for a wait past the timeout', GrpcStatus.UNAVAILABLE, 5000],
  ])('%s: one call per signal, no retry, the batch counted as failed', async (_name, code, retryDelayMillis) => {
    const receiver = await grpcReceiver();
    const otel = start(allSignals(receiver.url, 'grpc', { OTEL_EXPORTER_OTLP_TIMEOUT: '3000' }));
    receiver.failNext(1000, code, 'refused', retryDelayMillis);
    recordRequest(otel);
    const started = Date.now();
    const name = _name.split(' ')[0];
    expect(await flushFailures(otel)).toEqual([
      `1 log record not exported: ${code} ${name}: refused`,
      `2 spans not exported: ${code} ${name}: refused`,
      `metrics not exported (http_error): ${code} ${name}: refused`,
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const signal of ['traces', 'metrics', 'logs'] as const) expect(statuses(receiver, signal)).toEqual([code]);
    expect(failures(otel, 'http_error')).toBe(1);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(2);
  });

  it.each([
    ['RESOURCE_EXHAUSTED', GrpcStatus.RESOURCE_EXHAUSTED],
    ['UNAVAILABLE', GrpcStatus.UNAVAILABLE],
  ])('%s with RetryInfo: retried after the delay the server asked for', async (_name, code) => {
    const receiver = await grpcReceiver();
    const otel = start(onlySignal(receiver.url, 'metrics'));
    recordRequest(otel);
    // Longer than any backoff of a first retry (1 s + 20 %), so only RetryInfo explains the wait.
    receiver.failNext(1, code, 'over quota, come back later', 2000);
    await otel.forceFlush();
    const calls = receiver.calls();
    expect(calls.map((call) => call.status)).toEqual([code, GrpcStatus.OK]);
    expect(calls[1]!.receivedAt - calls[0]!.receivedAt).toBeGreaterThanOrEqual(1995);
    expect(modelRequests(receiver)).toEqual([1]);
    expect(failures(otel, 'http_error')).toBe(0);
  });

  it('UNAVAILABLE forever: every signal gives up within the timeout and counts the batch once', async () => {
    const receiver = await grpcReceiver();
    const otel = start(allSignals(receiver.url, 'grpc', { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }));
    receiver.failNext(1_000_000, GrpcStatus.UNAVAILABLE, 'still overloaded');
    recordRequest(otel);
    expect(await flushFailures(otel)).toEqual([
      '1 log record not exported: 14 UNAVAILABLE: still overloaded',
      '2 spans not exported: 14 UNAVAILABLE: still overloaded',
      'metrics not exported (http_error): 14 UNAVAILABLE: still overloaded',
    ]);
    // 2 s allow a first retry after 0.8 to 1.2 s, not a second one (another 1.2 to 1.8 s).
    for (const signal of ['traces', 'metrics', 'logs'] as const)
      expect(statuses(receiver, signal)).toEqual([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE]);
    expect(failures(otel, 'http_error')).toBe(1);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(2);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const calls = receiver.calls().filter((call) => call.signal === signal);
      expect(calls[1]!.receivedAt - calls[0]!.receivedAt).toBeLessThan(2000);
    }
    // Shutdown flushes the next request's data the same way, the three signals side by side.
    recordRequest(otel);
    const started = Date.now();
    await otel.shutdown();
    running = undefined;
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(receiver.calls()).toHaveLength(12);
  });

  it('shutdown during a backoff ends within the export timeout, and no retry follows it', async () => {
    const receiver = await grpcReceiver();
    const otel = start(onlySignal(receiver.url, 'traces', { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }));
    receiver.failNext(1_000_000, GrpcStatus.UNAVAILABLE, 'still overloaded');
    recordRequest(otel);
    const flushed = flushFailures(otel);
    // The first attempt failed: the exporter is now waiting to retry.
    while (receiver.calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const exportStarted = receiver.calls()[0]!.receivedAt;
    await otel.shutdown();
    running = undefined;
    expect(await flushed).toEqual(['2 spans not exported: 14 UNAVAILABLE: still overloaded']);
    expect(Date.now() - exportStarted).toBeLessThan(2_300);
    expect(statuses(receiver, 'traces')).toEqual([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE]);
    expect(otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' })).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.calls()).toHaveLength(2);
  });

  it('delta temporality: a push that succeeded on a retry is not sent again with the next one', async () => {
    const receiver = await grpcReceiver();
    const otel = start(
      onlySignal(receiver.url, 'metrics', { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }),
    );
    const cost = (): number[] =>
      receiver
        .metrics()
        .filter((metric) => metric.name === 'gatewayz_cost_by_provider')
        .map((metric) => metric.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0));
    otel.telemetry.incrementCostByProvider('openai', 1);
    receiver.failNext(2, GrpcStatus.UNAVAILABLE, 'memory limiter refused the data');
    await otel.forceFlush();
    otel.telemetry.incrementCostByProvider('openai', 2);
    await otel.forceFlush();
    expect(cost()).toEqual([1, 2]);
    expect(statuses(receiver, 'metrics')).toEqual([
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.OK,
      GrpcStatus.OK,
    ]);
  });
});

describe('OTLP/gRPC: shutdown', () => {
  it('flushes pending spans, metrics and logs over gRPC', async () => {
    const receiver = await grpcReceiver();
    const otel = start(allSignals(receiver.url));
    for (let index = 0; index < 3; index++) recordRequest(otel, index);
    // Nothing has gone yet: every batch waits an hour.
    expect(receiver.calls()).toHaveLength(0);
    await otel.shutdown();
    running = undefined;
    expect(receiver.spans()).toHaveLength(6);
    expect(receiver.logRecords().map((record) => record.attributes['attempt'])).toEqual([0, 1, 2]);
    const requests = receiver.metrics().filter((metric) => metric.name === 'model_inference_requests');
    expect(requests.flatMap((metric) => metric.dataPoints.map((point) => point.value))).toEqual([3]);
  });
});
