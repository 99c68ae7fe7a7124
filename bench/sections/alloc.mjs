// Section 1b: heap allocation per record call for label sets already seen.
//
// Method: run with --expose-gc and a young generation large enough that no scavenge can happen
// inside a measured chunk (--min/--max-semi-space-size=128 MB). Then, per chunk, gc() and read
// heapUsed, run CHUNK calls, read heapUsed again: with no collection in between, the difference is
// exactly the bytes the calls allocated (V8 bump-allocates in new space; heapUsed counts it). A
// PerformanceObserver on 'gc' entries proves that no collection started inside a chunk window;
// chunks where one did are reported as invalid. After all chunks, gc() again and compare with the
// heap before the first chunk: that is what the calls retained (0 for label sets already seen).
//
// Settling the harness: in a fresh process the first ~6 chunk cycles each grow heapUsed by a fixed
// ~20-400 KB whatever runs in the chunk — an empty function `() => {}` included — and by ~0.3 KB per
// cycle after that. The cost is per cycle, not per call (the same with 5 or 200 batches per chunk).
// It is V8 warming up the cycle's own code: functions called once or twice per cycle (Node's
// `process.memoryUsage` wrapper and what it calls) only get a feedback vector, then Sparkplug
// baseline code (compiled in batches, into code space), after a few calls, i.e. inside one of the
// first windows (`--no-lazy-feedback-allocation` makes it vanish). Charged to the first contender
// measured, it turned up to ~2 B/call of a 1e6-call mean that is really ~0.01. So before measuring
// anything, the same cycle runs with an empty function until SETTLE_QUIET cycles in a row each grow
// heapUsed by < SETTLE_LIMIT_BYTES (at most SETTLE_MAX_CYCLES cycles); the settle-phase cycle sizes
// are part of the results. A control contender (a loop that only reads the pre-boxed input values,
// no call) is then measured like any other: it is the floor of the method (the ~0.3 KB per cycle
// that reading heapUsed itself allocates inside the window, ~0.01 B/call).
//
// Per-call figure from pairs of cycles: the contender's own code has a per-cycle cost too. After
// the gc() that opens a cycle, the first ~5 cycles of a warmed-up helper each grew heapUsed by a
// fixed ~130-220 KB whatever the number of calls in the cycle (1.0 B/call with 200 batches per
// cycle, 2.0 with 100, 3.0 with 50, 6.9 with 25: the same KB per cycle), then ~0.3 KB; in one full
// run it lasted for all 20 cycles and read as 2.06 B/call. So each measurement is a pair of cycles,
// one of N calls and one of 2N calls (which first alternates; N = CHUNK for our helpers, smaller
// for contenders that allocate hundreds of bytes per call, so no scavenge starts in a window):
// their difference over N is the allocation per call, and a fixed per-cycle cost cancels out.
// Two unmeasured warm-up pairs per contender come first. `bytesPerCall` (the
// verdict) is the mean over the pairs; `chunkBytesPerCall` / `maxChunkBytesPerCall` are the pairs'
// own figures (one pair off shows a one-off, all pairs high a steady per-call allocation);
// `rawBytesPerCall` (all growth over all calls, the figure before pairs) and `fixedBytesPerCycle`
// are reported too.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BATCH, buildRecordFixtures } from '../lib/record-fixtures.mjs';
import { emit, log, pick, seededRandom, sleep, yieldToLoop } from '../lib/common.mjs';

if (!globalThis.gc) throw new Error('run with --expose-gc');
// 1e6 calls for our helpers (the target), 2e5 for the other contenders (same method, less time).
const HELPER_CALLS = pick(1_000_000, 51_200);
const OTHER_CALLS = pick(204_800, 51_200);
const CHUNK = 50 * BATCH; // 51,200 calls: the short cycle of a pair for our helpers (smaller pairs for allocating contenders)
const BATCHES = CHUNK / BATCH;
// Pairs: the long cycle of a pair allocates at most this much (well under the 128 MB young
// generation); unmeasured warm-up pairs per contender first.
const LONG_CYCLE_LIMIT_BYTES = 32 * 1024 * 1024;
const WARMUP_PAIRS = 2;
// Harness settling: SETTLE_QUIET consecutive empty cycles under SETTLE_LIMIT_BYTES each, at most SETTLE_MAX_CYCLES.
const SETTLE_QUIET = 4;
const SETTLE_LIMIT_BYTES = 1024;
const SETTLE_MAX_CYCLES = 40;

const { comparisons } = buildRecordFixtures();
const gcStarts = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
});
observer.observe({ entryTypes: ['gc'] });

// Control: the same input values as the counter contenders (same seed and boxing as `costs` in
// bench/lib/record-fixtures.mjs: a mixed array keeps the numbers boxed), read and stored in a
// module variable (a tagged store: no allocation), with no call at all.
const random = seededRandom(42);
const controlValues = Array.from({ length: BATCH }, () => random() * 0.01);
controlValues.push('not-a-value'); // never read: keeps the array PACKED_ELEMENTS (boxed numbers)
let controlSink;
const control = {
  label: 'control: loop reading the pre-boxed input values, no call',
  fn: () => {
    for (let i = 0; i < BATCH; i++) controlSink = controlValues[i];
  },
};

const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * One cycle of the method: gc(), read heapUsed, `batches` calls of `fn`, read heapUsed. Returns the
 * growth in bytes; appends the chunk's time window to `windows` (after the second read).
 */
function cycle(fn, windows, batches = BATCHES) {
  globalThis.gc();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) fn();
  const t1 = performance.now();
  const h1 = process.memoryUsage().heapUsed;
  windows.push([t0, t1]);
  return h1 - h0;
}

