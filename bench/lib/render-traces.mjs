// Section 8 (traces) of docs/benchmarks.md: its targets, its part of the report and, for its
// missed targets, the measured cause.
import { ci, cpuNote, fixed, gatewayProcesses, int, pct, signed, signedMs, table, times } from './report-format.mjs';
import { judgePoint } from './target-verdicts.mjs';

/**
 * Requests of configuration `key` in one mode's summary that got no 2xx answer (non-2xx or no
 * response): in the saturated rounds and, where recorded, at the fixed load.
 */
export const failedRequests = (summary, key) => (summary[key]?.failures ?? 0) + (summary[key]?.fixedLoadFailures ?? 0);

/** Section 8 targets: traced (always_on) and sampled (ratio 0.1) gateways against OTEL_SDK_DISABLED=true. */
export function traceTargets(result) {
  const area = '8. Traces';
  const modes = result ? Object.values(result.modes).map((mode) => mode.summary) : [];
  const failed = (summary, key) => failedRequests(summary, 'off') + failedRequests(summary, key);
  // `key`: the configuration compared with off; its failed requests and off's follow the figure.
  const both = (format, key) => {
    if (!result) return 'not run';
    const one = (summary, mode) => {
      const count = failed(summary, key);
      return `${format(summary)} ${mode}${count > 0 ? ` (${int(count)} failed requests)` : ''}`;
    };
    return `${one(result.modes.nonStreaming.summary, 'non-streaming')}, ${one(result.modes.streaming.summary, 'streaming')}`;
  };
  // Per mode: met / not met only when the whole 95 % interval is on one side, otherwise
  // inconclusive (as the gateway section judges); over both modes the worst verdict wins. A mode
  // whose two configurations saw a failed request is inconclusive: what they served is not the
  // same work.
  const judge = (key, check) => {
    if (!result) return undefined;
    const verdicts = modes.map((summary) => (failed(summary, key) > 0 ? 'inconclusive' : check(summary)));
    return verdicts.includes(false) ? false : verdicts.includes('inconclusive') ? 'inconclusive' : true;
  };
  // An interval that could not be computed (one round in short mode: null bounds) decides nothing.
  const known = (bounds) => bounds.every((bound) => typeof bound === 'number' && Number.isFinite(bound));
  const atLeast = ([low, high], target) =>
    !known([low, high]) ? 'inconclusive' : low >= target ? true : high < target ? false : 'inconclusive';
  const atMost = ([low, high], target) =>
    !known([low, high]) ? 'inconclusive' : high <= target ? true : low > target ? false : 'inconclusive';
  // The memory phase's verdicts, inconclusive when a request of it failed.
  const memoryVerdict = (met) =>
    result === undefined ? undefined : (result.memory?.failures ?? 0) > 0 ? 'inconclusive' : met;
  return [
    {
      id: 'traces-throughput',
      area,
      target: 'always_on, OTLP/HTTP protobuf: req/s ≥ 0.90× of `OTEL_SDK_DISABLED=true`',
      measured: both(
        (summary) => `${times(summary.traced.throughputRatio)}${ci(summary.traced.throughputCi, times)}`,
        'traced',
      ),
      met: judge('traced', (summary) => atLeast(summary.traced.throughputCi, 0.9)),
    },
    {
      id: 'traces-cpu',
      area,
      target: 'always_on: added gateway CPU ≤ 35 µs per request',
      measured: both(
        (summary) =>
          `${signed(summary.traced.addedCpuUs)} µs${ci(summary.traced.addedCpuCi, (value, rounding) => fixed(value, 1, rounding))}`,
        'traced',
      ),
      met: judge('traced', (summary) => atMost(summary.traced.addedCpuCi, 35)),
    },
    {
      id: 'traces-p99',
      area,
      target: 'always_on: p99 at a fixed offered load ≤ +1 ms',
      measured: both(
        (summary) => `${signedMs(summary.traced.p99DeltaMs)}${ci(summary.traced.p99DeltaCi, signedMs)}`,
        'traced',
      ),
      met: judge('traced', (summary) => atMost(summary.traced.p99DeltaCi, 1)),
    },
    {
      id: 'traces-ratio',
      area,
      target: '`parentbased_traceidratio` 0.1: req/s ≥ 0.97×',
      measured: both(
        (summary) => `${times(summary.ratio.throughputRatio)}${ci(summary.ratio.throughputCi, times)}`,
        'ratio',
      ),
      met: judge('ratio', (summary) => atLeast(summary.ratio.throughputCi, 0.97)),
    },
    {
      id: 'traces-heap',
      area,
      target: `Live heap flat over a ${result ? fixed(result.memoryS, 0) : '120'} s saturated traced run (median heap after a mark-compact, last third ≤ 1.10× the first third's; halves when a third saw none)`,
      measured: result
        ? result.memory.growth === undefined
          ? `no mark-compact in ${result.memory.lateMarkCompacts === 0 ? 'the last' : 'the first'} ${result.memory.liveHeapWindows === 'halves' ? 'half' : 'third'} of a ${fixed(result.memoryS, 0)} s run`
          : `${fixed(result.memory.earlyLiveHeapMb, 1)} → ${fixed(result.memory.lateLiveHeapMb, 1)} MB (${times(result.memory.growth)}; ${result.memory.earlyMarkCompacts} and ${result.memory.lateMarkCompacts} mark-compacts${result.memory.liveHeapWindows === 'halves' ? ' in the first and second half: a third saw none' : ''})`
        : 'not run',
      // No mark-compact in a window: not measured (n/a, as the measured column says).
      met: memoryVerdict(
        result?.memory.growth === undefined ? undefined : judgePoint(result.memory.growth, (growth) => growth <= 1.1),
      ),
    },
    {
      id: 'traces-rss',
      area,
      target: 'Traced gateway RSS after the benchmark ≤ 100 MB',
      measured: result
        ? `${fixed(result.rssAfterMb.traced, 0)} MB (telemetry off: ${fixed(result.rssAfterMb.off, 0)} MB)`
        : 'not run',
      met: memoryVerdict(judgePoint(result?.rssAfterMb.traced, (rss) => rss <= 100)),
    },
  ];
}

