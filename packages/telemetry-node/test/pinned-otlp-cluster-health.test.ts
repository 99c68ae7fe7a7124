/**
 * Cases the rest of the suite let through (found by mutation testing, second round): negative
 * numbers and non-consecutive series on the cluster wire, an aggregate read in parts that arrive
 * over several event-loop turns, the delta bookkeeping of refused and never-exported pushes, and
 * the temporality of up-down counters for an exporter given in code.
 */
import { EventEmitter } from 'node:events';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { ValueType } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  MeterProvider,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGE_TAG, type ClusterMessage } from '../src/cluster/cluster-messages.js';
import { partsOfMerged } from '../src/cluster/collection-parts.js';
import { createClusterMetricsSource, type ClusterChannel } from '../src/cluster/cluster-worker.js';
import { mergeWorkerMetrics, retireWorker } from '../src/cluster/merge-worker-metrics.js';
import { WireEncoder } from '../src/cluster/wire-encoder.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';
import { createOtlpMetricExporter } from '../src/otlp-metrics/otlp-metric-exporter.js';
import { TemporalityMetricProducer } from '../src/otlp-metrics/temporality-metric-producer.js';
import { EncodingBatchSpanProcessor, type EncodedTraceExporter } from '../src/tracing/index.js';
import { spanLimitsFromEnv } from '../src/tracing/tracer-config-from-env.js';
import { createLogRecordProcessors } from '../src/logs/create-log-record-processors.js';
import {
  StructuredLogger,
  createTelemetryMetricProducer,
  startTelemetry,
  type RunningTelemetry,
} from '../src/index.js';
import { WirePrimary, overJson } from './fixtures/cluster-wire.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

let running: RunningTelemetry | undefined;
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
  await running?.shutdown();
  running = undefined;
});

/** A worker process holding `telemetry`'s series under `process.pid` `pid`; `collect()` as its exporter does. */
function workerOf(telemetry: GatewayTelemetry, pid: number): () => Promise<ResourceMetrics> {
  const reader = new CollectingReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'gw', 'process.pid': pid }),
    readers: [reader],
  });
  return async () => (await reader.collect()).resourceMetrics;
}

const lines = (text: string, prefix: string): string[] => text.split('\n').filter((line) => line.startsWith(prefix));

describe('the cluster wire', () => {
  it('carries a negative whole number as it is', async () => {
    const primary = new WirePrimary();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    // More requests ended than started (a request tracked in one worker, ended in another).
    telemetry.trackHttpRequestInProgress('GET', '/v1/models', -1);
    telemetry.trackHttpRequestInProgress('GET', '/v1/models', -1);
    const text = primary.text(
      mergeWorkerMetrics(
        [{ workerId: '1', collection: primary.receive('1', await workerOf(telemetry, 1)()) }],
        () => 'sum',
      ),
    );

    expect(lines(text, 'fastapi_requests_in_progress{')).toEqual([
      'fastapi_requests_in_progress{method="GET",path="/v1/models"} -2',
    ]);
  });

  it("labels each series by its own id when an exited worker's gauges leave a gap in the aggregate", async () => {
    const primary = new WirePrimary();
    const first = new GatewayTelemetry({ exportVia: 'producer' });
    const second = new GatewayTelemetry({ exportVia: 'producer' });
    const collectFirst = workerOf(first, 1);
    const collectSecond = workerOf(second, 2);
    first.setProviderHealthScore('openai', 0.5);
    second.setProviderHealthScore('anthropic', 0.25);
    const merge = (parts: Parameters<typeof mergeWorkerMetrics>[0]): string =>
      primary.text(mergeWorkerMetrics(parts, () => 'max'));
    merge([
      { workerId: '1', collection: primary.receive('1', await collectFirst()) },
      { workerId: '2', collection: primary.receive('2', await collectSecond()) },
    ]);
    // A series numbered after the second worker's, then the second worker exits: its gauge goes.
    first.setProviderHealthScore('mistral', 0.75);
    merge([
      { workerId: '1', collection: primary.receive('1', await collectFirst()) },
      { workerId: '2', collection: primary.receive('2', await collectSecond()) },
    ]);
    const last = primary.receive('2', await collectSecond());
    const text = merge([
      { workerId: '1', collection: primary.receive('1', await collectFirst()) },
      { workerId: undefined, collection: retireWorker(undefined, last) },
    ]);

    expect(lines(text, 'gatewayz_provider_health_score{')).toEqual([
      'gatewayz_provider_health_score{provider="openai"} 0.5',
      'gatewayz_provider_health_score{provider="mistral"} 0.75',
    ]);
  });
});

