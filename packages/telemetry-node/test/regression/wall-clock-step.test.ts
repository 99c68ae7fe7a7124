/**
 * The helpers' metric producer across a step of the wall clock (NTP correcting it, a VM resumed):
 * its points end after they start, cumulative or delta, with their exemplars inside, and keep to
 * the wall clock the SDK stamps its own points with whenever that does not go back.
 */
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry, PACKAGE_NAME } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTelemetryMetricProducer } from '../../src/index.js';
import type { ExemplarDataPoint } from '../../src/exposition/exemplar-data-point.js';
import { TemporalityMetricProducer } from '../../src/otlp-metrics/temporality-metric-producer.js';

const HOUR = 3_600_000;
const realNow = Date.now.bind(Date);

afterEach(() => void vi.restoreAllMocks());

/** Step the wall clock by `ms` (negative: back), as NTP stepping it would; performance.now() goes on. */
const stepWallClock = (ms: number): void => void vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const milliseconds = (time: DataPoint<unknown>['startTime']): number => hrTimeToMilliseconds(time);

async function pointsOf(producer: MetricProducer, name?: string): Promise<Array<DataPoint<unknown>>> {
  const { resourceMetrics } = await producer.collect();
  return resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => name === undefined || metric.descriptor.name === name)
    .flatMap((metric: MetricData) => metric.dataPoints as Array<DataPoint<unknown>>);
}

function record(telemetry: GatewayTelemetry): void {
  telemetry.recordProviderResponseTime('openai', 0.42);
  telemetry.incrementCostByProvider('openai', 0.5);
}

describe('the helpers’ metric producer across a step of the wall clock', () => {
  it('ends every cumulative point after it starts, with its exemplars inside, after a step back', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_on' });
    const producer = createTelemetryMetricProducer(telemetry);
    stepWallClock(-HOUR);
    record(telemetry);
    const points = await pointsOf(producer);
    expect(points.length).toBeGreaterThan(1);
    for (const point of points)
      expect(milliseconds(point.endTime)).toBeGreaterThanOrEqual(milliseconds(point.startTime));
    const exemplars = points.flatMap((point) =>
      ((point as ExemplarDataPoint).exemplars?.slots ?? []).flatMap((exemplar) =>
        exemplar == null ? [] : [{ point, seconds: exemplar.timestampSeconds }],
      ),
    );
    expect(exemplars).toHaveLength(1);
    for (const { point, seconds } of exemplars) {
      expect(seconds * 1000).toBeGreaterThanOrEqual(milliseconds(point.startTime));
      expect(seconds * 1000).toBeLessThanOrEqual(milliseconds(point.endTime));
    }
  });

  it('stamps its points as the SDK stamps its own after a step forward', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const reader = new PullReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('app').createCounter('app_requests').add(1);
    record(telemetry);
    stepWallClock(HOUR);
    const { resourceMetrics } = await reader.collect();
    const endOf = (scope: string): number => {
      const metrics = resourceMetrics.scopeMetrics.find((metrics) => metrics.scope.name === scope)!.metrics;
      return milliseconds(metrics[0]!.dataPoints[0]!.endTime);
    };
    expect(Math.abs(endOf(PACKAGE_NAME) - endOf('app'))).toBeLessThan(1000);
    await provider.shutdown();
  });

  it('starts a delta point where the last one ended and ends it after that', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const delta = new TemporalityMetricProducer(
      createTelemetryMetricProducer(telemetry),
      () => AggregationTemporality.DELTA,
    );
    const cost = telemetry.metricName('costByProvider');
    record(telemetry);
    const [first] = await pointsOf(delta, cost);
    delta.settle(delta.pendingToken(), true);
    stepWallClock(-HOUR);
    record(telemetry);
    const [second] = await pointsOf(delta, cost);
    expect(second!.value).toBe(0.5);
    expect(second!.startTime).toEqual(first!.endTime);
    expect(milliseconds(second!.endTime)).toBeGreaterThanOrEqual(milliseconds(second!.startTime));
  });
});
