// Section 3: end-to-end overhead of telemetry in the example gateway. Four gateway processes:
// A with OTEL_SDK_DISABLED=true, B with telemetry on as shipped, C with telemetry on and the
// AsyncLocalStorage context manager, D as B with traces exported to a loopback OTLP receiver.
// Throughput: many short rounds; in each, A, B, C and D in turn (rotating order) get a 1 s slot of
// saturating load while the others idle, so adjacent slots share whatever else the machine does
// and no gateway competes with another for the CPUs. Latency: one open-loop schedule whose
// requests go to A, B, C and D in turn. Non-streaming and streaming chat completions, over loopback.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { emit, log, pick, seededRandom, sleep, summarize } from '../lib/common.mjs';
import { cpuSeconds, pacedSchedule } from '../lib/paced-load.mjs';
import { probeChatCompletion, servedLoad } from '../lib/gateway-load.mjs';
import { deltaPerRound, ratioPerRound } from '../lib/round-stats.mjs';
import { gatewayStartFlags } from '../lib/gateway-start.mjs';

const MAIN = fileURLToPath(new URL('../../examples/gateway/dist/main.js', import.meta.url));
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx turbo run build)`);
// Gateways start as the example's `npm start` starts them (its node flags).
const START_FLAGS = gatewayStartFlags();

// Throughput: ROUNDS rounds of one ROUND_S-second slot per gateway. Many short rounds rather than
// a few long ones: the interval of the mean ratio shrinks with the number of rounds, a round
// disturbed by the machine is one of many, and the slots compared are seconds apart.
const ROUNDS = pick(60, 2);
const ROUND_S = 1;
// Latency at a fixed load: LATENCY_ROUNDS rounds of LATENCY_ROUND_S s at RATE_SHARE of A's median
// saturated throughput (alone), per gateway. All four gateways and the load generator run at
// once then; 5 % each keeps every process far from saturation (about the load the previous,
// concurrent design offered at 20 % of a shared-machine throughput).
const LATENCY_ROUNDS = pick(12, 1);
const LATENCY_ROUND_S = pick(4, 1);
const BOOTSTRAP = 2000;
const RATE_SHARE = 0.05;
const WARMUP_S = pick(3, 1);
// CPU profiles: one gateway at a time, saturated for PROFILE_S s.
const PROFILE_S = pick(4, 1);
const CONNECTIONS = 10;

const MODES = {
  nonStreaming: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello to the benchmark.' }] },
  streaming: {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello to the benchmark.' }],
    stream: true,
  },
};

// Per-request CPU time (`cpuSeconds`) is much less sensitive to other load on a shared machine
// than requests per second.

/** Start one gateway; resolves with its base URL once it logs "gateway listening". */
function startGateway(name, telemetryOn, { nodeArgs = [], env: extraEnv = {} } = {}) {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if (
      key.startsWith('OTEL_') ||
      key === 'METRICS_TOKEN' ||
      key.startsWith('UPSTREAM_') ||
      key === 'GATEWAY_PROVIDERS_FILE'
    )
      delete env[key];
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    DEMO_LATENCY_MS: '0',
    DEMO_ERROR_RATE: '0',
    DEMO_TRAFFIC_RPS: '0',
    OTEL_SDK_DISABLED: telemetryOn ? 'false' : 'true',
    NODE_ENV: 'production',
    ...extraEnv,
  });
  const child = spawn(process.execPath, [...START_FLAGS, ...nodeArgs, MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: no "gateway listening" line within 20 s; stderr: ${stderr}`)),
      20_000,
    );
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
    // Keep draining stdout for the whole run so the child never blocks on a full pipe.
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'gateway listening') {
        clearTimeout(timer);
        resolve({ name, child, url: entry.url, telemetry: entry.telemetry });
      }
    });
  });
}

/**
 * One closed-loop autocannon run (CONNECTIONS connections, one request in flight on each) against
 * one gateway. Req/s and CPU per request count 2xx answers only (`servedLoad`). Latency percentiles
 * from every 2xx response's exact duration (autocannon's own histogram has 1 ms resolution).
 */
