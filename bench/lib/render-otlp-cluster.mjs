// Section 7 of the report: OTLP metrics push (bench/sections/otlp-push.mjs) and the aggregated
// scrape of a node:cluster application (bench/sections/cluster-primary.mjs): its targets, its
// tables, and the measured cause of a missed target.
import { cpuNote, fixed, int, table, times, verdict } from './report-format.mjs';

const AREA = '7. OTLP push and cluster';
const PUSH_SIZES = [1000, 20000];
const CLUSTER_WORKERS = [2, 4];
const VARIANT_LABELS = {
  protobufCumulative: 'OTLP export, `http/protobuf`, cumulative (the defaults)',
  protobufDelta: 'OTLP export, `http/protobuf`, delta',
  jsonCumulative: 'OTLP export, `http/json`, cumulative',
  jsonDelta: 'OTLP export, `http/json`, delta',
  protobufExponential: 'OTLP export, `http/protobuf`, cumulative, exponential histograms',
  protobufExponentialDelta: 'OTLP export, `http/protobuf`, delta, exponential histograms',
  scrape: '`/metrics` scrape: `metricsHandler(GET /metrics)`, body read (baseline)',
  scrapeHttp: '`/metrics` scrape over loopback HTTP, client in the same process (info)',
};
/** The verdict of each target variant in the section's output. */
const TARGET_KEYS = {
  protobufCumulative: 'cumulativeMet',
  protobufDelta: 'deltaMet',
  protobufExponential: 'exponentialMet',
  protobufExponentialDelta: 'exponentialDeltaMet',
};
const kib = (value) => (Number.isFinite(value) ? `${int(value / 1024)} KiB` : 'n/a');
const ms = (value, digits = 1) => fixed(value, digits);

/** The section's rows of the report's target table. */
export function otlpClusterTargets(results) {
  const targets = [];
  const push = results['otlp-push-20000'];
  for (const [id, variant, name] of [
    ['otlp-push-cumulative', 'protobufCumulative', 'protobuf, cumulative'],
    ['otlp-push-delta', 'protobufDelta', 'protobuf, delta'],
    ['otlp-push-exponential', 'protobufExponential', 'protobuf, cumulative, exponential histograms'],
    ['otlp-push-exponential-delta', 'protobufExponentialDelta', 'protobuf, delta, exponential histograms'],
  ]) {
    targets.push({
      id,
      area: AREA,
      target: `Our target: 20,000 series, CPU of one OTLP metrics export (${name}: collect + serialise + HTTP) ≤ 2× a \`/metrics\` scrape of the same series`,
      measured: push
        ? `${times(push.ratios[variant].cpuVsScrape)} (${ms(push.stats[variant].cpuMs.p50)} vs ${ms(push.stats.scrape.cpuMs.p50)} ms CPU, p50)`
        : 'not run',
      met: push ? push.targets[TARGET_KEYS[variant]] : undefined,
    });
  }
  for (const workers of CLUSTER_WORKERS) {
    const result = results[`cluster-scrape-${workers}`];
    const series = int(result?.seriesPerWorker ?? 20000);
    targets.push({
      id: `cluster-scrape-${workers}`,
      area: AREA,
      target: `Aggregated \`/metrics\` scrape, ${workers} cluster workers × ${series} series < 2× a single-process scrape of ${series} series (wall, p50)`,
      measured: result
        ? `${times(result.ratio)} (${ms(result.stats.cluster.wallMs.p50, 0)} vs ${ms(result.stats.single.wallMs.p50, 0)} ms)`
        : 'not run',
      met: result ? result.targets.scrapeMet : undefined,
    });
    targets.push({
      id: `cluster-eventloop-${workers}`,
      area: AREA,
      target: `Event loop of every worker blocked ≤ 50 ms during the aggregated scrapes (${workers} workers)`,
      measured: result
        ? `max ${result.workerLoops.map((worker) => ms(worker.loopMaxMs, 0)).join(' / ')} ms (single process, same run: ${ms(result.singleLoop.loopMaxMs, 0)} ms)`
        : 'not run',
      met: result ? result.targets.eventLoopMet : undefined,
    });
  }
  return targets;
}

