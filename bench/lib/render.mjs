// Renders the sections' JSON results as docs/benchmarks.md: machine, targets, method, one part per
// comparison, and, for every missed target, the measured cause and a proposed change.
import {
  bytes,
  ci,
  cpuNote,
  fixed,
  gatewayProcesses,
  int,
  nsText,
  pct,
  signedMs,
  table,
  timingRow,
  times,
  verdict,
} from './report-format.mjs';
import { otlpClusterTargets, renderOtlpCluster, renderOtlpClusterCauses } from './render-otlp-cluster.mjs';
import { renderScrapeGzip } from './render-scrape-gzip.mjs';
import { renderTraceCauses, renderTraces, traceTargets } from './render-traces.mjs';
import {
  NO_ALLOCATION_BYTES,
  allocationVerdict,
  gatewayFailures,
  gatewayVerdict,
  judgePoint,
} from './target-verdicts.mjs';

// --- targets -----------------------------------------------------------------------------------------
const RECORD_KEYS = ['counter', 'gauge', 'multiLabel', 'histogram', 'exponential'];
const failedNote = (summary) =>
  gatewayFailures(summary) > 0 ? `; ${int(gatewayFailures(summary))} failed requests (A and B)` : '';
/** What one measurement of the allocation section is called: a pair of cycles (current method) or a chunk (older raw results). */
const unitOf = (alloc) => (alloc?.method === 'pairs' ? 'pair' : 'chunk');
/** ` (largest pair: … B/call)` for an allocation result that has per-measurement figures (older raw results do not). */
const largestChunk = (alloc, task) =>
  Number.isFinite(task?.maxChunkBytesPerCall)
    ? ` (largest ${unitOf(alloc)} ${bytes(task.maxChunkBytesPerCall)}/call)`
    : '';

/**
 * Two throughput estimates from the on/off CPU profiles. (1) 1 − the extra self time in telemetry
 * code; (2) the application's share of busy CPU with telemetry over its share without: the
 * application does the same work per request in both, so the ratio of its shares is the ratio of
 * CPU per request. (1) misses telemetry code V8 inlined into application frames; (2) also counts
 * extra garbage collection.
 */
function profileEstimates(profiles) {
  return {
    bySelfTime: 1 - (profiles.on.telemetryShare - profiles.off.telemetryShare),
    byApplicationShare: profiles.on.shares.applicationAndNode / profiles.off.shares.applicationAndNode,
  };
}

export function evaluateTargets(results) {
  const targets = [];
  const database = results['model-health-db'];
  const recordTarget = {
    id: 'model-health-record',
    area: '5. Model health',
    target: '`recordModelCall` at least 1,000,000 calls/s on the request path',
    measured: database
      ? `${int(database.recordCallsPerSecond)} calls/s (${nsText(database.recordNsPerCall)} ns/call)`
      : 'not run',
    met: database ? judgePoint(database.recordCallsPerSecond, (value) => value >= 1_000_000) : undefined,
  };
  const roundTripTarget = {
    id: 'model-health-roundtrips',
    area: '5. Model health',
    target: 'Database round trips per 10,000 calls at least 1,000× fewer than per-call upserts (real PostgREST)',
    measured: database
      ? `${int(database.writeBehind.requestsPer10k)} vs ${int(database.naive.requestsPer10k)} (${int(database.roundTripRatio)}×)`
      : 'not run',
    met: database ? judgePoint(database.roundTripRatio, (value) => value >= 1000) : undefined,
  };
  for (const key of RECORD_KEYS) {
    const result = results[`record-${key}`];
    targets.push({
      id: `record-${key}`,
      area: '1. Record path',
      target: result?.title ? `${result.title.replace(/`/g, '')}: ${result.target}` : `${key}`,
      measured: result
        ? `${times(result.ratio)} (${nsText(result.results[result.subject].ns.p50)} vs ${nsText(result.results[result.baseline].ns.p50)} ns, p50)`
        : 'not run',
      met: result ? result.met : undefined,
    });
  }
  const alloc = results.alloc;
  if (alloc) {
    for (const key of RECORD_KEYS) {
      const value = alloc.helperBytes[key];
      const task = alloc.results[key].tasks[alloc.results[key].subject];
      targets.push({
        id: `alloc-${key}`,
        area: '1. Record path',
        target: `No allocation per call, seen label sets: ${alloc.results[key].title.replace(/`/g, '')}`,
        measured: `${bytes(value)}/call${task.valid === false ? ' (GC in window)' : ''} over ${int(task.calls)} calls${largestChunk(alloc, task)}${Number.isFinite(task.rawBytesPerCall) ? `; raw growth ${bytes(task.rawBytesPerCall)}/call` : ''}`,
        met: allocationVerdict(value, task),
      });
    }
  } else
    targets.push({
      id: 'alloc',
      area: '1. Record path',
      target: 'No allocation per call for seen label sets',
      measured: 'not run',
      met: undefined,
    });

  for (const size of [1000, 20000]) {
    const result = results[`scrape-${size}`];
    targets.push({
      id: `scrape-${size}-ours`,
      area: '2. Scrape',
      target: `${int(size)} series: \`serializePrometheus(collect())\` ≤ 0.6× prom-client`,
      measured: result ? times(result.ratios.ours) : 'not run',
      met: result ? result.targets.oursMet : undefined,
    });
    targets.push({
      id: `scrape-${size}-handler`,
      area: '2. Scrape',
      target: `${int(size)} series: full \`createMetricsHandler\` GET /metrics ≤ 0.6× prom-client`,
      measured: result ? times(result.ratios.handler) : 'not run',
      met: result ? result.targets.handlerMet : undefined,
    });
  }
  const big = results['scrape-20000'];
  targets.push({
    id: 'scrape-eventloop',
    area: '2. Scrape',
    target: 'Event-loop blocking ≤ 50 ms during /metrics scrapes at 20,000 series',
    measured: big
      ? `max ${fixed(big.eventLoop.handler.maxMs)} ms, p99 ${fixed(big.eventLoop.handler.p99Ms)} ms`
      : 'not run',
    met: big ? big.targets.eventLoopMet : undefined,
  });
  targets.push({
    id: 'scrape-promtool',
    area: '2. Scrape',
    target: '20,000-series output passes `promtool check metrics`',
    measured: big
      ? big.promtool.available
        ? `exit ${big.promtool.exitCode}${big.promtool.problems.length ? `, ${big.promtool.problems.length} lines` : ''}`
        : 'promtool not installed'
      : 'not run',
    met: big?.promtool.available ? big.promtool.passed : undefined,
  });

  const gateway = results.gateway;
  for (const mode of ['nonStreaming', 'streaming']) {
    const summary = gateway?.modes?.[mode]?.summary;
    const name = mode === 'streaming' ? 'streaming' : 'non-streaming';
    targets.push({
      id: `gateway-${mode}-throughput`,
      area: '3. Gateway',
      target: `${name}: req/s with telemetry ≥ 95 % of without`,
      measured: summary
        ? `${pct(summary.throughputRatio)}${ci(summary.throughputCi, pct)}${failedNote(summary)}`
        : 'not run',
      met: summary ? gatewayVerdict(summary, summary.throughputMet) : undefined,
    });
    targets.push({
      id: `gateway-${mode}-p99`,
      area: '3. Gateway',
      target: `${name}: p99 latency with telemetry ≤ +1 ms${summary?.fixedRate ? ` (at a fixed ${int(summary.fixedRate.rate)} req/s)` : ''}`,
      measured: summary
        ? `${signedMs(summary.p99DeltaMs)}${ci(summary.p99DeltaCi, signedMs)}${failedNote(summary)}`
        : 'not run',
      met: summary ? gatewayVerdict(summary, summary.p99Met) : undefined,
    });
  }

  const profiles = gateway?.profiles;
  if (profiles?.on && profiles?.off) {
    const { bySelfTime, byApplicationShare } = profileEstimates(profiles);
    const both = [bySelfTime, byApplicationShare];
    targets.push({
      id: 'gateway-profile',
      area: '3. Gateway',
      target: 'non-streaming: throughput ≥ 95 %, estimated from CPU profiles (robust to machine load)',
      measured: `≈ ${pct(bySelfTime)} (telemetry self time) / ≈ ${pct(byApplicationShare)} (application share)`,
      met:
        // Null shares (NaN in the section) would make 1 − (null − null) a finite 1.
        ![profiles.on, profiles.off].every(
          (profile) => Number.isFinite(profile.telemetryShare) && Number.isFinite(profile.shares.applicationAndNode),
        ) || (profiles.on.failures ?? 0) + (profiles.off.failures ?? 0) > 0
          ? 'inconclusive'
          : both.every((value) => value >= 0.95)
            ? true
            : both.every((value) => value < 0.95)
              ? false
              : 'inconclusive',
    });
  }
  const flood = results['memory-flood'];
  const floodGrowthMb = flood ? flood.heapAfterMb - flood.heapBeforeMb : NaN;
  targets.push({
    id: 'memory-flood',
    area: '4. Memory',
    target: `Label flood of ${flood ? int(flood.calls) : '1,000,000'} distinct models stays bounded (cardinality cap)`,
    measured: flood
      ? `heap +${fixed(floodGrowthMb, 1)} MB, ${int(flood.seriesRequests)} series, overflow counted ${int(Object.values(flood.overflowTotal)[0])}`
      : 'not run',
    met: flood
      ? [flood.heapBeforeMb, flood.heapAfterMb, flood.seriesRequests, flood.maxSeriesPerMetric].every(Number.isFinite)
        ? floodGrowthMb < 16 && flood.seriesRequests <= flood.maxSeriesPerMetric + 8
        : 'inconclusive'
      : undefined,
  });

  const health = results['model-health'];
  targets.push({
    id: 'tracker-tick',
    area: '5. Model health',
    target: `Provider health tracker tick over ${health ? int(health.tracker.models) : '10,000'} models < 10 ms`,
    measured: health
      ? `mean ${fixed(health.tracker.tickMs.mean, 2)} ms, p50 ${fixed(health.tracker.tickMs.p50, 2)} ms, p99 ${fixed(health.tracker.tickMs.p99, 2)} ms`
      : 'not run',
    met: health ? health.tracker.met : undefined,
  });
  targets.push(recordTarget, roundTripTarget);

  const spans = results.spans;
  targets.push({
    id: 'spans-flat',
    area: '6. Spans',
    target: 'Request path does not slow down while the OTLP exporter keeps failing',
    measured: spans
      ? `late/early ${times(spans.batchDeadEndpointSummary.flatness.ratio)} with the failing exporter, ${times(spans.sdkNoProcessorSummary.flatness.ratio)} without one (relative ${times(spans.relativeFlatness)})`
      : 'not run',
    met: spans ? spans.flatMet : undefined,
  });
  targets.push(...otlpClusterTargets(results));
  targets.push(...traceTargets(results.traces));
  return targets;
}

