// Section 8: the price of tracing every request, measured as a user would. Example-gateway
// processes behind one real HTTP upstream (a simulated OpenAI-compatible provider in its own
// process): off (OTEL_SDK_DISABLED=true), traced (OTEL_TRACES_SAMPLER=always_on, OTLP/HTTP protobuf
// to a loopback receiver in its own process), ratio (parentbased_traceidratio 0.1, same export),
// two processes of each, and, for reference, one stock (always_on through the SDK's
// BatchSpanProcessor and OTLP/HTTP protobuf exporter parts).
// Throughput and CPU per request: rounds of 1 s saturating slots, one gateway at a time, order
// rotating; latency and CPU at a fixed load: one open-loop schedule at a fixed rate shared by all;
// sampled against unsampled requests, and one in ten sampled against none, inside each ratio
// process (a caller's traceparent decides);
// memory: one traced gateway saturated for MEMORY_S seconds (one off beside it) while its
// old-space is read from its /metrics.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { emit, log, pick, sleep, summarize } from '../lib/common.mjs';
import { signed, signedMs } from '../lib/report-format.mjs';
import { isForcedCollection, liveHeapGrowth, markCompactHeapAfterMb } from '../lib/gc-trace.mjs';
import { RUNTIME_CLOCK, pacedSchedule, runtimeSeconds } from '../lib/paced-load.mjs';
import { configRound, deltaPerRound, interval, pooledP99, pooledP99Delta, ratioPerRound } from '../lib/round-stats.mjs';
import { gatewayStartFlags } from '../lib/gateway-start.mjs';
import { probeChatCompletion, servedLoad } from '../lib/gateway-load.mjs';