describe('a cluster worker reading the aggregate', () => {
  it('waits for the last part when the parts arrive in separate event-loop turns', async () => {
    const emitter = new EventEmitter();
    const sent: Array<ClusterMessage & { id?: number }> = [];
    const channel: ClusterChannel = {
      send(message, callback) {
        sent.push(message as ClusterMessage & { id?: number });
        callback?.(null);
        return true;
      },
      on: (event, listener) => emitter.on(event, listener),
      off: (event, listener) => emitter.off(event, listener),
    };
    const local = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 3000 });
    for (let index = 0; index < 3000; index++) local.recordTokensUsed('openai', `model-${index}`, 'input', index + 1);
    const collectLocal = workerOf(local, 1);
    const source = createClusterMetricsSource(
      { collect: async () => ({ resourceMetrics: await collectLocal(), errors: [] }) },
      { channel, timeoutMs: 5000 },
    );
    stop = source.stop;
    // The primary's aggregate: 3000 series, more than one part.
    const primary = new WirePrimary();
    const merged = mergeWorkerMetrics(
      [{ workerId: '1', collection: primary.receive('1', await collectLocal()) }],
      () => 'max',
    );
    const parts = overJson(partsOfMerged(new WireEncoder(), merged));
    expect(parts.length).toBeGreaterThan(1);

    const collected = source.collect();
    const request = sent.filter((message) => message.type === 'collect').at(-1) as { id: number };
    // As over IPC (the primary yields between parts): each part in a turn of its own.
    for (const [index, part] of parts.entries()) {
      await new Promise((resolve) => setImmediate(resolve));
      emitter.emit('message', {
        gatewayz: MESSAGE_TAG,
        type: 'collect-result',
        id: request.id,
        session: 's',
        part,
        more: index < parts.length - 1,
      });
    }
    const tokens = (await collected).resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === 'tokens_used');

    expect(tokens?.dataPoints).toHaveLength(3000);
    expect(tokens?.dataPoints[2999]).toMatchObject({ attributes: { model: 'model-2999' }, value: 3000 });
  });
});

const SERIES = Object.freeze({ provider: 'openai' });

/** A cumulative producer of one series of `metric`, whose point `pointOf(collection)` gives (1, 2, …). */
function cumulative(
  metric: Pick<MetricData, 'dataPointType'> & { isMonotonic?: boolean },
  pointOf: (collection: number) => { end: number; value: number | Histogram },
): MetricProducer {
  let collections = 0;
  return {
    collect: (): Promise<CollectionResult> => {
      const { end, value } = pointOf(++collections);
      const data = {
        descriptor: { name: 'series', description: '', unit: '', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        ...metric,
        dataPoints: [{ startTime: [0, 0], endTime: [end, 0], attributes: SERIES, value }],
      } as MetricData;
      return Promise.resolve({
        resourceMetrics: { resource: undefined as never, scopeMetrics: [{ scope: { name: 'test' }, metrics: [data] }] },
        errors: [],
      });
    },
  };
}

const DELTA = (): AggregationTemporality => AggregationTemporality.DELTA;
const COUNTER = { dataPointType: DataPointType.SUM, isMonotonic: true } as const;

/** The one point a delta collection carries. */
async function pointOf(producer: TemporalityMetricProducer): Promise<DataPoint<unknown>> {
  const { resourceMetrics } = await producer.collect();
  return resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0] as DataPoint<unknown>;
}

