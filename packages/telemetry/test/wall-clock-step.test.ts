/**
 * A step of the wall clock back (NTP correcting it, a VM resumed) in the middle of what measures
 * time: deadlines and countdowns follow a monotonic clock, call stamps never go back, and which
 * records are new is not decided by comparing wall times.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startProviderHealthTracker, type ProviderHealthTracker } from '../src/index.js';
import {
  MemoryModelHealthStore,
  ModelHealthRecorder,
  type ModelCall,
  type ModelHealthSource,
  type ModelHealthStore,
} from '../src/model-health/index.js';
import { PointClock } from '../src/metrics/point-clock.js';
import { parseRateLimitHeaders } from '../src/rate-limits/index.js';
import { ManualClock, modelCall, telemetryPerTest } from './helpers.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-12-03T16:00:00Z');

const setup = telemetryPerTest();
const trackers: ProviderHealthTracker[] = [];

afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.stop()));
  vi.useRealTimers();
});

/** Fake timers moving Date and performance together; `vi.setSystemTime()` then steps Date alone. */
function fakeClocks(...extra: Array<'setTimeout' | 'clearTimeout'>): void {
  vi.useFakeTimers({ toFake: ['Date', 'performance', ...extra], now: NOW });
}

const stepWallClockBack = (ms: number): void => void vi.setSystemTime(Date.now() - ms);

describe('the point clock', () => {
  it('goes on from its last reading when the wall clock steps back, and follows it forward', () => {
    fakeClocks();
    const clock = new PointClock();
    expect(clock.nowMs()).toBe(NOW);
    vi.advanceTimersByTime(1_000);
    stepWallClockBack(HOUR);
    expect(clock.nowMs()).toBe(NOW + 1_000);
    vi.advanceTimersByTime(1_000);
    expect(clock.nowMs()).toBe(NOW + 2_000);
    vi.setSystemTime(Date.now() + 2 * HOUR);
    expect(clock.nowMs()).toBe(NOW + 2_000 + HOUR);
  });
});

describe('rate-limit windows across a step of the wall clock back', () => {
  it('count the reset down from where it was and refill the remaining count at the reset', async () => {
    fakeClocks();
    const { telemetry, collect } = setup();
    const requests = { provider: 'openai', limit_type: 'requests' };
    const headers = {
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '20s',
    };
    telemetry.recordRateLimits('openai', parseRateLimitHeaders(headers, Date.now()));
    vi.advanceTimersByTime(5_000);
    stepWallClockBack(HOUR);
    let collected = await collect();
    expect(collected.value('gatewayz_provider_ratelimit_reset_seconds', requests)).toBe(15);
    expect(collected.value('gatewayz_provider_ratelimit_remaining', requests)).toBe(0);
    vi.advanceTimersByTime(15_000);
    collected = await collect();
    expect(collected.value('gatewayz_provider_ratelimit_reset_seconds', requests)).toBe(0);
    expect(collected.value('gatewayz_provider_ratelimit_remaining', requests)).toBe(100);
  });
});