/** The processes that ran each configuration: two each of off, traced and ratio since the A/A change, one each before. */
function processesOf(result) {
  return result.processes ?? { off: ['off'], traced: ['traced'], ratio: ['ratio'], stock: ['stock'] };
}

const NUMBER_WORDS = { 5: 'Five', 6: 'Six', 7: 'Seven', 8: 'Eight' };
const TWIN_LABELS = { off: 'off', traced: 'traced (always_on)', ratio: 'ratio 0.1' };
const CONFIGURATIONS = [...Object.entries(TWIN_LABELS), ['stock', 'stock']];

export function renderTraces(results) {
  const out = ['## 8. Traces', ''];
  const result = results.traces;
  if (!result) return [...out, '_Not run._', ''].join('\n');
  const processes = processesOf(result);
  const paired = processes.off.length > 1;
  const cpuSource =
    result.cpuClock === 'schedstat'
      ? 'CPU time of all its threads from `/proc/<pid>/task/*/schedstat` (nanoseconds)'
      : 'user+system CPU, all threads, from `/proc/<pid>/stat`';
  const processCount = Object.values(processes).reduce((sum, keys) => sum + keys.length, 0);
  const summaryTwin = result.modes.nonStreaming.summary.offTwin;
  out.push(
    (paired
      ? `${NUMBER_WORDS[processCount] ?? processCount} ${gatewayProcesses(result, 'processes')}, two of each measured configuration and one stock (\`TELEMETRY_CONTEXT_MANAGER=synchronous\`), behind one real HTTP upstream, a simulated OpenAI-compatible provider in its own process (\`UPSTREAM_BASE_URL\`, no latency, no errors): `
      : `${summaryTwin ? 'Four (five with the A/A control below)' : 'Four'} ${gatewayProcesses(result, 'processes')} (\`TELEMETRY_CONTEXT_MANAGER=synchronous\`) behind one real HTTP upstream, a simulated OpenAI-compatible provider in its own process (\`UPSTREAM_BASE_URL\`, no latency, no errors): `) +
      `**off** with \`OTEL_SDK_DISABLED=true\`; **traced** with \`OTEL_TRACES_SAMPLER=always_on\` and \`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\` (protocol \`http/protobuf\`) pointing at a loopback OTLP/HTTP receiver in its own process, so every request exports its server and GenAI client spans through \`EncodingBatchSpanProcessor\` (each span encoded to OTLP protobuf as it ends, byte-identical to the SDK serializer) and the SDK's OTLP/HTTP transport; **ratio** as traced with \`parentbased_traceidratio\` 0.1; **stock** (reference, the path before this change) as traced with \`GATEWAYZ_SPAN_PROCESSOR=batch\`: the SDK's \`BatchSpanProcessor\` + OTLP/HTTP protobuf exporter (\`OTLPTraceExporter\`'s transport and serializer). ` +
      (paired
        ? "Two processes of the same configuration can read tens of µs per request apart on this machine for reasons of their own (memory layout, placement on the cores; the A/A rows below and the A/A runs in the addenda), which intervals taken over rounds of the same processes do not see: so each configuration's figure in a round is the mean over its two processes (geometric for req/s), and the A/A table gives how far each configuration's second process read from its first. "
        : '') +
      (result.pinned
        ? `**Pinned** (\`BENCH_PIN=1\`): every gateway and contender runs on CPU ${result.pinned.gatewayCpu}, the load generator, the upstream and the receiver on CPU ${result.pinned.loadCpu} (\`taskset\`), so no gateway shares its core with the load or moves between cores; the default run is unpinned. The p99 at a fixed load is not comparable with an unpinned run's: every gateway takes its open-loop share on the one core. `
        : '') +
      `Throughput and CPU: ${int(result.rounds)} rounds; in each, the gateways in turn (rotating order) get a ${result.roundS} s slot of saturating load (autocannon, ${result.connections} connections) while the others idle. Ratios are geometric means of the per-round ratios, added CPU the mean of the per-round differences of CPU per request (${cpuSource}), both with 95 % intervals. ` +
      `Latency: ${int(result.latencyRounds)} rounds of ${result.latencyRoundS} s of open-loop load at ${pct(result.rateShare)} of off's median saturated req/s per gateway from one schedule; p99 over all requests, traced − off, 95 % interval from a paired bootstrap over rounds. ` +
      (paired
        ? "The same rounds give each gateway's CPU per request at that fixed load, where requests come one at a time instead of in the batches a saturated event loop reads (info: the targets are judged at saturation, as the issue measured them). "
        : '') +
      `Memory: the traced gateway saturated for ${fixed(result.memoryS, 0)} s (the off gateway saturated beside it, so their RSS afterwards compares), \`v8js_memory_heap_used{old_space}\` read from its own /metrics every few seconds (the RSS and old-space series below), and the heap in use after each of its mark-compacts from its \`--trace-gc\` output (every gateway of the section runs with \`--trace-gc\`, so the throughput comparison stays like for like). Old-space saw-tooths between mark-compacts, so a reading at an arbitrary moment says little about what stays live; the verdict compares the median heap after a mark-compact in the last third of the phase with that in the first third (the first ${fixed(result.memory?.warmupS ?? 10, 0)} s left out)${(result.memory?.markCompacts ?? []).some((entry) => entry.forced) ? ', and the bench asks the traced gateway for one full collection in the middle of each of the two thirds (`--expose-gc`, and a `--require` preload that collects on SIGUSR2, in every gateway of the section), so both have a reading even when V8 runs no mark-compact of its own there' : ''}. RSS from \`/proc\` after the whole section.`,
    '',
  );
  const withCi = (value, bounds, format) => `${format(value)}${ci(bounds, format)}`;
  const us = (value, rounding) => fixed(value, 1, rounding);
  for (const [mode, title] of [
    ['nonStreaming', 'Non-streaming `POST /v1/chat/completions`'],
    ['streaming', 'Streaming (`stream: true`, SSE)'],
  ]) {
    const { summary, rate } = result.modes[mode];
    const fixedLoad = summary.off.fixedLoadCpuUsPerRequest !== undefined;
    const named = (label, key) =>
      paired ? `${label}, ${processes[key].length} ${processes[key].length === 1 ? 'process' : 'processes'}` : label;
    out.push(
      `### ${title}`,
      '',
      table(
        [
          'Gateway',
          'req/s (mean)',
          'CPU µs/req',
          '× off req/s',
          'added CPU µs/req',
          `p99 ms at ${int(rate)} req/s`,
          'p99 − off',
          ...(fixedLoad ? [`CPU µs/req at ${int(rate)} req/s`, `added at ${int(rate)} req/s`] : []),
        ],
        [
          [named('off (`OTEL_SDK_DISABLED=true`)', 'off'), 'off'],
          [named('traced (always_on)', 'traced'), 'traced'],
          [named('ratio 0.1', 'ratio'), 'ratio'],
          [
            named('stock: always_on, SDK `BatchSpanProcessor` + OTLP/HTTP protobuf exporter (before; info)', 'stock'),
            'stock',
          ],
          ...(paired ? [] : [['off twin: a second process configured as off (A/A control; info)', 'offTwin']]),
        ]
          .filter(([, key]) => summary[key] !== undefined)
          .map(([label, key]) => {
            const row = summary[key];
            const base = key === 'off';
            return [
              label,
              int(row.requestsPerSec),
              us(row.cpuUsPerRequest),
              base ? '1.00×' : withCi(row.throughputRatio, row.throughputCi, times),
              base ? '—' : withCi(row.addedCpuUs, row.addedCpuCi, us),
              fixed(row.pooledP99Ms, 2),
              base ? '—' : withCi(row.p99DeltaMs, row.p99DeltaCi, signedMs),
              ...(fixedLoad
                ? [
                    us(row.fixedLoadCpuUsPerRequest),
                    base ? '—' : withCi(row.addedFixedLoadCpuUs, row.addedFixedLoadCpuCi, us),
                  ]
                : []),
            ];
          }),
      ),
      '',
    );
    const failures = CONFIGURATIONS.filter(([key]) => summary[key] !== undefined).map(([key, label]) => [
      label,
      failedRequests(summary, key),
    ]);
    if (failures.some(([, count]) => count > 0))
      out.push(
        `Failed requests (a non-2xx answer or none; req/s and CPU per request count 2xx answers only, and every comparison with a configuration that saw one is inconclusive): ${failures.map(([label, count]) => `${label} ${int(count)}`).join(', ')}.`,
        '',
      );
    const twins = Object.entries(summary).filter(([, row]) => row.twinOf !== undefined);
    if (twins.length > 0)
      out.push(
        'A/A: the second process of each configuration against its first, same rounds (info):',
        '',
        table(
          [
            'Configuration',
            '× first req/s',
            'CPU µs/req, second − first',
            ...(fixedLoad ? [`same at ${int(rate)} req/s`] : []),
          ],
          twins.map(([, row]) => [
            TWIN_LABELS[row.twinOf] ?? row.twinOf,
            withCi(row.throughputRatio, row.throughputCi, times),
            withCi(row.addedCpuUs, row.addedCpuCi, us),
            ...(fixedLoad ? [withCi(row.addedFixedLoadCpuUs, row.addedFixedLoadCpuCi, us)] : []),
          ]),
        ),
        '',
      );
    const inProcess = result.modes[mode].sampledInProcess;
    if (inProcess) out.push(renderSampledInProcess(inProcess), '');
  }
  const twin = (mode) => result.modes[mode].summary.offTwin;
  if (paired)
    out.push(
      "Read each configuration's difference to off beside the A/A rows: a second process of the same configuration has read as far from its first as they show, and averaging two processes per configuration halves that part of the variance, it does not remove it.",
      '',
    );
  else if (twin('nonStreaming') && twin('streaming'))
    out.push(
      `A/A control: the off twin, the same configuration as off in a second process, reads ${fixed(twin('nonStreaming').addedCpuUs, 1)} / ${fixed(twin('streaming').addedCpuUs, 1)} µs per request and ${times(twin('nonStreaming').throughputRatio)} / ${times(twin('streaming').throughputRatio)} of off's req/s (non-streaming / streaming). Differences between two processes of that size come from the processes (memory layout, placement on the cores), not from their configuration, and the 95 % intervals above, taken over rounds, do not include them: read a configuration's difference to off with the twin's beside it.`,
      '',
    );
  const { memory } = result;
  out.push(
    `Memory (traced, ${int(memory.requests)} requests in ${fixed(result.memoryS, 0)} s): old-space ${memory.samples.map((sample) => fixed(sample.oldSpaceMb, 1)).join(', ')} MB; RSS ${memory.samples.map((sample) => fixed(sample.rssMb, 0)).join(', ')} MB; heap after each of the ${int(memory.markCompacts?.length ?? 0)} mark-compacts ${(memory.markCompacts ?? []).map((entry) => `${fixed(entry.heapAfterMb, 1)}${entry.forced ? ' (asked for)' : ''}`).join(', ')} MB. RSS after the section: off ${fixed(result.rssAfterMb.off, 0)} MB, traced ${fixed(result.rssAfterMb.traced, 0)} MB, ratio ${fixed(result.rssAfterMb.ratio, 0)} MB.${memory.failures > 0 ? ` ${int(memory.failures)} requests of the memory phase failed: its verdicts are inconclusive.` : ''}`,
    '',
    `Export: the receiver got ${int(result.export.requests)} requests, ${fixed(result.export.bytes / 1e6, 1)} MB (\`${result.export.contentType}\`); the traced gateway counted ${int(result.export.droppedQueueFull)} spans dropped on a full queue and ${int(result.export.droppedExportFailed)} on failed exports (\`gatewayz_telemetry_spans_dropped_total\`).`,
    '',
  );
  const competitors = result.competitors;
  out.push('### Same OpenAI-SDK call path: ours, Traceloop, OpenLIT', '');
  if (competitors?.contenders) {
    const labels = {
      none: 'OpenAI SDK, no instrumentation (baseline)',
      ours: 'ours: `startGenAiSpan`/`endGenAiSpan` around the call, `startTelemetry()` exporting OTLP/HTTP protobuf',
      traceloop:
        'Traceloop `@traceloop/instrumentation-openai` 0.27, SDK `BatchSpanProcessor` + `OTLPTraceExporter` (protobuf)',
      openlit: 'OpenLIT 1.15 `openlit.init()` (its own OTLP/HTTP exporter), metrics off',
    };
    out.push(
      `Each contender in its own process, ${int(competitors.calls)} calls per round (8 in flight) against a local fake OpenAI server, ${int(competitors.rounds)} rotating rounds; every contender exports its spans to a loopback receiver. Added CPU per call = contender − baseline per round (mean, 95 % interval; median beside it).`,
      '',
      table(
        ['Contender', 'CPU µs/call', 'added µs/call', 'added (median)'],
        Object.entries(competitors.contenders).map(([key, row]) => [
          labels[key] ?? key,
          fixed(row.usPerCall, 1),
          key === 'none'
            ? '—'
            : `${fixed(row.addedUs, 1)}${ci(row.addedCi, (value, rounding) => fixed(value, 1, rounding))}`,
          key === 'none' ? '—' : fixed(row.addedMedianUs, 1),
        ]),
      ),
      '',
      `OTLP received by contender (bytes; each exports under its own path): ${
        Object.entries(competitors.otlpBytes ?? {})
          .map(([key, bytes]) => `${key} ${int(bytes)}`)
          .join(', ') || 'nothing'
      }.`,
      '',
    );
  } else
    out.push(
      `Not run: ${competitors?.error ?? competitors?.skipped ?? 'no result'}. OpenLIT and Traceloop are not dependencies of this repository (about 110 packages); install \`openlit@1.15.0 @traceloop/instrumentation-openai@0.27.0 openai@4\` in a directory and set \`BENCH_COMPETITORS_DIR\` to it.`,
      '',
    );
  out.push(cpuNote(result, { waits: true }), '');
  return out.join('\n');
}

