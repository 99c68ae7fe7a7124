// Section 2: cost of a /metrics scrape with many series, ours vs the stock OTel serializer vs
// prom-client, plus event-loop blocking, the category endpoint and a promtool check.
// Usage: node --expose-gc bench/sections/scrape.mjs <seriesCount>
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { METRIC_CATALOG, prometheusName } from '@gatewayz/telemetry/metrics';
import { createMetricsHandler, createTelemetryMetricProducer, serializePrometheus } from '@gatewayz/telemetry-node';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { BenchReader, compareTasks, emit, log, pick, sleep } from '../lib/common.mjs';
import { MIX, assertSeriesCounts, recordSeries, seriesOfMix } from '../lib/series-mix.mjs';

const SERIES = Number(process.argv[2] ?? 20_000);
const PROMTOOL = '/usr/bin/promtool';
// Prometheus 2.x's default scrape Accept header: it prefers OpenMetrics when the target offers it.
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

// --- our helpers as startTelemetry wires them: in-process series collected through a MetricProducer
// registered with the stock PrometheusExporter ------------------------------------------------------
const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: SERIES, exemplars: false });
const exporter = new PrometheusExporter({
  preventServerStart: true,
  withoutScopeInfo: true,
  metricProducers: [createTelemetryMetricProducer(telemetry)],
});
const meterProvider = new MeterProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench-gateway', 'service.version': '0.0.0' }),
  readers: [exporter],
});

// --- prom-client, same names, labels, buckets and values ------------------------------------------
const registry = new client.Registry();
const promMetrics = {};
for (const { key } of MIX) {
  const definition = METRIC_CATALOG[key];
  const common = {
    name: prometheusName(definition),
    help: definition.description,
    labelNames: [...definition.labels],
    registers: [registry],
  };
  promMetrics[key] =
    definition.kind === 'counter'
      ? new client.Counter(common)
      : definition.kind === 'gauge'
        ? new client.Gauge(common)
        : new client.Histogram({ ...common, buckets: [...definition.buckets] });
}

const allSeries = seriesOfMix(SERIES);
for (const entry of allSeries) {
  const prom = promMetrics[entry.key];
  if (entry.kind === 'counter') prom.inc(entry.labels, entry.amount);
  else if (entry.kind === 'gauge') prom.set(entry.labels, entry.value);
  else for (const seconds of entry.observations) prom.observe(entry.labels, seconds);
}
recordSeries(telemetry, allSeries);
assertSeriesCounts(telemetry, SERIES);
const created = allSeries.length;
log('scrape', `${SERIES}: created ${created} series (helpers and prom-client)`);

const handler = createMetricsHandler({ source: exporter });
const stock = new PrometheusSerializer(undefined, false, undefined, false, true);
const metricsRequest = () => new Request('http://127.0.0.1/metrics');

// --- outputs: sizes, sanity, promtool -------------------------------------------------------------
const oursText = serializePrometheus((await exporter.collect()).resourceMetrics);
const stockText = stock.serialize((await exporter.collect()).resourceMetrics);
const promText = await registry.metrics();
const providersText = await (await handler(new Request('http://127.0.0.1/prometheus/metrics/providers'))).text();
const openMetricsResponse = await handler(
  new Request('http://127.0.0.1/metrics', { headers: { accept: PROMETHEUS_ACCEPT } }),
);
const openMetricsText = await openMetricsResponse.text();
const sampleLines = (text) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
if (oursText.includes('otel_metric_overflow')) throw new Error('SDK cardinality overflow in our output');
const outputs = {
  ours: { bytes: Buffer.byteLength(oursText), samples: sampleLines(oursText) },
  stock: { bytes: Buffer.byteLength(stockText), samples: sampleLines(stockText) },
  promClient: { bytes: Buffer.byteLength(promText), samples: sampleLines(promText) },
  openMetrics: {
    bytes: Buffer.byteLength(openMetricsText),
    samples: sampleLines(openMetricsText),
    contentType: openMetricsResponse.headers.get('content-type'),
  },
  providers: { bytes: Buffer.byteLength(providersText), samples: sampleLines(providersText) },
};

let promtool = { available: false };
if (existsSync(PROMTOOL)) {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], {
    input: oursText,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const problems = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
  const unexpected = problems.filter((line) => !line.includes('subscription_count'));
  promtool = {
    available: true,
    exitCode: run.status,
    problems: problems.slice(0, 10),
    passed: run.status === 0 || unexpected.length === 0,
  };
  log('scrape', `promtool check metrics: exit ${run.status}${problems.length ? `, ${problems.length} lines` : ''}`);
}

