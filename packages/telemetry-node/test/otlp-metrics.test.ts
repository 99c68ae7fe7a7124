import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { ROOT_CONTEXT, TraceFlags, context, trace, type SpanContext } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { hexId, otlpEnv } from './fixtures/otlp-metrics-push.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';

let running: RunningTelemetry | undefined;
const receivers: OtlpReceiver[] = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(options?: Parameters<typeof startOtlpReceiver>[0]): Promise<OtlpReceiver> {
  const started = await startOtlpReceiver(options);
  receivers.push(started);
  return started;
}

function pointsOf(metrics: ReceivedMetric[], name: string): ReceivedMetric['dataPoints'] {
  return metrics.filter((metric) => metric.name === name).flatMap((metric) => metric.dataPoints);
}

const sumOf = (points: ReceivedMetric['dataPoints']): number =>
  points.reduce((total, point) => total + (point.value ?? 0), 0);

describe('OTLP metrics push (OTEL_METRICS_EXPORTER=otlp)', () => {
  it.each(['http/protobuf', 'http/json'] as const)(
    'pushes every helper series over %s with exact cumulative values',
    async (protocol) => {
      const target = await receiver();
      running = startTelemetry({
        traces: false,
        hostMetrics: false,
        runtimeMetrics: false,
        env: otlpEnv(target, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'otlp-push' }),
      });
      expect(running.metricExporters).toEqual(['otlp']);
      for (let index = 0; index < 137; index++)
        running.telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.4);
      running.telemetry.recordModelInference('openai', 'gpt-4o', 'error', 2.5);
      running.telemetry.incrementCostByProvider('openai', 0.125);
      running.telemetry.setCircuitBreakerState('openai', 'open');
      await running.forceFlush();
      const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      expect(target.requests().map((request) => request.contentType)).toEqual([contentType]);
      const metrics = target.metrics();
      expect(metrics[0]?.resource['service.name']).toBe('otlp-push');
      const requests = metrics.find((metric) => metric.name === 'model_inference_requests');
      expect(requests).toMatchObject({ type: 'sum', isMonotonic: true, aggregationTemporality: 2 });
      expect(requests?.dataPoints.map((point) => [point.attributes, point.value])).toEqual([
        [{ provider: 'openai', model: 'gpt-4o', status: 'success' }, 137],
        [{ provider: 'openai', model: 'gpt-4o', status: 'error' }, 1],
      ]);
      expect(pointsOf(metrics, 'gatewayz_cost_by_provider')[0]?.value).toBe(0.125);
      const breaker = pointsOf(metrics, 'gatewayz_circuit_breaker_state');
      expect(breaker.map((point) => [point.attributes['state'], point.value])).toEqual([
        ['closed', 0],
        ['open', 1],
        ['half_open', 0],
      ]);
      const duration = metrics.find((metric) => metric.name === 'model_inference_duration_seconds');
      expect(duration).toMatchObject({ type: 'histogram', unit: 's', aggregationTemporality: 2 });
      let expectedSum = 0;
      for (let index = 0; index < 137; index++) expectedSum += 0.4;
      expect(duration?.dataPoints[0]?.raw).toMatchObject({ sum: expectedSum + 2.5, min: 0.4, max: 2.5 });
      expect(Number(duration?.dataPoints[0]?.raw['count'])).toBe(138);
      // Prometheus is off: the endpoints say so.
      const scrape = await running.metricsHandler(new Request('http://localhost/metrics'));
      expect(scrape.status).toBe(503);
      expect(await scrape.text()).toContain('OTEL_METRICS_EXPORTER');
    },
  );

  it('with both readers on, OTLP and /metrics carry the same values and nothing twice', async () => {
    const target = await receiver();
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env: otlpEnv(target, { OTEL_METRICS_EXPORTER: 'otlp, prometheus' }),
    });
    expect(running.metricExporters).toEqual(['prometheus', 'otlp']);
    for (let index = 0; index < 50; index++) running.telemetry.recordModelInference('anthropic', 'claude', 'success');
    const text = await (await running.metricsHandler(new Request('http://localhost/metrics'))).text();
    await running.forceFlush();
    expect(text).toContain('model_inference_requests_total{provider="anthropic",model="claude",status="success"} 50');
    expect(sumOf(pointsOf(target.metrics(), 'model_inference_requests'))).toBe(50);
    // A second scrape and a second push still read 50: reading never changes the series.
    await running.metricsHandler(new Request('http://localhost/metrics'));
    target.reset();
    await running.forceFlush();
    expect(sumOf(pointsOf(target.metrics(), 'model_inference_requests'))).toBe(50);
  });

  it('delta temporality: the accepted pushes sum to the exact count, across a refused push and shutdown', async () => {
    const target = await receiver();
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env: otlpEnv(target, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }),
    });
    const record = (count: number): void => {
      for (let index = 0; index < count; index++)
        running!.telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
    };
    const pushedRequests = (): number[] =>
      target
        .metrics()
        .filter((metric) => metric.name === 'model_inference_requests')
        .map((metric) => {
          expect(metric.aggregationTemporality).toBe(1);
          return sumOf(metric.dataPoints);
        });
    record(10);
    await running.forceFlush();
    record(7);
    // A 400 is not retried: this push fails outright and its counts must travel with the next one.
    target.failNext(1, 400);
    expect(await flushFailures(running)).toEqual([expect.stringMatching(/^metrics not exported \(http_error\): /)]);
    expect(running.telemetry.currentValue('telemetryExportFailures', { signal: 'metrics', reason: 'http_error' })).toBe(
      1,
    );
    record(5);
    await running.forceFlush();
    // Nothing new: a delta push carries no zero points for the series.
    await running.forceFlush();
    record(3);
    await running.shutdown();
    running = undefined;
    expect(pushedRequests()).toEqual([10, 12, 3]);
    const durations = target.metrics().filter((metric) => metric.name === 'model_inference_duration_seconds');
    expect(durations.map((metric) => Number(metric.dataPoints[0]?.raw['count']))).toEqual([10, 12, 3]);
    expect(durations[1]?.dataPoints[0]?.raw['sum']).toBeCloseTo(12 * 0.2, 12);
  });

  it('a backend that is down: failures are counted, recording goes on, and the next push has everything', async () => {
    const target = await receiver();
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env: otlpEnv(target, {
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '300',
      }),
    });
    running.telemetry.incrementCostByProvider('openai', 1);
    await target.close();
    expect(await flushFailures(running)).toEqual([
      expect.stringMatching(/^metrics not exported \(network_error\): .*ECONNREFUSED/),
    ]);
    running.telemetry.incrementCostByProvider('openai', 2);
    expect(await flushFailures(running)).toHaveLength(1);
    expect(
      running.telemetry.currentValue('telemetryExportFailures', { signal: 'metrics', reason: 'network_error' }),
    ).toBe(2);
    // The backend comes back on the same address: one push carries both refused intervals.
    const back = await receiver({ port: target.port });
    await running.forceFlush();
    const cost = back.metrics().filter((metric) => metric.name === 'gatewayz_cost_by_provider');
    expect(cost.map((metric) => sumOf(metric.dataPoints))).toEqual([3]);
    // The failures themselves went out too (the self-metric is cumulative-or-delta like the rest).
    expect(sumOf(pointsOf(back.metrics(), 'gatewayz_telemetry_export_failures'))).toBe(2);
  });
});