/** The paragraph of a mode's sampled − unsampled comparison inside the ratio processes. */
function renderSampledInProcess(inProcess) {
  const us = (value, rounding) => fixed(value, 1, rounding);
  const { pooled } = inProcess;
  const tenth = pooled.oneInTen;
  const each = Object.values(inProcess.processes).map(
    (row, index) =>
      `process ${index + 1}: ${signed(row.addedCpuUs)}${ci(row.addedCpuCi, us)} µs, ${times(row.throughputRatio)}`,
  );
  return (
    `Sampled against unsampled inside one process (info): the ratio gateways follow a caller's sampling decision (\`parentbased\`), so each served ${int(inProcess.rounds)} ${inProcess.rounds === 1 ? 'round' : 'rounds'} of ${tenth ? 'three slots, in rotating order' : 'two slots, alternating'} (after one warm-up slot of each), whose \`traceparent\` said sampled (\`-01\`) or not (\`-00\`)${tenth ? ', or sampled for one request in ten' : ''}, the same header otherwise. ` +
    `Sampled − unsampled: **${signed(pooled.addedCpuUs)} µs per request**${ci(pooled.addedCpuCi, us)} (${us(pooled.sampledCpuUsPerRequest)} against ${us(pooled.unsampledCpuUsPerRequest)}), ${times(pooled.throughputRatio)}${ci(pooled.throughputCi, times)} req/s, over ${int(pooled.pairs)} pairs${pooled.failures > 0 ? ` (${int(pooled.failures)} failed requests)` : ''}` +
    (each.length > 1 ? ` (${each.join('; ')})` : '') +
    ". That is what recording and exporting a request's two spans costs in the running gateway (the spans, their attributes, exemplars, encoding, the export), measured with no second process in the comparison, so none of the spread the A/A rows show; traced − off above adds what every request costs once an SDK is there (ids, sampling, the `traceparent` sent upstream: ratio 0.1's cost)." +
    (tenth ? ` ${renderOneInTen(pooled)}` : '')
  );
}