const GATEWAY_DIST = fileURLToPath(new URL('../../examples/gateway/dist/', import.meta.url));
const MAIN = `${GATEWAY_DIST}main.js`;
// Gateways start as the example's `npm start` starts them (its node flags), plus the bench's own.
const START_FLAGS = gatewayStartFlags();
const GC_ON_SIGNAL = fileURLToPath(new URL('../lib/gc-on-signal.cjs', import.meta.url));
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx turbo run build)`);

const ROUNDS = pick(24, 1);
const ROUND_S = 1;
const LATENCY_ROUNDS = pick(8, 1);
const LATENCY_ROUND_S = pick(4, 1);
const RATE_SHARE = 0.05;
const WARMUP_S = pick(3, 1);
const MEMORY_S = pick(120, 3);
const MEMORY_SAMPLE_S = pick(5, 1);
const MEMORY_WARMUP_S = pick(10, 0);
const CONNECTIONS = 10;
const IN_PROCESS_ROUNDS = pick(12, 1);
// What the in-process comparison's requests carry: one trace id and parent span id throughout, the
// flags saying sampled (01) or not (00). Every request is a child of the same remote span.
const TRACEPARENT = {
  sampled: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  unsampled: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
};
/** Headers of the in-process "one in ten" slot: each connection's every tenth request is sampled. */
const ONE_IN_TEN = Array.from({ length: 10 }, (_, index) => ({
  traceparent: index === 0 ? TRACEPARENT.sampled : TRACEPARENT.unsampled,
}));

/**
 * BENCH_PIN=1: every gateway (and contender) runs on the second CPU, this process and its helpers
 * (the load generator, the upstream, the OTLP receiver) on the first, so no gateway shares its core
 * with the load or moves between cores. Off by default: the targets are read as the gateway runs
 * unpinned; the pinned run is a control for how much of a difference is placement.
 */
const PIN = process.env.BENCH_PIN === '1' ? pinToFirstCpu() : undefined;

function pinToFirstCpu() {
  if (availableParallelism() < 2) throw new Error('BENCH_PIN=1 needs at least two CPUs');
  const pin = { loadCpu: 0, gatewayCpu: 1 };
  // -a: every thread of this process, so the helpers it spawns inherit the load's CPU.
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', String(pin.loadCpu), String(process.pid)], {
    encoding: 'utf8',
  });
  if (pinned.status !== 0)
    throw new Error(`BENCH_PIN=1: taskset failed: ${pinned.error?.message ?? pinned.stderr.trim()}`);
  return pin;
}

/** `node` with `args`, on the gateways' CPU when pinned (taskset execs node: the pid is node's). */
function spawnMeasured(args, options) {
  return PIN === undefined
    ? spawn(process.execPath, args, options)
    : spawn('taskset', ['-c', String(PIN.gatewayCpu), process.execPath, ...args], options);
}

// Two identical gateway processes can read tens of µs per request apart on this machine for reasons of
// their own (memory layout, placement on the cores), and intervals taken over rounds of the same
// processes do not see that. So off, traced and ratio each run in two processes (the second one is
// the configuration's twin); a configuration's figure per round is the mean over its processes,
// and each twin's difference to its first process (A/A) shows how far one process can read.
// [process key, configuration]; the first process of a configuration carries its name.
const PROCESSES = [
  ['off', 'off'],
  ['traced', 'traced'],
  ['ratio', 'ratio'],
  ['stock', 'stock'],
  ['offTwin', 'off'],
  ['tracedTwin', 'traced'],
  ['ratioTwin', 'ratio'],
];
const CONFIGS = ['off', 'traced', 'ratio', 'stock'];
const TWINS = PROCESSES.filter(([key, config]) => key !== config);
const MODES = {
  nonStreaming: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello to the benchmark.' }] },
  streaming: {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello to the benchmark.' }],
    stream: true,
  },
};
function rssMb(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** A child process running `code` (ES module); resolves with the first message it sends. */
function startHelper(name, code) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

// OTLP/HTTP receiver: accepts any body, answers an empty ExportTraceServiceResponse, counts bytes.
const RECEIVER = `
import { createServer } from 'node:http';
let bytes = 0, requests = 0, contentType = '';
const server = createServer((req, res) => {
  contentType = req.headers['content-type'] ?? '';
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => { requests++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
});
server.listen(0, '127.0.0.1', () => process.send({ url: 'http://127.0.0.1:' + server.address().port + '/v1/traces' }));
process.on('message', () => process.send({ bytes, requests, contentType }));
`;
const UPSTREAM = `
import { startSimulatedProvider } from ${JSON.stringify(`${GATEWAY_DIST}index.js`)};
const provider = await startSimulatedProvider({ name: 'upstream', models: ['gpt-4o-mini'], latencyMs: 0, errorRate: 0, chunkDelayMs: 0 });
process.send({ baseUrl: provider.baseUrl });
`;

function startGateway(name, extraEnv) {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if (key.startsWith('OTEL_') || key.startsWith('UPSTREAM_') || key === 'METRICS_TOKEN') delete env[key];
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    DEMO_TRAFFIC_RPS: '0',
    NODE_ENV: 'production',
    TELEMETRY_CONTEXT_MANAGER: 'synchronous',
    ...extraEnv,
  });
  // Every gateway runs with --trace-gc (the same few lines per second for all four), so the memory
  // phase can read the live heap after each mark-compact instead of sampling a saw-tooth, and can
  // ask for one (gc-on-signal.cjs: a full collection on SIGUSR2) where V8 ran none.
  const child = spawnMeasured([...START_FLAGS, '--trace-gc', '--expose-gc', '--require', GC_ON_SIGNAL, MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const markCompacts = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not listening within 20 s: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('[')) {
        const heapAfterMb = markCompactHeapAfterMb(line);
        if (heapAfterMb !== undefined)
          markCompacts.push({ atMs: performance.now(), heapAfterMb, forced: isForcedCollection(line) });
        return;
      }
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'gateway listening') {
          clearTimeout(timer);
          resolve({ name, child, url: entry.url, markCompacts });
        }
      } catch {
        // not a JSON log line
      }
    });
  });
}

/**
 * Saturating load on one gateway for `durationS`; `headers` adds headers to every request, or, as an
 * array, to the requests in turn (each connection cycles through them: with ten entries, every
 * connection sends each one once in ten requests). Req/s and CPU per request count 2xx answers only.
 */
async function saturate(gateway, body, durationS, headers = {}) {
  const json = JSON.stringify(body);
  const base = { 'content-type': 'application/json' };
  const instance = autocannon({
    url: `${gateway.url}/v1/chat/completions`,
    method: 'POST',
    headers: Array.isArray(headers) ? base : { ...base, ...headers },
    body: json,
    ...(Array.isArray(headers)
      ? { requests: headers.map((extra) => ({ method: 'POST', body: json, headers: { ...base, ...extra } })) }
      : {}),
    connections: CONNECTIONS,
    duration: durationS,
  });
  const cpuBefore = runtimeSeconds(gateway.child.pid);
  const result = await instance;
  const cpuUsed = runtimeSeconds(gateway.child.pid) - cpuBefore;
  const { requestsPerSec, served, failures } = servedLoad(result);
  return { requestsPerSec, total: served, failures, cpuUsPerRequest: (cpuUsed * 1e6) / Math.max(1, served) };
}

/**
 * Open-loop load at `rate` per gateway from one schedule (request k to gateway k mod n), with each
 * gateway's CPU per request at that load (a request at a time, where saturation batches them).
 */
async function paced(gateways, body, durationS, rate) {
  const runs = await pacedSchedule(gateways, body, durationS, rate, runtimeSeconds);
  return runs.map(({ latencies, failures, cpuSeconds }) => ({
    latencies,
    failures,
    cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, latencies.length),
  }));
}

/** Text of a gateway's /metrics (telemetry-on gateways only). */
async function scrape(gateway) {
  const response = await fetch(`${gateway.url}/metrics`);
  return response.ok ? response.text() : '';
}
function sampleValue(text, name, labels = '') {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (labels === '' ? rest.startsWith(' ') || rest.startsWith('{') : rest.includes(labels))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

// OpenLIT and Traceloop against ours on the same OpenAI-SDK call path. Optional: they are not
// dependencies of this repository (about 110 packages, 120 MB); BENCH_COMPETITORS_DIR names a
// directory where `npm install openlit@1.15.0 @traceloop/instrumentation-openai@0.27.0 openai@4`
// ran. Each contender is its own process making chat-completion calls (8 in flight) against a local
// fake OpenAI server, its spans exported over OTLP/HTTP to a loopback receiver (both in this
// process); CPU per call from process.cpuUsage in rotating rounds; added = contender − none, per round.
const CONTENDER_SOURCE =
  "const [mode, openaiUrl, receiverBase] = process.argv.slice(1);\n(async () => {\n  let wrap = (call) => call();\n  if (mode === 'traceloop') {\n    const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');\n    const { OTLPTraceExporter } = require(process.env.BENCH_OTLP_PROTO_EXPORTER);\n    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: receiverBase + '/v1/traces' }))] });\n    provider.register();\n    const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');\n    const instrumentation = new OpenAIInstrumentation();\n    instrumentation.setTracerProvider(provider);\n    instrumentation.manuallyInstrument(require('openai'));\n  } else if (mode === 'openlit') {\n    const openlit = require('openlit').default ?? require('openlit');\n    openlit.init({ otlpEndpoint: receiverBase, instrumentations: { openai: require('openai') }, disableMetrics: true, pricingJson: {}, applicationName: 'bench' });\n  } else if (mode === 'ours') {\n    const { startTelemetry } = await import(process.env.BENCH_TELEMETRY_NODE);\n    const { startGenAiSpan, endGenAiSpan } = await import(process.env.BENCH_TELEMETRY);\n    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiverBase + '/v1/traces';\n    const otel = startTelemetry({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiverBase + '/v1/traces', OTEL_TRACES_SAMPLER: 'always_on' }, hostMetrics: false, runtimeMetrics: false, logStream: null, contextManager: 'synchronous' });\n    wrap = async (call) => {\n      const span = startGenAiSpan(otel.tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini', serverAddress: '127.0.0.1', maxTokens: 64 });\n      const response = await call();\n      endGenAiSpan(span, { responseModel: response.model, inputTokens: response.usage.prompt_tokens, outputTokens: response.usage.completion_tokens, finishReasons: response.choices.map((c) => c.finish_reason) });\n      return response;\n    };\n  }\n  const OpenAI = require('openai').default ?? require('openai');\n  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: openaiUrl, maxRetries: 0 });\n  const one = () => wrap(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 64 }));\n  process.on('message', async ({ calls }) => {\n    const before = process.cpuUsage();\n    let next = 0;\n    await Promise.all(Array.from({ length: 8 }, async () => { while (next++ < calls) await one(); }));\n    const used = process.cpuUsage(before);\n    process.send({ usPerCall: (used.user + used.system) / calls });\n  });\n  process.send({ ready: true });\n})().catch((error) => { console.error(mode, error); process.exit(1); });\n";
const COMPETITOR_ROUNDS = pick(10, 1);
const COMPETITOR_CALLS = pick(2000, 200);

async function compareCompetitors(directory) {
  const completion = JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
  });
  const openai = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion);
    });
  });
  const otlpBytes = {};
  const sink = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      // Each contender exports under its own path prefix (/<mode>/v1/traces).
      const contender = (req.url ?? '/unknown').split('/')[1] || 'unknown';
      otlpBytes[contender] = (otlpBytes[contender] ?? 0) + bytes;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => openai.listen(0, '127.0.0.1', resolve));
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const openaiUrl = `http://127.0.0.1:${openai.address().port}/v1`;
  const sinkUrl = `http://127.0.0.1:${sink.address().port}`;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const modes = ['none', 'ours', 'traceloop', 'openlit'];
  const children = {};
  try {
    for (const mode of modes) {
      const child = spawnMeasured(['-e', CONTENDER_SOURCE, mode, openaiUrl, `${sinkUrl}/${mode}`], {
        cwd: directory,
        env: {
          ...process.env,
          BENCH_OTLP_PROTO_EXPORTER: `${root}node_modules/@opentelemetry/exporter-trace-otlp-proto`,
          BENCH_TELEMETRY_NODE: `${root}packages/telemetry-node/dist/index.js`,
          BENCH_TELEMETRY: `${root}packages/telemetry/dist/genai/index.js`,
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`competitor ${mode} exited with ${code}`)));
      });
      children[mode] = child;
    }
    const ask = (mode, calls) =>
      new Promise((resolve, reject) => {
        const child = children[mode];
        const exited = (code) => reject(new Error(`competitor ${mode} exited with ${code}`));
        child.once('exit', exited);
        child.once('message', (message) => {
          child.off('exit', exited);
          resolve(message.usPerCall);
        });
        child.send({ calls });
      });
    for (const mode of modes) await ask(mode, Math.min(1000, COMPETITOR_CALLS));
    const perRound = Object.fromEntries(modes.map((mode) => [mode, []]));
    for (let round = 0; round < COMPETITOR_ROUNDS; round++)
      for (let step = 0; step < modes.length; step++) {
        const mode = modes[(step + round) % modes.length];
        perRound[mode].push(await ask(mode, COMPETITOR_CALLS));
      }
    const contenders = {};
    for (const mode of modes) {
      const added = perRound[mode].map((value, index) => value - perRound.none[index]);
      const { mean, low, high } = interval(added);
      contenders[mode] = {
        usPerCall: summarize(perRound[mode]).mean,
        addedUs: mean,
        addedCi: [low, high],
        addedMedianUs: summarize(added).p50,
      };
    }
    // Spans still waiting in a batch go out on the exporters' 5 s timer: wait for them, so the
    // bytes received show that every contender really traced its calls.
    await sleep(6000);
    return { rounds: COMPETITOR_ROUNDS, calls: COMPETITOR_CALLS, contenders, otlpBytes: { ...otlpBytes } };
  } finally {
    for (const child of Object.values(children)) child.kill();
    openai.close();
    sink.close();
  }
}