async function load(gateway, body, durationS) {
  const latencies = [];
  const instance = autocannon({
    url: `${gateway.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    connections: CONNECTIONS,
    pipelining: 1,
    duration: durationS,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  const cpuBefore = cpuSeconds(gateway.child.pid);
  const result = await instance;
  const cpuUsed = cpuSeconds(gateway.child.pid) - cpuBefore;
  const { requestsPerSec, served, failures } = servedLoad(result);
  return {
    requestsPerSec,
    total: served,
    failures,
    ...latencyFigures(latencies),
    cpuMsPerRequest: (cpuUsed * 1000) / Math.max(1, served),
  };
}

/**
 * One round of throughput slots: each gateway in turn, alone under saturating load for
 * `durationS`; the order rotates per round so no gateway always follows the same one.
 */
async function saturateInTurn(gateways, body, durationS, round) {
  const runs = new Array(gateways.length);
  for (let step = 0; step < gateways.length; step++) {
    const index = (step + round) % gateways.length;
    runs[index] = await load(gateways[index], body, durationS);
  }
  return runs;
}

/**
 * Open-loop load at a fixed rate on several gateways at once: one schedule, request k goes to
 * gateway k mod n, so each gets `rate` requests per second and adjacent requests of different
 * gateways are 1/(n·rate) s apart. Whatever stalls the machine or the load generator hits every
 * gateway alike. Each latency runs from the scheduled start to the end of the response body, so a
 * stalled gateway is charged for the requests that queue behind the stall (no coordinated
 * omission). autocannon's `overallRate` was not used: it sends each second's quota in a burst.
 */
async function pacedTogether(gateways, body, durationS, rate) {
  const runs = await pacedSchedule(gateways, body, durationS, rate, cpuSeconds);
  return runs.map((run) => ({
    rate,
    total: run.total,
    failures: run.failures,
    // Kept for the pooled p99 below and removed before the results are written.
    latencies: run.latencies,
    ...latencyFigures(run.latencies),
    cpuMsPerRequest: (run.cpuSeconds * 1000) / Math.max(1, run.latencies.length),
  }));
}

/** p50, p99 and mean of one run's 2xx latencies in ms (undefined when there were none). */
function latencyFigures(latencies) {
  if (latencies.length === 0) return { p50Ms: undefined, p99Ms: undefined, meanMs: undefined };
  const stats = summarize(latencies);
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50Ms: stats.p50,
    p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
    meanMs: stats.mean,
  };
}

// Keys of the gateways in `contenders` order (A, B, C, D).
const KEYS = ['off', 'on', 'als', 'traced'];
/** One run per gateway, in `contenders` order, keyed by KEYS. */
const byKey = (runs) => Object.fromEntries(KEYS.map((key, index) => [key, runs[index]]));
const meanOf = (list, field) => list.reduce((sum, run) => sum + run[field], 0) / list.length;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2
    ? sorted[sorted.length >> 1]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

/** met / not met only when the whole 95 % interval is on one side of the target; otherwise inconclusive. */
const atLeast = ([low, high], target) => (low >= target ? true : high < target ? false : 'inconclusive');
const atMost = ([low, high], target) => (high <= target ? true : low > target ? false : 'inconclusive');

/** p99 of all 2xx latencies of the rounds `picks` (indexes; repeats allowed) pooled together, in ms. */
function pooledP99(rounds, key, picks) {
  let length = 0;
  for (const index of picks) length += rounds[index][key].latencies.length;
  const all = new Float64Array(length);
  let at = 0;
  for (const index of picks) {
    all.set(rounds[index][key].latencies, at);
    at += rounds[index][key].latencies.length;
  }
  all.sort();
  return all[Math.min(all.length - 1, Math.floor(all.length * 0.99))];
}

/**
 * p99 over every request of the fixed-load rounds, `key` minus A, with a 95 % interval from a
 * paired bootstrap over rounds: each resample draws whole rounds, so A and B keep the windows they
 * shared. Pooling gives p99 from all requests (≈ 1 % of them above it) rather than from the ten
 * slowest of one round, which one stall of the machine decides.
 */
function pooledP99Delta(rounds, key) {
  const every = rounds.map((_, index) => index);
  const estimate = pooledP99(rounds, key, every) - pooledP99(rounds, 'off', every);
  if (rounds.length < 2) return { estimate, ci: [-Infinity, Infinity] };
  const random = seededRandom(20261124);
  const deltas = new Float64Array(BOOTSTRAP);
  for (let sample = 0; sample < BOOTSTRAP; sample++) {
    const picks = every.map(() => Math.floor(random() * rounds.length));
    deltas[sample] = pooledP99(rounds, key, picks) - pooledP99(rounds, 'off', picks);
  }
  deltas.sort();
  return { estimate, ci: [deltas[Math.floor(0.025 * BOOTSTRAP)], deltas[Math.ceil(0.975 * BOOTSTRAP) - 1]] };
}

/** One telemetry-on gateway (`key`) against A over the same rounds. */
function comparedWithOff(throughputRounds, latencyRounds, key) {
  const throughput = ratioPerRound(throughputRounds, key, 'requestsPerSec');
  const cpu = ratioPerRound(throughputRounds, key, 'cpuMsPerRequest');
  const saturatedP99 = deltaPerRound(throughputRounds, key, 'p99Ms');
  const p99 = pooledP99Delta(latencyRounds, key);
  const roundP99 = deltaPerRound(latencyRounds, key, 'p99Ms');
  const p50 = deltaPerRound(latencyRounds, key, 'p50Ms');
  return {
    throughputRatio: throughput.estimate,
    throughputCi: throughput.ci,
    cpuCapacityRatio: 1 / cpu.estimate,
    cpuCapacityCi: [1 / cpu.ci[1], 1 / cpu.ci[0]],
    saturatedP99DeltaMs: saturatedP99.estimate,
    saturatedP99DeltaCi: saturatedP99.ci,
    p99DeltaMs: p99.estimate,
    p99DeltaCi: p99.ci,
    roundP99DeltaMs: roundP99.estimate,
    roundP99DeltaCi: roundP99.ci,
    p50DeltaMs: p50.estimate,
    p50DeltaCi: p50.ci,
  };
}

/** Per-gateway means over the rounds of one design. */
function meansOf(rounds, key, fields) {
  return Object.fromEntries(
    fields.map((field) => [
      field,
      meanOf(
        rounds.map((round) => round[key]),
        field,
      ),
    ]),
  );
}

/**
 * Where a telemetry-on gateway spends its CPU, from a V8 CPU profile taken under the same load:
 * self time by origin. Shares within one process do not depend on how busy the machine is.
 * Inlined frames count for the function they were inlined into, so these are lower bounds for the
 * libraries and upper bounds for "application".
 */
function attributeProfile(profile, window) {
  // Only samples inside the measured load: `window` is [start, end] in µs before the profile's end
  // (the process exit), which excludes start-up (module loading) and shutdown.
  const byNode = new Map();
  let timestamp = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    timestamp += delta;
    const beforeEnd = profile.endTime - timestamp;
    if (beforeEnd > window[0] || beforeEnd < window[1]) continue;
    byNode.set(profile.samples[index], (byNode.get(profile.samples[index]) ?? 0) + delta);
  }
  const totals = { openTelemetry: 0, ourPackages: 0, asyncHooks: 0, garbageCollector: 0, applicationAndNode: 0 };
  let idle = 0;
  for (const node of profile.nodes) {
    const time = byNode.get(node.id) ?? 0;
    if (time === 0) continue;
    const { url, functionName } = node.callFrame;
    if (functionName === '(idle)') idle += time;
    else if (functionName === '(garbage collector)') totals.garbageCollector += time;
    else if (url.includes('/@opentelemetry/')) totals.openTelemetry += time;
    else if (/\/packages\/telemetry(-node)?\//.test(url) || url.includes('/@gatewayz/telemetry'))
      totals.ourPackages += time;
    else if (/async_hooks|async_local_storage|async_context/.test(url)) totals.asyncHooks += time;
    else totals.applicationAndNode += time;
  }
  const busy = Object.values(totals).reduce((sum, value) => sum + value, 0);
  const shares = Object.fromEntries(Object.entries(totals).map(([key, value]) => [key, value / busy]));
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    shares,
    telemetryShare: shares.openTelemetry + shares.ourPackages + shares.asyncHooks,
  };
}

/**
 * A loopback OTLP/HTTP trace receiver for D: accepts every export (200, empty response message)
 * and counts requests and bytes, so D pays for recording, batching, serialising and sending its
 * spans, as a gateway exporting to a Collector does.
 */
async function startOtlpSink() {
  const received = { requests: 0, bytes: 0, contentType: '' };
  const server = createServer((incoming, response) => {
    incoming.on('data', (chunk) => {
      received.bytes += chunk.length;
    });
    incoming.on('end', () => {
      received.requests++;
      received.contentType = incoming.headers['content-type'] ?? '';
      const json = received.contentType.includes('json');
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : '');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/v1/traces`, received, close: () => server.close() };
}

const gateways = [];
let sink;
const results = {
  design: 'slots',
  startFlags: START_FLAGS,
  rounds: ROUNDS,
  roundS: ROUND_S,
  latencyRounds: LATENCY_ROUNDS,
  latencyRoundS: LATENCY_ROUND_S,
  rateShare: RATE_SHARE,
  connections: CONNECTIONS,
  modes: {},
};
try {
  const off = await startGateway('telemetry off (OTEL_SDK_DISABLED=true)', false);
  gateways.push(off);
  // B: the gateway as shipped (it passes each request's context explicitly; synchronous context
  // manager). C: the same with the AsyncLocalStorage context manager, for applications whose other
  // instrumentation needs the active span across awaits (reported, not a target).
  const on = await startGateway('telemetry on', true, { env: { TELEMETRY_CONTEXT_MANAGER: 'synchronous' } });
  gateways.push(on);
  const als = await startGateway('telemetry on, AsyncLocalStorage', true, {
    env: { TELEMETRY_CONTEXT_MANAGER: 'async-local-storage' },
  });
  gateways.push(als);
  // D: B with traces on, exported over OTLP/HTTP to a loopback receiver (B records no spans: with
  // no OTLP endpoint configured the SDK installs no tracer provider). Reported, not a target.
  sink = await startOtlpSink();
  const traced = await startGateway('telemetry on, traces exported', true, {
    env: { TELEMETRY_CONTEXT_MANAGER: 'synchronous', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.url },
  });
  gateways.push(traced);
  const contenders = [off, on, als, traced];
  log(
    'gateway',
    `A: ${off.url} (${off.telemetry}), B: ${on.url} (${on.telemetry}), C: ${als.url} (AsyncLocalStorage), D: ${traced.url} (traces to ${sink.url})`,
  );

  // Each must behave as configured: A answers 503 on /metrics, B serves the helpers' metrics.
  const offMetrics = await fetch(`${off.url}/metrics`);
  await offMetrics.text();
  results.sanity = { offMetricsStatus: offMetrics.status };

  for (const [mode, body] of Object.entries(MODES)) {
    for (const gateway of contenders) await probeChatCompletion(gateway, body, mode);
    // Throughput: ROUNDS rounds of one slot per gateway, each gateway alone under load in its
    // slot. Slots are a second apart, so whatever else the machine does is shared by the slots of
    // a round. Saturating them all at once (the previous design) let the scheduler's placement
    // of the busy processes on the cores decide each round: per-round sd of log(B/A) 0.16-0.34
    // for streaming in trials, 0.07 with slots.
    const throughputRounds = [];
    // Warm up each (JIT, connection pools) before measuring.
    await saturateInTurn(contenders, body, WARMUP_S, 0);
    for (let round = 0; round < ROUNDS; round++) {
      const runs = await saturateInTurn(contenders, body, ROUND_S, round);
      throughputRounds.push(byKey(runs));
      if ((round + 1) % 10 === 0 || round === ROUNDS - 1)
        log(
          'gateway',
          `${mode} saturated round ${round + 1}/${ROUNDS}, A / B / C / D: ${runs.map((run) => run.requestsPerSec.toFixed(0)).join(' / ')} req/s`,
        );
    }

    // Latency at a fixed offered load, a small share of what A serves alone, so with all four
    // gateways and the load generator running at once no process is near saturation and p99 is
    // the requests' own latency (saturated p99 is queueing).
    const rate = Math.max(
      20,
      Math.round(RATE_SHARE * median(throughputRounds.map((round) => round.off.requestsPerSec))),
    );
    const latencyRounds = [];
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      const runs = await pacedTogether(contenders, body, LATENCY_ROUND_S, rate);
      latencyRounds.push(byKey(runs));
      log(
        'gateway',
        `${mode} at ${rate} req/s each, round ${round + 1}, p99 A / B / C / D: ${runs.map((run) => run.p99Ms?.toFixed(2)).join(' / ')} ms`,
      );
    }

    const saturated = ['requestsPerSec', 'cpuMsPerRequest', 'p50Ms', 'p99Ms'];
    const paced = ['p50Ms', 'p99Ms', 'cpuMsPerRequest'];
    const every = latencyRounds.map((_, index) => index);
    const onVsOff = comparedWithOff(throughputRounds, latencyRounds, 'on');
    const alsVsOff = comparedWithOff(throughputRounds, latencyRounds, 'als');
    const tracedVsOff = comparedWithOff(throughputRounds, latencyRounds, 'traced');
    const summary = {
      off: meansOf(throughputRounds, 'off', saturated),
      on: meansOf(throughputRounds, 'on', saturated),
      ...onVsOff,
      throughputMet: atLeast(onVsOff.throughputCi, 0.95),
      p99Met: atMost(onVsOff.p99DeltaCi, 1),
      als: { ...meansOf(throughputRounds, 'als', saturated), ...alsVsOff },
      traced: { ...meansOf(throughputRounds, 'traced', saturated), ...tracedVsOff },
      fixedRate: {
        rate,
        ...Object.fromEntries(
          KEYS.map((key) => [
            key,
            { ...meansOf(latencyRounds, key, paced), pooledP99Ms: pooledP99(latencyRounds, key, every) },
          ]),
        ),
        requestsPerGateway: latencyRounds.reduce((sum, round) => sum + round.off.latencies.length, 0),
      },
      failures: [...throughputRounds, ...latencyRounds].reduce(
        (sum, round) => sum + KEYS.reduce((inner, key) => inner + round[key].failures, 0),
        0,
      ),
      // Per gateway: a comparison whose gateways answered anything but 2xx is judged inconclusive.
      failuresByGateway: Object.fromEntries(
        KEYS.map((key) => [
          key,
          [...throughputRounds, ...latencyRounds].reduce((sum, round) => sum + round[key].failures, 0),
        ]),
      ),
    };
    for (const round of latencyRounds) for (const key of KEYS) delete round[key].latencies;
    results.modes[mode] = { throughputRounds, latencyRounds, summary };
  }

  // CPU profiles of two more gateways (telemetry on, and off as the baseline) under the same
  // non-streaming load.
  results.profiles = {};
  for (const [key, telemetryOn] of [
    ['on', true],
    ['off', false],
  ]) {
    const profileDir = mkdtempSync(join(tmpdir(), 'gatewayz-gateway-profile-'));
    const profiled = await startGateway(`telemetry ${key}, profiled`, telemetryOn, {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    gateways.push(profiled);
    await load(profiled, MODES.nonStreaming, Math.max(1, WARMUP_S));
    const loadStart = performance.now();
    const profiledRun = await load(profiled, MODES.nonStreaming, PROFILE_S);
    const loadEnd = performance.now();
    let exitAt;
    const exited = new Promise((resolve) =>
      profiled.child.once('exit', () => {
        exitAt = performance.now();
        resolve();
      }),
    );
    profiled.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (file !== undefined && exitAt !== undefined) {
      // Trim 100 ms at each edge: ramp-up of the connections and the last responses in flight.
      const window = [(exitAt - loadStart - 100) * 1000, (exitAt - loadEnd + 100) * 1000];
      results.profiles[key] = {
        requests: profiledRun.total,
        failures: profiledRun.failures,
        ...attributeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), window),
      };
      log(
        'gateway',
        `profile (telemetry ${key}): telemetry ${(results.profiles[key].telemetryShare * 100).toFixed(1)} % of busy CPU`,
      );
    }
    rmSync(profileDir, { recursive: true, force: true });
  }
  results.profile = results.profiles.on;

  const onMetrics = await fetch(`${on.url}/metrics`);
  const onText = await onMetrics.text();
  results.sanity.onMetricsStatus = onMetrics.status;
  results.sanity.onHasProviderLatency = onText.includes('provider_response_time_seconds_bucket');
  results.sanity.onSeries = onText.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  // B records no spans (no exemplars); D does, and exported them to the sink.
  const exemplars = async (gateway) => {
    const response = await fetch(`${gateway.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    return (await response.text()).split('\n').filter((line) => line.includes('trace_id=')).length;
  };
  results.sanity.onExemplars = await exemplars(on);
  results.sanity.tracedExemplars = await exemplars(traced);
  results.sanity.otlpSink = { ...sink.received };
  if (sink.received.requests === 0)
    throw new Error('D exported no spans to the OTLP sink: the traced gateway is misconfigured');
} finally {
  for (const gateway of gateways) gateway.child.kill('SIGTERM');
  await sleep(300);
  for (const gateway of gateways) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  sink?.close();
}
emit(results);