// --- throughput --------------------------------------------------------------------------------------
const preCollected = (await exporter.collect()).resourceMetrics;
const tasks = [
  {
    id: 'ours',
    label: 'ours: `serializePrometheus(await exporter.collect())`',
    fn: async () => serializePrometheus((await exporter.collect()).resourceMetrics),
  },
  {
    id: 'handler',
    label: 'ours: full `createMetricsHandler` GET /metrics (text format)',
    fn: async () => (await handler(metricsRequest())).arrayBuffer(),
  },
  {
    id: 'handlerOpenMetrics',
    label: "ours: full handler, Prometheus' default Accept (OpenMetrics)",
    fn: async () =>
      (
        await handler(new Request('http://127.0.0.1/metrics', { headers: { accept: PROMETHEUS_ACCEPT } }))
      ).arrayBuffer(),
  },
  {
    id: 'providers',
    label: 'ours: full handler GET /prometheus/metrics/providers',
    fn: async () => (await handler(new Request('http://127.0.0.1/prometheus/metrics/providers'))).arrayBuffer(),
  },
  {
    id: 'stock',
    label: 'stock: `PrometheusSerializer.serialize(await exporter.collect())`',
    fn: async () => stock.serialize((await exporter.collect()).resourceMetrics),
  },
  { id: 'promClient', label: 'prom-client `registry.metrics()`', fn: () => registry.metrics() },
  { id: 'collectOnly', label: 'attribution: `exporter.collect()` only (SDK)', fn: () => exporter.collect() },
  {
    id: 'serializeOnly',
    label: 'attribution: `serializePrometheus` only (pre-collected)',
    fn: () => serializePrometheus(preCollected),
  },
  {
    id: 'stockSerializeOnly',
    label: 'attribution: stock serializer only (pre-collected)',
    fn: () => stock.serialize(preCollected),
  },
];
const big = SERIES >= 10_000;
const results = await compareTasks({
  tasks,
  // At 20,000 series a major GC (this process holds all three libraries' series) lands in some
  // samples: more rounds and samples, verdict on the median.
  rounds: pick(big ? 3 : 2, 1),
  timeMs: pick(big ? 500 : 400, big ? 1 : 30),
  warmupMs: pick(big ? 0 : 100, 0),
  warmupIterations: pick(big ? 2 : 5, big ? 0 : 1),
  minSamples: pick(big ? 6 : 20, big ? 1 : 2),
});
// Verdicts on medians, as in the other sections (robust to a sample hit by other load).
const baseline = results.promClient.ns.p50;
const ratios = Object.fromEntries(Object.entries(results).map(([id, result]) => [id, result.ns.p50 / baseline]));

// --- event-loop blocking during repeated scrapes -----------------------------------------------------
async function loopDelay(scrape, count) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  await sleep(20);
  histogram.enable();
  for (let index = 0; index < count; index++) {
    await scrape();
    await sleep(3); // let the monitor's timer run between scrapes, as between real scrapes
  }
  histogram.disable();
  return {
    scrapes: count,
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
  };
}
const scrapes = pick(big ? 10 : 20, 2);
if (globalThis.gc) globalThis.gc();
const eventLoop = {
  handler: await loopDelay(async () => (await handler(metricsRequest())).arrayBuffer(), scrapes),
  handlerOpenMetrics: await loopDelay(
    async () =>
      (
        await handler(new Request('http://127.0.0.1/metrics', { headers: { accept: PROMETHEUS_ACCEPT } }))
      ).arrayBuffer(),
    scrapes,
  ),
  promClient: await loopDelay(() => registry.metrics(), scrapes),
};
for (const [id, value] of Object.entries(eventLoop)) {
  log(
    'scrape',
    `${SERIES} event loop during ${id}: max ${value.maxMs.toFixed(1)} ms, p99 ${value.p99Ms.toFixed(1)} ms`,
  );
}

// --- the SDK's default cardinality limit does not apply to the producer path -------------------------
// Same helpers, same series, collected the way startTelemetry does: how many series of the largest
// metric survive collection?
let defaultLimit;
{
  const limited = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: SERIES, exemplars: false });
  const reader = new BenchReader({ metricProducers: [createTelemetryMetricProducer(limited)] });
  const provider = new MeterProvider({ readers: [reader] });
  const count = Math.min(3000, SERIES);
  for (let index = 0; index < count; index++) limited.set('tokenEfficiency', 0.5, { model: `model-${index}` });
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === limited.metricName('tokenEfficiency'));
  const points = metric?.dataPoints ?? [];
  defaultLimit = {
    recordedSeries: count,
    exportedPoints: points.length,
    overflowPoints: points.filter((point) => point.attributes['otel.metric.overflow'] === true).length,
  };
  await provider.shutdown();
}

const target = 0.6;
emit({
  series: SERIES,
  mix: MIX,
  outputs,
  promtool,
  results,
  ratios,
  order: tasks.map((task) => task.id),
  eventLoop,
  defaultLimit,
  targets: {
    ratio: target,
    oursMet: ratios.ours <= target,
    handlerMet: ratios.handler <= target,
    openMetricsMet: ratios.handlerOpenMetrics <= target,
    eventLoopMet: eventLoop.handler.maxMs <= 50,
    eventLoopOpenMetricsMet: eventLoop.handlerOpenMetrics.maxMs <= 50,
  },
});
await meterProvider.shutdown();
