import { GatewayTelemetry, PACKAGE_NAME } from '@gatewayz/telemetry';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ROOT_CONTEXT, TraceFlags, ValueType, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionReceiver, partsOfCollection } from '../src/cluster/collection-parts.js';
import { mergeWorkerMetrics } from '../src/cluster/merge-worker-metrics.js';
import { DEFAULT_POINTS_PER_PART, decodeNumbers, encodeNumbers } from '../src/cluster/series-wire.js';
import { WireEncoder } from '../src/cluster/wire-encoder.js';
import { serializeOpenMetrics, serializePrometheus } from '../src/exposition/index.js';
import { createTelemetryMetricProducer } from '../src/sdk/index.js';
import { WirePrimary, overJson, receiveAll } from './fixtures/cluster-wire.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

/**
 * Record `series` label sets of inference requests, durations and tokens, and 50 of cost and health
 * score, `times` times each. Amounts are exact in binary, so sums do not depend on the order of adding.
 */
function recordMix(telemetry: GatewayTelemetry, series: number, times = 1): void {
  for (let round = 0; round < times; round++)
    for (let index = 0; index < series; index++) {
      const model = `model-${index}`;
      telemetry.recordModelInference(
        `provider-${index % 7}`,
        model,
        index % 5 === 0 ? 'error' : 'success',
        0.25 * (index % 40),
      );
      telemetry.recordTokensUsed(`provider-${index % 7}`, model, 'input', index + 1);
      telemetry.incrementCostByProvider(`provider-${index % 50}`, 0.125 * (index % 9));
      telemetry.setProviderHealthScore(`provider-${index % 50}`, (index % 97) / 97);
    }
}

/** A collecting process holding `telemetry`'s series; `collect()` as a worker's exporter does. */
function processOf(telemetry: GatewayTelemetry): { collect(): Promise<ResourceMetrics> } {
  const reader = new CollectingReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'gw' }), readers: [reader] });
  return { collect: async () => (await reader.collect()).resourceMetrics };
}

const ownText = (resourceMetrics: ResourceMetrics): string =>
  serializePrometheus(resourceMetrics, { withoutTargetInfo: true });

const rule = (): 'max' => 'max';

/** Run `fn` with an active sampled span context, as a traced request records. */
function inSpan(traceId: string, spanId: string, fn: () => void): void {
  const spanContext = { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
  context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), fn);
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