describe('delta temporality of the helpers’ series', () => {
  it('gives back the counts of a collection no export took', async () => {
    const values = [5, 8];
    const producer = new TemporalityMetricProducer(
      cumulative(COUNTER, (collection) => ({ end: collection, value: values[collection - 1] as number })),
      DELTA,
    );
    // The reader gave up before exporting the first collection: no pendingToken(), no settle().
    await producer.collect();

    expect(await pointOf(producer)).toMatchObject({ startTime: [0, 0], endTime: [2, 0], value: 8 });
  });

  it('starts the point after a refused push where the refused one started', async () => {
    const values = [5, 8];
    const producer = new TemporalityMetricProducer(
      cumulative(COUNTER, (collection) => ({ end: collection, value: values[collection - 1] as number })),
      DELTA,
    );
    expect(await pointOf(producer)).toMatchObject({ startTime: [0, 0], endTime: [1, 0], value: 5 });
    producer.settle(producer.pendingToken(), false);

    expect(await pointOf(producer)).toMatchObject({ startTime: [0, 0], endTime: [2, 0], value: 8 });
  });

  it('sends no cumulative minimum or maximum with a delta histogram point', async () => {
    const histograms: Histogram[] = [
      { buckets: { boundaries: [1], counts: [1, 1] }, count: 2, sum: 3, min: 0.5, max: 2.5 },
      { buckets: { boundaries: [1], counts: [1, 2] }, count: 3, sum: 7, min: 0.5, max: 4 },
    ];
    const producer = new TemporalityMetricProducer(
      cumulative({ dataPointType: DataPointType.HISTOGRAM }, (collection) => ({
        end: collection,
        value: histograms[collection - 1] as Histogram,
      })),
      DELTA,
    );
    // The first point starts the series: it is the cumulative one, extremes included.
    expect((await pointOf(producer)).value).toEqual(histograms[0]);
    producer.settle(producer.pendingToken(), true);

    expect((await pointOf(producer)).value).toEqual({
      buckets: { boundaries: [1], counts: [0, 1] },
      count: 1,
      sum: 4,
    });
  });
});

