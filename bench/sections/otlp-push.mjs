// Section 7a: CPU cost of one OTLP metrics export interval with N series of the helpers' metrics,
// side by side with a Prometheus scrape of the same series in the same process.
// Usage: node --expose-gc bench/sections/otlp-push.mjs <seriesCount>
//
// Wired as startTelemetry() wires it (the OTLP reader is not part of the public API): one
// startTelemetry() per variant (protobuf / JSON × cumulative / delta) with both exporters on, so
// `running.forceFlush()` runs exactly one export (collect + serialise + HTTP POST to a loopback
// receiver in this process) and `running.metricsHandler` scrapes the very same series. Variants
// run one after the other in rounds (startTelemetry is process-global), each refilled from scratch.
import { createServer, get } from 'node:http';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { emit, log, pick, sleep, summarize } from '../lib/common.mjs';
import { MIX, assertSeriesCounts, bumpSeries, countsOfMix, recordSeries, seriesOfMix } from '../lib/series-mix.mjs';

const SERIES = Number(process.argv[2] ?? 20_000);
const big = SERIES >= 10_000;
const ROUNDS = pick(big ? 2 : 3, 1);
const WARMUP = pick(2, 1);
const ITERATIONS = pick(big ? 8 : 15, 2);
const VARIANTS = [
  { id: 'protobufCumulative', protocol: 'http/protobuf', temporality: 'cumulative' },
  { id: 'protobufDelta', protocol: 'http/protobuf', temporality: 'delta' },
  { id: 'jsonCumulative', protocol: 'http/json', temporality: 'cumulative' },
  { id: 'jsonDelta', protocol: 'http/json', temporality: 'delta' },
  // OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram.
  { id: 'protobufExponential', protocol: 'http/protobuf', temporality: 'cumulative', exponential: true },
  { id: 'protobufExponentialDelta', protocol: 'http/protobuf', temporality: 'delta', exponential: true },
];
/** The variant the target is stated for: the specification's defaults (protobuf, cumulative). */
const TARGET_VARIANT = 'protobufCumulative';
const TARGET_RATIO = 2;

