import { GatewayTelemetry } from '@gatewayz/telemetry';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DataPointType, MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { mergeWorkerMetrics, retireWorker } from '../src/cluster/merge-worker-metrics.js';
import { createTelemetryMetricProducer } from '../src/sdk/index.js';
import { WirePrimary } from './fixtures/cluster-wire.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

/** One worker's collection: its helpers and one per-process gauge. */
async function worker(record: (telemetry: GatewayTelemetry) => void, pid: number): Promise<ResourceMetrics> {
  const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
  record(telemetry);
  const reader = new CollectingReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'gw', 'process.pid': pid }),
    readers: [reader],
  });
  provider.getMeter('runtime').createGauge('process_memory').record(pid);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
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
});
