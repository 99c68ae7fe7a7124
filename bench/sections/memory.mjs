// Section 4: memory. One contender per process (a fresh heap each time), run with --expose-gc.
// Usage: node --expose-gc bench/sections/memory.mjs <helpers|otel|prom>-<counter|histogram>
//        node --expose-gc bench/sections/memory.mjs flood
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { LLM_LATENCY_BUCKETS } from '@gatewayz/telemetry/metrics';
import { createTelemetryMetricProducer } from '@gatewayz/telemetry-node';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { BenchReader, emit, heapAfterGc, log, pick } from '../lib/common.mjs';

const which = process.argv[2];
const SERIES = pick(20_000, 2_000);

function provider(limit) {
  const reader = new BenchReader();
  const meterProvider = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: '*', aggregationCardinalityLimit: limit }],
  });
  return { reader, meterProvider };
}

async function perSeries() {
  const [library, kind] = which.split('-');
  // Label values exist before the baseline, so their strings are not counted as series memory.
  const names = Array.from({ length: SERIES }, (_, index) => `provider-${String(index).padStart(6, '0')}`);
  let record;
  let collect;
  if (library === 'helpers') {
    const telemetry = new GatewayTelemetry({
      exportVia: 'producer',
      maxSeriesPerMetric: SERIES + 100,
      exemplars: false,
    });
    const reader = new BenchReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
    new MeterProvider({ readers: [reader] });
    record =
      kind === 'counter'
        ? (name) => telemetry.incrementCostByProvider(name, 1.5)
        : (name) => telemetry.recordProviderResponseTime(name, 0.42);
    record('warm-up');
    collect = () => reader.collect();
  } else if (library === 'otel') {
    const { reader, meterProvider } = provider(SERIES + 100);
    const meter = meterProvider.getMeter('bench-raw-otel');
    const instrument =
      kind === 'counter'
        ? meter.createCounter('gatewayz_cost_by_provider')
        : meter.createHistogram('provider_response_time_seconds', {
            advice: { explicitBucketBoundaries: [...LLM_LATENCY_BUCKETS] },
          });
    record =
      kind === 'counter'
        ? (name) => instrument.add(1.5, { provider: name })
        : (name) => instrument.record(0.42, { provider: name });
    record('warm-up');
    collect = () => reader.collect();
  } else if (library === 'prom') {
    const registry = new client.Registry();
    const metric =
      kind === 'counter'
        ? new client.Counter({
            name: 'gatewayz_cost_by_provider_total',
            help: 'cost',
            labelNames: ['provider'],
            registers: [registry],
          })
        : new client.Histogram({
            name: 'provider_response_time_seconds',
            help: 'latency',
            labelNames: ['provider'],
            buckets: [...LLM_LATENCY_BUCKETS],
            registers: [registry],
          });
    record =
      kind === 'counter'
        ? (name) => metric.inc({ provider: name }, 1.5)
        : (name) => metric.observe({ provider: name }, 0.42);
    record('warm-up');
    collect = () => registry.metrics();
  } else {
    throw new Error(`unknown contender ${which}`);
  }
  await collect();
  const before = heapAfterGc();
  for (const name of names) record(name);
  const afterRecording = heapAfterGc();
  await collect();
  await collect();
  const afterCollect = heapAfterGc();
  names.length = 0;
  return {
    contender: which,
    series: SERIES,
    bytesPerSeriesRecorded: (afterRecording - before) / SERIES,
    bytesPerSeriesAfterCollect: (afterCollect - before) / SERIES,
  };
}

async function flood() {
  const CALLS = pick(1_000_000, 100_000);
  const { reader, meterProvider } = provider(2000);
  const telemetry = new GatewayTelemetry({ meterProvider }); // default maxSeriesPerMetric: 2000
  telemetry.recordModelInference('openai', 'gpt-4o-mini', 'success', 0.2);
  await reader.collect();
  const before = heapAfterGc();
  const checkpoints = [];
  const started = process.hrtime.bigint();
  let paused = 0n;
  for (let index = 0; index < CALLS; index++) {
    telemetry.recordModelInference('openai', `flood-model-${index}`, 'success', 0.2);
    if ((index + 1) % (CALLS / 10) === 0) {
      const pauseStart = process.hrtime.bigint();
      checkpoints.push({ calls: index + 1, heapMb: heapAfterGc() / 1048576 });
      paused += process.hrtime.bigint() - pauseStart;
    }
  }
  const nsPerCall = Number(process.hrtime.bigint() - started - paused) / CALLS;
  const after = heapAfterGc();
  const { resourceMetrics } = await reader.collect();
  const afterCollect = heapAfterGc();
  const requests = telemetry.metricName('modelInferenceRequests');
  const duration = telemetry.metricName('modelInferenceDuration');
  const exported = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === requests);
  const overflowCount = (name) => telemetry.currentValue('telemetryLabelOverflow', { metric: name }) ?? 0;
  const otherSeries =
    telemetry.currentValue('modelInferenceRequests', { provider: 'openai', model: 'other', status: 'success' }) ?? 0;
  return {
    contender: 'flood',
    calls: CALLS,
    helper: 'recordModelInference(provider, `flood-model-${i}`, "success", 0.2)',
    maxSeriesPerMetric: telemetry.maxSeriesPerMetric,
    heapBeforeMb: before / 1048576,
    heapAfterMb: after / 1048576,
    heapAfterCollectMb: afterCollect / 1048576,
    checkpoints,
    nsPerCall,
    seriesRequests: telemetry.seriesCount('modelInferenceRequests'),
    seriesDuration: telemetry.seriesCount('modelInferenceDuration'),
    exportedPoints: exported?.dataPoints.length ?? 0,
    overflowTotal: { [requests]: overflowCount(requests), [duration]: overflowCount(duration) },
    otherSeriesValue: otherSeries,
  };
}

const result = which === 'flood' ? await flood() : await perSeries();
log('memory', JSON.stringify(result));
emit(result);