// --- receiver: reads the body, answers an empty ExportMetricsServiceResponse --------------------------
const received = [];
const receiver = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const contentType = request.headers['content-type'] ?? '';
    // Only the latest body is kept (for the one decode per variant).
    const previous = received[received.length - 1];
    if (previous !== undefined) previous.chunks = undefined;
    received.push({ bytes: chunks.reduce((total, chunk) => total + chunk.length, 0), contentType, chunks });
    // An empty protobuf message is zero bytes; the JSON encoding of it is `{}`.
    const json = contentType.startsWith('application/json');
    response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    response.end(json ? '{}' : undefined);
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/v1/metrics`;

// Decoded once per variant, outside the measurements: the protobufjs code generated from the
// official opentelemetry-proto definitions (what test-support/otlp-receiver.ts uses).
const protoRoot = createRequire(import.meta.url)('otlp-proto-definitions/build/src/generated/root.js');
function decodeRequest(request) {
  const body = Buffer.concat(request.chunks);
  if (request.contentType.startsWith('application/json')) return JSON.parse(body.toString('utf8'));
  const type = protoRoot.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
  return type.toObject(type.decode(body), { longs: String, enums: Number, arrays: true });
}
/** Data points per metric name, the temporality of each sum and histogram, and the histogram kinds. */
function pointsByMetric(body) {
  const points = {};
  const temporalities = new Set();
  const histogramKinds = new Set();
  for (const resourceMetrics of body.resourceMetrics ?? [])
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? [])
      for (const metric of scopeMetrics.metrics ?? []) {
        const data = metric.sum ?? metric.gauge ?? metric.histogram ?? metric.exponentialHistogram;
        points[metric.name] = (points[metric.name] ?? 0) + (data?.dataPoints?.length ?? 0);
        if (data?.aggregationTemporality !== undefined) temporalities.add(data.aggregationTemporality);
        if (metric.histogram !== undefined) histogramKinds.add('explicit');
        if (metric.exponentialHistogram !== undefined) histogramKinds.add('exponential');
      }
  return { points, temporalities: [...temporalities], histogramKinds: [...histogramKinds] };
}

// --- one variant: start, fill, warm up, measure, shut down -------------------------------------------
const allSeries = seriesOfMix(SERIES);
const expectedPoints = countsOfMix(SERIES);
const samples = Object.fromEntries(
  [...VARIANTS.map((variant) => variant.id), 'scrape', 'scrapeHttp'].map((id) => [id, { wallMs: [], cpuMs: [] }]),
);
const bytesPerExport = Object.fromEntries(VARIANTS.map((variant) => [variant.id, []]));
const scrapeBytes = [];
const sanity = {};
// Longest event-loop block seen during each measured operation, per contender.
const loopMaxMs = Object.fromEntries(Object.keys(samples).map((id) => [id, []]));

/** Wall time, process CPU (all threads) and the longest event-loop block of `operation`. */
async function measure(operation) {
  // A fresh monitor each time: one re-enabled after a pause records the pause as a delay.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await sleep(2);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = await operation();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  // Let the monitor's timer run once more, so a block at the very end is recorded.
  await sleep(3);
  loop.disable();
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, loopMaxMs: loop.max / 1e6, result };
}

function httpScrape(port) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (response) => {
      let length = 0;
      response.on('data', (chunk) => (length += chunk.length));
      response.on('end', () => resolve(length));
      response.on('error', reject);
    }).on('error', reject);
  });
}

async function runVariant(variant, round) {
  const running = startTelemetry({
    serviceName: 'bench-gateway',
    telemetry: { maxSeriesPerMetric: SERIES },
    metrics: {
      exporters: ['otlp', 'prometheus'],
      otlp: {
        url: receiverUrl,
        protocol: variant.protocol,
        temporalityPreference: variant.temporality,
        histogramAggregation: variant.exponential ? 'base2_exponential_bucket_histogram' : 'explicit_bucket_histogram',
        exportIntervalMillis: 3_600_000,
      },
    },
    traces: false,
    logs: false,
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    env: {},
  });
  const telemetry = running.telemetry;
  recordSeries(telemetry, allSeries);
  assertSeriesCounts(telemetry, SERIES);
  const server = createServer(running.nodeMetricsListener);
  server.keepAliveTimeout = 1;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;

  /** One export; exactly one request must arrive per forceFlush. */
  const exportOnce = async () => {
    const before = received.length;
    await running.forceFlush();
    if (received.length !== before + 1)
      throw new Error(`${variant.id}: expected 1 export request, received ${received.length - before}`);
    return received[received.length - 1];
  };
  const scrapeOnce = async () => (await running.metricsHandler(new Request('http://127.0.0.1/metrics'))).arrayBuffer();

  let bump = 0;
  for (let index = 0; index < WARMUP; index++) {
    bumpSeries(telemetry, allSeries, bump++);
    await exportOnce();
    await scrapeOnce();
    await httpScrape(port);
  }
  if (globalThis.gc) globalThis.gc();
  for (let index = 0; index < ITERATIONS; index++) {
    // Every counter and histogram series changes between exports, so a delta export is full.
    bumpSeries(telemetry, allSeries, bump++);
    const exported = await measure(exportOnce);
    samples[variant.id].wallMs.push(exported.wallMs);
    samples[variant.id].cpuMs.push(exported.cpuMs);
    loopMaxMs[variant.id].push(exported.loopMaxMs);
    bytesPerExport[variant.id].push(exported.result.bytes);
    if (round === 0 && index === 0) {
      const { points, temporalities, histogramKinds } = pointsByMetric(decodeRequest(exported.result));
      const expectedKind = variant.exponential ? 'exponential' : 'explicit';
      if (histogramKinds.join() !== expectedKind)
        throw new Error(`${variant.id}: histograms exported as ${histogramKinds.join(' and ')}, not ${expectedKind}`);
      const missing = MIX.filter(({ key }) => points[telemetry.metricName(key)] !== expectedPoints[key]).map(
        ({ key }) => `${key}: ${points[telemetry.metricName(key)] ?? 0} of ${expectedPoints[key]}`,
      );
      if (missing.length > 0) throw new Error(`${variant.id}: data points missing from the export: ${missing}`);
      // Anything else (a dropped recording, a failed export) means the run did not measure what it says.
      const others = Object.keys(points).filter((name) => !MIX.some(({ key }) => telemetry.metricName(key) === name));
      if (others.length > 0) throw new Error(`${variant.id}: unexpected metrics in the export: ${others.join(', ')}`);
      sanity[variant.id] = {
        contentType: exported.result.contentType,
        bytes: exported.result.bytes,
        points: Object.values(points).reduce((total, count) => total + count, 0),
        mixPoints: allSeries.length,
        // OTLP AggregationTemporality: 1 delta, 2 cumulative.
        temporalities,
      };
    }
    const scraped = await measure(scrapeOnce);
    samples.scrape.wallMs.push(scraped.wallMs);
    samples.scrape.cpuMs.push(scraped.cpuMs);
    loopMaxMs.scrape.push(scraped.loopMaxMs);
    scrapeBytes.push(scraped.result.byteLength);
    const overHttp = await measure(() => httpScrape(port));
    samples.scrapeHttp.wallMs.push(overHttp.wallMs);
    samples.scrapeHttp.cpuMs.push(overHttp.cpuMs);
    loopMaxMs.scrapeHttp.push(overHttp.loopMaxMs);
  }
  await new Promise((resolve) => server.close(resolve));
  await running.shutdown();
  received.length = 0;
}

for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order every round, so a slow drift of a shared machine hits every variant alike.
  for (let offset = 0; offset < VARIANTS.length; offset++) {
    const variant = VARIANTS[(offset + round) % VARIANTS.length];
    await runVariant(variant, round);
    log('otlp-push', `${SERIES}: round ${round + 1}/${ROUNDS} ${variant.id} done`);
  }
}
await new Promise((resolve) => receiver.close(resolve));

const stats = Object.fromEntries(
  Object.entries(samples).map(([id, { wallMs, cpuMs }]) => [id, { wallMs: withP95(wallMs), cpuMs: withP95(cpuMs) }]),
);
function withP95(values) {
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * 0.95;
  const low = Math.floor(position);
  const p95 = sorted[low] + ((sorted[Math.ceil(position)] ?? sorted[low]) - sorted[low]) * (position - low);
  return { ...summarize(values), p95 };
}
const scrapeCpu = stats.scrape.cpuMs.p50;
const ratios = Object.fromEntries(
  VARIANTS.map((variant) => [
    variant.id,
    {
      cpuVsScrape: stats[variant.id].cpuMs.p50 / scrapeCpu,
      cpuVsHttpScrape: stats[variant.id].cpuMs.p50 / stats.scrapeHttp.cpuMs.p50,
      wallVsScrape: stats[variant.id].wallMs.p50 / stats.scrape.wallMs.p50,
    },
  ]),
);
for (const variant of VARIANTS)
  log(
    'otlp-push',
    `${SERIES} ${variant.id}: CPU p50 ${stats[variant.id].cpuMs.p50.toFixed(1)} ms (${ratios[variant.id].cpuVsScrape.toFixed(2)}× scrape ${scrapeCpu.toFixed(1)} ms), ${Math.round(bytesPerExport[variant.id][0] / 1024)} KiB`,
  );

emit({
  series: SERIES,
  rounds: ROUNDS,
  iterationsPerRound: ITERATIONS,
  variants: VARIANTS,
  stats,
  ratios,
  bytesPerExport: Object.fromEntries(
    Object.entries(bytesPerExport).map(([id, values]) => [
      id,
      values.reduce((sum, value) => sum + value, 0) / values.length,
    ]),
  ),
  scrapeBytes: scrapeBytes.reduce((sum, value) => sum + value, 0) / scrapeBytes.length,
  sanity,
  // Per contender: the longest block of each measured operation, summarised (max = worst operation).
  eventLoop: Object.fromEntries(Object.entries(loopMaxMs).map(([id, values]) => [id, withP95(values)])),
  targets: {
    ratio: TARGET_RATIO,
    variant: TARGET_VARIANT,
    cumulativeMet: ratios.protobufCumulative.cpuVsScrape <= TARGET_RATIO,
    deltaMet: ratios.protobufDelta.cpuVsScrape <= TARGET_RATIO,
    exponentialMet: ratios.protobufExponential.cpuVsScrape <= TARGET_RATIO,
    exponentialDeltaMet: ratios.protobufExponentialDelta.cpuVsScrape <= TARGET_RATIO,
  },
});