/** Let the observer deliver the pending gc entries, then forget them. */
async function drainGcEntries() {
  await yieldToLoop();
  await sleep(20);
  gcStarts.length = 0;
}

/** Run empty cycles until the harness's own first-cycles cost is gone (see the header). */
async function settleHarness() {
  const empty = () => {};
  const windows = [];
  const cyclesKb = [];
  let quiet = 0;
  while (quiet < SETTLE_QUIET && cyclesKb.length < SETTLE_MAX_CYCLES) {
    const grown = cycle(empty, windows);
    cyclesKb.push(round(grown / 1024, 1));
    quiet = grown < SETTLE_LIMIT_BYTES ? quiet + 1 : 0;
  }
  await drainGcEntries();
  return {
    cyclesKb,
    cycles: cyclesKb.length,
    settled: quiet >= SETTLE_QUIET,
    quietCycles: SETTLE_QUIET,
    limitKb: SETTLE_LIMIT_BYTES / 1024,
    maxCycles: SETTLE_MAX_CYCLES,
  };
}

async function measure(fn, CALLS) {
  for (let i = 0; i < 2 * BATCHES; i++) fn(); // warm up: optimised code, every label set seen
  // Size the pairs: a probe cycle estimates the bytes per call, and the long cycle of a pair must
  // stay far below the 128 MB young generation (≤ LONG_CYCLE_LIMIT_BYTES), or a scavenge would
  // start inside it. Our helpers get full CHUNK-call pairs; the allocating contenders smaller ones.
  const probeBatches = Math.max(1, BATCHES / 8);
  const probe = cycle(fn, [], probeBatches) / (probeBatches * BATCH);
  const batches = Math.max(1, Math.min(BATCHES, Math.floor(LONG_CYCLE_LIMIT_BYTES / (2 * BATCH * Math.max(1, probe)))));
  const pairCalls = batches * BATCH;
  // Warm-up pairs, not measured: a function's first gc-separated cycles carry one-off costs
  // (feedback, baseline code) that would land on one side of a pair.
  for (let pair = 0; pair < WARMUP_PAIRS; pair++) {
    cycle(fn, [], batches);
    cycle(fn, [], 2 * batches);
  }
  globalThis.gc();
  globalThis.gc();
  await yieldToLoop();
  const before = process.memoryUsage().heapUsed;
  const windows = [];
  const pairBytesPerCall = [];
  const fixedBytes = [];
  let calls = 0;
  let grown = 0;
  while (calls < CALLS) {
    // Alternate which cycle of the pair runs first, so a cost that fades from one cycle to the
    // next does not always land on the same side of the difference.
    const shortFirst = pairBytesPerCall.length % 2 === 0;
    const first = cycle(fn, windows, shortFirst ? batches : 2 * batches);
    const second = cycle(fn, windows, shortFirst ? 2 * batches : batches);
    const [short, long] = shortFirst ? [first, second] : [second, first];
    const perCall = (long - short) / pairCalls;
    pairBytesPerCall.push(perCall);
    fixedBytes.push(short - perCall * pairCalls);
    grown += short + long;
    calls += 3 * pairCalls;
  }
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  await yieldToLoop();
  await sleep(20); // let the observer deliver gc entries
  const collectionsInside = gcStarts.filter((start) => windows.some(([t0, t1]) => start > t0 && start < t1)).length;
  gcStarts.length = 0;
  return {
    calls,
    pairCalls,
    bytesPerCall: pairBytesPerCall.reduce((sum, value) => sum + value, 0) / pairBytesPerCall.length,
    chunkBytesPerCall: pairBytesPerCall.map((value) => round(value, 2)),
    maxChunkBytesPerCall: Math.max(...pairBytesPerCall),
    rawBytesPerCall: grown / calls,
    fixedBytesPerCycle: fixedBytes.reduce((sum, value) => sum + value, 0) / fixedBytes.length,
    retainedBytes: after - before,
    collectionsInside,
    valid: collectionsInside === 0,
  };
}

const describe = (result) =>
  `${(Math.abs(result.bytesPerCall) < 0.005 ? 0 : result.bytesPerCall).toFixed(2)} B/call (largest pair ${result.maxChunkBytesPerCall.toFixed(2)}; raw ${result.rawBytesPerCall.toFixed(2)}, fixed ${(result.fixedBytesPerCycle / 1024).toFixed(1)} KB/cycle), retained ${result.retainedBytes} B${result.valid ? '' : ' (GC inside window!)'}`;

const settle = await settleHarness();
log(
  'alloc',
  `settle: ${settle.cycles} empty cycles, KB per cycle ${settle.cyclesKb.join(' ')}${settle.settled ? '' : ' (NOT settled)'}`,
);
const controlResult = { label: control.label, ...(await measure(control.fn, HELPER_CALLS)) };
log('alloc', `control: ${describe(controlResult)}`);

const results = {};
for (const [key, comparison] of Object.entries(comparisons)) {
  results[key] = { title: comparison.title, subject: comparison.subject, tasks: {} };
  for (const task of comparison.tasks) {
    const result = await measure(task.fn, task.id === comparison.subject ? HELPER_CALLS : OTHER_CALLS);
    results[key].tasks[task.id] = { label: task.label, ...result };
    log('alloc', `${key}/${task.id}: ${describe(result)}`);
  }
}
observer.disconnect();
if (controlSink === undefined) throw new Error('control loop did not run');
const helperBytes = Object.fromEntries(
  Object.entries(results).map(([key, value]) => [key, value.tasks[value.subject].bytesPerCall]),
);
emit({
  helperCalls: HELPER_CALLS,
  otherCalls: OTHER_CALLS,
  chunk: CHUNK,
  method: 'pairs',
  settle,
  control: controlResult,
  results,
  helperBytes,
});
