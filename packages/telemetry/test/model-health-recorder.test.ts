import { describe, expect, it } from 'vitest';
import { TelemetryConfigurationError, TelemetryInputError } from '../src/index.js';
import {
  MemoryModelHealthStore,
  ModelHealthRecorder,
  type ModelCall,
  type ModelCallBatch,
  type ModelHealthStore,
} from '../src/model-health/index.js';
import { ManualClock, createTelemetry, modelCall } from './helpers.js';

const call = modelCall;

/** A memory store whose writes can be made to fail, and that remembers every batch it was sent. */
class FlakyStore extends MemoryModelHealthStore {
  failing = false;
  /** Fail after applying (the write landed but the caller sees an error). */
  failAfterApply = false;
  readonly attempts: ModelCallBatch[] = [];

  override async applyBatch(batch: ModelCallBatch): Promise<void> {
    this.attempts.push(batch);
    if (this.failing) throw new Error('database unavailable');
    await super.applyBatch(batch);
    if (this.failAfterApply) throw new Error('connection reset after commit');
  }
}

/** A flaky store that fails its first `failures` writes, noting the clock time of every write. */
class RecoveringStore extends FlakyStore {
  readonly attemptTimes: number[] = [];

  constructor(
    private failures: number,
    private readonly clock: ManualClock,
  ) {
    super();
  }

  override async applyBatch(batch: ModelCallBatch): Promise<void> {
    this.attemptTimes.push(this.clock.now());
    this.failing = this.failures-- > 0;
    await super.applyBatch(batch);
  }
}

function setup(
  options: { store?: ModelHealthStore; clock?: ManualClock; maxPendingModels?: number; maxBatchEntries?: number } = {},
) {
  const { telemetry, collect } = createTelemetry();
  const clock = options.clock ?? new ManualClock();
  const store = (options.store ?? new FlakyStore()) as FlakyStore;
  const recorder = new ModelHealthRecorder({
    store,
    clock,
    telemetry,
    flushIntervalMs: 1000,
    retryInitialDelayMs: 500,
    retryMaxDelayMs: 4000,
    ...(options.maxPendingModels !== undefined ? { maxPendingModels: options.maxPendingModels } : {}),
    ...(options.maxBatchEntries !== undefined ? { maxBatchEntries: options.maxBatchEntries } : {}),
  });
  return { recorder, store, clock, collect, telemetry };
}