export function targetSummary({ results, failures }) {
  const tag = (met) =>
    met === true ? 'MET    ' : met === false ? 'NOT MET' : met === 'inconclusive' ? 'INCONCL' : 'N/A    ';
  const lines = evaluateTargets(results).map(
    (target) => `${tag(target.met)}  ${target.target.replace(/`/g, '')} — ${target.measured}`,
  );
  if (Object.keys(failures).length > 0) lines.push(`FAILED SECTIONS: ${Object.keys(failures).join(', ')}`);
  return lines.join('\n');
}

// --- sections ----------------------------------------------------------------------------------------
function renderRecord(results) {
  const out = ['## 1. Record path', ''];
  out.push(
    'One process per comparison; every contender records the same label values (8 providers, or 64 provider × model × token-type combinations) and the same values. ' +
      'Helpers run on a `MeterProvider` with a `MetricReader` subclass attached (so the SDK keeps real storage), the raw OTel instruments on another such provider, prom-client on a private `Registry`. ' +
      'An `AsyncLocalStorageContextManager` is registered, as `NodeSDK` does in production. Rows marked (info) are extra references, not part of a target.',
    '',
  );
  for (const key of RECORD_KEYS) {
    const result = results[`record-${key}`];
    if (!result) {
      out.push(`### ${key}`, '', '_Not run._', '');
      continue;
    }
    const baseline = result.results[result.baseline].ns.p50;
    out.push(`### ${result.title}`, '');
    out.push(`Target: ${result.target}. Baseline: ${result.results[result.baseline].label}.`, '');
    out.push(
      table(
        ['Contender', 'ops/s', 'ns/op (mean)', '±rme', 'ns/op (p50)', '× baseline (p50)'],
        result.order.map((id) => {
          const row = result.results[id];
          const label =
            id === result.baseline ? `${row.label} (baseline)` : id === result.subject ? `**${row.label}**` : row.label;
          return timingRow(label, row, baseline);
        }),
      ),
      '',
    );
    out.push(`Result: helper ${times(result.ratio)} the baseline — ${verdict(result.met)}. ${cpuNote(result)}`, '');
  }

  const alloc = results.alloc;
  out.push('### Allocation per call (label sets already seen)', '');
  if (!alloc) out.push('_Not run._', '');
  else {
    out.push(
      'Method: the process runs with `--expose-gc --min-semi-space-size=128 --max-semi-space-size=128`. For each contender, after a warm-up (optimised code, every label set seen): ' +
        '`gc()`, read `process.memoryUsage().heapUsed`, make a cycle of calls, read `heapUsed` again (a cycle; cycles come in pairs, see below) — repeated until the call count is reached. With a 128 MB young generation no scavenge can start inside a window ' +
        '(a `PerformanceObserver` on `gc` entries checks it; a window with a collection would be flagged), so the difference is exactly what the calls allocated. ' +
        '`gc()` before/after around the whole run gives what was retained (≤ 0 everywhere, since the heap before the first window still held warm-up garbage: nothing leaks; that alone would not show per-call garbage, hence the no-GC windows). ' +
        `Input values are pre-boxed numbers (see \`bench/lib/record-fixtures.mjs\`) so the harness itself allocates nothing. "No allocation" means < ${NO_ALLOCATION_BYTES} B/call: anything real is ≥ 12 B. ` +
        `Helpers: ${int(alloc.results.counter.tasks.helper.calls)} calls each; other contenders: ${int(alloc.results.counter.tasks.prom.calls)}. ` +
        (alloc.settle
          ? `Before the first contender the harness is settled: in a fresh process the first ~6 cycles each grow \`heapUsed\` by a fixed 20–400 KB whatever the chunk runs, an empty function included (V8 giving the cycle's own once-per-cycle code — Node's \`process.memoryUsage\` wrapper — a feedback vector and baseline code), which would be charged to the first contender measured. ` +
            `So the same cycle runs with an empty function until ${alloc.settle.quietCycles ?? 4} cycles in a row each grow \`heapUsed\` by < ${alloc.settle.limitKb ?? 4} KB (at most ${alloc.settle.maxCycles ?? 40}): this run took ${int(alloc.settle.cycles ?? alloc.settle.cyclesKb?.length)} cycles (KB per cycle: ${(alloc.settle.cyclesKb ?? []).map((kb) => fixed(kb, 1)).join(', ')})${alloc.settle.settled === false ? ' and **did not settle**: the first figures below may include that one-off cost' : ''}. `
          : 'These results predate the settle step (empty-function cycles before the first contender): the first contender measured may include a one-off cost of a few hundred KB from the first cycles. ') +
        (alloc.control
          ? `A control contender — a loop that only reads the same pre-boxed input values, no call — measured the same way gives the floor of the method: ${bytes(alloc.control.bytesPerCall)}/call${alloc.control.valid === false ? ' (GC in window)' : ''}. `
          : '') +
        (alloc.method === 'pairs'
          ? `Per call from pairs of cycles: the contender's own code has a per-cycle cost as well — after the \`gc()\` that opens a cycle, a warmed-up helper's first few cycles each grew \`heapUsed\` by a fixed ~130–220 KB however many calls the cycle made (the same KB with 25, 50, 100 or 200 batches per cycle), which once read as 2.06 B/call. So each measurement is a pair of cycles of N and 2N calls (which runs first alternates; N = ${int(alloc.chunk)} for our helpers, smaller for contenders that allocate hundreds of bytes per call, so the long cycle stays under 32 MB), after two unmeasured warm-up pairs, and the figure is the difference over N: the allocation per call, with any fixed per-cycle cost cancelled. The mean over the pairs is the verdict; "raw" (all growth over all calls, the figure before pairs) and the fixed cost per cycle are shown beside it.`
          : ''),
      '',
    );
    const columns = [
      'helper',
      'helperNoExemplars',
      'helperInSpan',
      'otel',
      'otelCached',
      'otelLiteral',
      'prom',
      'promChild',
    ];
    const names = {
      helper: 'helper',
      helperNoExemplars: 'helper, no exemplars',
      helperInSpan: 'helper in sampled span',
      otel: 'raw OTel',
      otelCached: 'OTel cached attrs',
      otelLiteral: 'OTel literal attrs',
      prom: 'prom-client',
      promChild: 'prom-client child',
    };
    const present = columns.filter((column) => RECORD_KEYS.some((key) => alloc.results[key]?.tasks[column]));
    // Largest single chunk of the helper, beside its mean: a one-off cost shows in one chunk, a per-call allocation in all.
    const chunked = RECORD_KEYS.some((key) => Number.isFinite(alloc.results[key]?.tasks.helper?.maxChunkBytesPerCall));
    const paired = alloc.method === 'pairs';
    const allocUnit = unitOf(alloc);
    const helperExtras = [
      ...(chunked ? [`helper, largest ${allocUnit}`] : []),
      ...(paired ? ['helper, raw', 'helper, fixed KB/cycle'] : []),
    ];
    out.push(
      table(
        [
          'Comparison',
          ...present.flatMap((column) => (column === 'helper' ? [names[column], ...helperExtras] : [names[column]])),
        ],
        RECORD_KEYS.map((key) => [
          alloc.results[key].title,
          ...present.flatMap((column) => {
            const task = alloc.results[key].tasks[column];
            const cell = task ? `${bytes(task.bytesPerCall)}${task.valid ? '' : ' (GC in window)'}` : '—';
            if (column !== 'helper') return [cell];
            return [
              cell,
              ...(chunked
                ? [task && Number.isFinite(task.maxChunkBytesPerCall) ? bytes(task.maxChunkBytesPerCall) : '—']
                : []),
              ...(paired ? [bytes(task?.rawBytesPerCall), fixed((task?.fixedBytesPerCycle ?? NaN) / 1024, 1)] : []),
            ];
          }),
        ]),
      ),
      '',
    );
    out.push(
      `Bytes per call (${paired ? `mean over pairs of cycles` : 'mean over all chunks'}${chunked ? `; "helper, largest ${allocUnit}" is the largest of the helper's ${int(alloc.results.counter?.tasks.helper?.chunkBytesPerCall?.length)} ${allocUnit}s${paired ? '' : ` of ${int(alloc.chunk)} calls`}` : ''}). In the histogram row "raw OTel" is \`histogram.record(v, cachedAttrs)\`. ` +
        (alloc.control
          ? `Control (loop reading the same pre-boxed inputs, no call): ${bytes(alloc.control.bytesPerCall)}/call over ${int(alloc.control.calls)} calls${largestChunk(alloc, alloc.control)}. `
          : '') +
        cpuNote(alloc),
      '',
    );
  }
  return out.join('\n');
}

