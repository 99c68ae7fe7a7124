// Section 5: model health. recordModelCall throughput (write-behind recorder if the package exports
// it, otherwise the store's direct path), the recorder's flush, and one provider health tracker tick
// over 10,000 models.
import { GatewayTelemetry, startProviderHealthTracker, MODEL_CALL_STATUSES } from '@gatewayz/telemetry';
import * as modelHealthPackage from '@gatewayz/telemetry/model-health';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BenchReader, compareTasks, emit, log, pick, summarize } from '../lib/common.mjs';

const { MemoryModelHealthStore, foldModelCall } = modelHealthPackage;
const ModelHealthRecorder = modelHealthPackage.ModelHealthRecorder;

const BATCH = 1024;
const MODELS = pick(10_000, 2_000);
const PROVIDERS = 10;

/** A clock whose timers only run when the benchmark says so (nothing fires on its own). */
function manualClock(startMs) {
  let now = startMs;
  const timers = new Map();
  let nextId = 1;
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { callback, at: now + ms });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    advance(ms) {
      now += ms;
    },
  };
}

const telemetry = new GatewayTelemetry({
  meterProvider: new MeterProvider({
    readers: [new BenchReader()],
    views: [{ instrumentName: '*', aggregationCardinalityLimit: 50_000 }],
  }),
  maxSeriesPerMetric: 50_000,
  exemplars: false,
});

// 64 (provider, model) pairs, 1 in 16 calls failing; call objects built up front (the caller owns them).
const calls = Array.from({ length: BATCH }, (_, index) => {
  const status = index % 16 === 0 ? 'error' : 'success';
  return {
    provider: `provider-${index & 7}`,
    model: `model-${(index >> 3) & 7}`,
    responseTimeMs: 100 + (index % 300),
    status,
    ...(status === 'error' ? { errorMessage: 'upstream returned 500' } : {}),
  };
});

const result = { recorderExported: typeof ModelHealthRecorder === 'function' };

// --- recordModelCall throughput ------------------------------------------------------------------
const tasks = [];
let recorder;
const recorderClock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
if (result.recorderExported) {
  recorder = new ModelHealthRecorder({ store: new MemoryModelHealthStore(), telemetry, clock: recorderClock });
  if (typeof recorder.recordModelCall !== 'function') throw new Error('ModelHealthRecorder has no recordModelCall()');
  tasks.push({
    id: 'recorder',
    label: '`ModelHealthRecorder.recordModelCall(call)` (write-behind)',
    fn: () => {
      for (let i = 0; i < BATCH; i++) recorder.recordModelCall(calls[i]);
    },
  });
}
const directStore = new MemoryModelHealthStore();
tasks.push({
  id: 'storeRecordCall',
  label: '`MemoryModelHealthStore.recordCall(call)` (direct, validates)',
  fn: () => {
    for (let i = 0; i < BATCH; i++) directStore.recordCall(calls[i]);
  },
});
const folded = new Array(64);
tasks.push({
  id: 'foldModelCall',
  label: '`foldModelCall(entry, call)` (pure fold, allocates an entry)',
  fn: () => {
    for (let i = 0; i < BATCH; i++) {
      const slot = i & 63;
      folded[slot] = foldModelCall(folded[slot], calls[i]);
    }
  },
});
log('model-health', `recordModelCall: ${tasks.map((task) => task.id).join(', ')}`);
result.record = await compareTasks({
  tasks,
  batch: BATCH,
  rounds: pick(3, 1),
  timeMs: pick(300, 30),
  warmupMs: pick(100, 10),
  minSamples: pick(30, 3),
});
result.recordOrder = tasks.map((task) => task.id);

// --- recorder flush of MODELS distinct models ------------------------------------------------------
if (recorder !== undefined) {
  await recorder.flush();
  const store = new MemoryModelHealthStore();
  const flushRecorder = new ModelHealthRecorder({
    store,
    telemetry,
    clock: manualClock(Date.now()),
    maxPendingModels: MODELS + 1,
  });
  const samples = [];
  for (let round = 0; round < pick(5, 1); round++) {
    for (let index = 0; index < MODELS; index++) {
      flushRecorder.recordModelCall({
        provider: `provider-${index % PROVIDERS}`,
        model: `model-${index}`,
        responseTimeMs: 250,
        status: 'success',
      });
    }
    const started = performance.now();
    await flushRecorder.flush();
    samples.push(performance.now() - started);
  }
  result.flush = { models: MODELS, ms: summarize(samples), records: (await store.listAllModelHealth()).length };
  await flushRecorder.close();
  await recorder.close();
}

// --- provider health tracker tick over MODELS models ----------------------------------------------
{
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = new MemoryModelHealthStore({ now: () => new Date(clock.now()) });
  const statuses = MODEL_CALL_STATUSES;
  for (let index = 0; index < MODELS; index++) {
    store.recordCall({
      provider: `provider-${index % PROVIDERS}`,
      model: `model-${index}`,
      responseTimeMs: 100 + (index % 900),
      status: index % 10 === 0 ? statuses[1 + (index % (statuses.length - 1))] : 'success',
      calledAt: new Date(clock.now()),
    });
  }
  const tracker = startProviderHealthTracker({
    source: store,
    intervalMs: 30_000,
    clock,
    telemetry,
    runImmediately: false,
  });
  const ticks = [];
  const lists = [];
  const rounds = pick(20, 3);
  await tracker.tick(); // first tick: every model is new to the tracker
  for (let round = 0; round < rounds; round++) {
    // Between ticks a tenth of the models get new calls, so the windowed figures move.
    for (let index = round % 10; index < MODELS; index += 10) {
      store.recordCall({
        provider: `provider-${index % PROVIDERS}`,
        model: `model-${index}`,
        responseTimeMs: 300,
        status: 'success',
        calledAt: new Date(clock.now()),
      });
    }
    clock.advance(30_000);
    let started = performance.now();
    await store.listAllModelHealth();
    lists.push(performance.now() - started);
    started = performance.now();
    const snapshot = await tracker.tick();
    ticks.push(performance.now() - started);
    if (snapshot.length !== PROVIDERS) throw new Error(`tracker saw ${snapshot.length} providers`);
  }
  await tracker.stop();
  result.tracker = {
    models: MODELS,
    providers: PROVIDERS,
    tickMs: summarize(ticks),
    listAllModelHealthMs: summarize(lists),
    target: 10,
    met: summarize(ticks).mean < 10,
    uptimeSeries: telemetry.seriesCount('modelUptime24h'),
  };
  log(
    'model-health',
    `tick over ${MODELS} models: mean ${result.tracker.tickMs.mean.toFixed(2)} ms, p99 ${result.tracker.tickMs.p99.toFixed(2)} ms`,
  );
}
emit(result);
