/**
 * What a scrape of a node:cluster port shows that the rest of the suite let through (found by
 * mutation testing): the merged resource names no single worker, and a merged histogram keeps the
 * smallest min, the largest max and the earliest start of its workers' points.
 */
import { GatewayTelemetry } from '@gatewayz/telemetry';
import type { HrTime } from '@opentelemetry/api';
import { DataPointType, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { mergeWorkerMetrics } from '../src/cluster/merge-worker-metrics.js';
import { WirePrimary } from './fixtures/cluster-wire.js';
import { collectWorker } from './fixtures/worker-collection.js';

const INFERENCE_DURATION = 'model_inference_duration_seconds';

/** `resourceMetrics` with every point of the helpers' histograms started at `startTime`. */
function startedAt(resourceMetrics: ResourceMetrics, startTime: HrTime): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) =>
        metric.dataPointType !== DataPointType.HISTOGRAM
          ? metric
          : { ...metric, dataPoints: metric.dataPoints.map((point) => ({ ...point, startTime })) },
      ),
    })),
  };
}

/** The points of `name` in a collection, as a scraped worker reads the merge. */
function histogramPoints(resourceMetrics: ResourceMetrics, name: string) {
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === name);
  if (metric?.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`no histogram ${name}`);
  return metric.dataPoints;
}

const rule = (): 'max' => 'max';

/** The `target_info` line of an exposition. */
function serializedTargetInfo(text: string): string {
  return text.split('\n').find((line) => line.startsWith('target_info')) ?? '';
}

describe('mergeWorkerMetrics edge cases', () => {
  it("leaves each worker's service.instance.id (and pid) out of the merged resource and target_info", async () => {
    const primary = new WirePrimary();
    const record = (telemetry: GatewayTelemetry): void =>
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
    const parts = await Promise.all(
      ['w1', 'w2'].map(async (instance, index) => ({
        workerId: String(index + 1),
        collection: primary.receive(
          String(index + 1),
          await collectWorker(record, {
            'service.name': 'gw',
            'service.instance.id': instance,
            'process.pid': 40 + index,
          }),
        ),
      })),
    );
    const merged = mergeWorkerMetrics(parts, rule);
    expect(merged.resource).toEqual(expect.objectContaining({ 'service.name': 'gw' }));
    expect(merged.resource).not.toHaveProperty('service.instance.id');
    expect(merged.resource).not.toHaveProperty('process.pid');
    const served = primary.reply(merged);
    expect(served.resource.attributes).not.toHaveProperty('service.instance.id');
    const targetInfo = serializedTargetInfo(primary.text(merged));
    expect(targetInfo).toContain('service_name="gw"');
    expect(targetInfo).not.toContain('service_instance_id');
  });

  it("keeps the smallest min and the largest max of the workers' points, whichever worker comes first", async () => {
    const primary = new WirePrimary();
    // The first worker has both the smallest value and the largest one.
    const first = await collectWorker(
      (telemetry) => {
        telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.05);
        telemetry.recordModelInference('openai', 'gpt-4o', 'success', 3);
      },
      { 'service.name': 'gw' },
    );
    const second = await collectWorker(
      (telemetry) => {
        telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
        telemetry.recordModelInference('openai', 'gpt-4o', 'success', 1);
      },
      { 'service.name': 'gw' },
    );
    const [one, two] = [
      histogramPoints(first, INFERENCE_DURATION)[0]!,
      histogramPoints(second, INFERENCE_DURATION)[0]!,
    ];
    expect([one.value.min, one.value.max, two.value.min, two.value.max]).toEqual([0.05, 3, 0.2, 1]);
    const merged = primary.reply(
      mergeWorkerMetrics(
        [
          { workerId: '1', collection: primary.receive('1', first) },
          { workerId: '2', collection: primary.receive('2', second) },
        ],
        rule,
      ),
    );
    const [point] = histogramPoints(merged, INFERENCE_DURATION);
    const value: Histogram = point!.value;
    expect([value.count, value.min, value.max]).toEqual([4, 0.05, 3]);
  });

  it("starts a merged series at its workers' earliest start, whichever worker comes first", async () => {
    const primary = new WirePrimary();
    const record = (telemetry: GatewayTelemetry): void =>
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
    const early: HrTime = [1_700_000_000, 250_000_000];
    const late: HrTime = [1_700_000_100, 0];
    // The worker that started later answers first.
    const later = startedAt(await collectWorker(record, { 'service.name': 'gw' }), late);
    const earlier = startedAt(await collectWorker(record, { 'service.name': 'gw' }), early);
    const merged = primary.reply(
      mergeWorkerMetrics(
        [
          { workerId: '1', collection: primary.receive('1', later) },
          { workerId: '2', collection: primary.receive('2', earlier) },
        ],
        rule,
      ),
    );
    const [point] = histogramPoints(merged, INFERENCE_DURATION);
    expect(point!.value.count).toBe(2);
    expect(point!.startTime).toEqual(early);
  });
});
