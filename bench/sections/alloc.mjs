// Section 1b: heap allocation per record call for label sets already seen.
//
// Method: run with --expose-gc and a young generation large enough that no scavenge can happen
// inside a measured chunk (--min/--max-semi-space-size=128 MB). Then, per chunk, gc() and read
// heapUsed, run CHUNK calls, read heapUsed again: with no collection in between, the difference is
// exactly the bytes the calls allocated (V8 bump-allocates in new space; heapUsed counts it). A
// PerformanceObserver on 'gc' entries proves that no collection started inside a chunk window;
// chunks where one did are reported as invalid. After all chunks, gc() again and compare with the
// heap before the first chunk: that is what the calls retained (0 for label sets already seen).
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BATCH, buildRecordFixtures } from '../lib/record-fixtures.mjs';
import { emit, log, pick, yieldToLoop } from '../lib/common.mjs';

if (!globalThis.gc) throw new Error('run with --expose-gc');
// 1e6 calls for our helpers (the target), 2e5 for the other contenders (same method, less time).
const HELPER_CALLS = pick(1_000_000, 51_200);
const OTHER_CALLS = pick(204_800, 51_200);
const CHUNK = 50 * BATCH; // 51,200 calls: at most ~25 MB even for the allocation-heavy contenders

const { comparisons } = buildRecordFixtures();
const gcStarts = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
});
observer.observe({ entryTypes: ['gc'] });

async function measure(fn, CALLS) {
  const batches = Math.ceil(CHUNK / BATCH);
  for (let i = 0; i < 2 * batches; i++) fn(); // warm up: optimised code, every label set seen
  globalThis.gc();
  globalThis.gc();
  await yieldToLoop();
  const before = process.memoryUsage().heapUsed;
  const windows = [];
  let allocated = 0;
  let calls = 0;
  while (calls < CALLS) {
    globalThis.gc();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) fn();
    const t1 = performance.now();
    const h1 = process.memoryUsage().heapUsed;
    windows.push([t0, t1]);
    allocated += h1 - h0;
    calls += batches * BATCH;
  }
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  await yieldToLoop();
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the observer deliver gc entries
  const collectionsInside = gcStarts.filter((start) => windows.some(([t0, t1]) => start > t0 && start < t1)).length;
  gcStarts.length = 0;
  return {
    calls,
    bytesPerCall: allocated / calls,
    retainedBytes: after - before,
    collectionsInside,
    valid: collectionsInside === 0,
  };
}

const results = {};
for (const [key, comparison] of Object.entries(comparisons)) {
  results[key] = { title: comparison.title, subject: comparison.subject, tasks: {} };
  for (const task of comparison.tasks) {
    const result = await measure(task.fn, task.id === comparison.subject ? HELPER_CALLS : OTHER_CALLS);
    results[key].tasks[task.id] = { label: task.label, ...result };
    log(
      'alloc',
      `${key}/${task.id}: ${result.bytesPerCall.toFixed(2)} B/call, retained ${result.retainedBytes} B${result.valid ? '' : ' (GC inside window!)'}`,
    );
  }
}
observer.disconnect();
const helperBytes = Object.fromEntries(
  Object.entries(results).map(([key, value]) => [key, value.tasks[value.subject].bytesPerCall]),
);
emit({ helperCalls: HELPER_CALLS, otherCalls: OTHER_CALLS, chunk: CHUNK, results, helperBytes });