/**
 * Sampled against unsampled requests inside one process. The ratio gateways sample
 * `parentbased_traceidratio`, so they follow a caller's decision: each serves slots whose
 * `traceparent` says sampled or not (order rotating by round), and the difference per round is
 * what recording and exporting a request's spans costs, with no second process in the
 * comparison (so none of the process-to-process spread the A/A rows show). A third slot samples
 * one request in ten (each connection's every tenth): against the unsampled slot, that is the
 * sampled share of ratio 0.1's cost, read without a second process. Every kind of request carries
 * the header and goes through the same extraction.
 */
async function sampledAgainstUnsampled(body) {
  const keys = PROCESSES.filter(([, config]) => config === 'ratio').map(([key]) => key);
  const measured = keys.map((key) => gateways.find((gateway) => gateway.name === key));
  const slot = (gateway, kind) =>
    saturate(gateway, body, ROUND_S, kind === 'oneInTen' ? ONE_IN_TEN : { traceparent: TRACEPARENT[kind] });
  const kinds = ['sampled', 'unsampled', 'oneInTen'];
  const rounds = Object.fromEntries(keys.map((key) => [key, []]));
  // Warm every path first: the saturated rounds before sampled only a tenth of the requests.
  for (const gateway of measured) for (const kind of kinds) await slot(gateway, kind);
  for (let round = 0; round < IN_PROCESS_ROUNDS; round++)
    for (const gateway of measured) {
      // Each kind leads, follows and ends a round equally often over every three rounds.
      const order = kinds.map((_, index) => kinds[(index + round) % kinds.length]);
      const runs = {};
      for (const kind of order) runs[kind] = await slot(gateway, kind);
      rounds[gateway.name].push(runs);
    }
  const compare = (of) => {
    const mean = (kind) => of.reduce((sum, runs) => sum + runs[kind].cpuUsPerRequest, 0) / of.length;
    // A kind of slot against the unsampled slot of the same rounds.
    const againstUnsampled = (kind) => {
      const throughput = ratioPerRound(of, kind, 'requestsPerSec', 'unsampled');
      const cpu = deltaPerRound(of, kind, 'cpuUsPerRequest', 'unsampled');
      return {
        throughputRatio: throughput.estimate,
        throughputCi: throughput.ci,
        addedCpuUs: cpu.estimate,
        addedCpuCi: cpu.ci,
      };
    };
    return {
      pairs: of.length,
      failures: of.reduce((sum, runs) => sum + kinds.reduce((inner, kind) => inner + runs[kind].failures, 0), 0),
      sampledCpuUsPerRequest: mean('sampled'),
      unsampledCpuUsPerRequest: mean('unsampled'),
      ...againstUnsampled('sampled'),
      // One request in ten sampled, against none: what sampling adds at ratio 0.1.
      oneInTen: { cpuUsPerRequest: mean('oneInTen'), ...againstUnsampled('oneInTen') },
    };
  };
  return {
    rounds: IN_PROCESS_ROUNDS,
    traceparent: TRACEPARENT,
    oneInTen: `every connection's tenth request sampled (${ONE_IN_TEN.length} requests in turn)`,
    processes: Object.fromEntries(keys.map((key) => [key, compare(rounds[key])])),
    // Every (round, process) pair as one observation.
    pooled: compare(keys.flatMap((key) => rounds[key])),
  };
}