function renderScrape(results) {
  const out = ['## 2. Scrape', ''];
  const any = results['scrape-20000'] ?? results['scrape-1000'];
  if (any) {
    out.push(
      "Series are created through `GatewayTelemetry`'s generic `add`/`set`/`record` with distinct label values (`maxSeriesPerMetric` raised to the series count), and the same series through prom-client. " +
        'Mix: ' +
        any.mix.map((entry) => `\`${entry.key}\` ${Math.round(entry.share * 100)} %`).join(', ') +
        ' — 70 % counters, 15 % gauges, 15 % histograms (3 observations each, 17-bucket LLM layout); the `providers` category holds 10 % of the series. ' +
        "The helpers' `MeterProvider` is read by the stock `PrometheusExporter` (`preventServerStart`) with a view raising the SDK cardinality limit (see Findings). " +
        '"Full handler" is `createMetricsHandler({ source: exporter })` called with a `Request`, body consumed as bytes (`arrayBuffer()`), as the `node:http` adapter streams it. Verdicts on p50.',
      '',
    );
  }
  for (const size of [1000, 20000]) {
    const result = results[`scrape-${size}`];
    out.push(`### ${int(size)} series`, '');
    if (!result) {
      out.push('_Not run._', '');
      continue;
    }
    const baseline = result.results.promClient.ns.p50;
    out.push(
      table(
        ['Contender', 'ops/s', 'ns/op (mean)', '±rme', 'ms/op (p50)', '× prom-client (p50)'],
        result.order.map((id) => {
          const row = result.results[id];
          const label =
            id === 'promClient'
              ? `${row.label} (baseline)`
              : id === 'ours' || id === 'handler'
                ? `**${row.label}**`
                : row.label;
          return [
            label,
            fixed(row.opsPerSec, 1),
            int(row.ns.mean),
            `±${fixed(row.ns.rme, 1)} %`,
            fixed(row.ns.p50 / 1e6, 2),
            times(row.ns.p50 / baseline),
          ];
        }),
      ),
      '',
    );
    const o = result.outputs;
    out.push(
      `Output: ours ${int(o.ours.bytes)} bytes / ${int(o.ours.samples)} samples, stock serializer ${int(o.stock.bytes)} / ${int(o.stock.samples)} (${o.ours.bytes === o.stock.bytes ? 'byte-identical size' : 'different size'}), ` +
        `prom-client ${int(o.promClient.bytes)} / ${int(o.promClient.samples)} (ours adds \`target_info\`), OpenMetrics ${int(o.openMetrics.bytes)} / ${int(o.openMetrics.samples)} (adds \`_created\` samples), ` +
        `providers category ${int(o.providers.bytes)} / ${int(o.providers.samples)}.`,
      '',
    );
    out.push(
      `Targets (≤ 0.6× prom-client): \`serializePrometheus(collect())\` ${times(result.ratios.ours)} — ${verdict(result.targets.oursMet)}; full handler ${times(result.ratios.handler)} — ${verdict(result.targets.handlerMet)}. ` +
        `Category endpoint \`/prometheus/metrics/providers\` (${pct(o.providers.samples / o.ours.samples)} of the samples) costs ${times(result.results.providers.ns.p50 / result.results.handler.ns.p50)} of \`/metrics\`. ` +
        `Attribution: SDK \`collect()\` alone ${times(result.ratios.collectOnly)} of prom-client, our serialisation alone ${times(result.ratios.serializeOnly)} (stock serialisation alone ${times(result.ratios.stockSerializeOnly)}). ${cpuNote(result)}`,
      '',
    );
    const loop = result.eventLoop;
    out.push(
      `Event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution) over ${loop.handler.scrapes} back-to-back scrapes:`,
      '',
      table(
        ['Scrape', 'max (ms)', 'p99 (ms)', 'mean (ms)'],
        [
          [
            'ours, full handler (text)',
            fixed(loop.handler.maxMs),
            fixed(loop.handler.p99Ms),
            fixed(loop.handler.meanMs),
          ],
          [
            "ours, full handler (OpenMetrics, Prometheus' default Accept)",
            fixed(loop.handlerOpenMetrics.maxMs),
            fixed(loop.handlerOpenMetrics.p99Ms),
            fixed(loop.handlerOpenMetrics.meanMs),
          ],
          [
            'prom-client `registry.metrics()`',
            fixed(loop.promClient.maxMs),
            fixed(loop.promClient.p99Ms),
            fixed(loop.promClient.meanMs),
          ],
        ],
      ),
      '',
    );
    if (size === 20000) {
      out.push(
        `Event-loop target (≤ 50 ms at 20,000 series): ${verdict(result.targets.eventLoopMet)}. ` +
          "At this size the process holds all three libraries' series, and a major GC lands in some scrapes (the max includes it; so would production's). Run-to-run variation of the 20,000-series rows is large; the attribution rows (SDK `collect()` vs serialisation) are the stable part and carry the conclusion.",
        '',
      );
    }
    if (result.promtool.available) {
      out.push(
        `\`promtool check metrics\` on ours: exit ${result.promtool.exitCode}${result.promtool.problems.length ? `; output: ${result.promtool.problems.map((line) => `\`${line}\``).join(', ')}` : ', no findings'} — ${verdict(result.promtool.passed)}.`,
        '',
      );
    } else out.push('`promtool` not installed: check skipped.', '');
  }
  return out.join('\n');
}

