// Section 2b: what gzip costs and saves per scrape. The same handler, the same series, side by
// side in one process: identity vs gzip (Prometheus' Accept-Encoding) for OpenMetrics and the text
// format, CPU per scrape (process CPU: the event loop plus the thread pool zlib runs on), wall time,
// bytes on the wire and event-loop delay; then the small-body case behind GZIP_MIN_BYTES.
// Usage: node --expose-gc bench/sections/scrape-gzip.mjs <seriesCount>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { createMetricsHandler, createTelemetryMetricProducer } from '@gatewayz/telemetry-node';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { emit, log, pick, quantile } from '../lib/common.mjs';
import { assertSeriesCounts, recordSeries, seriesOfMix } from '../lib/series-mix.mjs';

const SERIES = Number(process.argv[2] ?? 3000);
const ROUNDS = pick(60, 4);
const SMALL_ROUNDS = pick(2000, 20);
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: SERIES, exemplars: false });
const exporter = new PrometheusExporter({
  preventServerStart: true,
  withoutScopeInfo: true,
  metricProducers: [createTelemetryMetricProducer(telemetry)],
});
// The provider registers the exporter as its reader; it is not used otherwise.
new MeterProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench-gateway', 'service.version': '0.0.0' }),
  readers: [exporter],
});
recordSeries(telemetry, seriesOfMix(SERIES));
assertSeriesCounts(telemetry, SERIES);

const gzipHandler = createMetricsHandler({ source: exporter });
const identityHandler = createMetricsHandler({ source: exporter, compression: 'none' });

/** One scrape read to the end as the node:http adapter does; CPU (µs), wall (ms) and bytes. */
async function scrape(handler, path, headers) {
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const response = await handler(new Request(`http://bench.local${path}`, { headers }));
  let bytes = 0;
  const chunks = [];
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    chunks.push(chunk);
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuUs: cpu.user + cpu.system,
    wallMs,
    bytes,
    encoding: response.headers.get('content-encoding') ?? 'identity',
    body: Buffer.concat(chunks),
  };
}

const CONTENDERS = [
  {
    id: 'om-identity',
    label: 'OpenMetrics, identity',
    handler: identityHandler,
    accept: PROMETHEUS_ACCEPT,
    gzip: false,
  },
  { id: 'om-gzip', label: 'OpenMetrics, gzip', handler: gzipHandler, accept: PROMETHEUS_ACCEPT, gzip: true },
  { id: 'text-identity', label: 'text 0.0.4, identity', handler: identityHandler, accept: 'text/plain', gzip: false },
  { id: 'text-gzip', label: 'text 0.0.4, gzip', handler: gzipHandler, accept: 'text/plain', gzip: true },
];

function stats(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return {
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
  };
}

// Correctness first: the gzipped body decodes to the identity one.
for (const [plain, packed] of [
  [CONTENDERS[0], CONTENDERS[1]],
  [CONTENDERS[2], CONTENDERS[3]],
]) {
  const a = await scrape(plain.handler, '/metrics', { accept: plain.accept });
  const b = await scrape(packed.handler, '/metrics', { accept: packed.accept, 'accept-encoding': 'gzip' });
  if (b.encoding !== 'gzip') throw new Error(`${packed.id}: expected a gzip answer, got ${b.encoding}`);
  if (gunzipSync(b.body).toString('utf8') !== a.body.toString('utf8'))
    throw new Error(`${packed.id}: the gzip body does not decode to the identity body`);
}

// Warm-up, then rounds in rotating order so that drift on a shared machine hits every contender alike.
for (const contender of CONTENDERS) for (let index = 0; index < pick(5, 1); index++) await run(contender);
const samples = Object.fromEntries(CONTENDERS.map((contender) => [contender.id, { cpuUs: [], wallMs: [], bytes: 0 }]));
async function run(contender) {
  const headers = { accept: contender.accept, ...(contender.gzip ? { 'accept-encoding': 'gzip' } : {}) };
  return scrape(contender.handler, '/metrics', headers);
}
for (let round = 0; round < ROUNDS; round++) {
  for (let offset = 0; offset < CONTENDERS.length; offset++) {
    const contender = CONTENDERS[(round + offset) % CONTENDERS.length];
    const result = await run(contender);
    samples[contender.id].cpuUs.push(result.cpuUs);
    samples[contender.id].wallMs.push(result.wallMs);
    samples[contender.id].bytes = result.bytes;
  }
}
log('scrape-gzip', `${ROUNDS} rounds of ${CONTENDERS.length} scrapes at ${SERIES} series`);

// Event-loop delay over back-to-back scrapes of each kind.
const loopDelay = {};
for (const contender of CONTENDERS) {
  globalThis.gc?.();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  for (let index = 0; index < pick(20, 2); index++) await run(contender);
  histogram.disable();
  loopDelay[contender.id] = { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
}

// Small bodies: the cost of gzip where the threshold sends identity. Timed on a zlib stream of the
// size of an empty category (24 bytes) and of a one-family body (~1 KiB), identity vs gzip.
async function pipeOnce(text, gzip) {
  const cpuBefore = process.cpuUsage();
  let stream = new Response(text).body;
  if (gzip) stream = stream.pipeThrough(new CompressionStream('gzip'));
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.byteLength;
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: cpu.user + cpu.system, bytes };
}
const smallBodies = {};
// Prefixes of the real exposition, cut at a line end, stand for bodies of that size.
const exposition = (await scrape(identityHandler, '/metrics', { accept: 'text/plain' })).body.toString('utf8');
const prefixOf = (size) => exposition.slice(0, exposition.lastIndexOf('\n', size) + 1);
for (const [id, text] of [
  ['empty', '# no registered metrics\n'],
  ['256', prefixOf(256)],
  ['1024', prefixOf(1024)],
  ['4096', prefixOf(4096)],
  ['16384', prefixOf(16384)],
]) {
  const result = {};
  for (const gzip of [false, true]) {
    const cpu = [];
    let bytes = 0;
    for (let index = 0; index < SMALL_ROUNDS; index++) {
      const once = await pipeOnce(text, gzip);
      cpu.push(once.cpuUs);
      bytes = once.bytes;
    }
    result[gzip ? 'gzip' : 'identity'] = { cpuUs: stats(cpu), bytes };
  }
  smallBodies[id] = { chars: text.length, ...result };
}

emit({
  section: 'scrape-gzip',
  series: SERIES,
  rounds: ROUNDS,
  contenders: CONTENDERS.map(({ id, label }) => ({
    id,
    label,
    cpuUs: stats(samples[id].cpuUs),
    wallMs: stats(samples[id].wallMs),
    bytes: samples[id].bytes,
    loopDelay: loopDelay[id],
  })),
  smallBodies,
});
