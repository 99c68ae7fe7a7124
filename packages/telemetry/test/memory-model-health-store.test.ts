import { describe, expect, it } from 'vitest';
import { TelemetryInputError } from '../src/index.js';
import {
  MAX_ERROR_MESSAGE_LENGTH,
  MemoryModelHealthStore,
  foldModelCall,
  validateModelCall,
  type ModelCall,
} from '../src/model-health/index.js';
import { modelCall } from './helpers.js';

const call = modelCall;

function inputError(run: () => unknown): TelemetryInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TelemetryInputError);
    return error as TelemetryInputError;
  }
  throw new Error('expected a TelemetryInputError');
}

describe('MemoryModelHealthStore', () => {
  it('counts calls, successes and errors per provider and model', async () => {
    const store = new MemoryModelHealthStore();
    store.recordCall(call());
    store.recordCall(call());
    store.recordCall(call({ status: 'error', errorMessage: 'HTTP 500' }));
    store.recordCall(call({ status: 'timeout' }));
    store.recordCall(call({ status: 'rate_limited' }));
    store.recordCall(call({ status: 'success' }));
    store.recordCall(call({ model: 'gpt-4o-mini', status: 'network_error' }));

    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o',
      callCount: 6,
      successCount: 3,
      errorCount: 3,
      lastStatus: 'success',
    });
    const mini = await store.getModelHealth('openai', 'gpt-4o-mini');
    expect(mini).toMatchObject({ callCount: 1, successCount: 0, errorCount: 1, lastStatus: 'network_error' });
    expect(await store.getModelHealth('openai', 'unknown')).toBeUndefined();
    expect(await store.getModelHealth('anthropic', 'gpt-4o')).toBeUndefined();
  });

  it('keeps a running mean and the last response time', async () => {
    const store = new MemoryModelHealthStore();
    const means: Array<number | null | undefined> = [];
    for (const responseTimeMs of [100, 200, 600, 0]) {
      store.recordCall(call({ responseTimeMs }));
      means.push((await store.getModelHealth('openai', 'gpt-4o'))?.avgResponseTimeMs);
    }
    expect(means).toEqual([100, 150, 300, 225]);
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastResponseTimeMs).toBe(0);
  });

  it('keeps the mean exact over many calls', async () => {
    const store = new MemoryModelHealthStore();
    for (let index = 1; index <= 1000; index++) store.recordCall(call({ responseTimeMs: index }));
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record?.callCount).toBe(1000);
    expect(record?.avgResponseTimeMs).toBeCloseTo(500.5, 6);
  });

  it('caps the error message at 500 characters', async () => {
    expect(MAX_ERROR_MESSAGE_LENGTH).toBe(500);
    const store = new MemoryModelHealthStore();
    store.recordCall(call({ status: 'error', errorMessage: `${'x'.repeat(499)}yz${'w'.repeat(1000)}` }));
    const message = (await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage;
    expect(message).toHaveLength(500);
    expect(message).toBe(`${'x'.repeat(499)}y`);

    store.recordCall(call({ status: 'timeout', errorMessage: 'short' }));
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBe('short');
  });

  it('does not store an error message for a successful call', async () => {
    const store = new MemoryModelHealthStore();
    store.recordCall(call({ status: 'success', errorMessage: 'ignored' }));
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBeNull();
  });

  it('tracks when the record was created and the latest call time', async () => {
    const created = new Date('2025-01-02T00:00:00Z');
    const store = new MemoryModelHealthStore({ now: () => created });
    const first = new Date('2025-01-01T00:00:00Z');
    const later = new Date('2025-01-01T00:05:00Z');
    const earlier = new Date('2024-12-31T23:00:00Z');
    store.recordCall(call({ calledAt: first }));
    store.recordCall(call({ calledAt: later }));
    store.recordCall(call({ calledAt: earlier })); // a late-arriving older call
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record?.createdAt).toEqual(created);
    expect(record?.lastCalledAt).toEqual(later);
    expect(record?.callCount).toBe(3);
  });

  it('stamps a call without calledAt with its injected now, which deleteOlderThan measures from', async () => {
    let now = new Date('2020-03-01T00:00:00Z');
    const store = new MemoryModelHealthStore({ now: () => now });
    store.recordCall(call());
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastCalledAt).toEqual(now);
    now = new Date('2020-04-01T00:00:00Z');
    expect(await store.deleteOlderThan(30)).toBe(1);
  });

  it('lists every record as a copy', async () => {
    const store = new MemoryModelHealthStore();
    store.recordCall(call());
    store.recordCall(call({ provider: 'anthropic', model: 'claude' }));
    store.recordCall(call({ provider: 'openrouter', model: 'gpt-4o' }));
    const records = await store.listAllModelHealth();
    expect(records.map((record) => `${record.provider}/${record.model}`).sort()).toEqual([
      'anthropic/claude',
      'openai/gpt-4o',
      'openrouter/gpt-4o',
    ]);

    (records[0] as { callCount: number }).callCount = 999;
    const copy = (await store.getModelHealth('openai', 'gpt-4o')) as { callCount: number };
    copy.callCount = 999;
    expect((await store.listAllModelHealth()).map((record) => record.callCount)).toEqual([1, 1, 1]);
  });

  it.each<[string, Partial<ModelCall>, string]>([
    ['an unknown status', { status: 'failed' as 'error' }, 'invalid_status'],
    ['an empty provider', { provider: '' }, 'invalid_provider'],
    ['a whitespace model', { model: '   ' }, 'invalid_model'],
    // PostgreSQL refuses NUL, and the memory store's keys join provider and model with it.
    ['a provider with a NUL character', { provider: 'open\u0000ai' }, 'invalid_provider'],
    ['a model with a NUL character', { model: 'gpt\u00004o' }, 'invalid_model'],
    ['a negative response time', { responseTimeMs: -1 }, 'invalid_response_time'],
    ['a NaN response time', { responseTimeMs: Number.NaN }, 'invalid_response_time'],
    ['an infinite response time', { responseTimeMs: Infinity }, 'invalid_response_time'],
    // Two of these used to fold into an Infinity total, stored as a null average.
    ['a response time beyond Number.MAX_SAFE_INTEGER', { responseTimeMs: 1e308 }, 'invalid_response_time'],
    // Used to pass validation and then throw a TypeError from the fold.
    [
      'an error message that is not a string',
      { status: 'error', errorMessage: 5 as unknown as string },
      'invalid_error_message',
    ],
  ])('throws a TelemetryInputError for %s and records nothing', async (_title, overrides, reason) => {
    const store = new MemoryModelHealthStore();
    const error = inputError(() => store.recordCall(call(overrides)));
    expect(error.reason).toBe(reason);
    expect(error.metric).toBe('model_health');
    expect(error.code).toBe('INVALID_INPUT');
    expect(await store.listAllModelHealth()).toEqual([]);
    expect(() => validateModelCall(call(overrides))).toThrow(TelemetryInputError);
  });

  it('names the allowed statuses in the error', () => {
    const error = inputError(() => validateModelCall(call({ status: 'failed' as 'error' })));
    expect(error.message).toContain('"failed"');
    expect(error.message).toContain('success, error, timeout, rate_limited, network_error');
  });

  it('folds the most recent error message by call time, whatever order the calls come in', () => {
    const at = (second: number): Date => new Date(Date.UTC(2025, 0, 1, 0, 0, second));
    let entry = foldModelCall(undefined, call({ calledAt: at(10) }));
    expect(entry).toMatchObject({ lastErrorMessage: null, lastErrorAt: null });
    entry = foldModelCall(entry, call({ status: 'error', errorMessage: 'late but newest', calledAt: at(5) }));
    entry = foldModelCall(entry, call({ status: 'error', errorMessage: 'older', calledAt: at(3) }));
    entry = foldModelCall(entry, call({ status: 'timeout', calledAt: at(7) }));
    expect(entry).toMatchObject({ lastStatus: 'success', lastErrorMessage: 'late but newest', errors: 3 });
    expect(entry.lastErrorAt).toEqual(at(5));
    expect(entry.lastCalledAt).toEqual(at(10));
  });

  it('applies a batch once per batch id', async () => {
    const store = new MemoryModelHealthStore();
    const entry = foldModelCall(foldModelCall(undefined, call()), call({ status: 'error' }));
    await store.applyBatch({
      id: 'batch-1',
      entries: [entry, foldModelCall(undefined, call({ model: 'gpt-4o-mini' }))],
    });
    await store.applyBatch({ id: 'batch-1', entries: [entry] });
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ callCount: 2, errorCount: 1 });
    expect(await store.getModelHealth('openai', 'gpt-4o-mini')).toMatchObject({ callCount: 1 });
  });
});