function renderGateway(results, machine) {
  const out = ['## 3. Gateway overhead', ''];
  const result = results.gateway;
  if (!result) return [...out, '_Not run._', ''].join('\n');
  if (result.design !== 'slots') {
    out.push(
      '_These raw results come from an earlier version of this benchmark (A, B and C saturated at the same time); re-run `npm run bench` to render this section._',
      '',
    );
    return out.join('\n');
  }
  const sink = result.sanity.otlpSink;
  out.push(
    `Four ${gatewayProcesses(result, 'child processes')} with \`DEMO_LATENCY_MS=0 DEMO_ERROR_RATE=0 DEMO_TRAFFIC_RPS=0 PORT=0\`: ` +
      `A with \`OTEL_SDK_DISABLED=true\`; **B with telemetry on as the gateway ships** (metrics, the model-health recorder, logs to standard output, \`TELEMETRY_CONTEXT_MANAGER=synchronous\`: the gateway passes each request's context explicitly and no async hooks run; no OTLP endpoint is configured, so the SDK installs no tracer provider and spans are non-recording — B has ${int(result.sanity.onExemplars)} exemplars); ` +
      `C the same with \`TELEMETRY_CONTEXT_MANAGER=async-local-storage\` (the Node SDK default, for applications whose other instrumentation needs the active span across \`await\`s); ` +
      `D as B with traces on: \`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\` points at a loopback OTLP/HTTP receiver in the bench process, so every request records its 2 spans, which the batch span processor serialises and exports (${int(sink.requests)} exports, ${fixed(sink.bytes / 1e6, 1)} MB received; ${int(result.sanity.tracedExemplars)} exemplar lines on D's /metrics). The targets are judged on B; C and D are reported. ` +
      `**Throughput**: ${int(result.rounds)} rounds; in each, A, B, C and D in turn (the order rotates per round) get a ${result.roundS} s slot of saturating load from one autocannon (${result.connections} connections) while the others idle, so each slot measures what the gateway serves when it has the machine, and the slots compared are seconds apart and share whatever else the machine does. ` +
      "(The previous design saturated all gateways at once; then the scheduler's placement of the busy processes on the 2 cores decided each round — in trials the per-round sd of log(B/A) was 0.16–0.34 for streaming against 0.07 with slots — and the streaming verdict stayed inconclusive.) " +
      "The verdict uses the geometric mean of the per-round B/A ratios and its 95 % interval (Student's t on the log ratios): met / not met only when the whole interval is on one side of the target, otherwise inconclusive. " +
      `**Latency**: ${int(result.latencyRounds)} rounds of ${result.latencyRoundS} s of open-loop load at a fixed rate (${pct(result.rateShare)} of A's median saturated req/s, per gateway) from one schedule whose requests go to A, B, C and D in turn, so a stall of the machine or of the load generator delays requests of all four; latency runs from the scheduled start to the end of the body. The p99 target is judged on the p99 of all requests of all rounds per gateway, B − A, with a 95 % interval from a paired bootstrap over rounds (whole rounds are resampled, so A and B keep the windows they shared). ` +
      `"CPU ms/req" is each gateway's user+system CPU time from \`/proc/<pid>/stat\` per request, all threads (garbage collection helpers included). The simulated upstream providers run inside each gateway process, so each request's CPU includes the upstream side. Sanity: A answers /metrics with ${result.sanity.offMetricsStatus}, B with ${result.sanity.onMetricsStatus} (${int(result.sanity.onSeries)} samples after the run).`,
    '',
  );
  for (const [mode, data] of Object.entries(result.modes)) {
    const { throughputRounds, latencyRounds, summary } = data;
    const fr = summary.fixedRate;
    out.push(
      `### ${mode === 'streaming' ? 'Streaming (`stream: true`, SSE)' : 'Non-streaming'} \`POST /v1/chat/completions\``,
      '',
    );
    const spread = (key, field, digits) => {
      const values = throughputRounds.map((round) => round[key][field]);
      return `${fixed(Math.min(...values), digits)} – ${fixed(Math.max(...values), digits)}`;
    };
    const names = {
      off: 'A telemetry off',
      on: 'B telemetry on',
      als: 'C on, AsyncLocalStorage',
      traced: 'D on, traces exported',
    };
    out.push(
      table(
        [
          'Gateway',
          'req/s (mean)',
          'req/s (range over rounds)',
          'CPU ms/req',
          'p50 ms (saturated)',
          'p99 ms (saturated)',
          `p50 ms at ${int(fr.rate)} req/s`,
          `p99 ms at ${int(fr.rate)} req/s`,
          `CPU ms/req at ${int(fr.rate)} req/s`,
        ],
        ['off', 'on', 'als', 'traced'].map((key) => {
          const saturated = summary[key];
          return [
            names[key],
            fixed(saturated.requestsPerSec, 0),
            spread(key, 'requestsPerSec', 0),
            fixed(saturated.cpuMsPerRequest, 3),
            fixed(saturated.p50Ms, 2),
            fixed(saturated.p99Ms, 2),
            fixed(fr[key].p50Ms, 2),
            fixed(fr[key].p99Ms, 2),
            fixed(fr[key].cpuMsPerRequest, 3),
          ];
        }),
      ),
      '',
    );
    out.push(
      `Throughput, B over A, geometric mean of ${throughputRounds.length} rounds: **${pct(summary.throughputRatio)}**${ci(summary.throughputCi, pct)} (target ≥ 95 %) — ${verdict(gatewayVerdict(summary, summary.throughputMet))}. ` +
        `Requests per CPU-second, B over A, same rounds: ${pct(summary.cpuCapacityRatio)}${ci(summary.cpuCapacityCi, pct)}. ` +
        `p99 at saturation, B − A: ${signedMs(summary.saturatedP99DeltaMs)}${ci(summary.saturatedP99DeltaCi, signedMs)} (queueing; information only). Failed requests: ${summary.failures}${gatewayFailures(summary) > 0 ? ' (a comparison whose gateways saw one is inconclusive; req/s and CPU per request count 2xx answers only)' : ''}.`,
      '',
      `Per-round B/A ratios: ${throughputRounds.map((round) => pct(round.on.requestsPerSec / round.off.requestsPerSec)).join(', ')}.`,
      '',
      `Latency at ${int(fr.rate)} req/s per gateway, per round (A / B / C / D):`,
      '',
      table(
        ['Round', 'A p50 ms', 'A p99 ms', 'B p50 ms', 'B p99 ms', 'C p50 ms', 'C p99 ms', 'D p50 ms', 'D p99 ms'],
        latencyRounds.map((round, index) => [
          `${index + 1}`,
          fixed(round.off.p50Ms, 2),
          fixed(round.off.p99Ms, 2),
          fixed(round.on.p50Ms, 2),
          fixed(round.on.p99Ms, 2),
          fixed(round.als.p50Ms, 2),
          fixed(round.als.p99Ms, 2),
          fixed(round.traced.p50Ms, 2),
          fixed(round.traced.p99Ms, 2),
        ]),
      ),
      '',
      `p99 over all ${int(fr.requestsPerGateway ?? 0)} requests per gateway at this load: A ${fixed(fr.off.pooledP99Ms, 2)} ms, B ${fixed(fr.on.pooledP99Ms, 2)} ms, C ${fixed(fr.als.pooledP99Ms, 2)} ms, D ${fixed(fr.traced.pooledP99Ms, 2)} ms. ` +
        `B − A: **${signedMs(summary.p99DeltaMs)}**${ci(summary.p99DeltaCi, signedMs)} (95 % interval from a paired bootstrap over rounds) (target ≤ +1 ms) — ${verdict(gatewayVerdict(summary, summary.p99Met))}. ` +
        `Mean of the per-round p99 differences ${signedMs(summary.roundP99DeltaMs)}${ci(summary.roundP99DeltaCi, signedMs)}; p50 ${signedMs(summary.p50DeltaMs)}${ci(summary.p50DeltaCi, signedMs)}.`,
      '',

      `C (AsyncLocalStorage context manager) against A, same rounds: throughput ${pct(summary.als.throughputRatio)}${ci(summary.als.throughputCi, pct)}, requests per CPU-second ${pct(summary.als.cpuCapacityRatio)}${ci(summary.als.cpuCapacityCi, pct)}, p99 at ${int(fr.rate)} req/s (all requests) ${signedMs(summary.als.p99DeltaMs)}${ci(summary.als.p99DeltaCi, signedMs)} — the price of carrying the context across every \`await\` on Node.js ${
        String(machine?.node ?? 'unknown')
          .replace(/^v/, '')
          .split('.')[0]
      }.`,
      '',
      `D (traces recorded and exported over OTLP) against A, same rounds: throughput ${pct(summary.traced.throughputRatio)}${ci(summary.traced.throughputCi, pct)}, requests per CPU-second ${pct(summary.traced.cpuCapacityRatio)}${ci(summary.traced.cpuCapacityCi, pct)}, p99 at ${int(fr.rate)} req/s (all requests) ${signedMs(summary.traced.p99DeltaMs)}${ci(summary.traced.p99DeltaCi, signedMs)} — the price of tracing every request (span objects, batching, protobuf serialisation and export); sample in production (\`OTEL_TRACES_SAMPLER=parentbased_traceidratio\`) when that is too much.`,
      '',
    );
  }
  if (result.profile) {
    const shares = result.profile.shares;
    const offShares = result.profiles?.off?.shares;
    const offCell = (key) => (offShares ? pct(offShares[key]) : 'n/a');
    out.push(
      '### Where a telemetry-on gateway spends its CPU',
      '',
      `V8 CPU profile (\`--cpu-prof\`) of another gateway configured as B, under the same non-streaming load (${int(result.profile.requests)} requests; only the samples of the measured run, ${int(result.profile.busyMs)} ms of busy CPU, start-up and shutdown excluded), self time by origin. ` +
        'Shares inside one process do not depend on how busy the machine is. Inlined frames count for the function they were inlined into, so library shares are lower bounds.',
      '',
      table(
        ['Origin', 'telemetry on', 'telemetry off (baseline)'],
        [
          [
            '`@opentelemetry/*` (metric storage, API, context manager; no spans are recorded here)',
            pct(shares.openTelemetry),
            offCell('openTelemetry'),
          ],
          [
            '`@gatewayz/telemetry`, `@gatewayz/telemetry-node` (helpers, recorder, exemplars)',
            pct(shares.ourPackages),
            offCell('ourPackages'),
          ],
          [
            '`node:async_hooks` / AsyncLocalStorage (context propagation for the SDK)',
            pct(shares.asyncHooks),
            offCell('asyncHooks'),
          ],
          [
            '**sum of the three**',
            `**${pct(result.profile.telemetryShare)}**`,
            offShares ? pct(result.profiles.off.telemetryShare) : 'n/a',
          ],
          ['garbage collector (all code)', pct(shares.garbageCollector), offCell('garbageCollector')],
          [
            'application, Hono, undici, Node internals, simulated upstreams',
            pct(shares.applicationAndNode),
            offCell('applicationAndNode'),
          ],
        ],
      ),
      '',
      `The telemetry-off gateway still runs the helpers (counters and histograms aggregate in-process; \`OTEL_SDK_DISABLED\` stops export, and spans are non-recording) and the model-health recorder. Two estimates of the throughput ratio on a CPU-bound gateway follow: ` +
        (result.profiles?.off
          ? `1 − the extra telemetry self time = ${pct(profileEstimates(result.profiles).bySelfTime)}; the application's share with telemetry over its share without (same application work per request, so this is the ratio of CPU per request, GC included) = ${pct(profileEstimates(result.profiles).byApplicationShare)}. `
          : '') +
        "Self-time attribution moves with V8's inlining decisions from run to run (SDK code inlined into a caller counts for the caller), so read these as ±2 points; the async-hooks row is the stable part. Target ≥ 95 %.",
      '',
    );
  }
  const spans = results.spans;
  const histogram = results['record-histogram'];
  const probes = results.probes;
  if (spans && histogram) {
    const spanUs = spans.sdkNoProcessorSummary.pathNs.p50 / 1000;
    const histUs = histogram.results.helper.ns.p50 / 1000;
    const histInSpanUs = (histogram.results.helperInSpan ?? histogram.results.helper).ns.p50 / 1000;
    const offCpuUs = Math.min(...Object.values(result.modes).map((mode) => mode.summary.off.cpuMsPerRequest * 1000));
    const expected = 6 * histUs + 8 * 0.05;
    const expectedTraced = 2 * spanUs + 6 * histInSpanUs + 8 * 0.05;
    out.push(
      `Expected cost from the component benchmarks, B: 6 histogram observations with no span to take an exemplar from (${fixed(histUs, 2)} µs each, section 1) and ~8 counter/gauge updates (< 0.1 µs each) ≈ ${fixed(expected, 1)} µs per request, and no context propagation cost (no async hooks). ` +
        `D adds 2 recorded SDK spans (server + GenAI client, ${fixed(spanUs, 1)} µs each before export, section 6) and exemplar capture (${fixed(histInSpanUs, 2)} µs per observation inside a sampled span) ≈ ${fixed(expectedTraced, 0)} µs, plus serialising and exporting the spans in the background. ` +
        (probes?.als
          ? `C adds the AsyncLocalStorage context manager, which makes every \`await\` in the process ${fixed(probes.als.overheadNsPerAwait, 0)} ns dearer (probe). `
          : 'C adds the AsyncLocalStorage context manager. ') +
        `Against ≈ ${fixed(offCpuUs, 0)} µs of CPU per request without telemetry (the lowest mode mean above) that is ≈ ${pct(expected / offCpuUs)} for B and ≈ ${pct(expectedTraced / offCpuUs)} for D before export; the measured differences above include what these micro-benchmarks miss (garbage collection of the extra objects, cache effects).`,
      '',
    );
  }
  out.push(cpuNote(result, { waits: true }), '');
  return out.join('\n');
}

function renderMemory(results) {
  const out = ['## 4. Memory', ''];
  const contenders = [
    'helpers-counter',
    'otel-counter',
    'prom-counter',
    'helpers-histogram',
    'otel-histogram',
    'prom-histogram',
  ];
  const rows = contenders
    .filter((id) => results[`memory-${id}`])
    .map((id) => {
      const result = results[`memory-${id}`];
      const [library, kind] = id.split('-');
      const name = { helpers: 'our helpers', otel: 'raw OTel', prom: 'prom-client' }[library];
      return [
        `${name}, ${kind} (1 label)`,
        int(result.series),
        bytes(result.bytesPerSeriesRecorded),
        bytes(result.bytesPerSeriesAfterCollect),
      ];
    });
  if (rows.length > 0) {
    out.push(
      'Each contender in a fresh process (`--expose-gc`). Label strings are created before the baseline; heap after a double `gc()` before and after creating the series, then again after two collections ' +
        '(`reader.collect()` for the OTel SDK, `registry.metrics()` for prom-client): the SDK keeps per-series state for cumulative temporality once it has collected, so the second column is what a scraped process holds.',
      '',
      table(['Contender', 'series', 'bytes/series after recording', 'bytes/series after collections'], rows),
      '',
    );
  }
  const flood = results['memory-flood'];
  out.push('### Label flood', '');
  if (!flood) out.push('_Not run._', '');
  else {
    const [requestsName, durationName] = Object.keys(flood.overflowTotal);
    out.push(
      `\`${flood.helper}\` for ${int(flood.calls)} distinct model names, default \`maxSeriesPerMetric\` (${int(flood.maxSeriesPerMetric)}), SDK provider with a reader. ` +
        `Heap after gc: ${fixed(flood.heapBeforeMb, 1)} MB before, ${fixed(flood.heapAfterMb, 1)} MB after (${fixed(flood.heapAfterMb - flood.heapBeforeMb, 1)} MB for the capped series), ${fixed(flood.heapAfterCollectMb, 1)} MB after a collection. ` +
        `Checkpoints every ${int(flood.calls / 10)} calls: ${flood.checkpoints.map((checkpoint) => `${fixed(checkpoint.heapMb, 1)}`).join(', ')} MB — flat. ` +
        `Series held: ${int(flood.seriesRequests)} (\`${requestsName}\`), ${int(flood.seriesDuration)} (\`${durationName}\`). ` +
        `\`gatewayz_telemetry_label_overflow_total\`: ${int(flood.overflowTotal[requestsName])} for \`${requestsName}\`, ${int(flood.overflowTotal[durationName])} for \`${durationName}\`. ` +
        `Cost of a flooded call (new value every time, folded into \`other\`): ${int(flood.nsPerCall)} ns. Exported data points after collection: ${int(flood.exportedPoints)} (see Findings on the SDK limit). ${cpuNote(flood)}`,
      '',
    );
  }
  return out.join('\n');
}

