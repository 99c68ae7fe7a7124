// Section 7: probes. Small, self-contained measurements backing the proposals in the doc for the
// targets that are missed. They use plain JS stand-ins, never the packages' internals, so they keep
// working while the source changes. Run with --expose-gc and a 128 MB young generation (allocation
// is measured as in the alloc section: heapUsed delta with no collection inside the window).
import { LLM_LATENCY_BUCKETS } from '@gatewayz/telemetry/metrics';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BenchReader, compareTasks, emit, log, pick } from '../lib/common.mjs';

if (!globalThis.gc) throw new Error('run with --expose-gc');
const BATCH = 1024;
const values = Array.from({ length: BATCH }, (_, index) => 0.0001 * (index + 1));
values.push('keep-elements-tagged'); // see record-fixtures.mjs: values stay boxed heap numbers

/**
 * Bytes allocated per operation over `batches` x BATCH operations. A full GC can cost a fixed few
 * hundred KB afterwards (re-optimised code), so low-allocation cases use many operations to tell a
 * fixed cost from a per-operation one.
 */
function bytesPerCall(fn, batches) {
  for (let i = 0; i < 200; i++) fn();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < batches; i++) fn();
  return (process.memoryUsage().heapUsed - before) / (batches * BATCH);
}

const result = {};

// --- P5: a double accumulated in an object-literal field allocates a HeapNumber per update --------
{
  const literal = Array.from({ length: 8 }, () => ({ value: 0, attributes: Object.freeze({ provider: 'x' }) }));
  class Cell {
    constructor(attributes) {
      this.value = 0;
      this.attributes = attributes;
    }
  }
  const instances = Array.from({ length: 8 }, () => new Cell(Object.freeze({ provider: 'x' })));
  const literalAdd = () => {
    for (let i = 0; i < BATCH; i++) literal[i & 7].value += values[i];
  };
  const classAdd = () => {
    for (let i = 0; i < BATCH; i++) instances[i & 7].value += values[i];
  };
  result.doubleField = {
    literalBytesPerAdd: bytesPerCall(literalAdd, 2000),
    classBytesPerAdd: bytesPerCall(classAdd, 2000),
  };
  log(
    'probes',
    `double field: literal ${result.doubleField.literalBytesPerAdd.toFixed(2)} B/add, class ${result.doubleField.classBytesPerAdd.toFixed(2)} B/add`,
  );
}

// --- P2: a histogram aggregated in the series cell vs the SDK histogram -------------------------
{
  const boundaries = [...LLM_LATENCY_BUCKETS];
  class HistogramCell {
    constructor(attributes) {
      this.attributes = attributes;
      this.counts = new Float64Array(boundaries.length + 1);
      this.sum = 0;
      this.count = 0;
    }
    record(value) {
      let low = 0;
      let high = boundaries.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (boundaries[middle] < value) low = middle + 1;
        else high = middle;
      }
      this.counts[low] += 1;
      this.sum += value;
      this.count += 1;
    }
  }
  const latencies = Array.from(
    { length: BATCH },
    (_, index) => 0.02 * Math.exp((((index * 7919) % BATCH) / BATCH) * Math.log(7500)),
  );
  latencies.push('keep-elements-tagged');
  const cells = Array.from({ length: 8 }, (_, index) => new HistogramCell(Object.freeze({ provider: `p${index}` })));
  const provider = new MeterProvider({ readers: [new BenchReader()] });
  const histogram = provider
    .getMeter('probe')
    .createHistogram('h', { advice: { explicitBucketBoundaries: boundaries } });
  const tasks = [
    {
      id: 'inCell',
      label: 'histogram aggregated in the cell (binary search + 3 writes)',
      fn: () => {
        for (let i = 0; i < BATCH; i++) cells[i & 7].record(latencies[i]);
      },
    },
    {
      id: 'sdk',
      label: 'SDK `histogram.record(v, cachedAttrs)`',
      fn: () => {
        for (let i = 0; i < BATCH; i++) histogram.record(latencies[i], cells[i & 7].attributes);
      },
    },
  ];
  const timing = await compareTasks({
    tasks,
    batch: BATCH,
    rounds: pick(2, 1),
    timeMs: pick(250, 30),
    warmupMs: pick(80, 10),
    minSamples: pick(20, 3),
  });
  result.inCellHistogram = {
    nsInCell: timing.inCell.ns.p50,
    nsSdk: timing.sdk.ns.p50,
    bytesInCell: bytesPerCall(tasks[0].fn, 2000),
    bytesSdk: bytesPerCall(tasks[1].fn, 100),
  };
  log(
    'probes',
    `in-cell histogram ${result.inCellHistogram.nsInCell.toFixed(1)} ns vs SDK ${result.inCellHistogram.nsSdk.toFixed(1)} ns`,
  );
}