describe('OTLP metrics push: what a failed or partly refused push is counted as', () => {
  const failures = (otel: RunningTelemetry, reason: string): number =>
    otel.telemetry.currentValue('telemetryExportFailures', { signal: 'metrics', reason }) ?? 0;

  it.each([
    [429, 60],
    [503, undefined],
  ] as const)(
    'a backend answering %i until the timeout runs out is an http_error, and nothing is lost',
    async (status, retryAfterSeconds) => {
      // Retry-After beyond the timeout: no retry; without it the exporter retries within the 1.5 s.
      const target = await receiver({ failStatus: status, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
      running = startTelemetry({
        traces: false,
        hostMetrics: false,
        runtimeMetrics: false,
        env: otlpEnv(target, {
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
          OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1500',
        }),
      });
      running.telemetry.incrementCostByProvider('openai', 1);
      target.failNext(1000);
      expect(await flushFailures(running)).toEqual([expect.stringMatching(/^metrics not exported \(http_error\): /)]);
      expect(target.requests().every((request) => request.status === status)).toBe(true);
      expect(failures(running, 'http_error')).toBe(1);
      expect(failures(running, 'exporter_error')).toBe(0);
      target.failNext(0);
      running.telemetry.incrementCostByProvider('openai', 2);
      await running.forceFlush();
      expect(sumOf(pointsOf(target.metrics(), 'gatewayz_cost_by_provider'))).toBe(3);
    },
  );

  it.each(['http/protobuf', 'http/json'] as const)(
    'a partial success (%s) is counted as rejected, and its delta is not sent again',
    async (protocol) => {
      const target = await receiver();
      running = startTelemetry({
        traces: false,
        hostMetrics: false,
        runtimeMetrics: false,
        env: otlpEnv(target, {
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        }),
      });
      running.telemetry.incrementCostByProvider('openai', 1);
      // The push holds the one cost point: a claim of two is taken as the one there is.
      target.partialSuccessNext(1, 2, 'two points out of range');
      // The data points the backend rejected are lost: the flush says so.
      expect(await flushFailures(running)).toEqual([
        'metrics not exported (rejected): the backend rejected 1 data point: two points out of range',
      ]);
      expect(failures(running, 'rejected')).toBe(1);
      // The specification forbids retrying a partial success: the next push carries only what is new.
      running.telemetry.incrementCostByProvider('openai', 2);
      await running.forceFlush();
      expect(failures(running, 'rejected')).toBe(1);
      const cost = target.metrics().filter((metric) => metric.name === 'gatewayz_cost_by_provider');
      expect(cost.map((metric) => sumOf(metric.dataPoints))).toEqual([1, 2]);
      expect(
        Object.values(['timeout', 'http_error', 'network_error', 'exporter_error']).map((reason) =>
          failures(running!, reason),
        ),
      ).toEqual([0, 0, 0, 0]);
    },
  );
});

describe('OTLP metrics push: a backend slower than the export timeout', () => {
  it('delta: a push answered after the next one started is neither counted twice nor lost', async () => {
    const target = await receiver();
    // Every 500 ms, with the export timeout clamped to the interval: the reader gives up on the
    // slow push and starts the next one while the slow one is still under way, then accepted.
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      env: otlpEnv(target, {
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      }),
    });
    target.slowNext(1, 1300);
    running.telemetry.incrementCostByProvider('openai', 10);
    // The slow push, then at least two more while or after it is answered.
    await target.waitForMetrics(() => target.requests().length >= 4, 10_000);
    running.telemetry.incrementCostByProvider('openai', 5);
    await running.shutdown();
    running = undefined;
    const cost = target.metrics().filter((metric) => metric.name === 'gatewayz_cost_by_provider');
    expect(cost.map((metric) => sumOf(metric.dataPoints))).toEqual([10, 5]);
  });

  it('delta: a push refused after the next one was sent gives its counts to the one after', async () => {
    // An exporter whose answers the test gives, in any order (as a slow backend's arrive).
    const exports: Array<{ metrics: ResourceMetrics; answer: (result: ExportResult) => void }> = [];
    const exporter: PushMetricExporter = {
      export: (metrics, answer) => void exports.push({ metrics, answer }),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      metrics: {
        exporters: ['otlp'],
        otlp: { exporter, temporalityPreference: 'delta', exportIntervalMillis: 3_600_000, exportTimeoutMillis: 100 },
      },
      env: {},
    });
    const costIn = (index: number): number[] =>
      (exports[index]?.metrics.scopeMetrics ?? [])
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === 'gatewayz_cost_by_provider')
        .flatMap((metric) => metric.dataPoints.map((point) => point.value as number));
    running.telemetry.incrementCostByProvider('openai', 10);
    await running.forceFlush(); // the reader gives up after 100 ms; the push is still under way
    running.telemetry.incrementCostByProvider('openai', 5);
    await running.forceFlush();
    expect([costIn(0), costIn(1)]).toEqual([[10], [5]]);
    exports[1]?.answer({ code: ExportResultCode.SUCCESS });
    exports[0]?.answer({ code: ExportResultCode.FAILED, error: new Error('refused late') });
    running.telemetry.incrementCostByProvider('openai', 1);
    await running.forceFlush();
    expect(costIn(2)).toEqual([11]);
    exports[2]?.answer({ code: ExportResultCode.SUCCESS });
    await running.forceFlush();
    expect(costIn(3)).toEqual([]);
  });
});