function renderModelHealthDatabase(results) {
  const result = results['model-health-db'];
  const out = ['### Writes to the Supabase store (real PostgreSQL + PostgREST)', ''];
  if (!result) return [...out, '_Not run._', ''].join('\n');
  out.push(
    `\`recordModelCall\` on a recorder backed by \`SupabaseModelHealthStore\`: ${int(result.recordCallsPerSecond)} calls/s (${nsText(result.recordNsPerCall)} ns/call over ${int(result.recordIterations)} calls; the request path does no I/O, the ${int(result.recordIterations)} calls then reached the database in ${int(result.hotFlushRequests)} request(s)).`,
    '',
    `${int(result.calls)} calls over 50 (provider, model) pairs, round trips counted at the PostgREST proxy:`,
    '',
    table(
      ['Writer', 'Round trips', 'per 10,000 calls', 'Wall time'],
      [
        [
          'Write-behind recorder (one `record_model_calls` per flush)',
          int(result.writeBehind.requests),
          int(result.writeBehind.requestsPer10k),
          `${fixed(result.writeBehind.ms, 1)} ms`,
        ],
        [
          'Naive upsert per call',
          int(result.naive.requests),
          int(result.naive.requestsPer10k),
          `${fixed(result.naive.ms, 0)} ms`,
        ],
      ],
    ),
    '',
    `Round trips: naive / write-behind = ${int(result.roundTripRatio)}× (target ≥ 1,000×). Both leave exactly ${int(result.calls)} calls in the table.`,
    '',
  );
  return out.join('\n');
}

function renderModelHealth(results) {
  const out = ['## 5. Model health', ''];
  const result = results['model-health'];
  if (!result) return [...out, '_Not run._', ''].join('\n');
  if (!result.recorderExported) {
    out.push(
      '> **TODO — write-behind recorder not benchmarked.** `ModelHealthRecorder`/`recordModelCall` was not exported by `@gatewayz/telemetry` when this ran; the table below measures `MemoryModelHealthStore.recordCall` and `foldModelCall` instead. Re-run `npm run bench` once the recorder is exported: the section picks it up automatically.',
      '',
    );
  }
  const baselineId = result.recorderExported ? 'storeRecordCall' : 'foldModelCall';
  const baseline = result.record[baselineId].ns.p50;
  out.push(
    '`recordModelCall` throughput: 64 (provider, model) pairs, 1 call in 16 failing, call objects built up front. The recorder runs on an injected clock whose timers never fire, so no flush interferes.',
    '',
    table(
      ['Contender', 'ops/s', 'ns/op (mean)', '±rme', 'ns/op (p50)', `× ${baselineId} (p50)`],
      result.recordOrder.map((id) => {
        const row = result.record[id];
        return timingRow(id === 'recorder' ? `**${row.label}**` : row.label, row, baseline);
      }),
    ),
    '',
  );
  if (result.flush) {
    out.push(
      `Flush: ${int(result.flush.models)} distinct models pending (one call each) written with \`recorder.flush()\` (batches of 1,000 into a \`MemoryModelHealthStore\`): mean ${fixed(result.flush.ms.mean, 1)} ms, p50 ${fixed(result.flush.ms.p50, 1)} ms over ${result.flush.ms.n} runs. ` +
        'It is asynchronous but each batch is applied synchronously by the memory store, so one batch is the longest block.',
      '',
    );
  }
  const tracker = result.tracker;
  out.push(
    `### Provider health tracker tick`,
    '',
    `\`startProviderHealthTracker\` over a \`MemoryModelHealthStore\` holding ${int(tracker.models)} records (${tracker.providers} providers), injected clock (30 s per tick), \`runImmediately: false\`; between ticks a tenth of the models get a new call. ` +
      `Times \`await tracker.tick()\` over ${tracker.tickMs.n} ticks; the tracker reads the store in place (\`forEachModelHealth\`). For reference, \`store.listAllModelHealth()\` (a copy of every record) is timed before each tick: what a source without \`forEachModelHealth\` adds.`,
    '',
    table(
      ['Measure', 'mean (ms)', '±rme', 'p50 (ms)', 'p99 (ms)', 'max (ms)'],
      [
        [
          '`tracker.tick()`',
          fixed(tracker.tickMs.mean, 2),
          `±${fixed(tracker.tickMs.rme, 1)} %`,
          fixed(tracker.tickMs.p50, 2),
          fixed(tracker.tickMs.p99, 2),
          fixed(tracker.tickMs.max, 2),
        ],
        [
          'reference: `store.listAllModelHealth()` (copies every record)',
          fixed(tracker.listAllModelHealthMs.mean, 2),
          `±${fixed(tracker.listAllModelHealthMs.rme, 1)} %`,
          fixed(tracker.listAllModelHealthMs.p50, 2),
          fixed(tracker.listAllModelHealthMs.p99, 2),
          fixed(tracker.listAllModelHealthMs.max, 2),
        ],
      ],
    ),
    '',
    `Target < 10 ms (mean): ${verdict(tracker.met)}. ${cpuNote(result)}`,
    '',
  );
  return out.join('\n');
}

function renderSpans(results) {
  const out = ['## 6. Spans', ''];
  const result = results.spans;
  if (!result) return [...out, '_Not run._', ''].join('\n');
  out.push(
    `Per iteration: \`startGenAiSpan(tracer, { chat, openai, gpt-4o-mini, server address/port, max tokens })\` then \`endGenAiSpan(span, { response model, tokens, finish reasons })\`. ${int(result.total)} spans in ${result.windows} windows, bursts of ${result.chunk} spans with a \`setImmediate\` between bursts so the batch processor's timers and the exporter run. ` +
      "The three modes run interleaved, burst by burst in rotating order, so a change in machine load hits all of them alike; the failing exporter's background work runs during the yields, shared by all. Path cost per window = median burst. The exporter is `OTLPTraceExporter` (HTTP) pointed at a loopback port that was bound and closed (connection refused).",
    '',
  );
  const modes = [
    ['noop', 'No tracing (API no-op tracer, as with `OTEL_SDK_DISABLED=true`) — baseline'],
    ['sdkNoProcessor', 'SDK `BasicTracerProvider`, no span processor (info)'],
    ['batchDeadEndpoint', 'SDK + `BatchSpanProcessor` + `OTLPTraceExporter` → dead endpoint'],
  ];
  const base = result.noopSummary.pathNs.p50;
  out.push(
    table(
      [
        'Mode',
        'ops/s (p50)',
        'ns/span (p50)',
        'ns/span (mean of windows)',
        '±rme',
        '× no tracing',
        'windows 2-4 → last 3',
        'heap range (MB)',
      ],
      modes.map(([key, label]) => {
        const summary = result[`${key}Summary`];
        const heaps = result[key].map((window) => window.heapMb);
        return [
          label,
          int(1e9 / summary.pathNs.p50),
          int(summary.pathNs.p50),
          int(summary.pathNs.mean),
          `±${fixed(summary.pathNs.rme, 1)} %`,
          times(summary.pathNs.p50 / base),
          `${int(summary.flatness.earlyNs)} → ${int(summary.flatness.lateNs)} ns (${times(summary.flatness.ratio)})`,
          `${fixed(Math.min(...heaps), 0)}–${fixed(Math.max(...heaps), 0)}`,
        ];
      }),
    ),
    '',
  );
  out.push(
    `Exporter while the windows ran: ${result.exporter.exportCalls} export calls carrying ${int(result.exporter.spansOffered)} spans, ${result.exporter.failed} failed, ${result.exporter.succeeded} succeeded (the rest were still retrying); ` +
      `the processor's queue is bounded (2,048), so the other ${int(result.total - result.exporter.spansOffered)} spans were dropped instead of piling up — heap stays flat.`,
    '',
    `Per-window path cost with the failing exporter (ns/span): ${result.batchDeadEndpoint.map((window) => int(window.pathNsPerSpan)).join(', ')}.`,
    '',
    `Target (no slow-down over time): the exporter-backed path drifts ${times(result.relativeFlatness)} relative to the same SDK without an exporter (last three windows vs windows 2-4, each against its own early windows; ≤ 1.25× counts as flat) — ${verdict(result.flatMet)}. ${cpuNote(result)}`,
    '',
  );
  return out.join('\n');
}

function renderProbes(results) {
  const probes = results.probes;
  if (!probes) return '';
  const out = ['## Appendix: probes behind the proposals', ''];
  out.push(
    'Plain-JS stand-ins (no package internals), `bench/sections/probes.mjs`:',
    '',
    table(
      ['Probe', 'Result'],
      [
        [
          '`cell.value += v` on an object-literal cell `{ value: 0, attributes }` (as `SeriesStore.createCell` builds it)',
          `${bytes(probes.doubleField.literalBytesPerAdd)}/add`,
        ],
        [
          'same on a class instance (`constructor() { this.value = 0; … }`)',
          `${bytes(probes.doubleField.classBytesPerAdd)}/add`,
        ],
        [
          'histogram aggregated in the cell (binary search + 3 writes), p50',
          `${nsText(probes.inCellHistogram.nsInCell)} ns/op, ${bytes(probes.inCellHistogram.bytesInCell)}/op`,
        ],
        [
          'SDK `histogram.record(v, cachedAttrs)`, p50',
          `${nsText(probes.inCellHistogram.nsSdk)} ns/op, ${bytes(probes.inCellHistogram.bytesSdk)}/op`,
        ],
        [
          `producer-style collection: ${int(probes.producerCollect.series)} data points built from cells, p50`,
          `${fixed(probes.producerCollect.msP50, 2)} ms`,
        ],
        [
          `tracker bookkeeping over ${int(probes.trackerKeys.models)} records, Map keyed by a fresh template string per record`,
          `${fixed(probes.trackerKeys.templateKeyMs, 2)} ms`,
        ],
        ['same with nested maps (provider → model)', `${fixed(probes.trackerKeys.nestedMapMs, 2)} ms`],
        [
          `sorting ${int(probes.trackerKeys.models)} record copies by provider, model`,
          `${fixed(probes.trackerKeys.sortMs, 2)} ms`,
        ],
        ...(probes.als
          ? [
              [
                '`await` without a context manager → with `AsyncLocalStorageContextManager` active (p50)',
                `${fixed(probes.als.withoutNs, 0)} → ${fixed(probes.als.withNs, 0)} ns per await (+${fixed(probes.als.overheadNsPerAwait, 0)} ns)`,
              ],
            ]
          : []),
      ],
      2,
    ),
    '',
  );
  return out.join('\n');
}

