/*
 * Provider and model health figures and the library's own accounting that no other test pinned:
 * a tracker's first tick over records older than it and created as it started, a close() with no
 * time to retry, batches without calls, and the series limit of the drop counter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  TelemetryInputError,
  startProviderHealthTracker,
  type MetricKey,
  type ProviderHealthTracker,
} from '../src/index.js';
import { METRIC_CATALOG } from '../src/metrics/index.js';
import {
  MemoryModelHealthStore,
  ModelHealthRecorder,
  validateModelCallBatch,
  type ModelCallAggregate,
  type ModelCallBatch,
  type ModelHealthRecord,
  type ModelHealthSource,
} from '../src/model-health/index.js';
import { CollectingDiagLogger, ManualClock, modelCall, settle, telemetryPerTest } from './helpers.js';

const newTelemetry = telemetryPerTest();
const DAY = 86_400_000;
const STARTED = Date.parse('2026-06-01T00:00:00Z');

const trackers: ProviderHealthTracker[] = [];
afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.stop()));
  CollectingDiagLogger.uninstall();
});

/** openai/gpt-4o: 10 calls, 9 succeeded, `avgResponseTimeMs` on average, created at `createdAt`. */
function record(createdAt: number, avgResponseTimeMs: number): ModelHealthRecord {
  return {
    provider: 'openai',
    model: 'gpt-4o',
    callCount: 10,
    successCount: 9,
    errorCount: 1,
    lastResponseTimeMs: avgResponseTimeMs,
    avgResponseTimeMs,
    lastStatus: 'success',
    lastErrorMessage: null,
    lastErrorAt: null,
    lastCalledAt: new Date(STARTED),
    createdAt: new Date(createdAt),
    updatedAt: new Date(STARTED),
  };
}

/** A tracker on a clock standing at STARTED, over a source holding `records`, not yet ticked. */
function trackerOver(records: ModelHealthRecord[]) {
  const { telemetry, collect } = newTelemetry();
  const source: ModelHealthSource = { listAllModelHealth: async () => records };
  const tracker = startProviderHealthTracker({
    source,
    clock: new ManualClock(STARTED),
    telemetry,
    runImmediately: false,
  });
  trackers.push(tracker);
  return { tracker, collect };
}

describe('a provider health tracker’s first tick', () => {
  it('reads the mean response time of records older than the tracker in seconds (900 ms: 0.9 s, score 0.97)', async () => {
    const { tracker, collect } = trackerOver([record(STARTED - DAY, 900)]);
    const [openai] = await tracker.tick();
    expect(openai).toMatchObject({ provider: 'openai', windowed: false, availability: 1, responseTimeSeconds: 0.9 });
    expect(openai?.errorRate).toBeCloseTo(0.1, 12);
    // 0.4 × availability 1 + 0.3 × (1 − error rate 0.1) + 0.3 × latency score 1 (0.9 s is fast).
    expect(openai?.healthScore).toBeCloseTo(0.97, 12);
    expect((await collect()).value('gatewayz_provider_health_score', { provider: 'openai' })).toBeCloseTo(0.97, 12);
  });

  it('counts the calls of a record created in the millisecond the tracker started as calls in its window', async () => {
    const { tracker, collect } = trackerOver([record(STARTED, 500)]);
    const [openai] = await tracker.tick();
    expect(openai).toMatchObject({ provider: 'openai', windowed: true, responseTimeSeconds: 0.5 });
    expect((await collect()).value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBeCloseTo(0.9, 12);
  });
});

describe('ModelHealthRecorder.close({ timeoutMs: 0 })', () => {
  it('tries once and resolves without waiting to retry when the store is down', async () => {
    const logger = new CollectingDiagLogger().install();
    const { telemetry } = newTelemetry();
    const attempts: ModelCallBatch[] = [];
    const store = new (class extends MemoryModelHealthStore {
      override async applyBatch(batch: ModelCallBatch): Promise<void> {
        attempts.push(batch);
        throw new Error('database unavailable');
      }
    })();
    // Timers on this clock fire only when the test advances it, which it never does: a close()
    // that waited for a backoff would not resolve.
    const recorder = new ModelHealthRecorder({ store, clock: new ManualClock(STARTED), telemetry });
    recorder.recordModelCall(modelCall());

    let result: unknown;
    void recorder.close({ timeoutMs: 0 }).then((value) => (result = value));
    await settle();
    expect(result).toEqual({ flushed: false, pendingCalls: 1 });
    expect(attempts).toHaveLength(1);
    expect(logger.errors.map((entry) => entry.message)).toEqual([
      '@gatewayz/telemetry: 1 model calls could not be written before shutdown: the model-health store is unavailable',
    ]);
  });
});

describe('a model-call batch entry without calls', () => {
  const entry: ModelCallAggregate = {
    provider: 'openai',
    model: 'gpt-4o',
    calls: 0,
    successes: 0,
    errors: 0,
    totalResponseTimeMs: 0,
    lastResponseTimeMs: 0,
    lastStatus: 'success',
    lastErrorMessage: null,
    lastErrorAt: null,
    lastCalledAt: new Date(STARTED),
  };
  const batch: ModelCallBatch = { id: 'batch-1', entries: [entry] };

  it('is rejected by validateModelCallBatch', () => {
    expect(() => validateModelCallBatch(batch)).toThrow(TelemetryInputError);
    expect(() => validateModelCallBatch(batch)).toThrow(/calls must be an integer >= 1/);
  });

  it('is rejected by MemoryModelHealthStore.applyBatch, which stores nothing', async () => {
    const store = new MemoryModelHealthStore();
    await expect(store.applyBatch(batch)).rejects.toMatchObject({ reason: 'invalid_batch' });
    expect(await store.listAllModelHealth()).toEqual([]);
  });
});

describe('gatewayz_telemetry_dropped', () => {
  it('keeps a series per metric and reason beyond 100 of them, whatever maxSeriesPerMetric says', async () => {
    const { telemetry, collect } = newTelemetry({ maxSeriesPerMetric: 1 });
    // Through the generic API every metric of the catalog refuses NaN and Infinity: two series each.
    const keys = Object.keys(METRIC_CATALOG) as MetricKey[];
    const generic = telemetry as unknown as Record<
      'add' | 'set' | 'record',
      (key: MetricKey, value: number, labels: object) => void
    >;
    for (const key of keys) {
      const kind = METRIC_CATALOG[key].kind;
      const method = kind === 'gauge' ? 'set' : kind === 'histogram' ? 'record' : 'add';
      generic[method](key, Number.NaN, {});
      generic[method](key, Number.POSITIVE_INFINITY, {});
    }
    const points = (await collect()).points('gatewayz_telemetry_dropped');
    expect(keys.length * 2).toBeGreaterThan(100);
    expect(points).toHaveLength(keys.length * 2);
    expect(points.every((point) => point.value === 1)).toBe(true);
    expect(points.filter((point) => Object.values(point.attributes).includes('other'))).toEqual([]);
  });
});