/**
 * Where the traced gateway's old space stood in V8's saw-tooth during the memory phase: garbage
 * promoted since the last mark-compact stays resident until the next one, which V8 lets come when
 * old space has grown to a multiple of the live heap. Empty when the phase took no samples.
 */
function oldSpaceSawTooth(memory) {
  const samples = memory.samples ?? [];
  if (samples.length === 0 || memory.lateLiveHeapMb === undefined) return '';
  const rss = samples.map((sample) => sample.rssMb);
  const oldSpace = samples.map((sample) => sample.oldSpaceMb);
  const last = samples[samples.length - 1];
  return (
    `plus old space holding garbage promoted since the last mark-compact until the next one: over the phase the traced gateway's RSS read ${fixed(Math.min(...rss), 0)}–${fixed(Math.max(...rss), 0)} MB and its old space ${fixed(Math.min(...oldSpace), 0)}–${fixed(Math.max(...oldSpace), 0)} MB, ` +
    `${fixed(last.oldSpaceMb, 0)} MB at the last reading against ${fixed(memory.lateLiveHeapMb, 1)} MB live after a mark-compact, so a single reading after the run lands anywhere on that saw-tooth. `
  );
}

/** The sentence of the in-process slot that sampled one request in ten. */
function renderOneInTen(pooled) {
  const us = (value, rounding) => fixed(value, 1, rounding);
  const tenth = pooled.oneInTen;
  return (
    `A third slot in each round sampled one request in ten (each connection's every tenth): **${signed(tenth.addedCpuUs)} µs per request**${ci(tenth.addedCpuCi, us)} over unsampled, ${times(tenth.throughputRatio)}${ci(tenth.throughputCi, times)} req/s; ` +
    `a tenth of the sampled figure would be ${signed(pooled.addedCpuUs / 10)} µs. That is the sampling share of ratio 0.1's cost; the rest of ratio − off above is what every request pays.`
  );
}