// --- causes and proposals ----------------------------------------------------------------------------
function renderProposals(results, targets) {
  const missed = new Set(targets.filter((target) => target.met === false).map((target) => target.id));
  const out = ['## Missed (or borderline) targets: measured cause and proposed change', ''];
  const probes = results.probes;
  const inconclusive = targets.filter((target) => target.met === 'inconclusive');
  if (missed.size === 0 && inconclusive.length === 0) out.push('Every target that ran was met.', '');
  else if (missed.size === 0) out.push('No target that ran was missed.', '');
  if (inconclusive.length > 0)
    out.push(
      `Inconclusive in this run (the 95 % interval straddles the target, or what was measured cannot decide it: failed requests, a collection inside an allocation window, a figure the section could not read; so neither met nor missed can be claimed): ${inconclusive
        .map((target) => `${target.target} — ${target.measured}`)
        .join(
          '; ',
        )}. The interval is as wide as the machine's noise allows in the time the section takes; the per-round figures in the section show the spread.`,
      '',
    );

  for (const key of ['counter', 'gauge', 'multiLabel']) {
    if (!missed.has(`record-${key}`)) continue;
    const result = results[`record-${key}`];
    out.push(
      `### ${result.title}`,
      '',
      `Measured: helper ${nsText(result.results.helper.ns.p50)} ns vs prom-client ${nsText(result.results.prom.ns.p50)} ns (p50). The helper path is validation + a nested-Map lookup + a field update; a miss here points at a regression in \`SeriesStore.lookup\` or \`MetricRecorder.acceptValue\` (\`packages/telemetry/src/metrics/series-store.ts\`, \`metrics/metric-recorder.ts\`): profile with \`node --cpu-prof bench/sections/record-path.mjs ${key}\`.`,
      '',
    );
  }

  if (missed.has('record-histogram')) {
    const result = results['record-histogram'];
    const helper = result.results.helper.ns.p50;
    const raw = result.results.otel.ns.p50;
    out.push(
      '### Histogram record path > 1.1× raw OTel',
      '',
      `Measured: helper ${nsText(helper)} ns vs raw \`histogram.record(v, cachedAttrs)\` ${nsText(raw)} ns (p50): ${nsText(helper - raw)} ns on top of the SDK call` +
        (result.results.helperNoExemplars
          ? `, of which exemplar capture accounts for ${nsText(helper - result.results.helperNoExemplars.ns.p50)} ns (helper with \`exemplars: false\`: ${nsText(result.results.helperNoExemplars.ns.p50)} ns, ${times(result.results.helperNoExemplars.ns.p50 / raw)})`
          : '') +
        '. ' +
        'The helper adds the value check, the cell lookup and, since exemplars, `captureExemplar` (a `context.active()` lookup through AsyncLocalStorage on every observation). ' +
        (probes
          ? `The SDK call itself dominates: ${nsText(probes.inCellHistogram.nsSdk)} ns in the probe, against ${nsText(probes.inCellHistogram.nsInCell)} ns for the same aggregation done in the cell. `
          : '') +
        '**Proposal (P2)** — `packages/telemetry/src/metrics/series-store.ts` / `metric-recorder.ts`: aggregate histograms in the `SeriesCell` like counters (a `Float64Array` of bucket counts, `sum`, `count`; `observe()` = binary search + three writes) and export them as HISTOGRAM data points through the metric producer of P1 instead of `meter.createHistogram`. ' +
        'That makes the helper far cheaper than the raw SDK histogram (the ratio target is then met by a wide margin) and removes the per-call allocation. Exemplars stay beside the cell' +
        (result.results.helperInSpan
          ? `; inside a sampled span the helper costs ${nsText(result.results.helperInSpan.ns.p50)} ns: \`captureExemplar\` (\`packages/telemetry/src/metrics/exemplars.ts\`) rewrites \`value\` and \`timestampSeconds\` of an object-literal slot, which allocates a HeapNumber per write (same V8 behaviour as P5) — make the slot a class instance or keep the numbers in a \`Float64Array\` per series, and read the clock once per observation`
          : '') +
        '.',
      '',
    );
  }

  const allocMissed = RECORD_KEYS.filter((key) => missed.has(`alloc-${key}`));
  if (allocMissed.length > 0) {
    const alloc = results.alloc;
    const allocUnit = unitOf(alloc);
    out.push('### Allocation per call', '');
    const helpers = {
      counter: '`incrementCostByProvider` (counter, fractional USD)',
      gauge: '`setProviderHealthScore` (gauge)',
      multiLabel: '`recordTokensUsed` (counter, 3 labels, integer tokens)',
      histogram: '`recordProviderResponseTime` (histogram)',
    };
    /** The measured facts of one missed helper: mean, largest chunk, chunks at or above the limit, control. */
    const facts = (key) => {
      const task = alloc.results[key].tasks[alloc.results[key].subject];
      const chunks = Array.isArray(task.chunkBytesPerCall) ? task.chunkBytesPerCall : undefined;
      const high = chunks?.filter((value) => value >= NO_ALLOCATION_BYTES).length;
      return (
        `${helpers[key]}: ${bytes(task.bytesPerCall)}/call on average over ${int(task.calls)} calls` +
        (chunks
          ? ` in ${int(chunks.length)} ${allocUnit}s; largest ${allocUnit} ${bytes(task.maxChunkBytesPerCall)}/call; ${int(high)} of ${int(chunks.length)} ${allocUnit}s at or above ${NO_ALLOCATION_BYTES} B/call`
          : '') +
        (alloc.control ? `; control ${bytes(alloc.control.bytesPerCall)}/call` : '') +
        (task.valid === false ? '; a collection started inside a window, so the figure is not exact' : '') +
        '. ' +
        (chunks === undefined
          ? 'These results predate the per-chunk figures and the harness settle step: re-run `BENCH_ONLY=alloc node bench/run.mjs` to tell a one-off cost from a steady per-call allocation. '
          : high === chunks.length
            ? `Every ${allocUnit} is above the limit: a steady allocation, not a one-off cost${task.bytesPerCall < 12 ? ` — on some calls only (a heap object is ≥ 12 B, so about one call in ${int(16 / task.bytesPerCall)} allocates a 16-byte one)` : ''}; find it with a heap sampling profile of the helper loop (\`node --heap-prof\`) or \`--trace-deopt\` (optimised code that boxes a double allocates a HeapNumber). `
            : `Only ${int(high)} of ${int(chunks.length)} ${allocUnit}s ${high === 1 ? 'is' : 'are'} above the limit: a one-off cost inside ${high === 1 ? `that ${allocUnit}` : `those ${allocUnit}s`} (code compiled or feedback allocated while the window was open), not an allocation per call; ` +
              `${alloc.settle ? `the harness was settled first (${int(alloc.settle.cycles ?? alloc.settle.cyclesKb?.length)} empty cycles${alloc.settle.settled === false ? ', **not settled**' : ''})` : 'these results predate the harness settle step, which removes the usual one-off cost of the first cycles'}. `)
      );
    };
    for (const key of ['counter', 'gauge', 'multiLabel']) {
      if (!allocMissed.includes(key)) continue;
      if (key === 'gauge') {
        out.push(`${facts(key)}The gauge helper stores the caller's (already boxed) number in \`cell.value\`.`, '');
        continue;
      }
      out.push(
        facts(key) +
          'Cells are `class Cell` instances (`packages/telemetry/src/metrics/series-store.ts`), so `cell.value += value` updates an in-place double field' +
          (probes
            ? ` (probe: ${bytes(probes.doubleField.classBytesPerAdd)}/add on a class instance vs ${bytes(probes.doubleField.literalBytesPerAdd)}/add on an object-literal one)`
            : '') +
          '.',
        '',
      );
    }
    if (allocMissed.includes('histogram')) {
      const tasks = alloc.results.histogram.tasks;
      out.push(
        facts('histogram') +
          "With `exportVia: 'producer'` (as `startTelemetry` configures it, and as measured here) `observe()` aggregates in the cell (`packages/telemetry/src/metrics/metric-recorder.ts`: bucket index, `counts`, `count`, `sum`, `min`, `max` in `cell.histogram`) and does not call the SDK, whose `histogram.record(v, cachedAttrs)` allocates " +
          `${bytes(tasks.otel?.bytesPerCall)}/call here (\`hashAttributes\` on every call). ` +
          (tasks.helperNoExemplars
            ? `Exemplar capture (\`captureExemplar\`, \`packages/telemetry/src/metrics/exemplars.ts\`) outside a sampled span: the helper with \`exemplars: false\` allocates ${bytes(tasks.helperNoExemplars.bytesPerCall)}/call${largestChunk(alloc, tasks.helperNoExemplars)}` +
              (tasks.helperNoExemplars.bytesPerCall < NO_ALLOCATION_BYTES
                ? ', so the allocation comes with the exemplar path (`observe()` calling `captureExemplar`, which outside a span returns right after the context lookup).'
                : '.')
            : ''),
        '',
      );
    }
  }

  const scrapeMissed = [1000, 20000].filter(
    (size) => missed.has(`scrape-${size}-ours`) || missed.has(`scrape-${size}-handler`),
  );
  if (scrapeMissed.length > 0 || missed.has('scrape-eventloop')) {
    const big = results['scrape-20000'] ?? results['scrape-1000'];
    const size = big.series;
    const promMs = big.results.promClient.ns.p50 / 1e6;
    const collectMs = big.results.collectOnly.ns.p50 / 1e6;
    const serializeMs = big.results.serializeOnly.ns.p50 / 1e6;
    out.push('### Scrape cost and event-loop blocking', '');
    out.push(
      `Measured at ${int(size)} series: prom-client ${fixed(promMs, 1)} ms, budget 0.6× = ${fixed(promMs * 0.6, 1)} ms. ` +
        `The SDK's \`collect()\` alone takes ${fixed(collectMs, 1)} ms (${times(big.ratios.collectOnly)} prom-client) — ${collectMs > promMs * 0.6 ? 'over the whole budget before a byte is serialised' : 'most of the budget'}; our serialiser takes ${fixed(serializeMs, 1)} ms (${times(big.ratios.serializeOnly)}), ${fixed(big.results.stockSerializeOnly.ns.p50 / 1e6 / serializeMs, 1)}× faster than the stock one. ` +
        'Where `collect()` goes: the helpers hold every counter and gauge value already, but report them through observable instruments, so on each scrape the SDK re-hashes every attribute set (`hashAttributes`: sort + `JSON.stringify`) into `AttributeHashMap`s, diffs it against a cumulative memo and merges it into per-reader storage; histograms are copied bucket array by bucket array. ' +
        'Both `collect()` (after the callbacks) and the serialiser run synchronously, so the longest event-loop block is roughly their sum' +
        (results['scrape-20000']
          ? ` (${fixed(results['scrape-20000'].eventLoop.handler.maxMs, 0)} ms max at 20,000 series; prom-client blocks ${fixed(results['scrape-20000'].eventLoop.promClient.maxMs, 0)} ms)`
          : '') +
        '.',
      '',
      '**Proposal (P1)** — `packages/telemetry/src/metrics/metric-recorder.ts`: give `GatewayTelemetry` a `metricProducer()` returning an SDK `MetricProducer` whose `collect()` builds `MetricData` for the helper metrics straight from `SeriesStore.cells` (one data point per cell, reusing `cell.attributes`, shared start/end time; SUM for counters with `isMonotonic`, GAUGE for gauges, HISTOGRAM once P2 lands), and stop creating observable instruments for those metrics when the producer is in use. ' +
        "`packages/telemetry-node/src/start-telemetry.ts`: `new PrometheusExporter({ preventServerStart: true, withoutScopeInfo, metricProducers: [telemetry.metricProducer()] })` — `MetricReader.collect()` merges producer output with the SDK's (runtime/host metrics keep going through the SDK). " +
        (probes
          ? `Probe: building ${int(probes.producerCollect.series)} data points from cells takes ${fixed(probes.producerCollect.msP50, 2)} ms, `
          : '') +
        `so a scrape becomes ≈ serialisation (${fixed(serializeMs, 1)} ms) + a few ms ≈ ${times((serializeMs + (probes?.producerCollect.msP50 ?? 2)) / promMs)} prom-client.`,
      '',
      `**Proposal (P3)** — \`packages/telemetry-node/src/prometheus-serializer.ts\` and \`openmetrics-serializer.ts\`: add a generator form (\`*serializePrometheusChunks(resourceMetrics, options)\`) yielding the text every ~1,000 data points, and in \`metrics-handler.ts\` \`exposition()\` answer with \`new Response(ReadableStream)\` whose \`pull()\` takes the next chunk (or \`await setImmediate\` between chunks before joining). ` +
        `With P1 the longest block becomes one chunk (≈ ${fixed(serializeMs / (size / 1000), 1)} ms at this rate) instead of the whole scrape; P3 alone cannot bound the SDK's synchronous \`collect()\`${results['scrape-20000'] ? ` (${fixed(results['scrape-20000'].results.collectOnly.ns.p50 / 1e6, 0)} ms at 20,000 series)` : ''}.`,
      '',
    );
  }

  const gatewayProfileTarget = targets.find((target) => target.id === 'gateway-profile');
  if (missed.has('gateway-profile') || gatewayProfileTarget?.met === 'inconclusive') {
    const { on, off } = results.gateway.profiles;
    const probesAls = probes?.als;
    out.push(
      `### Gateway overhead (CPU-profile estimate${gatewayProfileTarget?.met === 'inconclusive' ? ': borderline' : ''})`,
      '',
      `Measured: throughput estimated at ${gatewayProfileTarget?.measured.replace(/^≈ /, '')} of the telemetry-off gateway, around the 95 % target. In a telemetry-on gateway, \`@opentelemetry/*\` takes ${pct(on.shares.openTelemetry)} of busy CPU (off: ${pct(off.shares.openTelemetry)}), \`node:async_hooks\` ${pct(on.shares.asyncHooks)} (off: ${pct(off.shares.asyncHooks)}), our packages ${pct(on.shares.ourPackages)} (off: ${pct(off.shares.ourPackages)} — the recorder and in-process counters run in both). ` +
        `So ≈ ${pct(on.shares.asyncHooks - off.shares.asyncHooks)} is context propagation: NodeSDK installs the AsyncLocalStorage context manager, which on Node 20 is built on async hooks and makes every promise and \`await\` in the process dearer` +
        (probesAls ? ` (+${fixed(probesAls.overheadNsPerAwait, 0)} ns per \`await\` in the probe)` : '') +
        `, gateway code and libraries included; ≈ ${pct(on.shares.openTelemetry - off.shares.openTelemetry)} is SDK self time (metric storage and the API; B records no spans — a lower bound: SDK code V8 inlines into its callers counts for them, which is what the application-share estimate catches, together with the extra garbage collection: ${pct(on.shares.garbageCollector)} vs ${pct(off.shares.garbageCollector)} of busy CPU); our helpers add ≈ ${pct(on.shares.ourPackages - off.shares.ourPackages)}.`,
      '',
      "**Proposals**, by measured weight: (1) context propagation — run the gateway on Node ≥ 22 with `--experimental-async-context-frame` (the default from Node 24), where AsyncLocalStorage no longer rides on async hooks; no source change, but `engines` in the root `package.json` and the gateway's start command would say so. If Node 20 must stay, this share is the price of trace context and can only shrink with fewer awaits per request. " +
        '(2) SDK histogram cost — P2 (in-cell histograms) takes the 6 observations per request out of the SDK. ' +
        '(3) spans — `OTEL_TRACES_SAMPLER=parentbased_traceidratio` in production turns unsampled spans into no-ops. ' +
        '(4) `examples/gateway/src/request/finish-attempt.ts`: the record block runs inside `contextApi.with(trace.setSpan(...))` only so that `captureExemplar` can find the span; passing the span context to the helpers explicitly (an optional argument or a `telemetry.withExemplarSpan(span)` scope on the instance) saves one context switch per attempt.',
      '',
    );
  }

  for (const mode of ['nonStreaming', 'streaming']) {
    if (!missed.has(`gateway-${mode}-throughput`) && !missed.has(`gateway-${mode}-p99`)) continue;
    const summary = results.gateway.modes[mode].summary;
    const deltaUs = (summary.on.cpuMsPerRequest - summary.off.cpuMsPerRequest) * 1000;
    const profile = results.gateway.profile;
    out.push(
      `### Gateway overhead (${mode === 'streaming' ? 'streaming' : 'non-streaming'})`,
      '',
      `Measured: ${pct(summary.throughputRatio)} throughput${ci(summary.throughputCi, pct)} (per CPU-second ${pct(summary.cpuCapacityRatio)}), p99 at a fixed load ${signedMs(summary.p99DeltaMs)}${ci(summary.p99DeltaCi, signedMs)}; telemetry adds ${fixed(deltaUs, 0)} µs of CPU per request under saturation (${fixed(summary.off.cpuMsPerRequest * 1000, 0)} → ${fixed(summary.on.cpuMsPerRequest * 1000, 0)} µs). ` +
        (profile
          ? `The CPU profile of a telemetry-on gateway attributes ${pct(profile.telemetryShare)} of its busy CPU to telemetry (OTel ${pct(profile.shares.openTelemetry)}, ours ${pct(profile.shares.ourPackages)}, async hooks ${pct(profile.shares.asyncHooks)}); start there: \`node --cpu-prof examples/gateway/dist/main.js\` under the same load shows which call sites grew.`
          : ''),
      '',
    );
  }

  if (missed.has('tracker-tick')) {
    const tracker = results['model-health'].tracker;
    out.push(
      '### Provider health tracker tick',
      '',
      `Measured over ${int(tracker.models)} models: tick mean ${fixed(tracker.tickMs.mean, 1)} ms (p50 ${fixed(tracker.tickMs.p50, 1)} ms); a copy of every record (\`listAllModelHealth()\`, not used by the tick) ${fixed(tracker.listAllModelHealthMs.p50, 1)} ms p50. ` +
        'The tick visits the records in place (`forEachModelHealth`) with two Map lookups each (provider → model state), then walks every model for its 24 h uptime window. When the p50 is under the target, a missed mean points at outlier ticks (GC, machine load): compare p50 and p99. Profile with `node --cpu-prof bench/sections/model-health.mjs`. ' +
        (probes
          ? `Probe: the template-key lookups alone cost ${fixed(probes.trackerKeys.templateKeyMs, 2)} ms vs ${fixed(probes.trackerKeys.nestedMapMs, 2)} ms with nested maps; the sort ${fixed(probes.trackerKeys.sortMs, 2)} ms.`
          : ''),
      '',
    );
  }

  if (missed.has('memory-flood')) {
    const flood = results['memory-flood'];
    out.push(
      '### Label flood',
      '',
      `Heap grew by ${fixed(flood.heapAfterMb - flood.heapBeforeMb, 1)} MB with ${int(flood.seriesRequests)} series held: check \`SeriesStore.slowLookup\` (overflowed raw values must not be cached) in \`packages/telemetry/src/metrics/series-store.ts\`.`,
      '',
    );
  }
  if (missed.has('spans-flat')) {
    const spans = results.spans;
    out.push(
      '### Span cost over time',
      '',
      `Late windows cost ${times(spans.batchDeadEndpointSummary.flatness.ratio)} the early ones with a failing exporter; compare with the no-processor row (${times(spans.sdkNoProcessorSummary.flatness.ratio)}) to separate the exporter from machine noise before acting.`,
      '',
    );
  }
  out.push(renderTraceCauses(results, missed));
  out.push(renderOtlpClusterCauses(results, missed));
  return out.join('\n');
}