/** What the delta conversion adds to an export, measured (protobuf delta − protobuf cumulative, CPU p50), and where it goes. */
function deltaNote(result) {
  const extra = result.stats.protobufDelta.cpuMs.p50 - result.stats.protobufCumulative.cpuMs.p50;
  return (
    `Delta temporality adds ${ms(extra)} ms of CPU per export at ${int(result.series)} series (protobuf delta − cumulative, p50; ≈ ${fixed((extra * 1000) / result.series, 2)} µs per series), ${times(result.stats.protobufDelta.cpuMs.p50 / result.stats.protobufCumulative.cpuMs.p50)} the cumulative export. ` +
    "That is the conversion in `TemporalityMetricProducer` (`packages/telemetry-node/src/otlp-metrics/temporality-metric-producer.ts`): per series and export it looks up the series' baseline (a `WeakMap` per metric keyed by the frozen attributes object the producer hands out for a series at every collection) and allocates the next baseline (a copy of the bucket counts for histograms), which it keeps only once the backend accepted the push. " +
    'A first version keyed the baselines by a `JSON.stringify` of the attributes: about 36 ms more per export at 20,000 series. Profile: `node --expose-gc --cpu-prof bench/sections/otlp-push.mjs 20000`.'
  );
}

function renderPush(results) {
  const out = [];
  const any = results['otlp-push-20000'] ?? results['otlp-push-1000'];
  if (any) {
    out.push(
      "One export interval, wired as `startTelemetry()` wires it: `startTelemetry({ metrics: { exporters: ['otlp', 'prometheus'], otlp: { url, protocol, temporalityPreference, exportIntervalMillis: 3600000 } }, traces: false, hostMetrics: false, runtimeMetrics: false, env: {} })`, " +
        "the series filled through `running.telemetry` with the scrape section's mix, and `running.forceFlush()` timed: it runs exactly one export (collect, delta conversion, serialisation, HTTP POST) and resolves when the receiver has answered. " +
        'The receiver is a `node:http` server in the same process on 127.0.0.1 that reads the body and answers `200` with an empty response message (no decoding counted); the `/metrics` baseline is `running.metricsHandler` of the same process over the same series, body read as bytes, as in section 2. ' +
        'Before each measured export every series gets one more recording (counter +1, gauge moved, one observation; not timed), so a delta export carries every counter and histogram series. ' +
        `Variants run one after the other (startTelemetry is process-wide), each started afresh and refilled, in ${any.rounds} round(s) with the order rotated, ${any.iterationsPerRound} timed exports per variant per round after a warm-up, each export followed by a timed scrape. ` +
        'CPU is `process.cpuUsage()` over the operation (all threads of the process, so garbage-collector threads and the receiver reading the body count); loop block is the largest delay a fresh `monitorEventLoopDelay` (1 ms resolution) saw during each operation, p50 and max over the operations. ' +
        'The export serialises the whole request in one synchronous step, where the scrape handler yields to the event loop between chunks of text. Verdicts on the CPU p50.',
      '',
    );
  }
  for (const size of PUSH_SIZES) {
    const result = results[`otlp-push-${size}`];
    out.push(`### OTLP push, ${int(size)} series`, '');
    if (!result) {
      out.push('_Not run._', '');
      continue;
    }
    const ids = [...result.variants.map((variant) => variant.id), 'scrape', 'scrapeHttp'];
    out.push(
      table(
        [
          'Operation',
          'CPU ms (p50)',
          'CPU ms (p95)',
          'wall ms (p50)',
          'wall ms (p95)',
          'bytes',
          '× scrape CPU (p50)',
          'loop block ms (p50 / max)',
        ],
        ids.map((id) => {
          const stats = result.stats[id];
          const label = id === result.targets.variant ? `**${VARIANT_LABELS[id]}**` : VARIANT_LABELS[id];
          const size = id === 'scrape' || id === 'scrapeHttp' ? result.scrapeBytes : result.bytesPerExport[id];
          return [
            label,
            ms(stats.cpuMs.p50),
            ms(stats.cpuMs.p95),
            ms(stats.wallMs.p50),
            ms(stats.wallMs.p95),
            kib(size),
            times(stats.cpuMs.p50 / result.stats.scrape.cpuMs.p50),
            `${ms(result.eventLoop[id].p50, 0)} / ${ms(result.eventLoop[id].max, 0)}`,
          ];
        }),
      ),
      '',
    );
    const sanity = result.variants
      .map((variant) => {
        const check = result.sanity[variant.id];
        if (!check) return `${variant.id} not checked`;
        return `${variant.id} ${int(check.points)} points (${check.temporalities.map((value) => (value === 1 ? 'delta' : value === 2 ? 'cumulative' : value)).join(', ')})`;
      })
      .join(', ');
    out.push(
      `Samples: ${result.stats.scrape.cpuMs.n} per operation. Check (first timed export of each variant decoded with the official opentelemetry-proto definitions, or \`JSON.parse\`, and required to hold exactly the mix's series and no other metric; every export is one request): ${sanity} — of ${int(result.series)} series. ` +
        `${size === 20000 ? `Target (ours): OTLP export CPU ≤ ${result.targets.ratio}× the scrape's at 20,000 series. ` : ''}${cpuNote(result)}`,
      '',
    );
    if (size === 20000) out.push(deltaNote(result), '');
  }
  return out;
}