// --- P1: producer-style collection (data points built straight from cells) ----------------------
{
  const SERIES = pick(20_000, 2_000);
  const cells = Array.from({ length: SERIES }, (_, index) => ({
    value: index * 1.5,
    attributes: Object.freeze({ provider: `provider-${index % 50}`, model: `model-${index}` }),
  }));
  const samples = [];
  for (let round = 0; round < pick(15, 3); round++) {
    const started = performance.now();
    const time = [Math.floor(Date.now() / 1000), 0];
    const dataPoints = new Array(cells.length);
    for (let index = 0; index < cells.length; index++) {
      const cell = cells[index];
      dataPoints[index] = { attributes: cell.attributes, startTime: time, endTime: time, value: cell.value };
    }
    samples.push(performance.now() - started);
    if (dataPoints.length !== SERIES) throw new Error('unreachable');
  }
  samples.sort((a, b) => a - b);
  result.producerCollect = { series: SERIES, msP50: samples[Math.floor(samples.length / 2)] };
  log('probes', `producer-style collect of ${SERIES} points: ${result.producerCollect.msP50.toFixed(2)} ms`);
}

// --- P6: tracker bookkeeping keyed by a fresh template string vs nested maps ---------------------
{
  const MODELS = pick(10_000, 2_000);
  const records = Array.from({ length: MODELS }, (_, index) => ({
    provider: `provider-${index % 10}`,
    model: `model-${index}`,
    callCount: index,
  }));
  const flat = new Map();
  const nested = new Map();
  for (const record of records) {
    flat.set(`${record.provider}\u0000${record.model}`, { calls: 0 });
    let byModel = nested.get(record.provider);
    if (byModel === undefined) nested.set(record.provider, (byModel = new Map()));
    byModel.set(record.model, { calls: 0 });
  }
  // Copies as listAllModelHealth() hands them out: same strings, new objects.
  const copies = () => records.map((record) => ({ ...record }));
  const time = (fn) => {
    const runs = [];
    for (let round = 0; round < pick(30, 5); round++) {
      const list = copies();
      const started = performance.now();
      fn(list);
      runs.push(performance.now() - started);
    }
    runs.sort((a, b) => a - b);
    return runs[Math.floor(runs.length / 2)];
  };
  const flatMs = time((list) => {
    for (const record of list) flat.get(`${record.provider}\u0000${record.model}`).calls = record.callCount;
  });
  const nestedMs = time((list) => {
    for (const record of list) nested.get(record.provider).get(record.model).calls = record.callCount;
  });
  const sortMs = time((list) =>
    list.sort((a, b) =>
      a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0,
    ),
  );
  result.trackerKeys = { models: MODELS, templateKeyMs: flatMs, nestedMapMs: nestedMs, sortMs };
  log(
    'probes',
    `tracker keys over ${MODELS}: template ${flatMs.toFixed(2)} ms, nested ${nestedMs.toFixed(2)} ms, sort ${sortMs.toFixed(2)} ms`,
  );
}

// --- ALS: what the AsyncLocalStorage context manager (installed by NodeSDK) adds to every await ----
// Last, because it enables the context manager for the rest of the process.
{
  const { ROOT_CONTEXT, context, createContextKey } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const AWAITS = 10_000;
  async function awaits() {
    for (let i = 0; i < AWAITS; i++) await null;
  }
  async function perAwait() {
    const runs = [];
    for (let round = 0; round < pick(25, 4); round++) {
      const started = process.hrtime.bigint();
      await awaits();
      runs.push(Number(process.hrtime.bigint() - started) / AWAITS);
    }
    runs.sort((a, b) => a - b);
    return runs[Math.floor(runs.length / 2)];
  }
  const withoutNs = await perAwait();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const active = ROOT_CONTEXT.setValue(createContextKey('bench'), 1);
  const withNs = await context.with(active, () => perAwait());
  result.als = { withoutNs, withNs, overheadNsPerAwait: withNs - withoutNs };
  log('probes', `await: ${withoutNs.toFixed(0)} ns without, ${withNs.toFixed(0)} ns with the ALS context manager`);
}

emit(result);