function renderFindings(results) {
  const out = ['## Findings beyond the targets', ''];
  const big = results['scrape-20000'] ?? results['scrape-1000'];
  const flood = results['memory-flood'];
  const gatewayModes = results.gateway?.design === 'slots' ? results.gateway.modes : undefined;
  if (gatewayModes?.nonStreaming?.summary.traced && gatewayModes.streaming?.summary.traced) {
    const traced = (mode) => gatewayModes[mode].summary.traced;
    const extraUs = (mode) =>
      (gatewayModes[mode].summary.traced.cpuMsPerRequest - gatewayModes[mode].summary.off.cpuMsPerRequest) * 1000;
    out.push(
      `- **Tracing every request is where telemetry gets expensive.** With traces recorded and exported over OTLP (gateway D), the gateway serves ${pct(traced('nonStreaming').throughputRatio)} (non-streaming) and ${pct(traced('streaming').throughputRatio)} (streaming) of A's requests per second, ${fixed(extraUs('nonStreaming'), 0)} / ${fixed(extraUs('streaming'), 0)} µs more CPU per request, against ${pct(gatewayModes.nonStreaming.summary.throughputRatio)} / ${pct(gatewayModes.streaming.summary.throughputRatio)} for metrics alone (B). ` +
        'Creating the two spans is a small part of that (see the expected-cost estimate in section 3); the rest is what the span micro-benchmark does not see: the batch span processor exporting on the same thread (OTLP protobuf serialisation, the export requests) and the garbage of both. ' +
        'The upstream here answers in 0 ms, so these are worst-case shares; with real provider latencies the CPU per request is the same and the share of a busy gateway lower. To trace at a lower cost, sample: `OTEL_TRACES_SAMPLER=parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.1` keeps one trace in ten (and every trace whose caller sampled it).',
    );
  }
  if (big?.defaultLimit) {
    const limit = big.defaultLimit;
    out.push(
      (limit.exportedPoints < limit.recordedSeries || limit.overflowPoints > 0
        ? `- **The SDK's cardinality limit truncates helper metrics exported the way \`startTelemetry()\` does (correctness).** Measured: ${int(limit.recordedSeries)} series recorded through the helpers (\`maxSeriesPerMetric\` raised) → ${int(limit.exportedPoints)} data points exported, ${limit.overflowPoints} of them \`otel.metric.overflow\`. `
        : `- **Helper metrics exported the way \`startTelemetry()\` does are not cut by the SDK's cardinality limit.** ${int(limit.recordedSeries)} series recorded through the helpers (\`maxSeriesPerMetric\` raised) → ${int(limit.exportedPoints)} data points, ${limit.overflowPoints} \`otel.metric.overflow\`: the metric producer bypasses SDK storage, whose default limit is 2,000 attribute sets per instrument. `) +
        (flood && flood.exportedPoints < flood.seriesRequests
          ? `A \`GatewayTelemetry\` given a \`meterProvider\` instead (observable instruments, SDK storage) is cut: in the label flood it holds ${int(flood.seriesRequests)} series (2,000 + \`other\`) and ${int(flood.exportedPoints)} points come out, so its \`other\` series is folded into the SDK's overflow point. Raise the SDK limit with a view (\`aggregationCardinalityLimit\`) when wiring the SDK by hand.`
          : ''),
    );
  }
  const big20 = results['scrape-20000'];
  if (big20) {
    out.push(
      `- **Prometheus negotiates OpenMetrics, which is our slower path.** Prometheus 2.x sends \`Accept: application/openmetrics-text;…\` first, so real scrapes take the OpenMetrics serializer: ${times(big20.ratios.handlerOpenMetrics)} prom-client at 20,000 series (text: ${times(big20.ratios.handler)}), blocking the loop up to ${fixed(big20.eventLoop.handlerOpenMetrics.maxMs, 0)} ms. It writes ${int(big20.outputs.openMetrics.samples - big20.outputs.ours.samples)} more samples (\`_created\`) and looks up exemplars per histogram point.`,
    );
  }
  const memory = ['helpers-counter', 'otel-counter', 'prom-counter'].map((id) => results[`memory-${id}`]);
  if (memory.every(Boolean)) {
    out.push(
      `- **Per-series memory of helper counters grows after the first collection.** ${bytes(memory[0].bytesPerSeriesRecorded)}/series after recording, ${bytes(memory[0].bytesPerSeriesAfterCollect)} after collections (raw OTel ${bytes(memory[1].bytesPerSeriesAfterCollect)}, prom-client ${bytes(memory[2].bytesPerSeriesAfterCollect)}): what the metric producer and the reader keep per series between collections.`,
    );
  }
  if (flood) {
    out.push(
      `- **A flooded call costs ${int(flood.nsPerCall)} ns**: every new raw value goes through normalisation, key joining and the overflow map before folding into \`other\`, because refused spellings are (rightly) not cached. Acceptable as a degraded mode; the overflow counter and the one-time warning make it visible.`,
    );
  }
  out.push('');
  return out.join('\n');
}

