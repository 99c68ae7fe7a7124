// Section 7b: cost of one aggregated /metrics scrape of a node:cluster application, W workers with
// N series each, against a single process (no cluster mode) holding the same N series.
// Usage: node bench/sections/cluster-primary.mjs <workers>
//
// This process is the cluster primary (`startClusterPrimary()`, defaults) and the HTTP client: it
// forks W workers (bench/sections/cluster-worker.mjs, startTelemetry({ cluster: true })) on one
// shared port, and one plain process with child_process.fork as the baseline. Scrapes of the two
// alternate, each on a fresh connection; around each scrape every process involved reports its CPU
// time, so the CPU of a scrape is summed over the processes it touched. Each worker reports the
// longest event-loop block it saw over the whole scrape phase.
// BENCH_CPU_PROF_DIR=dir adds --cpu-prof to the workers (run this file with --cpu-prof for the primary).
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { METRIC_CATALOG, prometheusName } from '@gatewayz/telemetry/metrics';
import { startClusterPrimary } from '@gatewayz/telemetry-node';
import { emit, log, pick, sleep, summarize } from '../lib/common.mjs';
import { countsOfMix } from '../lib/series-mix.mjs';

const WORKERS = Number(process.argv[2] ?? 2);
const SERIES = pick(20_000, 500);
const SCRAPES = pick(20, 3);
const WARMUP = pick(2, 1);
const TARGET_RATIO = 2;
const TARGET_LOOP_MS = 50;
const WORKER_SCRIPT = fileURLToPath(new URL('./cluster-worker.mjs', import.meta.url));
const PROFILE = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : [];
const section = `cluster-${WORKERS}`;

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * One request/reply over a process's IPC channel (a cluster `Worker` or a `ChildProcess`): send
 * `{ bench: type }`, resolve with the next `bench` message of `replyType`.
 */
function ask(child, type, replyType) {
  return new Promise((resolve, reject) => {
    const onMessage = (received) => {
      if (received?.bench !== replyType) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(received);
    };
    const onExit = (code) => reject(new Error(`${section}: a worker exited (${code}) while asked for ${type}`));
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (type !== undefined) child.send({ bench: type });
  });
}

const readAll = (children) => Promise.all(children.map((child) => ask(child, 'read', 'reading')));

function scrape(port) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

