/**
 * The last-error part of the `ModelHealthStore` contract (called by `describeModelHealthStoreContract`):
 * `lastErrorMessage` / `lastErrorAt` follow the most recent failed call by call time, whatever
 * order batches arrive in (a replica's late batch, a retried flush).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { ModelCallStatus } from '../packages/telemetry/src/index.js';
import {
  foldModelCall,
  type ModelCall,
  type ModelCallAggregate,
  type ModelHealthStore,
} from '../packages/telemetry/src/model-health/index.js';

function call(overrides: Partial<ModelCall> = {}): ModelCall {
  return { provider: 'openai', model: 'gpt-4o', responseTimeMs: 100, status: 'success', ...overrides };
}

function entryOf(calls: readonly ModelCall[]): ModelCallAggregate {
  let entry: ModelCallAggregate | undefined;
  for (const item of calls) entry = foldModelCall(entry, item);
  if (entry === undefined) throw new Error('entryOf needs at least one call');
  return entry;
}

async function apply(store: ModelHealthStore, ...entries: ModelCallAggregate[]): Promise<void> {
  await store.applyBatch({ id: randomUUID(), entries });
}

const STATUSES: readonly ModelCallStatus[] = ['success', 'error', 'timeout', 'rate_limited', 'network_error'];
const MODELS = ['m-a', 'm-b', 'm-c'] as const;

/** What a store must hold for one model after all its calls, computed from the raw calls. */
interface Expected {
  callCount: number;
  successCount: number;
  errorCount: number;
  lastStatus: ModelCallStatus;
  lastResponseTimeMs: number;
  lastCalledAt: number;
  lastErrorMessage: string | null;
  lastErrorAt: number | null;
}

function expectedOf(calls: readonly ModelCall[]): Expected {
  const byTime = [...calls].sort((a, b) => (a.calledAt?.getTime() ?? 0) - (b.calledAt?.getTime() ?? 0));
  const last = byTime[byTime.length - 1] as ModelCall;
  const lastError = byTime.filter((item) => item.status !== 'success' && typeof item.errorMessage === 'string').pop();
  const successes = calls.filter((item) => item.status === 'success').length;
  return {
    callCount: calls.length,
    successCount: successes,
    errorCount: calls.length - successes,
    lastStatus: last.status,
    lastResponseTimeMs: last.responseTimeMs,
    lastCalledAt: last.calledAt?.getTime() ?? 0,
    lastErrorMessage: lastError === undefined ? null : (lastError.errorMessage as string),
    lastErrorAt: lastError?.calledAt?.getTime() ?? null,
  };
}

/**
 * Registers the last-error tests. `store()` is the current test's store (made in a `beforeEach`);
 * `create()` makes a store over empty storage (one per property run); `at(offsetMs)` is a time
 * relative to the suite's start, in whole seconds.
 */