// --- whole report ------------------------------------------------------------------------------------
export function renderReport({ machine, results, failures, short, partial }) {
  const targets = evaluateTargets(results);
  const out = [];
  out.push('# Benchmarks', '');
  out.push(
    '<!-- Generated by `npm run bench` (bench/run.mjs) down to the first "## Addendum" heading: re-run to refresh, do not edit by hand. The addenda from there on are written by hand and kept when the report is re-rendered. -->',
    '',
  );
  if (short)
    out.push(
      '> **Short mode (`BENCH_SHORT=1`)**: tiny iteration counts; the numbers only show that every benchmark runs end to end.',
      '',
    );
  if (partial) out.push('> **Partial run (`BENCH_ONLY`)**: sections not selected show as not run.', '');
  out.push(
    table(
      ['Machine', ''],
      [
        ['CPU', machine.cpu],
        ['Cores', String(machine.cores)],
        ['Memory', `${fixed(machine.memoryGb, 1)} GB`],
        ['Node.js', `${machine.node} (V8 ${machine.v8})`],
        ['OS', machine.os],
        ['Date', machine.date],
        [
          'Commit',
          `${machine.commit}${machine.dirtyFiles > 0 ? ` + ${machine.dirtyFiles} uncommitted files under packages/ and examples/ (work in progress by other engineers)` : ''}${machine.distBuilt ? `; \`packages/telemetry/dist\` built ${machine.distBuilt}` : ''}`,
        ],
        [
          'Load average (1/5/15 min)',
          `${machine.loadStart.map((value) => value.toFixed(2)).join(' / ')} at start, ${machine.loadEnd.map((value) => value.toFixed(2)).join(' / ')} at the end`,
        ],
        ['Mode / duration', `${machine.mode}, ${fixed(machine.durationS, 0)} s`],
      ],
      2,
    ),
    '',
  );
  if (machine.loadStart[0] > machine.cores * 0.75 || machine.loadEnd[0] > machine.cores * 0.75) {
    out.push(
      `> The machine was shared and busy during this run (load average above ${machine.cores * 0.75} on ${machine.cores} cores). Contenders were interleaved to limit the damage (micro-benchmark verdicts use medians; sections 3 and 8 judge 95 % intervals over interleaved rounds), and each section states its CPU/wall ratio or load average; still, treat single-digit percentages as noise.`,
      '',
    );
  }
  out.push('## Targets', '');
  out.push(
    table(
      ['Area', 'Target', 'Measured', 'Verdict'],
      targets.map((target) => [target.area, target.target, target.measured, verdict(target.met)]),
      4,
    ),
    '',
  );
  if (Object.keys(failures).length > 0) {
    out.push('### Sections that failed', '');
    for (const [id, tail] of Object.entries(failures)) out.push(`- \`${id}\`:`, '', '```', tail, '```', '');
  }
  out.push(
    '## How to reproduce',
    '',
    '```sh',
    'npx turbo run build                  # the benchmarks import the built packages (dist/)',
    'npm run bench                        # full run (about 30 min), rewrites docs/benchmarks.md above its addenda',
    'npm run bench:ci                     # BENCH_SHORT=1: smoke run (a few minutes), report in $TMPDIR/gatewayz-benchmarks-short.md',
    'BENCH_ONLY=scrape,record node bench/run.mjs   # some sections only (report in $TMPDIR)',
    'node bench/run.mjs --render $TMPDIR/gatewayz-benchmarks.json   # re-render docs/benchmarks.md from raw results',
    'node --expose-gc bench/sections/record-path.mjs histogram   # one section, JSON on stdout',
    '```',
    '',
    'Sections 3 and 8 take about 11 and 13 minutes of the full run; in short mode they still put about 90 s of load on their gateways. `BENCH_ONLY` takes prefixes of section ids and refuses one that names no section. Writing the report keeps everything of the file from its first `## Addendum` heading on. ' +
      'Linux is needed for the per-request CPU time (`/proc`); `/usr/bin/promtool` for the promtool check (skipped when absent). Sections: `bench/sections/*.mjs`; shared code: `bench/lib/`.',
    '',
    '### Method',
    '',
    '- Every section runs in its own Node process (own heap, JIT state and V8 flags) and hands back JSON; `bench/run.mjs` renders this file.',
    '- Micro-benchmarks use tinybench 6. A sample is one call of a task function that runs a batch of 1,024 operations (timer resolution and call overhead vanish); each loop is its own function literal so V8 type feedback is not shared between contenders. ' +
      "Contenders of a comparison run in interleaved rounds with the order rotated each round; samples are pooled. Reported: ops/s and ns/op from the mean, ±rme (95 % confidence interval of the mean, Student's t), p50. **Verdicts and ratios use p50**: on a shared machine a preempted sample is an outlier that moves the mean but hardly the median.",
    '- Input values are prepared up front; for record-path calls they are boxed numbers, so no contender pays for the harness boxing a double into a call argument.',
    '',
  );
  out.push(renderRecord(results));
  out.push(renderScrape(results));
  out.push(renderScrapeGzip(results));
  out.push(renderGateway(results, machine));
  out.push(renderMemory(results));
  out.push(renderModelHealth(results));
  out.push(renderModelHealthDatabase(results));
  out.push(renderSpans(results));
  out.push(renderOtlpCluster(results));
  out.push(renderTraces(results));
  out.push(renderProposals(results, targets));
  out.push(renderFindings(results));
  out.push(renderProbes(results));
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