// Sanity: the counter of the mix with the most series must be each process's total times the
// number of processes merged, i.e. every worker's metrics are in this very scrape.
const SANITY_METRIC = prometheusName(METRIC_CATALOG.modelInferenceRequests);
const sanitySeries = countsOfMix(SERIES).modelInferenceRequests;
const sanityTotalPerProcess = (sanitySeries * (sanitySeries + 1)) / 2;
function checkScrape(what, { status, body }, processes) {
  if (status !== 200) throw new Error(`${section}: ${what} scrape answered ${status}: ${body.slice(0, 300)}`);
  let samples = 0;
  let total = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${SANITY_METRIC}{`)) continue;
    samples++;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  if (samples !== sanitySeries || total !== sanityTotalPerProcess * processes)
    throw new Error(
      `${section}: ${what} scrape has ${samples} ${SANITY_METRIC} series summing to ${total}; expected ${sanitySeries} summing to ${sanityTotalPerProcess * processes}`,
    );
  return {
    bytes: Buffer.byteLength(body),
    samples: body.split('\n').filter((line) => line && !line.startsWith('#')).length,
  };
}

// --- start: the primary, W cluster workers on a shared port, one plain process --------------------------
const sharedPort = await freePort();
const primary = startClusterPrimary();
const childEnvironment = (mode, port) => ({
  ...process.env,
  BENCH_CLUSTER_MODE: mode,
  BENCH_CLUSTER_SERIES: String(SERIES),
  BENCH_CLUSTER_PORT: String(port),
});
cluster.setupPrimary({ exec: WORKER_SCRIPT, execArgv: PROFILE });
const started = Date.now();
const workers = [];
for (let index = 0; index < WORKERS; index++) workers.push(cluster.fork(childEnvironment('cluster', sharedPort)));
const plain = fork(WORKER_SCRIPT, [], { env: childEnvironment('plain', 0), execArgv: PROFILE });
const [plainReady] = await Promise.all([
  ask(plain, undefined, 'ready'),
  ...workers.map((worker) => ask(worker, undefined, 'ready')),
]);
log(section, `${WORKERS} workers × ${SERIES} series and the plain process ready in ${Date.now() - started} ms`);

const targets = {
  cluster: { port: sharedPort, children: workers, processes: WORKERS },
  single: { port: plainReady.port, children: [plain], processes: 1 },
};
const samples = {
  cluster: {
    wallMs: [],
    cpuMs: [],
    primaryCpuMs: [],
    answeringWorkerCpuMs: [],
    otherWorkersCpuMs: [],
    primaryLoopMaxMs: [],
  },
  single: {
    wallMs: [],
    cpuMs: [],
    primaryCpuMs: [],
    answeringWorkerCpuMs: [],
    otherWorkersCpuMs: [],
    primaryLoopMaxMs: [],
  },
};
const outputs = {};

/** One scrape of `id`: wall time, CPU of every process involved, the primary's longest loop block. */
async function measuredScrape(id, record) {
  const target = targets[id];
  const before = await readAll(target.children);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await sleep(2);
  const primaryBefore = process.cpuUsage();
  const start = performance.now();
  const response = await scrape(target.port);
  const wallMs = performance.now() - start;
  const primaryCpu = process.cpuUsage(primaryBefore);
  await sleep(3);
  loop.disable();
  const after = await readAll(target.children);
  outputs[id] = checkScrape(id, response, target.processes);
  if (!record) return;
  const perWorker = after
    .map((reading, index) => reading.cpuMs - before[index].cpuMs)
    .sort((left, right) => right - left);
  const primaryCpuMs = (primaryCpu.user + primaryCpu.system) / 1000;
  const sample = samples[id];
  sample.wallMs.push(wallMs);
  sample.primaryCpuMs.push(primaryCpuMs);
  // The worker that answered the scrape does the most (its own collection, the merged collection
  // parsed back, serialisation); the others only collect and send.
  sample.answeringWorkerCpuMs.push(perWorker[0]);
  sample.otherWorkersCpuMs.push(perWorker.slice(1).reduce((sum, value) => sum + value, 0));
  sample.cpuMs.push(primaryCpuMs + perWorker.reduce((sum, value) => sum + value, 0));
  sample.primaryLoopMaxMs.push(loop.max / 1e6);
}

for (let index = 0; index < WARMUP; index++) {
  await measuredScrape('cluster', false);
  await measuredScrape('single', false);
}
const all = [...workers, plain];
await Promise.all(all.map((child) => ask(child, 'reset', 'reset-done')));
for (let index = 0; index < SCRAPES; index++) {
  // Alternate which goes first, so drifts of a shared machine hit both alike.
  const order = index % 2 === 0 ? ['cluster', 'single'] : ['single', 'cluster'];
  for (const id of order) {
    await measuredScrape(id, true);
    await sleep(20);
  }
}
const readings = await readAll(all);
log(
  section,
  `scrapes done; worker loop max ${readings
    .slice(0, WORKERS)
    .map((reading) => reading.loopMaxMs.toFixed(0))
    .join(' / ')} ms, plain ${readings[WORKERS].loopMaxMs.toFixed(0)} ms`,
);

// --- stop ------------------------------------------------------------------------------------------------
const exits = all.map((child) => new Promise((resolve) => child.once('exit', resolve)));
for (const child of all) child.send({ bench: 'stop' });
await Promise.race([Promise.all(exits), sleep(10_000)]);
for (const child of all) if (child.exitCode === null && !child.isDead?.()) child.kill('SIGKILL');
primary.stop();

function withP95(values) {
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * 0.95;
  const low = Math.floor(position);
  const p95 = sorted[low] + ((sorted[Math.ceil(position)] ?? sorted[low]) - sorted[low]) * (position - low);
  return { ...summarize(values), p95 };
}
const stats = Object.fromEntries(
  Object.entries(samples).map(([id, values]) => [
    id,
    Object.fromEntries(Object.entries(values).map(([key, list]) => [key, withP95(list)])),
  ]),
);
const ratio = stats.cluster.wallMs.p50 / stats.single.wallMs.p50;
const cpuRatio = stats.cluster.cpuMs.p50 / stats.single.cpuMs.p50;
const workerLoops = readings.slice(0, WORKERS).map((reading) => ({
  loopMaxMs: reading.loopMaxMs,
  loopP99Ms: reading.loopP99Ms,
  heapUsedMb: reading.heapUsedMb,
}));
log(
  section,
  `wall p50 ${stats.cluster.wallMs.p50.toFixed(0)} ms vs single ${stats.single.wallMs.p50.toFixed(0)} ms (${ratio.toFixed(2)}×), CPU p50 ${stats.cluster.cpuMs.p50.toFixed(0)} vs ${stats.single.cpuMs.p50.toFixed(0)} ms`,
);

emit({
  workers: WORKERS,
  seriesPerWorker: SERIES,
  scrapes: SCRAPES,
  stats,
  ratio,
  cpuRatio,
  outputs,
  workerLoops,
  singleLoop: { loopMaxMs: readings[WORKERS].loopMaxMs, loopP99Ms: readings[WORKERS].loopP99Ms },
  targets: {
    ratio: TARGET_RATIO,
    loopMs: TARGET_LOOP_MS,
    scrapeMet: ratio < TARGET_RATIO,
    eventLoopMet: workerLoops.every((worker) => worker.loopMaxMs <= TARGET_LOOP_MS),
  },
});