describe('the cluster wire (series sent once, numbers in columns, in parts)', () => {
  it('is exact at scale: two workers merge to what one process recording both would serve', async () => {
    const telemetries = [0, 1].map(() => new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 5000 }));
    for (const telemetry of telemetries) recordMix(telemetry, 1500);
    const single = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 5000 });
    recordMix(single, 1500, 2);
    const primary = new WirePrimary();
    const collections = await Promise.all(telemetries.map((telemetry) => processOf(telemetry).collect()));
    // Twice: the second time only numbers travel, and the result must be the same.
    for (let scrape = 0; scrape < 2; scrape++) {
      const merged = mergeWorkerMetrics(
        collections.map((collection, index) => ({
          workerId: String(index),
          collection: primary.receive(String(index), collection),
        })),
        rule,
      );
      const expected = ownText(await processOf(single).collect());
      expect(expected.split('\n').length).toBeGreaterThan(1500 * 20);
      expect(ownText(primary.reply(merged))).toBe(expected);
    }
  });

  it('sends a series’ labels once: later collections carry numbers only, and new series alone', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    recordMix(telemetry, 300);
    const process = processOf(telemetry);
    const encoder = new WireEncoder();
    const receiver = new CollectionReceiver();
    const first = overJson(partsOfCollection(encoder, await process.collect(), PACKAGE_NAME));
    receiveAll(receiver, 1, first);
    const second = overJson(partsOfCollection(encoder, await process.collect(), PACKAGE_NAME));
    receiveAll(receiver, 2, second);
    const slices = (parts: typeof first) => parts.flatMap((part) => part.metrics);
    expect(slices(first).reduce((total, slice) => total + slice.added, 0)).toBe(300 * 3 + 50 + 50);
    expect(slices(second).every((slice) => slice.added === 0 && slice.rows.length === 0)).toBe(true);
    // The label values are what the second collection no longer carries.
    const labelBytes = JSON.stringify(slices(first).map((slice) => slice.rows)).length;
    expect(labelBytes).toBeGreaterThan(10_000);
    expect(JSON.stringify(first).length - JSON.stringify(second).length).toBeGreaterThan(labelBytes - 500);
    telemetry.recordTokensUsed('provider-new', 'model-new', 'output', 5);
    const third = overJson(partsOfCollection(encoder, await process.collect(), PACKAGE_NAME));
    const received = receiveAll(receiver, 3, third);
    expect(
      slices(third)
        .map((slice) => [slice.name, slice.added])
        .filter(([, added]) => added !== 0),
    ).toEqual([['tokens_used', 1]]);
    const tokens = receiver.decoder
      .toMetricData(received.assembly)
      .find((metric) => metric.descriptor.name === 'tokens_used');
    expect(tokens?.dataPoints.at(-1)).toMatchObject({
      attributes: { provider: 'provider-new', model: 'model-new', token_type: 'output' },
      value: 5,
    });
  });

  it('keeps each bucket’s newest exemplar across workers, scrape after scrape', async () => {
    const [one, two] = [0, 1].map(() => new GatewayTelemetry({ exportVia: 'producer' })) as [
      GatewayTelemetry,
      GatewayTelemetry,
    ];
    const traceA = '0af7651916cd43dd8448eb211c80319c';
    const traceB = '4bf92f3577b34da6a3ce929d0e0e4736';
    inSpan(traceA, '00f067aa0ba902b7', () => one.recordProviderResponseTime('openai', 0.3));
    inSpan(traceA, '1111111111111111', () => one.recordProviderResponseTime('openai', 4));
    await new Promise((resolve) => setTimeout(resolve, 20));
    inSpan(traceB, 'b7ad6b7169203331', () => two.recordProviderResponseTime('openai', 0.4));
    const primary = new WirePrimary();
    for (let scrape = 0; scrape < 2; scrape++) {
      const merged = mergeWorkerMetrics(
        [
          { workerId: '1', collection: primary.receive('1', await processOf(one).collect()) },
          { workerId: '2', collection: primary.receive('2', await processOf(two).collect()) },
        ],
        rule,
      );
      const text = serializeOpenMetrics(primary.reply(merged));
      expect(text).toMatch(
        new RegExp(`le="0\\.5"\\} 2 # \\{trace_id="${traceB}",span_id="b7ad6b7169203331"\\} 0\\.4 `, 'm'),
      );
      expect(text).toMatch(
        new RegExp(`le="5\\.0"\\} 3 # \\{trace_id="${traceA}",span_id="1111111111111111"\\} 4 `, 'm'),
      );
      expect(text.match(/ # \{/g)).toHaveLength(2);
    }
  });

  it('carries an exemplar without a trace (always_on) as one, beside a traced one', async () => {
    const worker = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_on' });
    worker.recordProviderResponseTime('openai', 0.3);
    inSpan('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b7', () =>
      worker.recordProviderResponseTime('openai', 4),
    );
    const primary = new WirePrimary();
    const merged = mergeWorkerMetrics(
      [{ workerId: '1', collection: primary.receive('1', await processOf(worker).collect()) }],
      rule,
    );
    const text = serializeOpenMetrics(primary.reply(merged));
    expect(text).toMatch(/le="0\.5"\} 1 # \{\} 0\.3 \d+\.\d{3}$/m);
    expect(text).toMatch(
      /le="5\.0"\} 2 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="00f067aa0ba902b7"\} 4 /m,
    );
    expect(text.match(/ # \{/g)).toHaveLength(2);
  });

  it('carries every number exactly, in the shortest of its column encodings', () => {
    const columns: Array<[number[], string]> = [
      [[], 'u'],
      [[0, 1, 2, 4294967295], 'u'],
      [[1.5, -2, NaN, 4294967296, Number.MAX_VALUE, Infinity], 'f'],
      [[...Array.from({ length: 40 }, () => 0), 7, 3, 0.25], 's'],
      [[...Array.from({ length: 40 }, () => 0), 7, 3, 9], 's'],
      [Array.from({ length: 40 }, (_, index) => index + 0.5), 'f'],
    ];
    for (const [numbers, kind] of columns) {
      const text = encodeNumbers(Float64Array.from(numbers));
      expect(text[0]).toBe(kind);
      expect([...decodeNumbers(JSON.parse(JSON.stringify(text)) as string)]).toEqual(numbers);
    }
    // Mostly zeros, as histogram buckets are: the positions and values of the others only.
    const buckets = new Float64Array(18 * 1000);
    for (let series = 0; series < 1000; series++) buckets[series * 18 + (series % 18)] = series + 1;
    expect(encodeNumbers(buckets).length).toBeLessThan(18 * 1000 * 4 * 0.2);
  });

  it('splits a collection into parts of at most pointsPerPart points', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 5000 });
    recordMix(telemetry, 2500);
    const parts = [...partsOfCollection(new WireEncoder(), await processOf(telemetry).collect(), PACKAGE_NAME)];
    const points = parts.map((part) => part.metrics.reduce((total, slice) => total + slice.points, 0));
    expect(points.reduce((total, count) => total + count, 0)).toBe(2500 * 3 + 50 + 50);
    expect(parts).toHaveLength(Math.ceil(7600 / DEFAULT_POINTS_PER_PART));
    expect(points.every((count) => count <= DEFAULT_POINTS_PER_PART)).toBe(true);
    expect(parts[0]?.head).toBeDefined();
    expect(parts.slice(1).every((part) => part.head === undefined)).toBe(true);
  });

  it('rebuilds a dictionary that outgrew its series, and the receiver follows', () => {
    const encoder = new WireEncoder();
    const receiver = new CollectionReceiver();
    const metric = (round: number): ResourceMetrics => ({
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: PACKAGE_NAME },
          metrics: [counter(Array.from({ length: 400 }, (_, index) => [{ id: `${round}-${index}` }, index]))],
        },
      ],
    });
    let resets = 0;
    for (let round = 0; round < 6; round++) {
      // Every round replaces every label set (a series store that starts over).
      const parts = overJson(partsOfCollection(encoder, metric(round), PACKAGE_NAME));
      resets += parts.flatMap((part) => part.metrics).filter((slice) => slice.reset === true).length;
      const points = receiver.decoder.toMetricData(receiveAll(receiver, round + 1, parts).assembly)[0]?.dataPoints;
      expect(points?.[399]).toMatchObject({ attributes: { id: `${round}-399` }, value: 399 });
    }
    // The first collection, then once the dictionary passed 2 × 400 + 1024 ids.
    expect(resets).toBe(2);
  });

  it('merges label sets whose workers list labels in another order or lack one', () => {
    const primary = new WirePrimary();
    const one = primary.receive(
      '1',
      collectionOf(
        counter([
          [{ a: '1' }, 1],
          [{ a: '2', b: 'x' }, 10],
        ]),
      ),
    );
    const two = primary.receive(
      '2',
      collectionOf(
        counter([
          [{ b: 'x', a: '2' }, 100],
          [{ a: '1' }, 1000],
          [{ b: 'y' }, 5],
        ]),
      ),
    );
    const text = primary.text(
      mergeWorkerMetrics(
        [
          { workerId: '1', collection: one },
          { workerId: '2', collection: two },
        ],
        rule,
      ),
    );
    expect(text).toContain('requests_total{a="1"} 1001\n');
    expect(text).toContain('requests_total{a="2",b="x"} 110\n');
    expect(text).toContain('requests_total{b="y"} 5\n');
    expect(text.match(/^requests_total/gm)).toHaveLength(3);
  });

  it('refuses parts that name series the receiver never got (it asks for all of them again)', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    recordMix(telemetry, 10);
    const process = processOf(telemetry);
    const encoder = new WireEncoder();
    overJson(partsOfCollection(encoder, await process.collect(), PACKAGE_NAME)); // lost on the way
    const parts = overJson(partsOfCollection(encoder, await process.collect(), PACKAGE_NAME));
    expect(() => receiveAll(new CollectionReceiver(), 1, parts)).toThrow(/unknown to the receiver/);
  });
});

function counter(points: Array<[Record<string, string>, number]>): MetricData {
  return {
    descriptor: { name: 'requests', description: 'requests', unit: '1', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map(([attributes, value]) => ({ startTime: [1, 0], endTime: [2, 0], attributes, value })),
  };
}

function collectionOf(metric: MetricData): ResourceMetrics {
  return { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: PACKAGE_NAME }, metrics: [metric] }] };
}