describe('exemplars over OTLP', () => {
  /** Telemetry pushing to a new receiver, with a latency of 2.5 s observed inside a sampled span. */
  async function latencyInSampledSpan(
    env: NodeJS.ProcessEnv,
  ): Promise<{ otel: RunningTelemetry; target: OtlpReceiver; spanContext: SpanContext }> {
    const target = await receiver();
    running = startTelemetry({
      hostMetrics: false,
      runtimeMetrics: false,
      traces: { spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] },
      env: otlpEnv(target, env),
    });
    const otel = running;
    const spanContext = otel.tracer.startActiveSpan('chat gpt-4o', (span) => {
      otel.telemetry.recordProviderResponseTime('openai', 2.5);
      span.end();
      return span.spanContext();
    });
    return { otel, target, spanContext };
  }

  /** The pushed exemplars of `provider_response_time_seconds` as [value, trace id, span id] (hex), by value. */
  function pushedExemplars(target: OtlpReceiver): unknown[][] {
    const point = pointsOf(target.metrics(), 'provider_response_time_seconds')[0];
    const exemplars = point?.raw['exemplars'] as Array<Record<string, unknown>>;
    const id = (value: unknown): string | undefined => (value === undefined ? undefined : hexId(value));
    return exemplars
      .map((exemplar) => [exemplar['asDouble'], id(exemplar['traceId']), id(exemplar['spanId'])])
      .sort((left, right) => Number(left[0]) - Number(right[0]));
  }

  it.each(['http/protobuf', 'http/json'] as const)(
    'a latency observed inside a sampled span is pushed with its trace and span id (%s)',
    async (protocol) => {
      const { otel, target, spanContext } = await latencyInSampledSpan({
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
      });
      otel.telemetry.recordProviderResponseTime('openai', 0.05);
      await otel.forceFlush();
      expect(pushedExemplars(target)).toEqual([[2.5, spanContext.traceId, spanContext.spanId]]);
    },
  );

  it.each(['http/protobuf', 'http/json'] as const)(
    'always_on: latencies outside a sampled span are pushed too, without ids, and exposed with an empty label set (%s)',
    async (protocol) => {
      const { otel, target, spanContext } = await latencyInSampledSpan({
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
        OTEL_METRICS_EXPORTER: 'otlp,prometheus',
        OTEL_METRICS_EXEMPLAR_FILTER: 'Always_On',
      });
      otel.telemetry.recordProviderResponseTime('openai', 0.04);
      const unsampled = { ...spanContext, spanId: 'aaaaaaaaaaaaaaaa', traceFlags: TraceFlags.NONE };
      context.with(trace.setSpanContext(ROOT_CONTEXT, unsampled), () =>
        otel.telemetry.recordProviderResponseTime('openai', 0.3),
      );
      await otel.forceFlush();
      expect(pushedExemplars(target)).toEqual([
        [0.04, undefined, undefined],
        [0.3, undefined, undefined],
        [2.5, spanContext.traceId, spanContext.spanId],
      ]);
      const response = await otel.metricsHandler(
        new Request('http://gateway/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0' } }),
      );
      const lines = (await response.text()).split('\n');
      const bucket = (le: string): string | undefined =>
        lines.find((line) => line.startsWith(`provider_response_time_seconds_bucket{provider="openai",le="${le}"}`));
      expect(bucket('0.05')).toMatch(/ 1 # \{\} 0\.04 \d+\.\d{3}$/);
      expect(bucket('0.5')).toMatch(/ 2 # \{\} 0\.3 \d+\.\d{3}$/);
      expect(bucket('3.0')).toContain(` 3 # {trace_id="${spanContext.traceId}",span_id="${spanContext.spanId}"} 2.5 `);
    },
  );
});