function renderCluster(results) {
  const out = ['### Cluster: one aggregated scrape', ''];
  const runs = CLUSTER_WORKERS.map((workers) => [workers, results[`cluster-scrape-${workers}`]]).filter(
    ([, result]) => result !== undefined,
  );
  if (runs.length === 0) return [...out, '_Not run._', ''];
  const first = runs[0][1];
  out.push(
    `The section process is the node:cluster primary (\`startClusterPrimary()\`, defaults) and the HTTP client. It forks W workers (\`bench/sections/cluster-worker.mjs\`: \`startTelemetry({ cluster: true, traces: false, hostMetrics: false, runtimeMetrics: false, env: {} })\`, ${int(first.seriesPerWorker)} series of the same mix each, the same label sets in every worker, \`running.nodeMetricsListener\` on one shared port) and, with \`child_process.fork\`, one plain process (the same script without cluster mode, its own port) as the single-process baseline. ` +
      `GET /metrics goes to the shared port and to the plain process alternately, ${first.scrapes} times each after a warm-up, every time on a fresh connection (\`http.get\` with \`agent: false\`); each aggregated response is checked: the \`model_inference_requests_total\` series sum to W × one worker's total, so every worker is in every scrape. ` +
      'CPU per scrape is summed over every process the scrape touched (each reports `process.cpuUsage()` over IPC before and after); "answering worker" is the worker with the most CPU in that scrape (the one that served it: its own collection, the merged collection parsed back, serialisation), "other workers" the rest (collect and send). ' +
      'The worker event-loop figure is the largest delay a `monitorEventLoopDelay` (1 ms) in each worker saw over the whole scrape phase; the plain process measures the same way, as a control for the machine.',
    '',
  );
  const rows = [];
  for (const [workers, result] of runs) {
    for (const id of ['cluster', 'single']) {
      const stats = result.stats[id];
      rows.push([
        id === 'cluster'
          ? `**${workers} workers × ${int(result.seriesPerWorker)} series, aggregated**`
          : `single process, ${int(result.seriesPerWorker)} series (baseline of the ${workers}-worker run)`,
        ms(stats.wallMs.p50, 0),
        ms(stats.wallMs.p95, 0),
        ms(stats.wallMs.max, 0),
        ms(stats.cpuMs.p50, 0),
        ms(stats.primaryCpuMs.p50, 0),
        ms(stats.answeringWorkerCpuMs.p50, 0),
        id === 'cluster' ? ms(stats.otherWorkersCpuMs.p50, 0) : '–',
        ms(stats.primaryLoopMaxMs.p50, 0),
        id === 'cluster' ? times(result.ratio) : '1.00×',
      ]);
    }
  }
  out.push(
    table(
      [
        'Scrape',
        'wall ms (p50)',
        'wall ms (p95)',
        'wall ms (max)',
        'CPU ms, all processes (p50)',
        'primary CPU ms (p50)',
        'answering worker CPU ms (p50)',
        'other workers CPU ms (p50)',
        'primary loop block ms (p50)',
        '× single (wall p50)',
      ],
      rows,
    ),
    '',
  );
  out.push(
    table(
      ['Run', 'worker event loop, max ms (each worker)', 'worker p99 ms', 'single process max ms (control)', 'verdict'],
      runs.map(([workers, result]) => [
        `${workers} workers`,
        result.workerLoops.map((worker) => ms(worker.loopMaxMs, 0)).join(' / '),
        result.workerLoops.map((worker) => ms(worker.loopP99Ms, 0)).join(' / '),
        ms(result.singleLoop.loopMaxMs, 0),
        verdict(result.targets.eventLoopMet),
      ]),
    ),
    '',
  );
  for (const [workers, result] of runs) {
    out.push(
      `${workers} workers: aggregated scrape ${times(result.ratio)} the single-process scrape (wall p50; target < ${result.targets.ratio}×) — ${verdict(result.targets.scrapeMet)}; ` +
        `CPU of all processes ${times(result.cpuRatio)}; response ${kib(result.outputs.cluster.bytes)} / ${int(result.outputs.cluster.samples)} samples (single process ${kib(result.outputs.single.bytes)} / ${int(result.outputs.single.samples)}). ${cpuNote(result, { waits: true })}`,
      '',
    );
  }
  return out;
}

