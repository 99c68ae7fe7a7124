/**
 * The behaviour every `ModelHealthStore` must have, as one vitest suite. Each store's test file calls
 * `describeModelHealthStoreContract` with a factory; the in-memory store and the Supabase store run
 * the same assertions.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { TelemetryInputError } from '../packages/telemetry/src/index.js';
import { describeLastErrorContract } from './model-health-last-error-contract.js';
import {
  foldModelCall,
  type ModelCall,
  type ModelCallAggregate,
  type ModelCallBatch,
  type ModelHealthStore,
} from '../packages/telemetry/src/model-health/index.js';

export interface ContractStoreFactory {
  /** A store over empty storage (called before every test). */
  create(): Promise<ModelHealthStore>;
}

const DAY = 86_400_000;

function call(overrides: Partial<ModelCall> = {}): ModelCall {
  return { provider: 'openai', model: 'gpt-4o', responseTimeMs: 100, status: 'success', ...overrides };
}

function entryOf(calls: ModelCall[]): ModelCallAggregate {
  let entry: ModelCallAggregate | undefined;
  for (const item of calls) entry = foldModelCall(entry, item);
  return entry as ModelCallAggregate;
}

async function apply(store: ModelHealthStore, ...entries: ModelCallAggregate[]): Promise<void> {
  await store.applyBatch({ id: randomUUID(), entries });
}

