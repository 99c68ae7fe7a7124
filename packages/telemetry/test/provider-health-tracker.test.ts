import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  GatewayTelemetry,
  getTelemetry,
  setTelemetry,
  startProviderHealthTracker,
  type ModelCallStatus,
  type ProviderHealthTracker,
} from '../src/index.js';
import { MemoryModelHealthStore, type ModelHealthRecord, type ModelHealthSource } from '../src/model-health/index.js';
import {
  CollectingDiagLogger,
  ManualClock,
  createTelemetry,
  deferred,
  settle,
  type CollectedMetrics,
  type MetricsHarness,
} from './helpers.js';

const INTERVAL = 30_000;
const HOUR = 3_600_000;

let logger: CollectingDiagLogger;
const harnesses: MetricsHarness[] = [];
const trackers: ProviderHealthTracker[] = [];

function setup() {
  const created = createTelemetry();
  harnesses.push(created.harness);
  return created;
}

function track(tracker: ProviderHealthTracker): ProviderHealthTracker {
  trackers.push(tracker);
  return tracker;
}

beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});

afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.stop()));
  CollectingDiagLogger.uninstall();
  vi.useRealTimers();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

function recordCalls(
  store: MemoryModelHealthStore,
  provider: string,
  model: string,
  count: number,
  status: ModelCallStatus,
  responseTimeMs: number,
): void {
  for (let index = 0; index < count; index++) {
    store.recordCall({ provider, model, responseTimeMs, status, errorMessage: status === 'success' ? null : 'failed' });
  }
}

/** A source that counts reads and delegates to a store. */
function countingSource(store: ModelHealthSource): ModelHealthSource & { reads: number } {
  const source = {
    reads: 0,
    listAllModelHealth() {
      source.reads += 1;
      return store.listAllModelHealth();
    },
  };
  return source;
}

function providerGauges(collected: CollectedMetrics, provider: string) {
  return {
    availability: collected.value('provider_availability', { provider }),
    errorRate: collected.value('provider_error_rate', { provider }),
    healthScore: collected.value('gatewayz_provider_health_score', { provider }),
  };
}

/** openai: 20 calls, 1 error, 750 ms mean; anthropic: 4 calls, 2 errors, 6 s; broken: 3 timeouts, 12 s. */
function seededStore(): MemoryModelHealthStore {
  const store = new MemoryModelHealthStore();
  recordCalls(store, 'openai', 'gpt-4o', 9, 'success', 1000);
  recordCalls(store, 'openai', 'gpt-4o', 1, 'error', 1000);
  recordCalls(store, 'openai', 'gpt-4o-mini', 10, 'success', 500);
  recordCalls(store, 'anthropic', 'claude-3-5-sonnet', 2, 'error', 6000);
  recordCalls(store, 'anthropic', 'claude-3-5-sonnet', 2, 'success', 6000);
  recordCalls(store, 'broken', 'm-1', 3, 'timeout', 12_000);
  return store;
}