export function describeLastErrorContract(
  store: () => ModelHealthStore,
  create: () => Promise<ModelHealthStore>,
  at: (offsetMs: number) => Date,
): void {
  it('keeps the most recent error message by call time when a newer error arrives in a late batch', async () => {
    // First flush: an error, then a newer success. A late flush (another replica) holds an error
    // between the two: its message is the most recent error, although its call is not the newest.
    await apply(
      store(),
      entryOf([
        call({ status: 'error', errorMessage: 'older error', calledAt: at(-3000) }),
        call({ responseTimeMs: 300, calledAt: at(-1000) }),
      ]),
    );
    await apply(
      store(),
      entryOf([call({ status: 'timeout', responseTimeMs: 900, errorMessage: 'newer error', calledAt: at(-2000) })]),
    );
    let record = await store().getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({
      callCount: 3,
      errorCount: 2,
      lastStatus: 'success',
      lastResponseTimeMs: 300,
      lastErrorMessage: 'newer error',
    });
    expect(record?.lastCalledAt.getTime()).toBe(at(-1000).getTime());
    expect(record?.lastErrorAt?.getTime()).toBe(at(-2000).getTime());

    // An even later batch with an older error changes counts only.
    await apply(store(), entryOf([call({ status: 'error', errorMessage: 'oldest error', calledAt: at(-5000) })]));
    record = await store().getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({ callCount: 4, errorCount: 3, lastErrorMessage: 'newer error' });
    expect(record?.lastErrorAt?.getTime()).toBe(at(-2000).getTime());
    // A failed call without a message keeps the stored message and its time.
    await apply(store(), entryOf([call({ status: 'network_error', calledAt: at(-500) })]));
    record = await store().getModelHealth('openai', 'gpt-4o');
    expect(record).toMatchObject({ callCount: 5, lastStatus: 'network_error', lastErrorMessage: 'newer error' });
    expect(record?.lastErrorAt?.getTime()).toBe(at(-2000).getTime());
  });

  it('has a null lastErrorAt without an error message, and takes lastCalledAt for an entry without one', async () => {
    await apply(store(), entryOf([call({ model: 'ok' })]));
    expect((await store().getModelHealth('openai', 'ok'))?.lastErrorAt).toBeNull();
    // A batch built by hand (or by an earlier version) has no lastErrorAt: its message counts as
    // recorded at its lastCalledAt.
    const { lastErrorAt: _omitted, ...handBuilt } = entryOf([
      call({ model: 'hand', status: 'error', errorMessage: 'hand-built', calledAt: at(-4000) }),
    ]);
    await apply(store(), handBuilt);
    const record = await store().getModelHealth('openai', 'hand');
    expect(record?.lastErrorMessage).toBe('hand-built');
    expect(record?.lastErrorAt?.getTime()).toBe(at(-4000).getTime());
  });

  it('rejects a batch whose lastErrorAt is invalid, after lastCalledAt or without a message', async () => {
    const failed = entryOf([call({ status: 'error', errorMessage: 'boom', calledAt: at(-2000) })]);
    const malformed: unknown[] = [
      { ...failed, lastErrorAt: 'yesterday' },
      { ...failed, lastErrorAt: new Date(Number.NaN) },
      { ...failed, lastErrorAt: at(-1000) },
      { ...entryOf([call({ calledAt: at(-2000) })]), lastErrorAt: at(-3000) },
    ];
    for (const entry of malformed) {
      await expect(
        store().applyBatch({ id: randomUUID(), entries: [entry as ModelCallAggregate] }),
      ).rejects.toMatchObject({
        reason: 'invalid_batch',
      });
    }
    expect(await store().listAllModelHealth()).toEqual([]);
  });

  it('ends with the same record whatever order batches arrive in (property)', async () => {
    const callArbitrary = fc.record({
      model: fc.constantFrom(...MODELS),
      status: fc.constantFrom(...STATUSES),
      responseTimeMs: fc.integer({ min: 0, max: 60_000 }),
      withMessage: fc.boolean(),
      entrySize: fc.integer({ min: 1, max: 3 }),
      batch: fc.nat(),
      order: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(
        // Distinct call times (whole seconds, as every store keeps them exactly), so "most recent" is one call.
        fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 24 }),
        fc.array(callArbitrary, { minLength: 24, maxLength: 24 }),
        fc.integer({ min: 1, max: 6 }),
        async (seconds, shapes, batchCount) => {
          const calls = seconds.map((second, index): ModelCall & { batch: number; entrySize: number } => {
            const shape = shapes[index] as (typeof shapes)[number];
            return {
              ...call({
                model: shape.model,
                status: shape.status,
                responseTimeMs: shape.responseTimeMs,
                errorMessage: shape.withMessage ? `failure at ${second}` : undefined,
                calledAt: at(-second * 1000),
              }),
              batch: shape.batch % batchCount,
              entrySize: shape.entrySize,
            };
          });
          // Batches of entries of 1-3 calls of one model each (a batch may name a model twice),
          // applied in an order unrelated to the call times.
          const batches: ModelCallAggregate[][] = Array.from({ length: batchCount }, () => []);
          for (let number = 0; number < batchCount; number++) {
            for (const model of MODELS) {
              const mine = calls.filter((item) => item.batch === number && item.model === model);
              for (let start = 0; start < mine.length;) {
                const size = (mine[start] as (typeof mine)[number]).entrySize;
                (batches[number] as ModelCallAggregate[]).push(entryOf(mine.slice(start, start + size)));
                start += size;
              }
            }
          }
          const order = batches
            .map((entries, index) => ({ entries, key: (shapes[index]?.order ?? index) * 31 + index }))
            .sort((a, b) => a.key - b.key);
          const target = await create();
          for (const { entries } of order) if (entries.length > 0) await apply(target, ...entries);

          for (const model of MODELS) {
            const mine = calls.filter((item) => item.model === model);
            const record = await target.getModelHealth('openai', model);
            if (mine.length === 0) {
              expect(record).toBeUndefined();
              continue;
            }
            const expected = expectedOf(mine);
            expect(record).toMatchObject({
              callCount: expected.callCount,
              successCount: expected.successCount,
              errorCount: expected.errorCount,
              lastStatus: expected.lastStatus,
              lastResponseTimeMs: expected.lastResponseTimeMs,
              lastErrorMessage: expected.lastErrorMessage,
            });
            expect(record?.lastCalledAt.getTime()).toBe(expected.lastCalledAt);
            expect(record?.lastErrorAt?.getTime() ?? null).toBe(expected.lastErrorAt);
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
}