describe('OTEL_METRICS_EXEMPLAR_FILTER', () => {
  /** A latency inside a sampled span, then what the OTLP push and the OpenMetrics exposition carried. */
  async function exemplarsWith(
    env: NodeJS.ProcessEnv,
    telemetryOptions: { exemplars?: boolean } = {},
  ): Promise<{ pushed: number; exposed: number; warnings: string[] }> {
    const target = await receiver();
    const { result, warnings } = captureConfigurationWarnings(() =>
      startTelemetry({
        hostMetrics: false,
        runtimeMetrics: false,
        logStream: null,
        telemetry: telemetryOptions,
        traces: { spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] },
        env: otlpEnv(target, { OTEL_METRICS_EXPORTER: 'otlp,prometheus', ...env }),
      }),
    );
    running = result;
    const otel = result;
    otel.tracer.startActiveSpan('chat gpt-4o', (span) => {
      otel.telemetry.recordProviderResponseTime('openai', 2.5);
      span.end();
    });
    await otel.forceFlush();
    const point = pointsOf(target.metrics(), 'provider_response_time_seconds')[0];
    const response = await otel.metricsHandler(
      new Request('http://gateway/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0' } }),
    );
    const exposition = await response.text();
    expect(exposition).toContain('provider_response_time_seconds_bucket{provider="openai"');
    return {
      pushed: ((point?.raw['exemplars'] as unknown[] | undefined) ?? []).length,
      exposed: exposition.split('\n').filter((line) => line.includes('trace_id=')).length,
      warnings,
    };
  }

  it('always_off keeps no exemplar on either exporter; trace_based (any case) and unset keep them', async () => {
    expect(await exemplarsWith({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_off' })).toEqual({
      pushed: 0,
      exposed: 0,
      warnings: [],
    });
    await running?.shutdown();
    expect(await exemplarsWith({ OTEL_METRICS_EXEMPLAR_FILTER: 'TRACE_BASED' })).toEqual({
      pushed: 1,
      exposed: 1,
      warnings: [],
    });
    await running?.shutdown();
    expect(await exemplarsWith({})).toMatchObject({ pushed: 1, exposed: 1 });
  });

  it('the exemplars option in code wins over the variable', async () => {
    expect(await exemplarsWith({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_off' }, { exemplars: true })).toMatchObject({
      pushed: 1,
      exposed: 1,
    });
  });

  it.each([
    ['sometimes', 'expected one of trace_based, always_on, always_off'],
    ['always', 'using trace_based'],
  ])('%s is warned about and trace_based applies', async (value, message) => {
    const { pushed, exposed, warnings } = await exemplarsWith({ OTEL_METRICS_EXEMPLAR_FILTER: value });
    expect([pushed, exposed]).toEqual([1, 1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`ignoring OTEL_METRICS_EXEMPLAR_FILTER="${value}"`);
    expect(warnings[0]).toContain(message);
  });
});

describe('resolveMetricsExport', () => {
  it('defaults to Prometheus only, as before', () => {
    expect(resolveMetricsExport(undefined, {})).toMatchObject({
      prometheus: true,
      otlp: undefined,
      console: undefined,
    });
    expect(resolveMetricsExport(undefined, { OTEL_METRICS_EXPORTER: 'none' })).toMatchObject({
      prometheus: false,
      otlp: undefined,
    });
  });

  it('follows the specification for endpoints, headers, timeouts and temporality', () => {
    const generic = resolveMetricsExport(undefined, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=secret%20one,x-tenant=a',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=b',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    }).otlp;
    expect(generic).toMatchObject({
      url: 'http://collector:4318/v1/metrics',
      protocol: 'http/protobuf',
      headers: { 'api-key': 'secret one', 'x-tenant': 'b' },
      timeoutMillis: 5000,
      compression: 'gzip',
      temporalityPreference: 'lowmemory',
      exportIntervalMillis: 1000,
      // The default 30 s export timeout is clamped to the interval.
      exportTimeoutMillis: 1000,
    });
    const specific = resolveMetricsExport(undefined, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/custom/path',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    }).otlp;
    expect(specific).toMatchObject({ url: 'http://metrics:9000/custom/path', protocol: 'http/json' });
  });

  it('grpc: the endpoint is the collector address as given, default http://localhost:4317, host:port allowed', () => {
    const resolve = (env: NodeJS.ProcessEnv) =>
      resolveMetricsExport(undefined, { OTEL_METRICS_EXPORTER: 'otlp', ...env }).otlp;
    expect(resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatchObject({
      url: 'http://localhost:4317',
      protocol: 'grpc',
    });
    expect(
      resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317' }),
    ).toMatchObject({ url: 'https://collector:4317', protocol: 'grpc' });
    expect(
      resolve({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4317' }),
    ).toMatchObject({ url: 'collector:4317', protocol: 'grpc' });
    // The per-signal protocol beats the general one, both ways.
    expect(
      resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }),
    ).toMatchObject({ url: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf' });
  });

  it('options win over variables', () => {
    const resolved = resolveMetricsExport(
      { exporters: ['otlp'], otlp: { url: 'http://127.0.0.1:1/v1/metrics', temporalityPreference: 'delta' } },
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'cumulative' },
    );
    expect(resolved).toMatchObject({
      prometheus: false,
      otlp: { url: 'http://127.0.0.1:1/v1/metrics', temporalityPreference: 'delta' },
    });
  });

  // Other invalid values are warned about and ignored (standard-env-variables.test.ts); these two
  // could only send metrics somewhere the user did not mean.
  it.each([
    [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' },
      /not a URL|http or https/,
    ],
    [
      {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c:4317',
      },
      /http or https/,
    ],
  ])('rejects %o with a TelemetryConfigurationError', (env, message) => {
    expect(() => resolveMetricsExport(undefined, env)).toThrow(TelemetryConfigurationError);
    expect(() => resolveMetricsExport(undefined, env)).toThrow(message);
    expect(() => startTelemetry({ env, traces: false, hostMetrics: false })).toThrow(TelemetryConfigurationError);
  });
});
