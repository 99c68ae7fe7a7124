import { GatewayTelemetry } from '@gatewayz/telemetry';
import type { Meter } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { mergeWorkerMetrics, retireWorker } from '../src/cluster/merge-worker-metrics.js';
import { componentAvailable, promtoolCheckMetrics } from '../../../test-support/prometheus.js';
import { WirePrimary, overAdvanced, overJson } from './fixtures/cluster-wire.js';
import { collectWorker } from './fixtures/worker-collection.js';

/** One worker's collection: its helpers and one per-process gauge (and what `app` records on another meter). */
async function worker(
  record: (telemetry: GatewayTelemetry) => void,
  pid: number,
  app?: (meter: Meter) => void,
): Promise<ResourceMetrics> {
  return collectWorker(record, { 'service.name': 'gw', 'process.pid': pid }, (provider) => {
    provider.getMeter('runtime').createGauge('process_memory').record(pid);
    app?.(provider.getMeter('app'));
  });
}

const rule = (name: string): 'sum' | 'max' => (name === 'gatewayz_model_health_pending_calls' ? 'sum' : 'max');

// Every collection crosses the wire as it does between processes: the worker's parts through JSON
// into the primary, the merge, the merged parts through JSON back into the scraped worker.
describe('mergeWorkerMetrics', () => {
  it('adds counters and histograms, merges gauges by rule, keeps per-process series per worker', async () => {
    const primary = new WirePrimary();
    const first = await worker((telemetry) => {
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 3);
      telemetry.setProviderHealthScore('openai', 0.9);
      telemetry.set('modelHealthPendingCalls', 4, {});
    }, 11);
    const second = await worker((telemetry) => {
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.05);
      telemetry.recordModelInference('anthropic', 'claude', 'error', 1);
      telemetry.setProviderHealthScore('openai', 0.7);
      telemetry.set('modelHealthPendingCalls', 3, {});
    }, 22);
    const merged = primary.text(
      mergeWorkerMetrics(
        [
          { workerId: '1', collection: primary.receive('1', first) },
          { workerId: '2', collection: primary.receive('2', second) },
        ],
        rule,
      ),
    );
    expect(merged).toContain('model_inference_requests_total{provider="openai",model="gpt-4o",status="success"} 3');
    expect(merged).toContain('model_inference_requests_total{provider="anthropic",model="claude",status="error"} 1');
    expect(merged).toContain('model_inference_duration_seconds_count{provider="openai",model="gpt-4o"} 3');
    expect(merged).toMatch(/model_inference_duration_seconds_sum\{provider="openai",model="gpt-4o"\} 3\.25/);
    expect(merged).toContain('model_inference_duration_seconds_bucket{provider="openai",model="gpt-4o",le="0.1"} 1');
    expect(merged).toContain('gatewayz_provider_health_score{provider="openai"} 0.9');
    expect(merged).toContain('gatewayz_model_health_pending_calls 7');
    expect(merged).toContain('process_memory{worker="1"} 11');
    expect(merged).toContain('process_memory{worker="2"} 22');
    expect(merged).not.toContain('process_pid');
  });

  it('histograms with other bucket bounds (a rolling restart that changed them) are never added up', async () => {
    const primary = new WirePrimary();
    const record = (telemetry: GatewayTelemetry): void =>
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
    const first = await worker(record, 11);
    // The same metric from a worker whose buckets have the same number of bounds, each doubled.
    const second = await worker(record, 22);
    const rebucketed: ResourceMetrics = {
      ...second,
      scopeMetrics: second.scopeMetrics.map((scope) => ({
        ...scope,
        metrics: scope.metrics.map((metric) =>
          metric.dataPointType !== DataPointType.HISTOGRAM
            ? metric
            : {
                ...metric,
                dataPoints: metric.dataPoints.map((point) => ({
                  ...point,
                  value: {
                    ...point.value,
                    buckets: {
                      ...point.value.buckets,
                      boundaries: point.value.buckets.boundaries.map((bound) => bound * 2),
                    },
                  },
                })),
              },
        ),
      })),
    };
    const merged = primary.text(
      mergeWorkerMetrics(
        [
          { workerId: '1', collection: primary.receive('1', first) },
          { workerId: '2', collection: primary.receive('2', rebucketed) },
        ],
        rule,
      ),
    );
    // The first worker's shape wins; the counter (no buckets) still adds up.
    expect(merged).toContain('model_inference_duration_seconds_count{provider="openai",model="gpt-4o"} 1');
    expect(merged).toContain('model_inference_requests_total{provider="openai",model="gpt-4o",status="success"} 2');
  });

  it('what an exited worker leaves: its counters and histograms, not its gauges or per-process series', async () => {
    const primary = new WirePrimary();
    const gone = await worker((telemetry) => {
      telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.2);
      telemetry.setProviderHealthScore('openai', 0.1);
      telemetry.set('modelHealthPendingCalls', 9, {});
    }, 33);
    const live = await worker((telemetry) => telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.4), 44);
    const goneCollection = primary.receive('4', gone);
    const retired = retireWorker(retireWorker(undefined, goneCollection), goneCollection);
    const merged = primary.text(
      mergeWorkerMetrics(
        [
          { workerId: '3', collection: primary.receive('3', live) },
          { workerId: undefined, collection: retired },
        ],
        rule,
      ),
    );
    // Two retirements of the same counts (two workers that exited) plus the live worker.
    expect(merged).toContain('model_inference_requests_total{provider="openai",model="gpt-4o",status="success"} 3');
    expect(merged).toContain('model_inference_duration_seconds_count{provider="openai",model="gpt-4o"} 3');
    expect(merged).not.toContain('gatewayz_provider_health_score');
    expect(merged).not.toContain('gatewayz_model_health_pending_calls');
    expect(merged).toContain('process_memory{worker="3"} 44');
    expect(merged).not.toContain('33');
  });

  it.each([
    ['json', overJson],
    ['advanced', overAdvanced],
  ] as const)(
    "carries other scopes' NaN, ±Infinity and −0 exactly over %s serialisation, and the scrape stays valid",
    async (_serialization, over) => {
      const primary = new WirePrimary(over);
      const app = (meter: Meter): void => {
        const gauge = meter.createGauge('app_level');
        gauge.record(NaN, { k: 'nan' });
        gauge.record(Infinity, { k: 'inf' });
        gauge.record(-Infinity, { k: 'ninf' });
        gauge.record(-0, { k: 'negzero' });
        const histogram = meter.createHistogram('app_latency', { advice: { explicitBucketBoundaries: [1] } });
        histogram.record(0.5);
        histogram.record(Infinity);
      };
      const collections = await Promise.all([worker(() => {}, 11, app), worker(() => {}, 22, app)]);
      const merged = mergeWorkerMetrics(
        collections.map((collection, index) => ({
          workerId: String(index + 1),
          collection: primary.receive(String(index + 1), collection),
        })),
        rule,
      );
      const served = primary.reply(merged);
      const metricOf = (collected: ResourceMetrics, name: string): MetricData =>
        collected.scopeMetrics.flatMap((scope) => scope.metrics).find((found) => found.descriptor.name === name)!;
      const metric = (name: string): MetricData => metricOf(served, name);
      const levels = (metric('app_level').dataPoints as Array<DataPoint<number>>)
        .filter((point) => point.attributes['worker'] === '2')
        .map((point) => [point.attributes['k'], point.value]);
      expect(levels).toEqual([
        ['nan', NaN],
        ['inf', Infinity],
        ['ninf', -Infinity],
        ['negzero', -0],
      ]);
      expect(Object.is(levels[3]![1], -0)).toBe(true);
      const latency = (metric('app_latency').dataPoints as Array<DataPoint<Histogram>>)[0]!.value;
      const recorded = (metricOf(collections[0]!, 'app_latency').dataPoints as Array<DataPoint<Histogram>>)[0]!.value;
      expect(recorded.sum).toBe(Infinity);
      expect([latency.sum, latency.min, latency.max]).toEqual([recorded.sum, recorded.min, recorded.max]);

      const text = primary.text(merged);
      expect(text).toContain('app_level{k="nan",worker="1"} NaN');
      expect(text).toContain('app_level{k="inf",worker="1"} +Inf');
      expect(text).toContain('app_level{k="ninf",worker="2"} -Inf');
      expect(text).not.toContain('null');
      if (componentAvailable('promtool')) {
        const result = await promtoolCheckMetrics(text);
        expect(result.problems).toEqual([]);
        expect(result.exitCode).toBe(0);
      }
    },
  );

  it("keeps an application's own worker attribute as exported_worker, one series per value", async () => {
    const primary = new WirePrimary();
    const app = (meter: Meter): void => {
      const jobs = meter.createCounter('jobs');
      jobs.add(1, { worker: 'a' });
      jobs.add(2, { worker: 'b' });
      // Taken too: the next free name, as Prometheus does.
      meter.createCounter('queue_jobs').add(5, { worker: 'c', exported_worker: 'x' });
    };
    const collections = await Promise.all([worker(() => {}, 11, app), worker(() => {}, 22, app)]);
    const text = primary.text(
      mergeWorkerMetrics(
        collections.map((collection, index) => ({
          workerId: String(index + 1),
          collection: primary.receive(String(index + 1), collection),
        })),
        rule,
      ),
    );
    const jobs = text.split('\n').filter((line) => line.startsWith('jobs_total'));
    expect(jobs.sort()).toEqual([
      'jobs_total{exported_worker="a",worker="1"} 1',
      'jobs_total{exported_worker="a",worker="2"} 1',
      'jobs_total{exported_worker="b",worker="1"} 2',
      'jobs_total{exported_worker="b",worker="2"} 2',
    ]);
    expect(text).toContain('queue_jobs_total{exported_worker="x",exported_exported_worker="c",worker="1"} 5');
    if (componentAvailable('promtool')) {
      const result = await promtoolCheckMetrics(text);
      expect(result.problems).toEqual([]);
      expect(result.exitCode).toBe(0);
    }
  });
});