describe('ModelHealthRecorder', () => {
  it('folds calls in memory and writes them in one batch per interval', async () => {
    const { recorder, store, clock } = setup();
    for (let index = 0; index < 1000; index++) {
      recorder.recordModelCall(
        call({
          responseTimeMs: index % 2 === 0 ? 100 : 300,
          status: index % 10 === 0 ? 'error' : 'success',
          errorMessage: 'boom',
        }),
      );
    }
    recorder.recordModelCall(call({ model: 'gpt-4o-mini' }));
    expect(recorder.pendingCalls).toBe(1001);
    expect(store.attempts).toHaveLength(0);
    await clock.advance(1000);
    expect(store.attempts).toHaveLength(1);
    expect(store.attempts[0]?.entries).toHaveLength(2);
    expect(recorder.pendingCalls).toBe(0);
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({ callCount: 1000, successCount: 900, errorCount: 100, lastErrorMessage: 'boom' });
    expect(record?.avgResponseTimeMs).toBeCloseTo(200, 9);
  });

  it('writes nothing when nothing was recorded', async () => {
    const { store, clock } = setup();
    await clock.advance(5000);
    expect(store.attempts).toHaveLength(0);
  });

  it('splits large backlogs into batches of maxBatchEntries', async () => {
    const { recorder, store, clock } = setup({ maxBatchEntries: 10 });
    for (let index = 0; index < 25; index++) recorder.recordModelCall(call({ model: `m${index}` }));
    await clock.advance(1000);
    await clock.advance(0);
    await clock.advance(0);
    expect(store.attempts.map((batch) => batch.entries.length)).toEqual([10, 10, 5]);
    expect((await store.listAllModelHealth()).length).toBe(25);
  });

  it('keeps and retries the same batch with backoff while the store is down, then writes everything exactly once', async () => {
    const { recorder, store, clock, collect } = setup();
    store.failing = true;
    for (let index = 0; index < 10; index++) recorder.recordModelCall(call());
    await clock.advance(1000);
    expect(store.attempts).toHaveLength(1);
    // Calls keep arriving during the outage and wait behind the failed batch.
    for (let index = 0; index < 5; index++) recorder.recordModelCall(call({ status: 'timeout' }));
    await clock.advance(499);
    expect(store.attempts).toHaveLength(1);
    await clock.advance(1); // retry after 500 ms
    expect(store.attempts).toHaveLength(2);
    await clock.advance(1000); // next after 1000 ms
    await clock.advance(2000); // then 2000 ms
    expect(store.attempts).toHaveLength(4);
    expect(new Set(store.attempts.map((batch) => batch.id)).size).toBe(1);
    expect(recorder.pendingCalls).toBe(15);
    expect((await collect()).value('gatewayz_model_health_flush_errors')).toBe(4);

    store.failing = false;
    await clock.advance(4000);
    await clock.advance(0);
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({ callCount: 15, successCount: 10, errorCount: 5, lastStatus: 'timeout' });
    expect(recorder.pendingCalls).toBe(0);
  });

  it('does not count a batch twice when a write landed but reported failure', async () => {
    const { recorder, store, clock } = setup();
    store.failAfterApply = true;
    for (let index = 0; index < 7; index++) recorder.recordModelCall(call());
    await clock.advance(1000);
    store.failAfterApply = false;
    await clock.advance(500);
    expect(store.attempts).toHaveLength(2);
    expect(store.attempts[0]?.id).toBe(store.attempts[1]?.id);
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(7);
  });

  it('bounds memory: calls for new models beyond maxPendingModels are dropped and counted', async () => {
    const { recorder, store, clock, collect } = setup({ maxPendingModels: 3 });
    store.failing = true;
    for (let index = 0; index < 100; index++) recorder.recordModelCall(call({ model: `model-${index}` }));
    // Known models keep folding even when the buffer is full.
    for (let index = 0; index < 50; index++) recorder.recordModelCall(call({ model: 'model-0' }));
    expect(recorder.toJSON()).toMatchObject({ pendingModels: 3, pendingCalls: 53, dropped: 97 });
    expect((await collect()).value('gatewayz_model_health_dropped', { reason: 'buffer_full' })).toBe(97);
    store.failing = false;
    await clock.advance(1000);
    expect((await store.getModelHealth('openai', 'model-0'))?.callCount).toBe(51);
  });

  it('drops and counts malformed calls without throwing, or throws in strict mode', async () => {
    const { recorder, collect } = setup();
    const bad = [
      call({ status: 'exploded' as 'error' }),
      call({ responseTimeMs: Number.NaN }),
      call({ responseTimeMs: -1 }),
      call({ provider: '' }),
      call({ model: '   ' }),
      call({ calledAt: new Date('nope') }),
      call({ responseTimeMs: 1e308 }),
      call({ responseTimeMs: 1e308 }),
      call({ status: 'error', errorMessage: 5 as unknown as string }),
      call({ provider: 'open\u0000ai' }),
      call({ model: 'half an emoji \uD83D' }),
      call({ calledAt: new Date('+010000-01-01T00:00:00Z') }),
      null as unknown as ModelCall,
    ];
    for (const item of bad) expect(() => recorder.recordModelCall(item)).not.toThrow();
    expect((await collect()).value('gatewayz_model_health_dropped', { reason: 'invalid_call' })).toBe(bad.length);
    expect(recorder.pendingCalls).toBe(0);

    const strict = new ModelHealthRecorder({
      store: new MemoryModelHealthStore(),
      clock: new ManualClock(),
      onInvalidCall: 'throw',
    });
    expect(() => strict.recordModelCall(call({ status: 'exploded' as 'error' }))).toThrow(TelemetryInputError);
    await strict.close();
  });

  it('removes NUL characters from error messages (an upstream body can hold any bytes)', async () => {
    const { recorder, store } = setup();
    recorder.recordModelCall(call({ status: 'error', errorMessage: 'bad\u0000gateway\u0000' }));
    await recorder.flush();
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBe('badgateway');
  });

  it('keeps error messages well-formed: no half of a character the cap cuts, no lone surrogate', async () => {
    const { recorder, store } = setup();
    recorder.recordModelCall(call({ status: 'error', errorMessage: `${'e'.repeat(499)}\u{1F600}!` }));
    recorder.recordModelCall(call({ model: 'gpt-4o-mini', status: 'error', errorMessage: 'a\udc00b' }));
    await recorder.flush();
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBe('e'.repeat(499));
    expect((await store.getModelHealth('openai', 'gpt-4o-mini'))?.lastErrorMessage).toBe('a\ufffdb');
  });

  it('caps error messages at 500 characters', async () => {
    const { recorder, store } = setup();
    recorder.recordModelCall(call({ status: 'error', errorMessage: 'e'.repeat(2000) }));
    await recorder.flush();
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toHaveLength(500);
  });

  it('keeps the newest call in the last* fields when calls arrive out of order', async () => {
    const { recorder, store } = setup();
    recorder.recordModelCall(
      call({ status: 'rate_limited', responseTimeMs: 10, calledAt: new Date('2025-01-01T00:00:10Z') }),
    );
    recorder.recordModelCall(
      call({ status: 'success', responseTimeMs: 99, calledAt: new Date('2025-01-01T00:00:05Z') }),
    );
    await recorder.flush();
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
      lastStatus: 'rate_limited',
      lastResponseTimeMs: 10,
      callCount: 2,
    });
  });

  it('keeps the most recent error message by call time when an older call is recorded late', async () => {
    const { recorder, store } = setup();
    recorder.recordModelCall(
      call({ status: 'error', errorMessage: 'oldest', calledAt: new Date('2025-01-01T00:00:01Z') }),
    );
    recorder.recordModelCall(call({ status: 'success', calledAt: new Date('2025-01-01T00:00:10Z') }));
    // Finished before the success but after the first error: its message is the most recent one.
    recorder.recordModelCall(
      call({ status: 'timeout', errorMessage: 'newest', calledAt: new Date('2025-01-01T00:00:05Z') }),
    );
    recorder.recordModelCall(
      call({ status: 'error', errorMessage: 'older', calledAt: new Date('2025-01-01T00:00:03Z') }),
    );
    expect(recorder.pendingCalls).toBe(4);
    await recorder.flush();
    const sent = store.attempts[0]?.entries[0];
    expect(sent?.lastErrorMessage).toBe('newest');
    expect(sent?.lastErrorAt?.toISOString()).toBe('2025-01-01T00:00:05.000Z');
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({ callCount: 4, errorCount: 3, lastStatus: 'success', lastErrorMessage: 'newest' });
    expect(record?.lastErrorAt?.toISOString()).toBe('2025-01-01T00:00:05.000Z');
    expect(record?.lastCalledAt.toISOString()).toBe('2025-01-01T00:00:10.000Z');
  });

  it('flushes everything on close and drops calls recorded afterwards', async () => {
    const { recorder, store, collect } = setup();
    for (let index = 0; index < 3; index++) recorder.recordModelCall(call());
    expect(await recorder.close()).toEqual({ flushed: true, pendingCalls: 0 });
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(3);
    recorder.recordModelCall(call());
    expect((await collect()).value('gatewayz_model_health_dropped', { reason: 'closed' })).toBe(1);
  });

  it('retries on close until the deadline and reports what could not be written', async () => {
    const { recorder, store, clock } = setup();
    store.failing = true;
    recorder.recordModelCall(call());
    const closing = recorder.close({ timeoutMs: 2000 });
    for (let step = 0; step < 10; step++) await clock.advance(500);
    expect(await closing).toEqual({ flushed: false, pendingCalls: 1 });
    expect(store.attempts.length).toBeGreaterThan(1);
  });

  it('makes one last try before the deadline when the next backoff delay would pass it', async () => {
    const clock = new ManualClock();
    const store = new RecoveringStore(3, clock);
    const { recorder } = setup({ store, clock });
    recorder.recordModelCall(call());
    recorder.recordModelCall(call({ status: 'timeout' }));
    const closing = recorder.close({ timeoutMs: 2000 });
    await clock.advance(0);
    await clock.advance(2000);
    // Backoff 500 then 1000 ms; the next 2000 ms would pass the deadline, so the last try comes
    // retryInitialDelayMs (500 ms) before it, or halfway there when less is left (250 ms at 1500).
    expect(store.attemptTimes).toEqual([0, 500, 1500, 1750]);
    expect(await closing).toEqual({ flushed: true, pendingCalls: 0 });
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ callCount: 2, errorCount: 1 });
  });

  it('tries once more on close when the backoff reached during an outage is longer than the timeout', async () => {
    const clock = new ManualClock();
    const store = new RecoveringStore(5, clock);
    const { recorder, collect } = setup({ store, clock });
    recorder.recordModelCall(call());
    await clock.advance(1000); // fails; retries after 500, 1000 and 2000 ms fail too
    await clock.advance(3500);
    expect(store.attemptTimes).toEqual([1000, 1500, 2500, 4500]);
    const closing = recorder.close({ timeoutMs: 3000 }); // fails at once; the backoff is now 4000 ms
    await clock.advance(0);
    await clock.advance(3000);
    expect(store.attemptTimes).toEqual([1000, 1500, 2500, 4500, 4500, 7000]);
    expect(await closing).toEqual({ flushed: true, pendingCalls: 0 });
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(1);
    expect((await collect()).value('gatewayz_model_health_flush_errors')).toBe(5);
  });

  it('makes a single last try and reports the calls still pending when the store stays down', async () => {
    const clock = new ManualClock();
    const store = new RecoveringStore(Infinity, clock);
    const { recorder } = setup({ store, clock });
    recorder.recordModelCall(call());
    let outcome: unknown;
    const closing = recorder.close({ timeoutMs: 1000 }).then((result) => (outcome = result));
    await clock.advance(0);
    await clock.advance(750);
    expect(store.attemptTimes).toEqual([0, 500, 750]);
    await closing;
    expect(outcome).toEqual({ flushed: false, pendingCalls: 1 });
    await clock.advance(1000);
    expect(store.attemptTimes).toHaveLength(3);
  });

  it('resolves close() by its deadline when a write hangs, and writes that batch once later', async () => {
    const store = new FlakyStore();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = Object.assign(Object.create(store) as FlakyStore, {
      applyBatch: async (batch: ModelCallBatch): Promise<void> => {
        await held;
        await store.applyBatch(batch);
      },
    });
    const { recorder, clock } = setup({ store: slow });
    recorder.recordModelCall(call());
    recorder.recordModelCall(call({ status: 'timeout' }));
    let outcome: unknown;
    const closing = recorder.close({ timeoutMs: 2000 }).then((result) => (outcome = result));
    await clock.advance(1999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    await closing;
    expect(outcome).toEqual({ flushed: false, pendingCalls: 2 });
    release();
    expect(await recorder.close({ timeoutMs: 2000 })).toEqual({ flushed: true, pendingCalls: 0 });
    expect(store.attempts).toHaveLength(1);
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ callCount: 2, errorCount: 1 });
  });

  it('waits for a slow write when close() is given a deadline past what a Node.js timer keeps, or none', async () => {
    // The system clock: Node fires a timer longer than 2^31 - 1 ms (or of Infinity) after 1 ms.
    for (const timeoutMs of [Infinity, 3e9, Number.NaN]) {
      const store = new FlakyStore();
      const slow = Object.assign(Object.create(store) as FlakyStore, {
        applyBatch: async (batch: ModelCallBatch): Promise<void> => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await store.applyBatch(batch);
        },
      });
      const recorder = new ModelHealthRecorder({ store: slow, flushIntervalMs: 60_000 });
      recorder.recordModelCall(call());
      expect(await recorder.close({ timeoutMs }), String(timeoutMs)).toEqual({ flushed: true, pendingCalls: 0 });
      expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(1);
    }
  });

  it('rejects unusable options at construction', () => {
    const tooLong = 2 ** 31;
    expect(() => new ModelHealthRecorder({ store: new MemoryModelHealthStore(), flushIntervalMs: tooLong })).toThrow(
      TelemetryConfigurationError,
    );
    expect(() => new ModelHealthRecorder({ store: new MemoryModelHealthStore(), retryMaxDelayMs: tooLong })).toThrow(
      TelemetryConfigurationError,
    );
    const store = new MemoryModelHealthStore();
    expect(() => new ModelHealthRecorder({ store, flushIntervalMs: 0 })).toThrow(TelemetryConfigurationError);
    expect(() => new ModelHealthRecorder({ store, maxPendingModels: -1 })).toThrow(TelemetryConfigurationError);
    expect(() => new ModelHealthRecorder({ store, retryInitialDelayMs: 100, retryMaxDelayMs: 50 })).toThrow(
      TelemetryConfigurationError,
    );
    expect(() => new ModelHealthRecorder({ store: {} as ModelHealthStore })).toThrow(TelemetryConfigurationError);
  });
});