describe('OTLP metrics push through an exporter given in code', () => {
  it('keeps up-down counters cumulative under the delta preference (the exporter names no temporality)', async () => {
    const exported: ResourceMetrics[] = [];
    const exporter: PushMetricExporter = {
      export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
        exported.push(metrics);
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    running = startTelemetry({
      env: {},
      logStream: null,
      logs: false,
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      metrics: {
        exporters: ['otlp'],
        otlp: { exporter, temporalityPreference: 'delta', exportIntervalMillis: 3_600_000 },
      },
    });
    running.telemetry.trackHttpRequestInProgress('GET', '/v1/models', 1);
    running.telemetry.recordHttpRequest('GET', '/v1/models', 200, 0.1);
    await running.forceFlush();
    const temporality = (name: string): AggregationTemporality | undefined =>
      exported
        .flatMap((metrics) => metrics.scopeMetrics.flatMap((scope) => scope.metrics))
        .find((metric) => metric.descriptor.name === name)?.aggregationTemporality;

    expect(temporality('fastapi_requests_in_progress')).toBe(AggregationTemporality.CUMULATIVE);
    expect(temporality('fastapi_requests')).toBe(AggregationTemporality.DELTA);
  });
});

describe('the OTLP metric exporter', () => {
  it('keeps observable counters cumulative under the lowmemory preference', () => {
    const config = resolveMetricsExport({ exporters: ['otlp'], otlp: { temporalityPreference: 'lowmemory' } }, {}).otlp;
    const exporter = createOtlpMetricExporter(
      config!,
      () => undefined,
      () => {},
    );

    expect(exporter.selectAggregationTemporality?.(InstrumentType.COUNTER)).toBe(AggregationTemporality.DELTA);
    expect(exporter.selectAggregationTemporality?.(InstrumentType.OBSERVABLE_COUNTER)).toBe(
      AggregationTemporality.CUMULATIVE,
    );
  });
});

describe('EncodingBatchSpanProcessor', () => {
  it('exports a batch as soon as maxQueueSize spans (below maxExportBatchSize) are waiting', async () => {
    const batches: number[] = [];
    const exporter: EncodedTraceExporter = {
      exportEncoded(request, done) {
        batches.push(request.spanCount);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    const drops: string[] = [];
    const processor = new EncodingBatchSpanProcessor({
      exporter,
      maxQueueSize: 2,
      scheduledDelayMillis: 3_600_000,
      onDrop: (reason, count) => drops.push(`${reason} ${count}`),
    });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test');
    for (let index = 0; index < 5; index++) tracer.startSpan(`span ${index}`).end();

    expect(batches).toEqual([2, 2]);
    expect(drops).toEqual([]);
    await processor.shutdown();
    expect(batches).toEqual([2, 2, 1]);
  });
});

describe('span limits from the environment', () => {
  it('takes 0 as a count limit (no events, links or their attributes)', () => {
    const limits = spanLimitsFromEnv({
      OTEL_SPAN_EVENT_COUNT_LIMIT: '0',
      OTEL_SPAN_LINK_COUNT_LIMIT: '0',
      OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '0',
    });

    expect(limits).toMatchObject({ eventCountLimit: 0, linkCountLimit: 0, attributePerEventCountLimit: 0 });
  });
});

describe('logs', () => {
  it('exports logs over OTLP when only OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set', () => {
    running = startTelemetry({
      env: { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:9/v1/logs' },
      logStream: null,
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
    });

    expect(running.logsExported).toBe(true);
  });

  it("lets a record's attributes win over the logger's bindings", () => {
    const written: string[] = [];
    const logger = new StructuredLogger({
      stream: { write: (line: string) => written.push(line) },
      bindings: { component: 'router', region: 'eu' },
    });
    logger.info('routed', { component: 'failover' });

    expect(JSON.parse(written[0] as string)).toMatchObject({ component: 'failover', region: 'eu', msg: 'routed' });
  });

  it('bounds the queue by the maxQueueSize option rather than OTEL_BLRP_MAX_QUEUE_SIZE', () => {
    // An exporter that never answers: every record emitted stays in flight.
    const stuck: LogRecordExporter = {
      export: () => {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const drops: string[] = [];
    const processors = createLogRecordProcessors(
      { exporter: stuck, maxQueueSize: 2 },
      { OTEL_BLRP_MAX_QUEUE_SIZE: '5' },
      (reason, count) => drops.push(`${reason} ${count}`),
    );
    const logger = new LoggerProvider({ processors }).getLogger('test');
    for (let index = 0; index < 4; index++) logger.emit({ body: `record ${index}` });

    expect(processors[0]?.pending).toBe(2);
    expect(drops).toEqual(['queue_full 1', 'queue_full 1']);
  });
});

describe('startTelemetry', () => {
  const quiet = { logStream: null, logs: false, traces: false, hostMetrics: false, runtimeMetrics: false } as const;

  it('refuses a metrics token of 15 characters', () => {
    expect(() => startTelemetry({ ...quiet, env: {}, metricsToken: 'x'.repeat(15) })).toThrowError(
      TelemetryConfigurationError,
    );
  });

  it('names the service gatewayz-gateway when OTEL_RESOURCE_ATTRIBUTES gives an empty service.name', async () => {
    running = startTelemetry({ ...quiet, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=' } });
    const text = await (await running.metricsHandler(new Request('http://localhost/metrics'))).text();

    expect(text).toContain('target_info{service_name="gatewayz-gateway"');
  });
});