describe('startProviderHealthTracker', () => {
  it('first tick sets availability, error rate and health score per provider', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const source = countingSource(seededStore());
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));

    expect(source.reads).toBe(0);
    await clock.advance(0);
    expect(source.reads).toBe(1);

    const collected = await collect();
    const openai = providerGauges(collected, 'openai');
    expect(openai.availability).toBe(1);
    expect(openai.errorRate).toBeCloseTo(0.05, 12);
    expect(openai.healthScore).toBeCloseTo(0.985, 12);
    const anthropic = providerGauges(collected, 'anthropic');
    expect(anthropic.availability).toBe(1);
    expect(anthropic.errorRate).toBe(0.5);
    expect(anthropic.healthScore).toBeCloseTo(0.7, 12);
    expect(providerGauges(collected, 'broken')).toEqual({ availability: 0, errorRate: 1, healthScore: 0 });

    expect(tracker.healthScore('openai')).toBeCloseTo(0.985, 12);
    expect(tracker.healthScore('unknown')).toBeUndefined();
    expect(tracker.snapshot().map((entry) => entry.provider)).toEqual(['openai', 'anthropic', 'broken']);
    const openaiSnapshot = tracker.snapshot()[0];
    expect(openaiSnapshot).toMatchObject({ provider: 'openai', models: 2, availability: 1, windowed: true });
    expect(openaiSnapshot?.responseTimeSeconds).toBeCloseTo(0.75, 12);
    expect(tracker.toJSON()).toMatchObject({ intervalMs: INTERVAL, ticks: 1, failures: 0 });
    expect(tracker.toJSON().providers).toBe(tracker.snapshot());
  });

  it('sets gatewayz_model_uptime_24h per model', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    track(startProviderHealthTracker({ source: seededStore(), clock, telemetry }));
    await clock.advance(0);

    const collected = await collect();
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBeCloseTo(0.9, 12);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o-mini' })).toBe(1);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'claude-3-5-sonnet' })).toBe(0.5);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'm-1' })).toBe(0);
    expect(collected.points('gatewayz_model_uptime_24h')).toHaveLength(4);
  });

  it('second tick uses only the calls made since the previous tick', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = seededStore();
    const source = countingSource(store);
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    expect(tracker.healthScore('anthropic')).toBeCloseTo(0.7, 12);

    // Four fast successes: over all calls anthropic would be at 25 % errors and 3.5 s.
    recordCalls(store, 'anthropic', 'claude-3-5-sonnet', 4, 'success', 1000);
    await clock.advance(INTERVAL - 1);
    expect(source.reads).toBe(1);
    await clock.advance(1);
    expect(source.reads).toBe(2);

    const collected = await collect();
    expect(providerGauges(collected, 'anthropic')).toEqual({ availability: 1, errorRate: 0, healthScore: 1 });
    const anthropic = tracker.snapshot().find((entry) => entry.provider === 'anthropic');
    expect(anthropic?.windowed).toBe(true);
    expect(anthropic?.responseTimeSeconds).toBeCloseTo(1, 12);

    // openai saw no calls in the interval: its figures fall back to all recorded calls.
    const openai = tracker.snapshot().find((entry) => entry.provider === 'openai');
    expect(openai?.windowed).toBe(false);
    expect(openai?.errorRate).toBeCloseTo(0.05, 12);
    expect(providerGauges(collected, 'openai').healthScore).toBeCloseTo(0.985, 12);

    // Uptime keeps all calls of the last 24 hours: 6 of 8 succeeded.
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'claude-3-5-sonnet' })).toBe(0.75);
    expect(tracker.snapshot().map((entry) => entry.provider)).toEqual(['anthropic', 'openai', 'broken']);
    expect(tracker.toJSON().ticks).toBe(2);
  });

  it('keeps the figures of the last interval with calls while a provider is idle', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = seededStore();
    // A provider whose most recent call failed after three successes.
    recordCalls(store, 'mixed', 'm', 3, 'success', 500);
    recordCalls(store, 'mixed', 'm', 1, 'error', 500);
    const tracker = track(startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    const mixedFirst = tracker.snapshot().find((entry) => entry.provider === 'mixed');
    expect(mixedFirst).toMatchObject({ availability: 1, errorRate: 0.25, windowed: true });

    recordCalls(store, 'anthropic', 'claude-3-5-sonnet', 4, 'success', 1000);
    await clock.advance(INTERVAL); // anthropic: 0 % errors over the interval
    await clock.advance(INTERVAL); // idle
    await clock.advance(INTERVAL); // idle

    const collected = await collect();
    // Not the 25 % error rate over all of anthropic's calls.
    expect(providerGauges(collected, 'anthropic')).toEqual({ availability: 1, errorRate: 0, healthScore: 1 });
    // An idle tick brings no new information: "mixed" stays available with the same score even
    // though its most recent call failed.
    const mixed = tracker.snapshot().find((entry) => entry.provider === 'mixed');
    expect(mixed).toMatchObject({ windowed: false, availability: 1, errorRate: 0.25 });
    expect(mixed?.healthScore).toBe(mixedFirst?.healthScore);
    expect(providerGauges(collected, 'mixed')).toEqual({
      availability: 1,
      errorRate: 0.25,
      healthScore: mixedFirst?.healthScore,
    });
  });

  it('windows a provider as a whole when only one of its models saw calls', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = seededStore();
    track(startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);

    recordCalls(store, 'openai', 'gpt-4o-mini', 3, 'error', 500);
    recordCalls(store, 'openai', 'gpt-4o-mini', 1, 'success', 500);
    await clock.advance(INTERVAL);

    const collected = await collect();
    expect(collected.value('provider_error_rate', { provider: 'openai' })).toBe(0.75);
    expect(collected.value('provider_availability', { provider: 'openai' })).toBe(1);
  });

  it('marks a provider unavailable when every call of the interval failed', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = seededStore();
    const tracker = track(startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);

    recordCalls(store, 'openai', 'gpt-4o', 5, 'rate_limited', 1000);
    await clock.advance(INTERVAL);

    const collected = await collect();
    expect(providerGauges(collected, 'openai')).toMatchObject({ availability: 0, errorRate: 1 });
    expect(tracker.healthScore('openai')).toBeCloseTo(0.3, 12); // 0 + 0 + 0.3 * latency 1
  });

  it('treats a store that was reset (fewer calls than before) as fresh counts', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const at = new Date(0);
    const record = (callCount: number, errorCount: number): ModelHealthRecord => ({
      provider: 'openai',
      model: 'gpt-4o',
      callCount,
      successCount: callCount - errorCount,
      errorCount,
      lastResponseTimeMs: 1000,
      avgResponseTimeMs: 1000,
      lastStatus: 'success',
      lastErrorMessage: null,
      lastErrorAt: null,
      lastCalledAt: at,
      createdAt: at,
      updatedAt: at,
    });
    let records = [record(100, 50)];
    const source: ModelHealthSource = { listAllModelHealth: async () => records };
    track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    expect((await collect()).value('provider_error_rate', { provider: 'openai' })).toBe(0.5);

    records = [record(4, 1)];
    await clock.advance(INTERVAL);
    expect((await collect()).value('provider_error_rate', { provider: 'openai' })).toBe(0.25);
  });

  it('reads a source in place with forEachModelHealth when it has one, with the same results as a list', async () => {
    const store = seededStore();
    const listOnly: ModelHealthSource = { listAllModelHealth: () => store.listAllModelHealth() };
    let listCalls = 0;
    const inPlace: ModelHealthSource = {
      listAllModelHealth: () => {
        listCalls += 1;
        return store.listAllModelHealth();
      },
      forEachModelHealth: (visit) => store.forEachModelHealth(visit),
    };
    const clock = new ManualClock();
    // No timer fires within the test: every tick is an explicit tick() of both trackers.
    const options = { clock, intervalMs: 100 * HOUR, runImmediately: false };
    const a = track(startProviderHealthTracker({ ...options, source: listOnly, telemetry: setup().telemetry }));
    const b = track(startProviderHealthTracker({ ...options, source: inPlace, telemetry: setup().telemetry }));
    for (let round = 0; round < 5; round++) {
      recordCalls(store, 'openai', 'gpt-4o', round, round % 2 === 0 ? 'success' : 'error', 300 + round);
      recordCalls(store, `provider-${round}`, 'shared-model', 2, 'success', 200);
      await clock.advance(HOUR);
      expect(await b.tick()).toEqual(await a.tick());
    }
    expect(listCalls).toBe(0);
    expect(b.snapshot().length).toBe(8);
  });

  it('ticks every intervalMs, the first tick at once by default', async () => {
    const { telemetry } = setup();
    const clock = new ManualClock();
    const source = countingSource(seededStore());
    track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: 1000 }));
    await clock.advance(0);
    expect(source.reads).toBe(1);
    await clock.advance(3000);
    expect(source.reads).toBe(4);
  });

  it('waits one interval for the first tick with runImmediately: false', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const source = countingSource(seededStore());
    const tracker = track(
      startProviderHealthTracker({ source, clock, telemetry, intervalMs: 1000, runImmediately: false }),
    );
    await clock.advance(999);
    expect(source.reads).toBe(0);
    expect(tracker.snapshot()).toEqual([]);
    expect((await collect()).metric('provider_availability')).toBeUndefined();
    await clock.advance(1);
    expect(source.reads).toBe(1);
  });

  it('tick() runs one tick on demand and resolves with the snapshot', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const tracker = track(
      startProviderHealthTracker({ source: seededStore(), clock, telemetry, runImmediately: false }),
    );
    const snapshot = await tracker.tick();
    expect(snapshot.map((entry) => entry.provider)).toEqual(['openai', 'anthropic', 'broken']);
    expect(snapshot).toBe(tracker.snapshot());
    expect((await collect()).value('provider_availability', { provider: 'broken' })).toBe(0);
  });

  it('sorts the snapshot by health score, best first, then by provider name', async () => {
    const { telemetry } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'zeta', 'm', 2, 'success', 100);
    recordCalls(store, 'slow', 'm', 2, 'success', 9000);
    recordCalls(store, 'alpha', 'm', 2, 'success', 100);
    recordCalls(store, 'flaky', 'm', 1, 'success', 100);
    recordCalls(store, 'flaky', 'm', 1, 'error', 100);
    const tracker = track(startProviderHealthTracker({ source: store, clock, telemetry }));
    await clock.advance(0);

    const snapshot = tracker.snapshot();
    expect(snapshot.map((entry) => entry.provider)).toEqual(['alpha', 'zeta', 'flaky', 'slow']);
    for (let index = 1; index < snapshot.length; index++) {
      expect((snapshot[index - 1]?.healthScore ?? 0) >= (snapshot[index]?.healthScore ?? 0)).toBe(true);
    }
  });

  it('counts a failing tick, logs it, keeps the last snapshot, and the next tick still runs', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'openai', 'gpt-4o', 10, 'success', 500);
    let reads = 0;
    const source: ModelHealthSource = {
      listAllModelHealth() {
        reads += 1;
        if (reads === 2) return Promise.reject(new Error('database down'));
        return store.listAllModelHealth();
      },
    };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    const before = tracker.snapshot();

    await clock.advance(INTERVAL);
    expect(reads).toBe(2);
    let collected = await collect();
    expect(collected.value('gatewayz_provider_health_tracker_errors', {})).toBe(1);
    expect(tracker.snapshot()).toBe(before);
    expect(tracker.toJSON()).toMatchObject({ ticks: 1, failures: 1 });
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]?.message).toContain('provider health tracker tick failed');
    expect(logger.errors[0]?.args[0]).toBeInstanceOf(Error);
    expect(clock.pendingTimers).toBe(1);

    // The provider starts failing; the next tick reports it.
    recordCalls(store, 'openai', 'gpt-4o', 10, 'error', 500);
    await clock.advance(INTERVAL);
    expect(reads).toBe(3);
    collected = await collect();
    expect(collected.value('gatewayz_provider_health_tracker_errors', {})).toBe(1);
    expect(providerGauges(collected, 'openai')).toMatchObject({ availability: 0, errorRate: 1 });
    expect(tracker.toJSON()).toMatchObject({ ticks: 2, failures: 1 });
  });

  it('counts at the next tick the calls a tick that failed half-way had read (a paging source)', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'anthropic', 'claude', 10, 'success', 500);
    recordCalls(store, 'openai', 'gpt-4o', 10, 'success', 500);
    // Reads page by page; the second page fails once, after the first was visited.
    let failSecondPage = false;
    const source: ModelHealthSource = {
      listAllModelHealth: () => store.listAllModelHealth(),
      async forEachModelHealth(visit) {
        const records = [...(await store.listAllModelHealth())].sort((a, b) => a.provider.localeCompare(b.provider));
        for (const [page, record] of records.entries()) {
          if (page === 1 && failSecondPage) throw new Error('page 2: connection reset');
          visit(record);
        }
      },
    };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);

    // anthropic fails every call of the next interval; the tick that reads this fails on page 2.
    recordCalls(store, 'anthropic', 'claude', 10, 'error', 2000);
    failSecondPage = true;
    await clock.advance(INTERVAL);
    expect(tracker.toJSON()).toMatchObject({ ticks: 1, failures: 1 });
    failSecondPage = false;
    await clock.advance(INTERVAL);

    // The ten failed calls are new calls to the tick that completes: none is lost.
    const anthropic = tracker.snapshot().find((entry) => entry.provider === 'anthropic');
    expect(anthropic).toMatchObject({ windowed: true, availability: 0, errorRate: 1, responseTimeSeconds: 2 });
    const collected = await collect();
    expect(providerGauges(collected, 'anthropic')).toEqual({ availability: 0, errorRate: 1, healthScore: 0.3 });
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'claude' })).toBe(0.5);
    expect(providerGauges(collected, 'openai')).toEqual({ availability: 1, errorRate: 0, healthScore: 1 });
  });

  it.each<[keyof ModelHealthRecord, unknown, string]>([
    ['callCount', Number.NaN, 'not_a_number'],
    ['callCount', Infinity, 'not_finite'],
    ['callCount', -5, 'out_of_range'],
    ['callCount', 10.5, 'out_of_range'],
    ['successCount', undefined, 'not_a_number'],
    ['errorCount', -Infinity, 'not_finite'],
    ['avgResponseTimeMs', Number.NaN, 'not_a_number'],
    ['avgResponseTimeMs', Infinity, 'not_finite'],
    ['avgResponseTimeMs', -1, 'out_of_range'],
  ])(
    'skips a record whose %s is %s, counts it as %s, and still updates every provider',
    async (field, value, reason) => {
      const { telemetry, collect } = setup();
      const clock = new ManualClock();
      const store = new MemoryModelHealthStore();
      recordCalls(store, 'openai', 'gpt-4o', 10, 'success', 500);
      recordCalls(store, 'openai', 'gpt-4o-mini', 10, 'success', 500);
      recordCalls(store, 'anthropic', 'claude', 10, 'success', 500);
      let corrupt = false;
      // A custom source handing out a bad figure for one record.
      const source: ModelHealthSource = {
        listAllModelHealth: async () =>
          (await store.listAllModelHealth()).map((record) =>
            corrupt && record.model === 'gpt-4o-mini' ? { ...record, [field]: value } : record,
          ),
      };
      const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
      await clock.advance(0);

      // Both providers fail every call of the next two intervals; the mini record goes bad.
      corrupt = true;
      for (let tick = 0; tick < 2; tick++) {
        recordCalls(store, 'openai', 'gpt-4o', 10, 'error', 2000);
        recordCalls(store, 'anthropic', 'claude', 10, 'error', 2000);
        await clock.advance(INTERVAL);
        expect(tracker.toJSON()).toMatchObject({ ticks: 2 + tick, failures: 0 });
        const collected = await collect();
        expect(providerGauges(collected, 'openai')).toEqual({ availability: 0, errorRate: 1, healthScore: 0.3 });
        expect(providerGauges(collected, 'anthropic')).toEqual({ availability: 0, errorRate: 1, healthScore: 0.3 });
        expect(tracker.snapshot().find((entry) => entry.provider === 'openai')).toMatchObject({
          models: 1,
          windowed: true,
          responseTimeSeconds: 2,
        });
        expect(
          collected.value('gatewayz_telemetry_dropped', { reason, metric: 'gatewayz_provider_health_score' }),
        ).toBe(1 + tick);
        expect(collected.value('gatewayz_provider_health_tracker_errors', {}) ?? 0).toBe(0);
      }
      expect(logger.ownWarnings).toHaveLength(1);
      expect(logger.ownWarnings[0]).toContain(`openai/gpt-4o-mini has ${field}`);

      // Good again: read against its last good counts, so no call is counted twice or lost.
      corrupt = false;
      recordCalls(store, 'openai', 'gpt-4o-mini', 10, 'success', 2000);
      await clock.advance(INTERVAL);
      const collected = await collect();
      expect(providerGauges(collected, 'openai')).toEqual({ availability: 1, errorRate: 0, healthScore: 1 });
      expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o-mini' })).toBe(1);
      expect(tracker.snapshot().find((entry) => entry.provider === 'openai')).toMatchObject({ models: 2 });
    },
  );

  it('survives a source that throws synchronously', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const source: ModelHealthSource = {
      listAllModelHealth() {
        throw new Error('not connected');
      },
    };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    await clock.advance(INTERVAL);
    expect(tracker.toJSON().failures).toBe(2);
    expect((await collect()).value('gatewayz_provider_health_tracker_errors', {})).toBe(2);
    expect(clock.pendingTimers).toBe(1);
  });

  it('stop() waits for the tick in flight, and no tick runs afterwards', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = seededStore();
    const gate = deferred<readonly ModelHealthRecord[]>();
    let reads = 0;
    const source: ModelHealthSource = {
      listAllModelHealth() {
        reads += 1;
        return reads === 1 ? gate.promise : store.listAllModelHealth();
      },
    };
    const tracker = startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL });
    await clock.advance(0);
    expect(reads).toBe(1);

    let stopped = false;
    const stopping = tracker.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    expect((await collect()).metric('provider_availability')).toBeUndefined();

    gate.resolve(await store.listAllModelHealth());
    await stopping;
    expect(stopped).toBe(true);
    // The tick in flight finished before stop() resolved.
    expect(tracker.toJSON().ticks).toBe(1);
    expect((await collect()).value('provider_availability', { provider: 'openai' })).toBe(1);

    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10 * INTERVAL);
    expect(reads).toBe(1);
  });

  it('stop() before the first tick prevents every tick', async () => {
    const { telemetry } = setup();
    const clock = new ManualClock();
    const source = countingSource(seededStore());
    const tracker = startProviderHealthTracker({ source, clock, telemetry });
    await tracker.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(5 * INTERVAL);
    expect(source.reads).toBe(0);
  });

  it('shares one tick between concurrent callers', async () => {
    const { telemetry } = setup();
    const clock = new ManualClock();
    const gate = deferred<readonly ModelHealthRecord[]>();
    let reads = 0;
    const source: ModelHealthSource = {
      listAllModelHealth() {
        reads += 1;
        return gate.promise;
      },
    };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, runImmediately: false }));
    const first = tracker.tick();
    const second = tracker.tick();
    expect(second).toBe(first);
    gate.resolve(await seededStore().listAllModelHealth());
    await first;
    expect(reads).toBe(1);
  });

  it('forgets models and providers no tick has seen for more than 24 hours, and counts a returning one afresh', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'openai', 'gpt-4o', 4, 'success', 100);
    recordCalls(store, 'openai', 'retired-model', 2, 'success', 100);
    recordCalls(store, 'legacy', 'old-model', 3, 'error', 100);
    // Records deleted from the store (retention, renamed models) disappear from what it lists.
    const deleted = new Set<string>();
    const source: ModelHealthSource = {
      listAllModelHealth: async () => (await store.listAllModelHealth()).filter((record) => !deleted.has(record.model)),
    };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: HOUR }));
    await clock.advance(0); // hour 0
    expect(tracker.toJSON().trackedModels).toBe(3);

    deleted.add('retired-model').add('old-model');
    await clock.advance(24 * HOUR); // hour 24: unseen for 24 hours, still inside the window
    expect(tracker.toJSON().trackedModels).toBe(3);
    await clock.advance(HOUR); // hour 25: unseen for longer than the window
    expect(tracker.toJSON().trackedModels).toBe(1);
    expect(tracker.snapshot().map((entry) => entry.provider)).toEqual(['openai']);

    // Back with its old counts plus one new failed call: all of them are new calls to the tracker.
    deleted.delete('retired-model');
    recordCalls(store, 'openai', 'retired-model', 1, 'error', 100);
    await clock.advance(HOUR);
    expect(tracker.toJSON().trackedModels).toBe(2);
    expect((await collect()).value('gatewayz_model_uptime_24h', { model: 'retired-model' })).toBeCloseTo(2 / 3, 12);
  });

  it('removes gatewayz_model_uptime_24h once a model has had no call for 24 hours, and brings it back with the next call', async () => {
    // Producer export (startTelemetry()): what the exposition, the OTLP push and the cluster read.
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    const uptime = () => telemetry.currentValue('modelUptime24h', { model: 'claude' });
    recordCalls(store, 'anthropic', 'claude', 5, 'success', 100);
    recordCalls(store, 'anthropic', 'claude', 5, 'error', 100);
    recordCalls(store, 'openai', 'gpt-4o', 1, 'success', 100);
    track(startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: HOUR }));
    await clock.advance(0); // hour 0
    expect(uptime()).toBe(0.5);
    await clock.advance(23 * HOUR); // hour 23: the calls are still inside the window
    expect(uptime()).toBe(0.5);
    recordCalls(store, 'openai', 'gpt-4o', 1, 'success', 100);
    await clock.advance(HOUR); // hour 24: no call of claude in the last 24 hours
    expect(uptime()).toBeUndefined();
    await clock.advance(6 * HOUR); // hour 30 (the audit's reproduction read 0.5 here)
    expect(uptime()).toBeUndefined();
    expect(telemetry.seriesCount('modelUptime24h')).toBe(1);
    expect(telemetry.currentValue('modelUptime24h', { model: 'gpt-4o' })).toBe(1); // a call at hour 23
    // The record is still listed (the store keeps it): its provider's gauges stand.
    expect(telemetry.currentValue('providerAvailability', { provider: 'anthropic' })).toBe(1);

    recordCalls(store, 'anthropic', 'claude', 1, 'error', 100);
    await clock.advance(HOUR); // hour 31
    expect(uptime()).toBe(0);
  });

  it("removes the gauges of a provider it forgets and the uptime of its models, never the provider's breaker state", async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'openai', 'gpt-4o', 4, 'success', 100);
    recordCalls(store, 'legacy', 'old-model', 3, 'error', 100);
    const deleted = new Set<string>();
    const source: ModelHealthSource = {
      listAllModelHealth: async () => (await store.listAllModelHealth()).filter((record) => !deleted.has(record.model)),
    };
    // The breaker binding owns the state gauge; the tracker leaves it alone.
    telemetry.setCircuitBreakerState('legacy', 'open');
    track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: HOUR }));
    await clock.advance(0); // hour 0
    const legacy = () => ({
      healthScore: telemetry.currentValue('providerHealthScore', { provider: 'legacy' }),
      availability: telemetry.currentValue('providerAvailability', { provider: 'legacy' }),
      errorRate: telemetry.currentValue('providerErrorRate', { provider: 'legacy' }),
      uptime: telemetry.currentValue('modelUptime24h', { model: 'old-model' }),
    });
    expect(legacy()).toEqual({ healthScore: 0.3, availability: 0, errorRate: 1, uptime: 0 });

    deleted.add('old-model'); // deleted from the store by retention
    await clock.advance(24 * HOUR); // hour 24: unseen for 24 hours, not forgotten yet
    expect(legacy().availability).toBe(0);
    await clock.advance(HOUR); // hour 25: forgotten
    expect(legacy()).toEqual({
      healthScore: undefined,
      availability: undefined,
      errorRate: undefined,
      uptime: undefined,
    });
    expect(telemetry.currentValue('circuitBreakerState', { provider: 'legacy', state: 'open' })).toBe(1);
    expect(telemetry.currentValue('providerAvailability', { provider: 'openai' })).toBe(1);
  });

  it('keeps gatewayz_model_uptime_24h over a sliding 24-hour window', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    const uptime = async () => (await collect()).value('gatewayz_model_uptime_24h', { model: 'claude' });
    recordCalls(store, 'anthropic', 'claude', 1, 'success', 100);
    recordCalls(store, 'anthropic', 'claude', 1, 'error', 100);
    track(startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: HOUR }));

    await clock.advance(0); // hour 0
    expect(await uptime()).toBe(0.5);

    await clock.advance(12 * HOUR);
    recordCalls(store, 'anthropic', 'claude', 2, 'success', 100);
    await clock.advance(HOUR); // hour 13
    expect(await uptime()).toBe(0.75);

    await clock.advance(13 * HOUR); // hour 26: the hour-0 calls have left the window
    expect(await uptime()).toBe(1);

    recordCalls(store, 'anthropic', 'claude', 1, 'error', 100);
    await clock.advance(HOUR); // hour 27
    expect(await uptime()).toBeCloseTo(2 / 3, 12);
  });

  it('keeps gatewayz_model_uptime_24h to 24 hours of the clock after the clock jumped forward and back', async () => {
    const { telemetry, collect } = setup();
    let now = 0;
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const store = new MemoryModelHealthStore();
    const tracker = track(
      startProviderHealthTracker({ source: store, clock, telemetry, intervalMs: HOUR, runImmediately: false }),
    );
    const uptime = async () => (await collect()).value('gatewayz_model_uptime_24h', { model: 'claude' });
    recordCalls(store, 'anthropic', 'claude', 10, 'error', 100);
    await tracker.tick(); // hour 0
    expect(await uptime()).toBe(0);

    now = 48 * HOUR; // a wrong clock, two days ahead
    recordCalls(store, 'anthropic', 'claude', 10, 'success', 100);
    await tracker.tick();
    expect(await uptime()).toBe(1);

    now = 1 * HOUR; // corrected
    recordCalls(store, 'anthropic', 'claude', 10, 'success', 100);
    await tracker.tick();
    expect(await uptime()).toBe(1);

    // Hour 30: every call before hour 7 has left the window, those stamped "hour 48" included.
    now = 30 * HOUR;
    recordCalls(store, 'anthropic', 'claude', 10, 'error', 100);
    await tracker.tick();
    expect(await uptime()).toBe(0);
  });

  it('combines every provider serving a model into its gatewayz_model_uptime_24h', async () => {
    // The gauge has only a `model` label, so the same model at two providers must be one figure
    // over all its calls, not whichever provider the store happened to list last.
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    recordCalls(store, 'openai', 'gpt-4o', 10, 'success', 500);
    recordCalls(store, 'openrouter', 'gpt-4o', 10, 'error', 500);
    track(startProviderHealthTracker({ source: store, clock, telemetry }));
    await clock.advance(0);

    const collected = await collect();
    expect(collected.points('gatewayz_model_uptime_24h')).toHaveLength(1);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBe(0.5);
  });

  it('uses the shared telemetry instance when none is given', async () => {
    const { telemetry, collect } = setup();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      const clock = new ManualClock();
      track(startProviderHealthTracker({ source: seededStore(), clock }));
      await clock.advance(0);
      expect((await collect()).value('provider_availability', { provider: 'openai' })).toBe(1);
    } finally {
      setTelemetry(previous);
    }
  });

  it('runs on the real timer functions under vi fake timers, with a 30 s default interval', async () => {
    vi.useFakeTimers();
    const { telemetry, collect } = setup();
    const source = countingSource(seededStore());
    const tracker = startProviderHealthTracker({ source, telemetry });
    expect(tracker.toJSON().intervalMs).toBe(30_000);

    await vi.advanceTimersByTimeAsync(0);
    expect(source.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(source.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.reads).toBe(2);

    await tracker.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(source.reads).toBe(2);
    vi.useRealTimers();
    expect((await collect()).value('provider_availability', { provider: 'openai' })).toBe(1);
  });

  it('after a restart over a persistent store, counts only calls made since it started in the uptime window', async () => {
    const { telemetry, collect } = setup();
    const started = 400 * 24 * HOUR;
    const clock = new ManualClock(started);
    const record = (model: string, createdAt: number, calls: number, successes: number): ModelHealthRecord => ({
      provider: 'openai',
      model,
      callCount: calls,
      successCount: successes,
      errorCount: calls - successes,
      lastResponseTimeMs: 100,
      avgResponseTimeMs: 100,
      lastStatus: 'success',
      lastErrorMessage: null,
      lastErrorAt: null,
      lastCalledAt: new Date(started),
      createdAt: new Date(createdAt),
      updatedAt: new Date(started),
    });
    // gpt-4o: 1,000 calls over the ten days before the restart (990 succeeded), when exactly is unknown.
    let records = [record('gpt-4o', started - 10 * 24 * HOUR, 1000, 990)];
    const source: ModelHealthSource = { listAllModelHealth: async () => records };
    const tracker = track(startProviderHealthTracker({ source, clock, telemetry, intervalMs: INTERVAL }));
    await clock.advance(0);
    let collected = await collect();
    // Provider figures of the first tick cover all recorded calls, and say so.
    expect(tracker.snapshot()[0]).toMatchObject({ provider: 'openai', windowed: false, availability: 1 });
    expect(collected.value('provider_error_rate', { provider: 'openai' })).toBeCloseTo(0.01, 12);
    // Not one of those calls is known to fall in the last 24 hours: no uptime yet (was 0.99).
    expect(collected.points('gatewayz_model_uptime_24h')).toHaveLength(0);

    // Since the restart: 10 calls of gpt-4o (5 failed), and a model first recorded after it.
    records = [record('gpt-4o', started - 10 * 24 * HOUR, 1010, 995), record('gpt-4o-mini', started + 1000, 4, 3)];
    await clock.advance(INTERVAL);
    collected = await collect();
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o' })).toBe(0.5);
    expect(collected.value('gatewayz_model_uptime_24h', { model: 'gpt-4o-mini' })).toBe(0.75);
    expect(tracker.snapshot()[0]).toMatchObject({ windowed: true });
    expect(collected.value('provider_error_rate', { provider: 'openai' })).toBeCloseTo(6 / 14, 12);

    // A record first read after a tick completed was created since: its calls are new, even when its
    // source gives no creation time (a JavaScript caller's).
    const bare = { ...record('o1', started, 7, 6), createdAt: undefined } as unknown as ModelHealthRecord;
    records = [...records, bare];
    await clock.advance(INTERVAL);
    expect((await collect()).value('gatewayz_model_uptime_24h', { model: 'o1' })).toBeCloseTo(6 / 7, 12);
  });
});