describe('ModelHealthRecorder across a step of the wall clock', () => {
  const call = modelCall;

  /** A store failing its first `failures` writes. */
  const failingStore = (failures: number): ModelHealthStore & { attempts: number } => {
    const store = new MemoryModelHealthStore();
    const failing = {
      attempts: 0,
      async applyBatch(batch: Parameters<ModelHealthStore['applyBatch']>[0]) {
        if (++failing.attempts <= failures) throw new Error('database unavailable');
        await store.applyBatch(batch);
      },
    };
    return failing as ModelHealthStore & { attempts: number };
  };

  it('close() gives up at its deadline when the wall clock steps back an hour (default clock)', async () => {
    fakeClocks('setTimeout', 'clearTimeout');
    const { telemetry } = setup();
    const recorder = new ModelHealthRecorder({
      store: failingStore(Infinity),
      telemetry,
      retryInitialDelayMs: 200,
      retryMaxDelayMs: 400,
    });
    recorder.recordModelCall(call());
    let outcome: unknown;
    void recorder.close({ timeoutMs: 2000 }).then((result) => (outcome = result));
    await vi.advanceTimersByTimeAsync(300);
    stepWallClockBack(HOUR);
    await vi.advanceTimersByTimeAsync(1_800);
    expect(outcome).toEqual({ flushed: false, pendingCalls: 1 });
  });

  it('close() goes on retrying until its deadline when the wall clock steps forward an hour', async () => {
    fakeClocks('setTimeout', 'clearTimeout');
    const { telemetry } = setup();
    // Fails at 0, 200 and 600 ms; the fourth write, at 1000 ms, lands.
    const store = failingStore(3);
    const recorder = new ModelHealthRecorder({ store, telemetry, retryInitialDelayMs: 200, retryMaxDelayMs: 400 });
    recorder.recordModelCall(call());
    let outcome: unknown;
    void recorder.close({ timeoutMs: 2000 }).then((result) => (outcome = result));
    await vi.advanceTimersByTimeAsync(300);
    vi.setSystemTime(Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcome).toEqual({ flushed: true, pendingCalls: 0 });
    expect(store.attempts).toBe(4);
  });

  it('stamps calls with a time that never goes back, so the latest call still wins after a step back', async () => {
    const { telemetry } = setup();
    const clock = new ManualClock(10 * HOUR);
    const store = new MemoryModelHealthStore();
    const recorder = new ModelHealthRecorder({ store, clock, telemetry });
    recorder.recordModelCall(call({ status: 'error', errorMessage: 'boom', responseTimeMs: 900 }));
    await recorder.flush();
    await clock.advance(-HOUR);
    // Another batch: the store's "latest call wins" must take it.
    recorder.recordModelCall(call({ responseTimeMs: 120 }));
    await recorder.flush();
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
      callCount: 2,
      lastStatus: 'success',
      lastResponseTimeMs: 120,
      lastCalledAt: new Date(10 * HOUR),
      lastErrorMessage: 'boom',
    });
    // The same batch: the recorder's own "latest call wins" must take it.
    recorder.recordModelCall(call({ model: 'o1', status: 'timeout', responseTimeMs: 30_000 }));
    await clock.advance(-HOUR);
    recorder.recordModelCall(call({ model: 'o1', responseTimeMs: 80 }));
    await recorder.flush();
    expect(await store.getModelHealth('openai', 'o1')).toMatchObject({ lastStatus: 'success', lastResponseTimeMs: 80 });
    await recorder.close();
  });
});

describe('MemoryModelHealthStore.recordCall() across a step of the wall clock back', () => {
  it('stamps calls with a time that never goes back, so the latest call still wins (default clock)', async () => {
    fakeClocks();
    const store = new MemoryModelHealthStore();
    store.recordCall(modelCall({ status: 'error', errorMessage: 'boom', responseTimeMs: 900 }));
    vi.advanceTimersByTime(1_000);
    stepWallClockBack(HOUR);
    store.recordCall(modelCall({ responseTimeMs: 120 }));
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
      callCount: 2,
      lastStatus: 'success',
      lastResponseTimeMs: 120,
      lastCalledAt: new Date(NOW),
      lastErrorMessage: 'boom',
    });
  });
});

describe('provider health tracker across a step of the wall clock back', () => {
  it('counts the calls of a model first recorded after the step in its uptime', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock(400 * 24 * HOUR);
    const store = new MemoryModelHealthStore({ now: () => new Date(clock.now()) });
    const tracker = startProviderHealthTracker({ source: store, clock, telemetry });
    trackers.push(tracker);
    await clock.advance(0); // the first tick: nothing recorded yet
    await clock.advance(-HOUR);
    for (let index = 0; index < 10; index++) store.recordCall(call('m', 'error'));
    store.recordCall(call('m', 'success'));
    await tracker.tick();
    expect((await collect()).value('gatewayz_model_uptime_24h', { model: 'm' })).toBeCloseTo(1 / 11, 12);
  });

  it('still counts what a source without creation times holds at the first tick as a baseline', async () => {
    const { telemetry, collect } = setup();
    const clock = new ManualClock();
    const store = new MemoryModelHealthStore();
    for (let index = 0; index < 5; index++) store.recordCall(call('m', 'success'));
    const source: ModelHealthSource = {
      listAllModelHealth: async () =>
        (await store.listAllModelHealth()).map((record) => ({ ...record, createdAt: undefined }) as never),
    };
    trackers.push(startProviderHealthTracker({ source, clock, telemetry }));
    await clock.advance(0);
    expect((await collect()).points('gatewayz_model_uptime_24h')).toHaveLength(0);
  });

  const call = (model: string, status: ModelCall['status']): ModelCall => ({
    provider: 'p',
    model,
    responseTimeMs: 100,
    status,
    errorMessage: status === 'success' ? null : 'boom',
  });
});