/**
 * Why a missed trace target is missed, from the run's own figures: the added CPU a throughput
 * ratio allows at the untraced gateway's cost per request, against what tracing added.
 */
export function renderTraceCauses(results, missed) {
  const traces = results.traces;
  if (!traces?.modes || !['traces-throughput', 'traces-ratio', 'traces-rss'].some((id) => missed.has(id))) return '';
  const out = ['### Traces', ''];
  const budget = (offUs, ratio) => offUs * (1 / ratio - 1);
  const modes = [
    ['non-streaming', traces.modes.nonStreaming.summary, traces.modes.nonStreaming.sampledInProcess],
    ['streaming', traces.modes.streaming.summary, traces.modes.streaming.sampledInProcess],
  ];
  if (missed.has('traces-throughput') || missed.has('traces-ratio'))
    out.push(
      `Throughput ratios on a saturated gateway are CPU ratios: a ratio r allows off × (1/r − 1) µs of added CPU per request. ${modes
        .map(
          ([name, summary]) =>
            `${name}: off costs ${fixed(summary.off.cpuUsPerRequest, 1)} µs/request, so 0.90× allows ${fixed(budget(summary.off.cpuUsPerRequest, 0.9), 1)} µs (always_on added ${fixed(summary.traced.addedCpuUs, 1)}) and 0.97× allows ${fixed(budget(summary.off.cpuUsPerRequest, 0.97), 1)} µs (ratio 0.1 added ${fixed(summary.ratio.addedCpuUs, 1)})`,
        )
        .join('; ')}. ` +
        `${modes
          .map(([name, summary, inProcess]) => {
            const measured = inProcess?.pooled.oneInTen;
            if (measured) {
              // ratio − off = what every request pays + the sampled tenth's share, the latter read inside one process.
              const unsampled = summary.ratio.addedCpuUs - measured.addedCpuUs;
              return `${name}: of ratio 0.1's ${fixed(summary.ratio.addedCpuUs, 1)} µs, the sampled tenth accounts for ${fixed(measured.addedCpuUs, 1)} (one in ten against none, inside one process), so each request adds about ${fixed(unsampled, 1)} µs over off whether sampled or not`;
            }
            const unsampled = (summary.ratio.addedCpuUs - 0.1 * summary.traced.addedCpuUs) / 0.9;
            return `${name}: of ratio 0.1's ${fixed(summary.ratio.addedCpuUs, 1)} µs, the sampled tenth accounts for ${fixed(0.1 * summary.traced.addedCpuUs, 1)}, so each unsampled request adds about ${fixed(unsampled, 1)} µs over off`;
          })
          .join(
            '; ',
          )} (what tracing does for an unsampled request: two \`startSpan\` calls that return non-recording spans, their ids and sampling decisions, and the \`traceparent\` header sent upstream, about 4–5 µs in a whole-process profile; off records the same metrics, since \`OTEL_SDK_DISABLED\` stops export, not the helpers): with a 0.97× budget of a few µs, sampling alone cannot reach it. ` +
        (modes.every(([, summary]) => summary.tracedTwin && summary.ratioTwin)
          ? `Each configuration here is the mean of two processes; within a configuration, the second process read ${modes.map(([name, summary]) => `${['offTwin', 'tracedTwin', 'ratioTwin'].map((key) => fixed(summary[key].addedCpuUs, 1)).join(' / ')} µs (off / traced / ratio, ${name})`).join(' and ')} from the first in this run, so these estimates are known to about that. `
          : modes.every(([, summary]) => summary.offTwin)
            ? `These estimates rest on one process per configuration: the off twin read ${modes.map(([, summary]) => fixed(summary.offTwin.addedCpuUs, 1)).join(' / ')} µs from off in this run, and two identical processes have read 10–30 µs apart on this machine (the A/A runs in the addenda), so they are known to about that. `
            : '') +
        (modes.every(([, , inProcess]) => inProcess)
          ? `Inside one process (the ratio gateways, sampled against unsampled requests), recording and exporting a request's spans cost ${modes.map(([name, , inProcess]) => `${fixed(inProcess.pooled.addedCpuUs, 1)} µs ${name}`).join(' and ')} in this run, against always_on's ${modes.map(([, summary]) => fixed(summary.traced.addedCpuUs, 1)).join(' / ')} µs over off: the rest is what every request pays once the SDK is there, sampled or not, read across processes. `
          : '') +
        "Measured by elimination on the built gateway (addendum of the run of record): the SDK's span objects and the API/context work around them, with a processor that does nothing, already add 12–17 µs per request; encoding (about 2 µs for a request's two spans in isolation, 3.8 µs per span inside the running gateway) and the OTLP/HTTP export come on top. " +
        "The ratios cannot be reached while the SDK's `Tracer`/`Span` stay on the request path; what can be cut is ours (`packages/telemetry-node/src/tracing/`, exemplar capture, the gateway's span attributes): profile the traced gateway against the off one with `node --cpu-prof` before changing anything.",
      '',
    );
  if (missed.has('traces-rss'))
    out.push(
      `RSS after the section: off ${fixed(traces.rssAfterMb.off, 0)} MB, traced ${fixed(traces.rssAfterMb.traced, 0)} MB, ratio ${fixed(traces.rssAfterMb.ratio, 0)} MB; only off and traced ran the ${fixed(traces.memoryS, 0)} s saturated memory phase. ` +
        (traces.memory.growth === undefined
          ? 'The memory phase saw no mark-compact in one of its halves, so whether the live heap grew is not measured here.'
          : traces.memory.growth <= 1.1
            ? `The live heap stayed flat (${times(traces.memory.growth)} after mark-compacts), so spans waiting for export are not what holds the memory; the resident size after sustained load is V8's young generation (two 16 MB semi-spaces once grown), the same with telemetry off, ${oldSpaceSawTooth(traces.memory)}\`--max-semi-space-size\` lowers it for some throughput (docs/deployment.md).`
            : `The live heap grew ${times(traces.memory.growth)} over the memory phase (after mark-compacts): look for spans or encoded batches held longer than one export (\`packages/telemetry-node/src/tracing/\`) with a heap snapshot of the traced gateway.`),
      '',
    );
  return out.join('\n');
}