const receiver = await startHelper('OTLP receiver', RECEIVER);
const upstream = await startHelper('upstream', UPSTREAM);
const upstreamEnv = { UPSTREAM_BASE_URL: upstream.baseUrl, UPSTREAM_MODELS: 'gpt-4o-mini' };
const exportEnv = {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
};
const configEnv = {
  off: { ...upstreamEnv, OTEL_SDK_DISABLED: 'true' },
  traced: { ...upstreamEnv, ...exportEnv, OTEL_TRACES_SAMPLER: 'always_on' },
  ratio: {
    ...upstreamEnv,
    ...exportEnv,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.1',
  },
  // Before: the SDK's BatchSpanProcessor + OTLPTraceExporter (what NodeSDK builds), for reference.
  stock: { ...upstreamEnv, ...exportEnv, OTEL_TRACES_SAMPLER: 'always_on', GATEWAYZ_SPAN_PROCESSOR: 'batch' },
};
const gateways = [];
for (const [key, config] of PROCESSES) gateways.push(await startGateway(key, configEnv[config]));
const byKey = (runs) => Object.fromEntries(PROCESSES.map(([key], index) => [key, runs[index]]));
const result = {
  processes: Object.fromEntries(
    CONFIGS.map((config) => [config, PROCESSES.filter(([, of]) => of === config).map(([key]) => key)]),
  ),
  // CPU per request from the scheduler's run time of every thread (ns), not clock ticks, where there.
  cpuClock: RUNTIME_CLOCK,
  startFlags: START_FLAGS,
  ...(PIN === undefined ? {} : { pinned: PIN }),
  rounds: ROUNDS,
  roundS: ROUND_S,
  latencyRounds: LATENCY_ROUNDS,
  latencyRoundS: LATENCY_ROUND_S,
  rateShare: RATE_SHARE,
  memoryS: MEMORY_S,
  connections: CONNECTIONS,
  modes: {},
};

