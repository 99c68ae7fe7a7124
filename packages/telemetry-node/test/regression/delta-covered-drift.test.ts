/**
 * Delta temporality of a cost counter across an outage: pushes refused and pushes left under way
 * while the cumulative value grows by decimals with long binary expansions. The bookkeeping of what
 * the backend has must not drift above the cumulative value and read as a restart, which sent the
 * series' whole total again (a soak run saw +55 % on `gatewayz_cost_by_api_key`).
 */
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { TemporalityMetricProducer } from '../../src/otlp-metrics/temporality-metric-producer.js';

/** A small deterministic generator (mulberry32), so a failing pattern is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** USD per token of a few models' input and output, as a cost table holds them. */
const PRICES = [0.000123, 0.0000025, 0.00001, 0.000003, 0.0000006, 0.00006, 0.0000375, 0.00000015];

/** A cumulative producer of one sum series whose value `valueOf()` gives at each collection. */
function costCounter(valueOf: () => number, isMonotonic = true): MetricProducer {
  const attributes = Object.freeze({ api_key_name: 'soak' });
  let collections = 0;
  return {
    collect: (): Promise<CollectionResult> => {
      const data = {
        descriptor: { name: 'gatewayz_cost_by_api_key', description: '', unit: 'USD', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic,
        dataPoints: [{ startTime: [0, 0], endTime: [++collections, 0], attributes, value: valueOf() }],
      } as MetricData;
      return Promise.resolve({
        resourceMetrics: { resource: undefined as never, scopeMetrics: [{ scope: { name: 'test' }, metrics: [data] }] },
        errors: [],
      });
    },
  };
}

/** The values of the points a collection carries. */
function valuesOf({ resourceMetrics }: CollectionResult): number[] {
  return resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .flatMap((metric) => (metric.dataPoints as Array<DataPoint<unknown>>).map((point) => point.value as number));
}

interface Push {
  readonly token: number;
  readonly delta: number;
}

/**
 * Runs `collections` pushes of a cost counter: traffic comes and goes (idle keys add nothing for a
 * while), outages refuse pushes many in a row, and some answers come after the next collection, in
 * any order. Returns the cumulative value and what the backend accepted; fails at the first point
 * that carries more than the backend lacks (a restart of a series that never went down).
 */
async function soak(seed: number, collections: number): Promise<{ cumulative: number; accepted: number }> {
  const random = seeded(seed);
  let cumulative = 0;
  const producer = new TemporalityMetricProducer(
    costCounter(() => cumulative),
    () => AggregationTemporality.DELTA,
  );
  let accepted = 0;
  const underWay: Push[] = [];
  const settle = (push: Push, ok: boolean): void => {
    producer.settle(push.token, ok);
    if (ok) accepted += push.delta;
  };
  let outage = 0;
  for (let collection = 0; collection < collections; collection++) {
    if (random() < 0.4) {
      const calls = 1 + Math.floor(random() * 5);
      for (let call = 0; call < calls; call++)
        cumulative += PRICES[Math.floor(random() * PRICES.length)]! * (1 + Math.floor(random() * 4000));
    }
    if (outage === 0 && random() < 0.02) outage = 5 + Math.floor(random() * 60);
    const delta = valuesOf(await producer.collect()).reduce((total, value) => total + value, 0);
    const lacking = cumulative - accepted - underWay.reduce((total, push) => total + push.delta, 0);
    if (delta > lacking + cumulative * 1e-12)
      expect.fail(`collection ${collection} sent ${delta} of ${cumulative} when the backend lacked ${lacking}`);
    const push = { token: producer.pendingToken(), delta };
    if (outage > 0) {
      outage--;
      // A hung collector answers after the next collection, a refusing one at once.
      if (random() < 0.3) underWay.push(push);
      else settle(push, false);
    } else if (random() < 0.15) underWay.push(push);
    else settle(push, true);
    while (underWay.length > (outage > 0 ? 3 : 1)) {
      const index = Math.floor(random() * underWay.length);
      settle(underWay.splice(index, 1)[0]!, outage === 0 && random() < 0.7);
    }
  }
  for (const push of underWay.splice(0)) settle(push, false);
  const last = valuesOf(await producer.collect());
  settle({ token: producer.pendingToken(), delta: last[0] ?? 0 }, true);
  return { cumulative, accepted };
}

describe('delta temporality across an outage: covered amounts do not drift into a restart', () => {
  it.each([1, 7, 42, 2024, 31337])('seed %i: the accepted deltas add up to the cumulative cost', async (seed) => {
    const { cumulative, accepted } = await soak(seed, 3000);
    expect(cumulative).toBeGreaterThan(0);
    expect(Math.abs(accepted - cumulative)).toBeLessThanOrEqual(cumulative * 1e-12);
  });
});

describe('delta temporality of a sum that goes down', () => {
  /** The delta values of one collection per cumulative value in `values`, every push accepted. */
  async function deltasOf(values: number[], isMonotonic = true): Promise<number[][]> {
    const producer = new TemporalityMetricProducer(
      costCounter(() => values.shift()!, isMonotonic),
      () => AggregationTemporality.DELTA,
    );
    const deltas: number[][] = [];
    while (values.length > 0) {
      deltas.push(valuesOf(await producer.collect()));
      producer.settle(producer.pendingToken(), true);
    }
    return deltas;
  }

  it('a monotonic sum a rounding below what was sent sends no point, neither its total again nor a negative one', async () => {
    const total = 0.264757;
    expect(await deltasOf([total, total * (1 - 1e-12), total + 0.000123])).toEqual([[total], [], [0.000123]]);
  });

  it('a monotonic sum that really went down restarted: its point is the whole new value', async () => {
    // Down by a millionth of its value is no rounding: another series under the same attributes.
    expect(await deltasOf([0.264757, 0.2647567, 0.000123, 0.000246])).toEqual([
      [0.264757],
      [0.2647567],
      [0.000123],
      [0.000123],
    ]);
  });

  it('a sum that is not monotonic sends what it went down by', async () => {
    expect(await deltasOf([5.5, 5.25, 5.25 * (1 - 1e-12)], false)).toEqual([[5.5], [-0.25], [-5.25e-12]]);
  });
});
