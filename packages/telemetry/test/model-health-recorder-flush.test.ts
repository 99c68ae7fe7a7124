import { describe, expect, it } from 'vitest';
import {
  MemoryModelHealthStore,
  ModelHealthRecorder,
  type ModelCall,
  type ModelCallBatch,
} from '../src/model-health/index.js';
import { ManualClock, createTelemetry, modelCall as call } from './helpers.js';

/** A memory store whose writes take `latencyMs` on the manual clock, noting when each one started. */
class SlowStore extends MemoryModelHealthStore {
  readonly attempts: Array<{ at: number; batch: ModelCallBatch }> = [];
  /** Calls in the batches that landed, counted when they land. */
  applied = 0;

  constructor(
    private readonly clock: ManualClock,
    private readonly latencyMs: number,
  ) {
    super();
  }

  override async applyBatch(batch: ModelCallBatch): Promise<void> {
    this.attempts.push({ at: this.clock.now(), batch });
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.latencyMs));
    await super.applyBatch(batch);
    for (const entry of batch.entries) this.applied += entry.calls;
  }
}

/** A recorder on a 60 ms store, and steady traffic: one call every 10 ms until stopped. */
function trafficSetup(next: (index: number) => ModelCall = () => call()) {
  const clock = new ManualClock();
  const store = new SlowStore(clock, 60);
  const recorder = new ModelHealthRecorder({
    store,
    clock,
    telemetry: createTelemetry().telemetry,
    flushIntervalMs: 1000,
    maxBatchEntries: 1,
  });
  let stopped = false;
  let index = 0;
  const tick = (): void => {
    if (stopped) return;
    recorder.recordModelCall(next(index++));
    clock.setTimeout(tick, 10);
  };
  tick();
  return { clock, store, recorder, stop: () => (stopped = true) };
}

/** Start a flush and note what the store held when it resolved (or that it did not). */
function watchFlush(recorder: ModelHealthRecorder, store: SlowStore, clock: ManualClock) {
  const seen: { resolvedAt?: number; attempts?: number; applied?: number } = {};
  const attemptsBefore = store.attempts.length;
  const recordedBefore = recorder.toJSON().recorded;
  void recorder.flush().then(() => {
    Object.assign(seen, { resolvedAt: clock.now(), attempts: store.attempts.length, applied: store.applied });
  });
  return { seen, attemptsBefore, recordedBefore };
}

async function advanceInSteps(clock: ManualClock, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 10) await clock.advance(10);
}

describe('ModelHealthRecorder.flush() under steady traffic', () => {
  it('resolves once the calls recorded before it are written, without chasing newer ones', async () => {
    const { clock, store, recorder, stop } = trafficSetup();
    await clock.advance(50);
    const idle = watchFlush(recorder, store, clock);
    await advanceInSteps(clock, 400);
    // One 60 ms write: the calls recorded during it wait for the interval.
    expect(idle.seen.resolvedAt, 'flush() resolved').toBe(110);
    expect(idle.seen.attempts).toBe(idle.attemptsBefore + 1);
    expect(idle.seen.applied).toBeGreaterThanOrEqual(idle.recordedBefore);
    expect(store.attempts).toHaveLength(1);

    // Flushing while the background write of the interval is in flight: that batch, then one more.
    await clock.advance(1030 - clock.now()); // the interval's write started at 1000
    const busy = watchFlush(recorder, store, clock);
    await advanceInSteps(clock, 400);
    expect(busy.seen.resolvedAt, 'flush() resolved').toBe(1120);
    expect(busy.seen.attempts).toBe(busy.attemptsBefore + 1);
    expect(busy.seen.applied).toBeGreaterThanOrEqual(busy.recordedBefore);
    stop();
    const closing = recorder.close();
    await clock.advance(200);
    expect(await closing).toEqual({ flushed: true, pendingCalls: 0 });
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(recorder.toJSON().recorded);
  });

  it('writes the oldest entries first, so new models do not hold back a flush', async () => {
    // Batches of one entry, and a new model every 10 ms for the provider recorded first.
    const { clock, store, recorder, stop } = trafficSetup((index) => call({ provider: 'a', model: `m${index}` }));
    recorder.recordModelCall(call({ provider: 'b' }));
    await clock.advance(5);
    const flush = watchFlush(recorder, store, clock);
    await advanceInSteps(clock, 400);
    expect(flush.seen.resolvedAt, 'flush() resolved').toBe(125);
    expect(store.attempts.map(({ batch }) => batch.entries[0]?.provider)).toEqual(['a', 'b']);
    stop();
  });

  it('writes at the flush interval, not back to back, when calls arrive during every write', async () => {
    const { clock, store, stop } = trafficSetup();
    await advanceInSteps(clock, 10_000);
    stop();
    const starts = store.attempts.map(({ at }) => at);
    expect(starts.length).toBeGreaterThanOrEqual(9);
    expect(starts.length).toBeLessThanOrEqual(10);
    for (let index = 1; index < starts.length; index++) {
      expect((starts[index] as number) - (starts[index - 1] as number)).toBeGreaterThanOrEqual(1000);
    }
  });

  it('keeps the calls and retries when newBatchId() throws or returns no id, instead of losing them', async () => {
    const clock = new ManualClock();
    const store = new SlowStore(clock, 0);
    const ids: Array<() => unknown> = [
      () => {
        throw new Error('id source down');
      },
      () => undefined,
      () => 'batch-3',
    ];
    const { telemetry, collect } = createTelemetry();
    const recorder = new ModelHealthRecorder({
      store,
      clock,
      telemetry,
      flushIntervalMs: 1000,
      retryInitialDelayMs: 500,
      newBatchId: () => (ids.shift() as () => string)(),
    });
    for (let index = 0; index < 7; index++) recorder.recordModelCall(call());
    await expect(recorder.flush()).rejects.toThrow('id source down');
    expect(recorder.pendingCalls).toBe(7);
    await expect(recorder.flush()).rejects.toThrow('newBatchId() returned undefined, not an id');
    expect(recorder.toJSON()).toMatchObject({ pendingCalls: 7, failedFlushes: 2, batchesWritten: 0 });
    await advanceInSteps(clock, 2000);
    expect(store.attempts.map(({ batch }) => batch.id)).toEqual(['batch-3']);
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(7);
    expect(recorder.pendingCalls).toBe(0);
    expect((await collect()).value('gatewayz_model_health_flush_errors')).toBe(2);
  });
});