try {
  for (const [mode, body] of Object.entries(MODES)) {
    for (const gateway of gateways) await probeChatCompletion(gateway, body, mode);
    for (const gateway of gateways) await saturate(gateway, body, WARMUP_S);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runs = new Array(gateways.length);
      for (let step = 0; step < gateways.length; step++) {
        const index = (step + round) % gateways.length;
        runs[index] = await saturate(gateways[index], body, ROUND_S);
      }
      rounds.push(byKey(runs));
    }
    const configRounds = rounds.map((round) => configRound(round, PROCESSES));
    const offRate = summarize(configRounds.map((round) => round.off.requestsPerSec)).p50;
    const rate = Math.max(5, Math.round(offRate * RATE_SHARE));
    const latencyRounds = [];
    for (let round = 0; round < LATENCY_ROUNDS; round++)
      latencyRounds.push(byKey(await paced(gateways, body, LATENCY_ROUND_S, rate)));
    const configLatencyRounds = latencyRounds.map((round) => configRound(round, PROCESSES));
    const sampledInProcess = await sampledAgainstUnsampled(body);
    const every = latencyRounds.map((_, index) => index);
    const summary = {};
    for (const config of CONFIGS) {
      summary[config] = {
        processes: result.processes[config].length,
        requestsPerSec: configRounds.reduce((sum, round) => sum + round[config].requestsPerSec, 0) / rounds.length,
        cpuUsPerRequest: configRounds.reduce((sum, round) => sum + round[config].cpuUsPerRequest, 0) / rounds.length,
        failures: configRounds.reduce((sum, round) => sum + round[config].failures, 0),
        fixedLoadFailures: configLatencyRounds.reduce((sum, round) => sum + round[config].failures, 0),
        pooledP99Ms: pooledP99(configLatencyRounds, config, every),
        fixedLoadCpuUsPerRequest:
          configLatencyRounds.reduce((sum, round) => sum + round[config].cpuUsPerRequest, 0) / latencyRounds.length,
      };
      if (config === 'off') continue;
      const throughput = ratioPerRound(configRounds, config, 'requestsPerSec');
      const cpu = deltaPerRound(configRounds, config, 'cpuUsPerRequest');
      const p99 = pooledP99Delta(configLatencyRounds, config);
      const fixedLoadCpu = deltaPerRound(configLatencyRounds, config, 'cpuUsPerRequest');
      Object.assign(summary[config], {
        throughputRatio: throughput.estimate,
        throughputCi: throughput.ci,
        addedCpuUs: cpu.estimate,
        addedCpuCi: cpu.ci,
        p99DeltaMs: p99.estimate,
        p99DeltaCi: p99.ci,
        addedFixedLoadCpuUs: fixedLoadCpu.estimate,
        addedFixedLoadCpuCi: fixedLoadCpu.ci,
      });
    }
    // A/A: each twin against the first process of its configuration, same rounds.
    for (const [twin, config] of TWINS) {
      const throughput = ratioPerRound(rounds, twin, 'requestsPerSec', config);
      const cpu = deltaPerRound(rounds, twin, 'cpuUsPerRequest', config);
      const fixedLoadCpu = deltaPerRound(latencyRounds, twin, 'cpuUsPerRequest', config);
      summary[twin] = {
        twinOf: config,
        throughputRatio: throughput.estimate,
        throughputCi: throughput.ci,
        addedCpuUs: cpu.estimate,
        addedCpuCi: cpu.ci,
        addedFixedLoadCpuUs: fixedLoadCpu.estimate,
        addedFixedLoadCpuCi: fixedLoadCpu.ci,
      };
    }
    result.modes[mode] = {
      rate,
      summary,
      sampledInProcess,
      perRound: rounds,
      fixedLoadCpuPerRound: latencyRounds.map((round) =>
        Object.fromEntries(Object.entries(round).map(([key, run]) => [key, run.cpuUsPerRequest])),
      ),
    };
    log(
      'traces',
      `${mode}: traced ${(summary.traced.throughputRatio * 100).toFixed(1)} % (${signed(summary.traced.addedCpuUs)} µs/req, ${signed(summary.traced.addedFixedLoadCpuUs)} at ${rate} req/s, p99 ${signedMs(summary.traced.p99DeltaMs)}), ratio 0.1 ${(summary.ratio.throughputRatio * 100).toFixed(1)} %, stock processor ${(summary.stock.throughputRatio * 100).toFixed(1)} % (${signed(summary.stock.addedCpuUs)} µs/req), A/A twins ${TWINS.map(([twin]) => `${twin} ${signed(summary[twin].addedCpuUs)}`).join(', ')} µs/req, sampled − unsampled in one process ${signed(sampledInProcess.pooled.addedCpuUs)} µs/req, one in ten sampled − none ${signed(sampledInProcess.pooled.oneInTen.addedCpuUs)} µs/req`,
    );
  }

  // Memory: the traced gateway saturated for MEMORY_S s (non-streaming); old-space from its own
  // runtime metrics every MEMORY_SAMPLE_S s.
  const traced = gateways.find((gateway) => gateway.name === 'traced');
  const samples = [];
  const memoryStart = performance.now();
  // One full collection in the middle of the first and of the last third of the measured window,
  // so both thirds have a live-heap reading even if V8 runs no mark-compact there.
  const measuredS = MEMORY_S - MEMORY_WARMUP_S;
  const forcedCollections = [MEMORY_WARMUP_S + measuredS / 6, MEMORY_S - measuredS / 6].map((atS) =>
    setTimeout(() => traced.child.kill('SIGUSR2'), atS * 1000),
  );
  // The off gateway gets the same load side by side, so the RSS figures after the section compare.
  const loadDone = saturate(traced, MODES.nonStreaming, MEMORY_S);
  const offLoadDone = saturate(
    gateways.find((gateway) => gateway.name === 'off'),
    MODES.nonStreaming,
    MEMORY_S,
  );
  while (performance.now() - memoryStart < MEMORY_S * 1000 - 500) {
    await sleep(MEMORY_SAMPLE_S * 1000);
    const text = await scrape(traced);
    samples.push({
      atS: (performance.now() - memoryStart) / 1000,
      oldSpaceMb: sampleValue(text, 'v8js_memory_heap_used', 'v8js_heap_space_name="old_space"') / 1048576,
      rssMb: rssMb(traced.child.pid),
    });
  }
  const memoryRun = await loadDone;
  await offLoadDone;
  const memoryEnd = performance.now();
  for (const timer of forcedCollections) clearTimeout(timer);
  // Flat: the median live heap after a mark-compact in the last third is not above the first
  // third's by more than 10 % (halves when a third saw none; the phase's first MEMORY_WARMUP_S
  // seconds left out).
  const live = liveHeapGrowth(traced.markCompacts, memoryStart, memoryEnd, MEMORY_WARMUP_S * 1000);
  result.memory = {
    samples,
    requests: memoryRun.total,
    failures: memoryRun.failures,
    warmupS: MEMORY_WARMUP_S,
    markCompacts: traced.markCompacts
      .filter((entry) => entry.atMs >= memoryStart && entry.atMs < memoryEnd)
      .map((entry) => ({
        atS: (entry.atMs - memoryStart) / 1000,
        heapAfterMb: entry.heapAfterMb,
        forced: entry.forced,
      })),
    liveHeapWindows: live.windows,
    earlyLiveHeapMb: live.earlyMb,
    lateLiveHeapMb: live.lateMb,
    earlyMarkCompacts: live.earlyCount,
    lateMarkCompacts: live.lateCount,
    growth: live.growth,
  };

  await sleep(6000); // past the 5 s batch delay: every queued span exported
  const metricsText = await scrape(traced);
  receiver.child.send('stats');
  const received = await new Promise((resolve) => receiver.child.once('message', resolve));
  result.export = {
    ...received,
    droppedQueueFull: sampleValue(metricsText, 'gatewayz_telemetry_spans_dropped_total', 'reason="queue_full"') ?? 0,
    droppedExportFailed:
      sampleValue(metricsText, 'gatewayz_telemetry_spans_dropped_total', 'reason="export_failed"') ?? 0,
  };
  result.rssAfterMb = Object.fromEntries(gateways.map((gateway) => [gateway.name, rssMb(gateway.child.pid)]));
  for (const gateway of gateways) gateway.child.kill('SIGTERM');
  const competitorsDirectory = process.env.BENCH_COMPETITORS_DIR;
  result.competitors = competitorsDirectory
    ? await compareCompetitors(competitorsDirectory).catch((error) => ({ error: String(error) }))
    : { skipped: 'BENCH_COMPETITORS_DIR not set' };
} finally {
  for (const gateway of gateways) gateway.child.kill('SIGTERM');
  receiver.child.kill();
  upstream.child.kill();
}

const nonStreaming = result.modes.nonStreaming.summary;
const streaming = result.modes.streaming.summary;
result.targets = {
  throughput: Math.min(nonStreaming.traced.throughputRatio, streaming.traced.throughputRatio) >= 0.9,
  addedCpu: Math.max(nonStreaming.traced.addedCpuUs, streaming.traced.addedCpuUs) <= 35,
  p99: Math.max(nonStreaming.traced.p99DeltaMs, streaming.traced.p99DeltaMs) <= 1,
  ratioThroughput: Math.min(nonStreaming.ratio.throughputRatio, streaming.ratio.throughputRatio) >= 0.97,
  heapFlat: result.memory.growth <= 1.1,
  rss: result.rssAfterMb.traced <= 100,
};
emit(result);
