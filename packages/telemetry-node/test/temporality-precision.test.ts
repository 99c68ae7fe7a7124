import { ExportResultCode } from '@opentelemetry/core';
import type { Histogram, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import { difference } from '../src/otlp-metrics/temporality-metric-producer.js';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

/** Delta pushes to an exporter that accepts everything, kept for the test to read. */
function startDeltaPush(): ResourceMetrics[] {
  const pushes: ResourceMetrics[] = [];
  const exporter: PushMetricExporter = {
    export: (metrics, answer) => {
      pushes.push(metrics);
      answer({ code: ExportResultCode.SUCCESS });
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  running = startTelemetry({
    traces: false,
    hostMetrics: false,
    runtimeMetrics: false,
    metrics: {
      exporters: ['otlp'],
      otlp: { exporter, temporalityPreference: 'delta', exportIntervalMillis: 3_600_000 },
    },
    env: {},
  });
  return pushes;
}

function valuesIn<V>(push: ResourceMetrics | undefined, name: string): V[] {
  return (push?.scopeMetrics ?? [])
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints.map((point) => point.value as V));
}

describe('delta temporality: non-integer deltas are the values observed', () => {
  it('histogram sums and cost deltas carry no subtraction noise; counts stay exact', async () => {
    const pushes = startDeltaPush();
    const { telemetry } = running!;
    const step = async (seconds: number[], cost: number[]): Promise<void> => {
      for (const value of seconds) telemetry.recordProviderResponseTime('openai', value);
      for (const value of cost) telemetry.incrementCostByProvider('openai', value);
      telemetry.recordCacheHit('semantic');
      await running!.forceFlush();
    };
    await step([0.3], [0.3]);
    await step([0.5, 0.6], [0.5, 0.6]);
    await step([1e6], [1e6]);
    await step([0.3], [0.3]);
    const histograms = pushes.map((push) => valuesIn<Histogram>(push, 'provider_response_time_seconds')[0]);
    expect(histograms.map((value) => value?.sum)).toEqual([0.3, 1.1, 1e6, 0.3]);
    expect(histograms.map((value) => value?.count)).toEqual([1, 2, 1, 1]);
    expect(pushes.map((push) => valuesIn<number>(push, 'gatewayz_cost_by_provider'))).toEqual([
      [0.3],
      [1.1],
      [1e6],
      [0.3],
    ]);
    const cacheHits = pushes.map((push) => valuesIn<number>(push, 'cache_hits'));
    expect(cacheHits.flat()).toEqual([1, 1, 1, 1]);
  });

  it('the accepted deltas add up to the cumulative total to 15 significant digits', async () => {
    const pushes = startDeltaPush();
    const { telemetry } = running!;
    let total = 0;
    const added: number[] = [];
    // Amounts with long binary expansions, added across many pushes (none in every seventh).
    for (let round = 1; round <= 60; round++) {
      let sum = 0;
      for (let index = 1; index <= round % 7; index++) {
        const amount = (round * 0.013 + index * 0.0007) * (round % 3 === 0 ? 1000 : 1);
        telemetry.incrementCostByProvider('openai', amount);
        sum += amount;
      }
      added.push(sum);
      total += sum;
      await running!.forceFlush();
    }
    const sent = pushes.map((push) => valuesIn<number>(push, 'gatewayz_cost_by_provider'));
    // A series going down by rounding noise would read as a restart and send its total again.
    sent.forEach((values, round) => {
      if (added[round] === 0) expect(values).toEqual([]);
      else expect(Math.abs(values[0]! - added[round]!)).toBeLessThanOrEqual(total * 1e-15);
    });
    const sum = sent.flat().reduce((accumulated, value) => accumulated + value, 0);
    expect(Math.abs(sum - total)).toBeLessThanOrEqual(total * 1e-14);
  });
});

describe('difference', () => {
  it('rounds to 15 significant digits of the larger operand', () => {
    expect(difference(0.3, 0)).toBe(0.3);
    expect(difference(0.3 + 0.5 + 0.6, 0.3)).toBe(1.1);
    expect(difference(1e6 + 0.3, 1e6)).toBe(0.3);
    expect(difference(0.1 + 0.2, 0.1)).toBe(0.2);
    expect(difference(-0.3 - 0.1, -0.3)).toBe(-0.1);
    expect(difference(0, 0.3)).toBe(-0.3);
    // Noise alone, below the last digit kept, is no change.
    expect(difference(1.4000000000000001, 1.4)).toBe(0);
    expect(difference(1.5e300, 1e300)).toBe(5e299);
    // Below about 1e-294 no power of ten scales it: the subtraction as it is.
    expect(difference(3e-300, 1e-300)).toBe(3e-300 - 1e-300);
    expect(difference(1e-320, 0)).toBe(1e-320);
  });

  it('keeps integers exact, however large', () => {
    expect(difference(5, 3)).toBe(2);
    expect(difference(Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(difference(2 ** 60, 2 ** 59)).toBe(2 ** 59);
    expect(difference(7, 7)).toBe(0);
  });
});