export function describeModelHealthStoreContract(name: string, factory: ContractStoreFactory): void {
  describe(`ModelHealthStore contract: ${name}`, () => {
    let store: ModelHealthStore;
    const now = Date.now();
    const at = (offsetMs: number): Date => new Date(Math.floor((now + offsetMs) / 1000) * 1000);

    beforeEach(async () => {
      store = await factory.create();
    });

    describeLastErrorContract(
      () => store,
      () => factory.create(),
      (offsetMs) => at(offsetMs),
    );

    it('starts empty', async () => {
      expect(await store.listAllModelHealth()).toEqual([]);
      expect(await store.getModelHealth('openai', 'gpt-4o')).toBeUndefined();
      expect(await store.listModelHealth()).toEqual({ items: [], total: 0, limit: 100, offset: 0 });
      expect(await store.getStats()).toEqual({
        totalModels: 0,
        totalProviders: 0,
        totalCalls: 0,
        totalSuccesses: 0,
        totalErrors: 0,
        successRate: 0,
        avgResponseTimeMs: null,
      });
      expect(await store.getProviderSummary('openai')).toBeUndefined();
      expect(await store.listProviders()).toEqual([]);
    });

    it('adds counts exactly and keeps a call-weighted mean response time across batches', async () => {
      await apply(
        store,
        entryOf([
          call({ responseTimeMs: 100, calledAt: at(-3000) }),
          call({ responseTimeMs: 300, status: 'error', errorMessage: 'boom', calledAt: at(-2000) }),
        ]),
      );
      await apply(store, entryOf([call({ responseTimeMs: 200, calledAt: at(-1000) })]));
      const record = await store.getModelHealth('openai', 'gpt-4o');
      expect(record).toMatchObject({
        provider: 'openai',
        model: 'gpt-4o',
        callCount: 3,
        successCount: 2,
        errorCount: 1,
        lastResponseTimeMs: 200,
        lastStatus: 'success',
        lastErrorMessage: 'boom',
      });
      expect(record?.avgResponseTimeMs).toBeCloseTo(200, 6);
      expect(record?.lastCalledAt.getTime()).toBe(at(-1000).getTime());
      expect(record?.createdAt).toBeInstanceOf(Date);
      expect(record?.updatedAt).toBeInstanceOf(Date);
    });

    it('hands out copies: changing a record it returned, dates included, or a batch it applied changes nothing stored', async () => {
      const calledAtMs = at(-1000).getTime();
      const entry = entryOf([call({ status: 'error', errorMessage: 'boom', calledAt: new Date(calledAtMs) })]);
      await apply(store, entry);
      // The caller's batch: its dates are the caller's to change afterwards.
      entry.lastCalledAt.setUTCFullYear(2000);
      entry.lastErrorAt?.setUTCFullYear(2000);
      const returned = [
        await store.getModelHealth('openai', 'gpt-4o'),
        ...(await store.listAllModelHealth()),
        ...(await store.listModelHealth()).items,
      ];
      for (const record of returned) {
        (record as { callCount: number }).callCount = 99;
        for (const date of [record!.lastCalledAt, record!.lastErrorAt, record!.createdAt, record!.updatedAt])
          date?.setUTCFullYear(2000);
      }
      const stored = await store.getModelHealth('openai', 'gpt-4o');
      expect(stored?.callCount).toBe(1);
      expect(stored?.lastCalledAt.getTime()).toBe(calledAtMs);
      expect(stored?.lastErrorAt?.getTime()).toBe(calledAtMs);
      expect(stored?.createdAt.getUTCFullYear()).toBeGreaterThan(2000);
      // A retention of 30 days keeps it: its last call was a second ago.
      expect(await store.deleteOlderThan(30)).toBe(0);
    });

    it('keeps the newest call in the last* fields when an older batch arrives late', async () => {
      await apply(
        store,
        entryOf([call({ responseTimeMs: 50, status: 'timeout', errorMessage: 'late timeout', calledAt: at(-1000) })]),
      );
      await apply(store, entryOf([call({ responseTimeMs: 999, status: 'success', calledAt: at(-60_000) })]));
      const record = await store.getModelHealth('openai', 'gpt-4o');
      expect(record).toMatchObject({
        callCount: 2,
        lastStatus: 'timeout',
        lastResponseTimeMs: 50,
        lastErrorMessage: 'late timeout',
      });
      expect(record?.lastCalledAt.getTime()).toBe(at(-1000).getTime());
    });

    it('applies a batch id at most once', async () => {
      const batch = { id: randomUUID(), entries: [entryOf([call(), call({ status: 'rate_limited' })])] };
      await store.applyBatch(batch);
      await store.applyBatch(batch);
      expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
        callCount: 2,
        successCount: 1,
        errorCount: 1,
      });
    });

    it('rejects a malformed batch with a TelemetryInputError and applies none of it', async () => {
      const good = entryOf([call({ model: 'gpt-4o-mini' })]);
      const malformed: unknown[] = [
        null,
        { id: randomUUID(), entries: 'none' },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), calls: Number.NaN }] },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), successes: 5 }] },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), totalResponseTimeMs: Infinity }] },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), lastStatus: 'exploded' }] },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), lastCalledAt: 'yesterday' }] },
        // A lone UTF-16 surrogate has no UTF-8 encoding: PostgREST refuses the request that carries one.
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), model: 'half \uD83D' }] },
        {
          id: randomUUID(),
          entries: [good, { ...entryOf([call({ status: 'error' })]), lastErrorMessage: '\uDE00 half' }],
        },
        // Years PostgreSQL's timestamptz cannot read from toISOString()'s expanded form (+010000-…).
        {
          id: randomUUID(),
          entries: [good, { ...entryOf([call()]), lastCalledAt: new Date('+010000-01-01T00:00:00Z') }],
        },
        { id: randomUUID(), entries: [good, { ...entryOf([call()]), lastCalledAt: new Date(-1e15) }] },
      ];
      for (const batch of malformed) {
        const error: unknown = await store.applyBatch(batch as ModelCallBatch).catch((reason: unknown) => reason);
        expect(error).toBeInstanceOf(TelemetryInputError);
        expect((error as TelemetryInputError).reason).toBe('invalid_batch');
      }
      expect(await store.listAllModelHealth()).toEqual([]);
    });

    it('applies every entry of a batch, for many models at once', async () => {
      const entries = Array.from({ length: 250 }, (_, index) =>
        entryOf([call({ model: `model-${String(index).padStart(3, '0')}`, responseTimeMs: index })]),
      );
      await store.applyBatch({ id: randomUUID(), entries });
      const all = await store.listAllModelHealth();
      expect(all).toHaveLength(250);
      expect(all.reduce((sum, record) => sum + record.callCount, 0)).toBe(250);
    });

    it('caps the stored error message at 500 characters', async () => {
      const long: ModelCallAggregate = { ...entryOf([call({ status: 'error' })]), lastErrorMessage: 'x'.repeat(800) };
      await apply(store, long);
      expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toHaveLength(500);
    });

    it('keeps unusual provider and model names intact', async () => {
      const model = `weird 'model' "name" \\ ünïcødé ${'m'.repeat(40)}`;
      await apply(store, entryOf([call({ provider: 'a-provider.eu', model })]));
      expect((await store.getModelHealth('a-provider.eu', model))?.model).toBe(model);
    });

    it('keeps an error message cut at 500 characters whole when an emoji straddles the cut', async () => {
      const message = `${'x'.repeat(499)}\u{1F600} and more`;
      await apply(store, entryOf([call({ status: 'error', errorMessage: message })]));
      const stored = (await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage;
      expect(stored).toBe('x'.repeat(499));
    });

    it('orders names by code point, as UTF-8 bytes compare, also beyond U+FFFF', async () => {
      // JavaScript's < puts U+1F600 (a surrogate pair) before U+FF5E; UTF-8 and PostgreSQL's "C" order after it.
      const names = ['m\u{1F600}', 'm\u{FF5E}', 'm\u{E000}', 'mz', 'm\u{10000}'];
      await apply(store, ...names.map((name) => entryOf([call({ provider: name, model: name, status: 'error' })])));
      const expected = ['mz', 'm\u{E000}', 'm\u{FF5E}', 'm\u{10000}', 'm\u{1F600}'];
      expect((await store.listModelHealth()).items.map((record) => record.model)).toEqual(expected);
      expect((await store.listProviders()).map((summary) => summary.provider)).toEqual(expected);
      expect((await store.getUnhealthyModels(1)).map((record) => record.model)).toEqual(expected);
      const paged = [0, 2, 4].map((offset) => store.listModelHealth({ limit: 2, offset }));
      expect((await Promise.all(paged)).flatMap((page) => page.items.map((record) => record.model))).toEqual(expected);
    });

    it('accepts an offset and a minimum call count past 2^31 - 1', async () => {
      await apply(store, entryOf([call()]));
      expect(await store.listModelHealth({ offset: 3_000_000_000 })).toEqual({
        items: [],
        total: 1,
        limit: 100,
        offset: 3_000_000_000,
      });
      expect(await store.listModelHealth({ offset: Number.MAX_SAFE_INTEGER })).toMatchObject({ items: [], total: 1 });
      expect(await store.getUnhealthyModels(0, 3_000_000_000)).toEqual([]);
      expect(await store.getUnhealthyModels(0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    });

    describe('listing', () => {
      beforeEach(async () => {
        await apply(
          store,
          entryOf([call({ provider: 'openai', model: 'gpt-4o' })]),
          entryOf([call({ provider: 'openai', model: 'gpt-4o-mini', status: 'error' })]),
          entryOf([call({ provider: 'anthropic', model: 'claude-3-5-haiku' })]),
          entryOf([call({ provider: 'openrouter', model: 'gpt-4o', status: 'timeout' })]),
          entryOf([call({ provider: 'openrouter', model: 'llama', status: 'success' })]),
        );
      });

      it('orders by provider then model', async () => {
        const page = await store.listModelHealth();
        expect(page.items.map((record) => `${record.provider}/${record.model}`)).toEqual([
          'anthropic/claude-3-5-haiku',
          'openai/gpt-4o',
          'openai/gpt-4o-mini',
          'openrouter/gpt-4o',
          'openrouter/llama',
        ]);
        expect(page.total).toBe(5);
      });

      it('filters by provider and by last status', async () => {
        const openai = await store.listModelHealth({ provider: 'openai' });
        expect(openai.items.map((record) => record.model)).toEqual(['gpt-4o', 'gpt-4o-mini']);
        expect(openai.total).toBe(2);
        const timeouts = await store.listModelHealth({ status: 'timeout' });
        expect(timeouts.items.map((record) => record.provider)).toEqual(['openrouter']);
        const both = await store.listModelHealth({ provider: 'openrouter', status: 'success' });
        expect(both.items.map((record) => record.model)).toEqual(['llama']);
        expect((await store.listModelHealth({ provider: 'nobody' })).total).toBe(0);
      });

      it('paginates with limit and offset and reports the unpaginated total', async () => {
        const first = await store.listModelHealth({ limit: 2, offset: 0 });
        const second = await store.listModelHealth({ limit: 2, offset: 2 });
        const third = await store.listModelHealth({ limit: 2, offset: 4 });
        const past = await store.listModelHealth({ limit: 2, offset: 10 });
        expect([first, second, third].map((page) => page.items.length)).toEqual([2, 2, 1]);
        expect([first, second, third, past].every((page) => page.total === 5)).toBe(true);
        expect(past.items).toEqual([]);
        expect(second).toMatchObject({ limit: 2, offset: 2 });
        const keys = [...first.items, ...second.items, ...third.items].map(
          (record) => `${record.provider}/${record.model}`,
        );
        expect(new Set(keys).size).toBe(5);
      });

      it('pages by key without repeating or skipping a record while others are added and deleted', async () => {
        const keyOf = (record: { provider: string; model: string }): string => `${record.provider}/${record.model}`;
        const first = await store.listModelHealth({ limit: 2 });
        expect(first.items.map(keyOf)).toEqual(['anthropic/claude-3-5-haiku', 'openai/gpt-4o']);
        // Between the pages: a record before the cursor, one after it, and one deleted after it.
        await apply(
          store,
          entryOf([call({ provider: 'aaa', model: 'new-first' })]),
          entryOf([call({ provider: 'openai', model: 'gpt-4o-a' })]),
        );
        await apply(store, entryOf([call({ provider: 'zeta', model: 'old', calledAt: new Date(now - 400 * DAY) })]));
        expect(await store.deleteOlderThan(300)).toBe(1);
        const seen = [...first.items];
        let after = first.items.at(-1);
        while (after !== undefined) {
          const page = await store.listModelHealth({ limit: 2, after });
          expect(page).toMatchObject({ total: 7, limit: 2, offset: 0 });
          seen.push(...page.items);
          after = page.items.length === 2 ? page.items.at(-1) : undefined;
        }
        expect(seen.map(keyOf)).toEqual([
          'anthropic/claude-3-5-haiku',
          'openai/gpt-4o',
          'openai/gpt-4o-a',
          'openai/gpt-4o-mini',
          'openrouter/gpt-4o',
          'openrouter/llama',
        ]);
        // With filters, an offset after the key, and a key that is not (or no longer) stored.
        const afterKey = { provider: 'openai', model: 'gpt-4o-0' };
        expect((await store.listModelHealth({ provider: 'openai', after: afterKey })).items.map(keyOf)).toEqual([
          'openai/gpt-4o-a',
          'openai/gpt-4o-mini',
        ]);
        expect((await store.listModelHealth({ after: afterKey, offset: 1, limit: 1 })).items.map(keyOf)).toEqual([
          'openai/gpt-4o-mini',
        ]);
        expect(
          (await store.listModelHealth({ status: 'timeout', after: { provider: 'b', model: '' } })).items.map(keyOf),
        ).toEqual(['openrouter/gpt-4o']);
        expect((await store.listModelHealth({ after: { provider: 'zzz', model: 'x' } })).items).toEqual([]);
      });

      it('rejects bad pagination and filters with a TelemetryInputError', async () => {
        for (const query of [
          { limit: 0 },
          { limit: 1001 },
          { limit: 1.5 },
          { offset: -1 },
          { status: 'broken' as 'error' },
          { after: { provider: 'openai' } as { provider: string; model: string } },
          { after: { provider: 'openai', model: 'half \uD83D' } },
          { after: 'openai/gpt-4o' as unknown as { provider: string; model: string } },
        ]) {
          await expect(store.listModelHealth(query)).rejects.toBeInstanceOf(TelemetryInputError);
        }
      });
    });

    it('finds unhealthy models by error-rate threshold and minimum calls, worst first', async () => {
      await apply(
        store,
        entryOf([
          call({ model: 'good' }),
          call({ model: 'good' }),
          call({ model: 'good' }),
          call({ model: 'good', status: 'error' }),
        ]),
        entryOf([
          call({ model: 'bad', status: 'error' }),
          call({ model: 'bad', status: 'timeout' }),
          call({ model: 'bad' }),
        ]),
        entryOf([call({ model: 'dead', status: 'network_error' }), call({ model: 'dead', status: 'error' })]),
        entryOf([call({ model: 'single', status: 'error' })]),
      );
      const unhealthy = await store.getUnhealthyModels(0.5);
      expect(unhealthy.map((record) => record.model)).toEqual(['dead', 'single', 'bad']);
      expect((await store.getUnhealthyModels(0.5, 2)).map((record) => record.model)).toEqual(['dead', 'bad']);
      expect((await store.getUnhealthyModels(0.25)).map((record) => record.model)).toEqual([
        'dead',
        'single',
        'bad',
        'good',
      ]);
      expect(await store.getUnhealthyModels(1, 3)).toEqual([]);
      await expect(store.getUnhealthyModels(1.5)).rejects.toBeInstanceOf(TelemetryInputError);
      await expect(store.getUnhealthyModels(0.5, 0)).rejects.toBeInstanceOf(TelemetryInputError);
    });

    it('computes statistics over every model', async () => {
      await apply(
        store,
        entryOf([call({ responseTimeMs: 100 }), call({ responseTimeMs: 300 })]),
        entryOf([call({ provider: 'anthropic', model: 'claude', responseTimeMs: 400, status: 'error' })]),
      );
      const stats = await store.getStats();
      expect(stats).toMatchObject({
        totalModels: 2,
        totalProviders: 2,
        totalCalls: 3,
        totalSuccesses: 2,
        totalErrors: 1,
      });
      expect(stats.successRate).toBeCloseTo(2 / 3, 10);
      expect(stats.avgResponseTimeMs).toBeCloseTo(800 / 3, 6);
    });

    it('summarises one provider and lists every provider', async () => {
      await apply(
        store,
        entryOf([
          call({ model: 'a', responseTimeMs: 100, calledAt: at(-5000) }),
          call({ model: 'a', responseTimeMs: 200, status: 'error', calledAt: at(-4000) }),
        ]),
        entryOf([call({ model: 'b', responseTimeMs: 600, calledAt: at(-2000) })]),
        entryOf([call({ provider: 'anthropic', model: 'c', responseTimeMs: 50, calledAt: at(-1000) })]),
      );
      const openai = await store.getProviderSummary('openai');
      expect(openai).toMatchObject({
        provider: 'openai',
        totalModels: 2,
        totalCalls: 3,
        successCount: 2,
        errorCount: 1,
      });
      expect(openai?.successRate).toBeCloseTo(2 / 3, 10);
      expect(openai?.errorRate).toBeCloseTo(1 / 3, 10);
      expect(openai?.avgResponseTimeMs).toBeCloseTo(300, 6);
      expect(openai?.lastCalledAt?.getTime()).toBe(at(-2000).getTime());
      const providers = await store.listProviders();
      expect(providers.map((summary) => summary.provider)).toEqual(['anthropic', 'openai']);
      expect(providers[0]).toMatchObject({ totalModels: 1, totalCalls: 1, successRate: 1, errorRate: 0 });
    });

    it('deletes records whose last call is older than the retention', async () => {
      await apply(
        store,
        entryOf([call({ model: 'old', calledAt: new Date(now - 40 * DAY) })]),
        entryOf([call({ model: 'older', calledAt: new Date(now - 400 * DAY) })]),
        entryOf([call({ model: 'recent', calledAt: new Date(now - 2 * DAY) })]),
      );
      expect(await store.deleteOlderThan(2e12)).toBe(0); // a cutoff before any recordable call
      expect(await store.deleteOlderThan(30)).toBe(2);
      expect((await store.listAllModelHealth()).map((record) => record.model)).toEqual(['recent']);
      expect(await store.deleteOlderThan(30)).toBe(0);
      await expect(store.deleteOlderThan(0)).rejects.toBeInstanceOf(TelemetryInputError);
    });
  });
}