/** `## 7.` of the report. */
export function renderOtlpCluster(results) {
  return ['## 7. OTLP metrics push and cluster scrape', '', ...renderPush(results), ...renderCluster(results)].join(
    '\n',
  );
}

/**
 * The measured cause of each missed target of the section, for the report's "Missed targets" part.
 * `missed` holds the ids of the targets not met.
 */
export function renderOtlpClusterCauses(results, missed) {
  const out = [];
  const push = results['otlp-push-20000'];
  const pushIds = ['otlp-push-cumulative', 'otlp-push-delta', 'otlp-push-exponential', 'otlp-push-exponential-delta'];
  if (push && pushIds.some((id) => missed.has(id))) {
    const stats = push.stats;
    out.push(
      '### OTLP export cost',
      '',
      `Measured at 20,000 series (CPU p50): protobuf cumulative ${ms(stats.protobufCumulative.cpuMs.p50)} ms, protobuf delta ${ms(stats.protobufDelta.cpuMs.p50)} ms, JSON cumulative ${ms(stats.jsonCumulative.cpuMs.p50)} ms, JSON delta ${ms(stats.jsonDelta.cpuMs.p50)} ms, protobuf with exponential histograms ${ms(stats.protobufExponential.cpuMs.p50)} ms (cumulative) and ${ms(stats.protobufExponentialDelta.cpuMs.p50)} ms (delta), against ${ms(stats.scrape.cpuMs.p50)} ms for a scrape. ` +
        deltaNote(push),
      '',
    );
  }
  const clusterMissed = CLUSTER_WORKERS.filter(
    (workers) => missed.has(`cluster-scrape-${workers}`) || missed.has(`cluster-eventloop-${workers}`),
  );
  if (clusterMissed.length > 0) {
    const parts = clusterMissed
      .map((workers) => [workers, results[`cluster-scrape-${workers}`]])
      .map(
        ([workers, result]) =>
          `${workers} workers: ${ms(result.stats.cluster.wallMs.p50, 0)} ms wall vs ${ms(result.stats.single.wallMs.p50, 0)} ms single; CPU per scrape ${ms(result.stats.cluster.cpuMs.p50, 0)} ms = primary ${ms(result.stats.cluster.primaryCpuMs.p50, 0)} + answering worker ${ms(result.stats.cluster.answeringWorkerCpuMs.p50, 0)} + other workers ${ms(result.stats.cluster.otherWorkersCpuMs.p50, 0)} (single process: ${ms(result.stats.single.cpuMs.p50, 0)} ms); primary event loop blocked ${ms(result.stats.cluster.primaryLoopMaxMs.p50, 0)} ms per scrape (p50)`,
      );
    out.push(
      '### Aggregated cluster scrape',
      '',
      `Measured: ${parts.join('; ')}. ` +
        "Every aggregated scrape has each worker collect its registry (the SDK collection and the producer's data points, as a single process does for its own scrape) and send it to the primary over the cluster IPC channel (node:cluster writes and parses every message as JSON text); the primary merges W collections and sends the aggregate to the answering worker, which serialises the text as a single process does. " +
        "A series' label values cross the channel once per worker and primary; after that a collection is series numbers and base64 columns of values (whole numbers as 32-bit), in messages of at most 2,000 series with the event loop free between them, both ways, and the primary merges by slot in a table of label sets it keeps between scrapes (`packages/telemetry-node/src/cluster/series-wire.ts`). " +
        'Earlier versions: one object per data point merged by `JSON.stringify(attributes)` (5.7× and 8.8× at 2 and 4 workers in one run), then columns with every label value in every scrape and one message each way (2.26× and 3.44×, event loop blocked 131–164 ms in a 2-worker run). ' +
        "What is left is mostly the W collections themselves (each costs what the single process's own collection costs), their encoding and the IPC channel's JSON; profile with `BENCH_CPU_PROF_DIR=dir node --cpu-prof bench/sections/cluster-primary.mjs 4`. " +
        "On a machine with fewer cores than processes, the worker loop figures include time a worker waited to be scheduled: compare them with the single process's (control).",
      '',
    );
  }
  return out.join('\n');
}
