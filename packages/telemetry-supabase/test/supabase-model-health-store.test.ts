import { randomUUID } from 'node:crypto';

import { MeterProvider, MetricReader, type Histogram } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { GatewayTelemetry, TelemetryConfigurationError, TelemetryInputError } from '@gatewayz/telemetry';
import {
  MemoryModelHealthStore,
  type ModelCallAggregate,
  type ModelCallBatch,
  type ModelHealthRecord,
} from '@gatewayz/telemetry/model-health';

import { signJwt, type SupabaseTestStack } from '../../../test-support/postgres.js';
import { SupabaseModelHealthStore, SupabaseModelHealthStoreError, migrationPath } from '../src/index.js';
import {
  ALL_MIGRATIONS,
  batchOf,
  call,
  clientFor,
  entryOf,
  startStoreStack,
  supabaseStackAvailable,
  testClient,
  truncateTables,
} from './helpers.js';

/** What `run` resolves to once it stops failing (PostgREST reloading its schema cache), within 10 s. */
async function eventually<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe.skipIf(!supabaseStackAvailable())('SupabaseModelHealthStore', () => {
  let stack: SupabaseTestStack;
  let store: SupabaseModelHealthStore;

  beforeAll(async () => {
    stack = await startStoreStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await truncateTables(stack);
    store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      onQuery: () => undefined,
    });
    stack.proxy.reset();
  });

  describe('round trips', () => {
    it('applies a 500-entry batch with one HTTP request', async () => {
      const entries = Array.from({ length: 500 }, (_, index) =>
        entryOf(call({ model: `model-${index}`, responseTimeMs: index })),
      );
      await store.applyBatch(batchOf(...entries));
      expect(stack.proxy.requests).toEqual([{ method: 'POST', path: '/rest/v1/rpc/record_model_calls', status: 200 }]);
      expect(await stack.postgres.psql('select count(*), sum(call_count) from public.model_health_tracking')).toBe(
        '500|500',
      );
    });

    it('answers every read with one HTTP request', async () => {
      await store.applyBatch(
        batchOf(entryOf(call()), entryOf(call({ provider: 'anthropic', model: 'claude', status: 'error' }))),
      );
      stack.proxy.reset();
      await store.getModelHealth('openai', 'gpt-4o');
      await store.listModelHealth({ provider: 'openai', limit: 10 });
      await store.listAllModelHealth();
      await store.getUnhealthyModels(0.5);
      await store.getStats();
      await store.getProviderSummary('openai');
      await store.listProviders();
      await store.deleteOlderThan(30);
      expect(stack.proxy.requests.map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
        'POST /rest/v1/rpc/get_model_health 200',
        'POST /rest/v1/rpc/get_all_model_health 200',
        'POST /rest/v1/rpc/get_all_model_health 200',
        'POST /rest/v1/rpc/get_unhealthy_models 200',
        'POST /rest/v1/rpc/get_model_health_stats 200',
        'POST /rest/v1/rpc/get_provider_health_summary 200',
        'POST /rest/v1/rpc/get_all_provider_health_summaries 200',
        'POST /rest/v1/rpc/delete_old_health_records 200',
      ]);
    });

    it('lists more than one page of models in one request', async () => {
      const entries = Array.from({ length: 1200 }, (_, index) =>
        entryOf(call({ model: `m-${String(index).padStart(4, '0')}` })),
      );
      await store.applyBatch(batchOf(...entries));
      stack.proxy.reset();
      const all = await store.listAllModelHealth();
      expect(all).toHaveLength(1200);
      expect(all[1199]?.model).toBe('m-1199');
      expect(stack.proxy.requests).toHaveLength(1);
    });
  });

  describe('input validation', () => {
    it('rejects bad input with a TelemetryInputError before any request', async () => {
      const good = entryOf(call());
      const rejected: Array<Promise<unknown>> = [
        store.listModelHealth({ limit: 0 }),
        store.listModelHealth({ offset: -1 }),
        store.listModelHealth({ status: 'broken' as 'error' }),
        store.getUnhealthyModels(2),
        store.getUnhealthyModels(0.5, 0),
        store.deleteOlderThan(0),
        store.deleteOlderThan(Number.NaN),
        store.applyBatch({ id: 'not-a-uuid', entries: [good] }),
        store.applyBatch(batchOf({ ...good, calls: 0, successes: 0, errors: 0 })),
        store.applyBatch(batchOf({ ...good, calls: 2 })),
        store.applyBatch(batchOf({ ...good, provider: '' })),
        store.applyBatch(batchOf({ ...good, totalResponseTimeMs: Number.POSITIVE_INFINITY })),
        store.applyBatch(batchOf({ ...good, lastStatus: 'exploded' as 'error' })),
        store.applyBatch(batchOf({ ...good, lastCalledAt: new Date(Number.NaN) })),
        store.getModelHealth(42 as unknown as string, 'gpt-4o'),
        // PostgreSQL text cannot hold NUL: these used to reach the database and fail there.
        store.getModelHealth('openai', 'gpt\u00004o'),
        store.getProviderSummary('open\u0000ai'),
        store.listModelHealth({ provider: 'open\u0000ai' }),
        store.applyBatch(batchOf({ ...good, model: 'gpt\u00004o' })),
      ];
      for (const attempt of rejected) await expect(attempt).rejects.toBeInstanceOf(TelemetryInputError);
      await expect(store.applyBatch(batchOf({ ...good, calls: 2 }))).rejects.toThrow(
        /entry 0 \(openai\/gpt-4o\): calls must be an integer >= 1 equal to successes \+ errors/,
      );
      expect(stack.proxy.requests).toEqual([]);
    });

    it('applies a batch whose error message holds NUL characters, without them', async () => {
      // An upstream's error body can hold any bytes; one NUL used to make PostgreSQL refuse the
      // whole batch (22P05, REJECTED, not retried), losing every model's calls in it.
      const failed = entryOf(call({ status: 'error', errorMessage: 'bad\u0000gateway' }));
      const byHand = { ...entryOf(call({ model: 'gpt-4o-mini', status: 'error' })), lastErrorMessage: 'x\u0000y' };
      await store.applyBatch(batchOf(failed, byHand, entryOf(call({ model: 'o4-mini' }))));
      expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBe('badgateway');
      expect((await store.getModelHealth('openai', 'gpt-4o-mini'))?.lastErrorMessage).toBe('xy');
      expect((await store.getModelHealth('openai', 'o4-mini'))?.callCount).toBe(1);
    });

    it('applies a batch whose error message had a character cut in two by the cap, and refuses a lone surrogate by hand', async () => {
      // Either made PostgREST refuse the whole batch as invalid JSON (PGRST102), like a NUL did.
      const capped = entryOf(call({ status: 'error', errorMessage: `${'x'.repeat(499)}\u{1F600} and more` }));
      const byHand = { ...entryOf(call({ model: 'gpt-4o-mini', status: 'error' })), lastErrorMessage: 'a\ud800b' };
      await expect(store.applyBatch(batchOf(byHand))).rejects.toBeInstanceOf(TelemetryInputError);
      await store.applyBatch(batchOf(capped, entryOf(call({ model: 'o4-mini' }))));
      expect((await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorMessage).toBe('x'.repeat(499));
      expect(await store.getModelHealth('openai', 'gpt-4o-mini')).toBeUndefined();
      expect((await store.getModelHealth('openai', 'o4-mini'))?.callCount).toBe(1);
    });

    it('rejects unusable options with a TelemetryConfigurationError', () => {
      expect(() => new SupabaseModelHealthStore({ url: 'ftp://nowhere', serviceRoleKey: 'x' })).toThrow(
        TelemetryConfigurationError,
      );
      expect(() => new SupabaseModelHealthStore({ url: stack.url, serviceRoleKey: '' })).toThrow(/serviceRoleKey/);
      expect(() => new SupabaseModelHealthStore({ url: stack.url, serviceRoleKey: 'k', requestTimeoutMs: 0 })).toThrow(
        /requestTimeoutMs/,
      );
      // Longer than a Node.js timer keeps: AbortSignal.timeout() would abort every request at once.
      expect(
        () => new SupabaseModelHealthStore({ url: stack.url, serviceRoleKey: 'k', requestTimeoutMs: 3e9 }),
      ).toThrow(/requestTimeoutMs/);
      expect(
        () => new SupabaseModelHealthStore({ url: stack.url, serviceRoleKey: 'k', requestTimeoutMs: 2_147_483_647 }),
      ).not.toThrow();
    });

    it('the SQL function itself rejects a malformed batch and writes nothing', async () => {
      const service = clientFor(stack, stack.serviceRoleKey);
      const { error, status } = await service.rpc('record_model_calls', {
        p_batch_id: randomUUID(),
        p_entries: [
          {
            provider: 'openai',
            model: 'gpt-4o',
            calls: 1,
            successes: 1,
            errors: 0,
            total_response_time_ms: 5,
            last_response_time_ms: 5,
            last_status: 'success',
            last_error_message: null,
            last_called_at: new Date().toISOString(),
          },
          { provider: 'openai', model: 'gpt-4o', calls: 3, successes: 1, errors: 1 },
        ],
      });
      expect(status).toBe(400);
      expect(error?.code).toBe('22023');
      expect(error?.message).toMatch(/entry 2 \(openai\/gpt-4o\) needs integers calls >= 1 = successes \+ errors/);
      expect(await stack.postgres.psql('select count(*) from public.model_health_tracking')).toBe('0');
      expect(await stack.postgres.psql('select count(*) from public.model_health_applied_batches')).toBe('0');
    });
  });

  describe('row level security', () => {
    const row = {
      provider: 'rls',
      model: 'probe',
      call_count: 1,
      success_count: 1,
      error_count: 0,
      last_status: 'success',
      last_called_at: new Date().toISOString(),
    };

    it('lets anon and authenticated read but write nothing', async () => {
      await store.applyBatch(batchOf(entryOf(call({ provider: 'rls', model: 'existing' }))));
      for (const key of [stack.anonKey, stack.authenticatedKey]) {
        const client = clientFor(stack, key);
        const read = await client.from('model_health_tracking').select('provider, model, call_count');
        expect(read.error).toBeNull();
        expect(read.data).toEqual([{ provider: 'rls', model: 'existing', call_count: 1 }]);
        const stats = await client.rpc('get_model_health_stats');
        expect(stats.error).toBeNull();

        const writes = [
          await client.rpc('record_model_calls', { p_batch_id: randomUUID(), p_entries: [] }),
          await client.rpc('delete_old_health_records', { days: 1 }),
          await client.from('model_health_tracking').insert(row),
          await client
            .from('model_health_tracking')
            .update({ call_count: 99, success_count: 99 })
            .eq('provider', 'rls'),
          await client.from('model_health_tracking').delete().eq('provider', 'rls'),
          await client.from('model_health_applied_batches').select('*'),
        ];
        for (const attempt of writes) {
          expect(attempt.error?.code).toBe('42501');
          expect([401, 403]).toContain(attempt.status);
        }
      }
      expect(
        await stack.postgres.psql("select call_count from public.model_health_tracking where provider = 'rls'"),
      ).toBe('1');
    });

    it('keeps anon out by policy even where a table privilege is granted by mistake', async () => {
      await stack.postgres.psql('grant insert, update, delete on public.model_health_tracking to anon');
      try {
        const anon = clientFor(stack, stack.anonKey);
        const insert = await anon.from('model_health_tracking').insert(row);
        expect(insert.error?.code).toBe('42501');
        expect(insert.error?.message).toMatch(/row-level security/);
      } finally {
        await stack.postgres.psql('revoke insert, update, delete on public.model_health_tracking from anon');
      }
      expect(
        await stack.postgres.psql(
          "select relrowsecurity from pg_class where oid = 'public.model_health_tracking'::regclass",
        ),
      ).toBe('t');
    });

    it('lets the service role read and write the table directly', async () => {
      const service = clientFor(stack, stack.serviceRoleKey);
      expect((await service.from('model_health_tracking').insert(row)).error).toBeNull();
      expect(
        (await service.from('model_health_tracking').update({ call_count: 2, success_count: 2 }).eq('provider', 'rls'))
          .error,
      ).toBeNull();
      const read = await service
        .from('model_health_tracking')
        .select('call_count, updated_at')
        .eq('provider', 'rls')
        .single();
      expect(read.data?.call_count).toBe(2);
      expect((await service.from('model_health_applied_batches').select('*')).error).toBeNull();
      expect((await service.from('model_health_tracking').delete().eq('provider', 'rls')).error).toBeNull();
      expect(await stack.postgres.psql('select count(*) from public.model_health_tracking')).toBe('0');
    });

    it('reports a store built with the anon key as PERMISSION_DENIED without showing the key', async () => {
      const anonStore = new SupabaseModelHealthStore({
        url: stack.url,
        serviceRoleKey: stack.anonKey,
        onQuery: () => undefined,
      });
      const error = await anonStore.applyBatch(batchOf(entryOf(call()))).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
      expect(error).toMatchObject({
        name: 'SupabaseModelHealthStoreError',
        code: 'PERMISSION_DENIED',
        operation: 'record_model_calls',
        status: 401,
        databaseCode: '42501',
        retryable: false,
      });
      const message = (error as Error).message;
      expect(message).toMatch(
        /record_model_calls failed \(HTTP 401, 42501\): permission denied for function record_model_calls\. Writes and retention need the service-role key/,
      );
      expect(message).not.toContain(stack.anonKey);
      expect(JSON.stringify(error)).not.toContain(stack.anonKey);
      // Reads are allowed for anon.
      await expect(anonStore.getStats()).resolves.toMatchObject({ totalModels: 0 });
    });

    it('reports a key signed with another secret as PERMISSION_DENIED', async () => {
      const forged = signJwt({ role: 'service_role' }, 'not-the-project-secret-but-long-enough');
      const forgedStore = new SupabaseModelHealthStore({
        url: stack.url,
        serviceRoleKey: forged,
        onQuery: () => undefined,
      });
      const error = await forgedStore.getStats().catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'PERMISSION_DENIED',
        status: 401,
        databaseCode: 'PGRST301',
        retryable: false,
      });
      expect((error as Error).message).toMatch(/The API key was rejected/);
      expect((error as Error).message).not.toContain(forged);
    });
  });

  describe('SQL semantics', () => {
    it('orders by byte order like JavaScript, whatever the database collation', async () => {
      // Under the test database's ICU en-US collation 'a' sorts before 'B'; JavaScript says otherwise.
      expect(await stack.postgres.psql("select 'a' < 'B'")).toBe('t');
      const providers = ['beta', 'Beta', 'alpha', 'Zulu', '_under', 'a-b', 'a_b', 'ab', 'Ärger', 'émile'];
      await store.applyBatch(
        batchOf(
          ...providers.flatMap((provider) => [
            entryOf(call({ provider, model: 'Model-B' })),
            entryOf(call({ provider, model: 'model-a', status: 'error' })),
          ]),
        ),
      );
      const expected = [...providers].sort();
      const page = await store.listModelHealth();
      expect(page.items.map((record) => `${record.provider}/${record.model}`)).toEqual(
        expected.flatMap((provider) => [`${provider}/Model-B`, `${provider}/model-a`]),
      );
      expect((await store.listProviders()).map((summary) => summary.provider)).toEqual(expected);
      expect((await store.getUnhealthyModels(0.5)).map((record) => record.provider)).toEqual(expected);
    });

    it('reads timestamps before 1883 in a session time zone whose offset then had seconds', async () => {
      const calledAt = new Date('1850-01-01T04:56:02.123Z');
      await store.applyBatch(batchOf(entryOf(call({ status: 'timeout', errorMessage: 'timed out', calledAt }))));
      // PostgREST sets the session TimeZone from this preference; New York then kept local mean time.
      const newYork = testClient(stack.url, stack.serviceRoleKey, {
        global: { headers: { Prefer: 'timezone=America/New_York' } },
      });
      const raw = await newYork.rpc('get_model_health', { p_provider: 'openai', p_model: 'gpt-4o' });
      expect((raw.data as Array<{ last_called_at: string }>)[0]?.last_called_at).toBe(
        '1850-01-01T00:00:00.123-04:56:02',
      );

      const reader = new SupabaseModelHealthStore({ client: newYork, onQuery: () => undefined });
      const record = await reader.getModelHealth('openai', 'gpt-4o');
      expect(record?.lastCalledAt).toEqual(calledAt);
      expect(record?.lastErrorAt).toEqual(calledAt);
      expect((await reader.listModelHealth()).items[0]?.lastCalledAt).toEqual(calledAt);
      expect((await reader.getProviderSummary('openai'))?.lastCalledAt).toEqual(calledAt);
    });

    it('applies random batches exactly as the in-memory reference store does', async () => {
      const provider = fc.constantFrom('openai', 'anthropic');
      const model = fc.constantFrom('a', 'b');
      const second = fc.integer({ min: 0, max: 5 });
      const entry = fc
        .record({
          provider,
          model,
          calls: fc.integer({ min: 1, max: 4 }),
          successRatio: fc.double({ min: 0, max: 1, noNaN: true }),
          totalResponseTimeMs: fc.integer({ min: 0, max: 10_000 }),
          lastResponseTimeMs: fc.integer({ min: 0, max: 5_000 }),
          lastStatus: fc.constantFrom('success', 'error', 'timeout', 'rate_limited', 'network_error' as const),
          lastErrorMessage: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: null }),
          second,
        })
        .map(({ successRatio, second: at, ...rest }): ModelCallAggregate => {
          const successes = Math.round(rest.calls * successRatio);
          return {
            ...rest,
            successes,
            errors: rest.calls - successes,
            lastCalledAt: new Date(Date.UTC(2025, 0, 1, 0, 0, at)),
          };
        });
      const batches = fc.array(fc.array(entry, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 });

      const comparable = (record: ModelHealthRecord) => ({
        provider: record.provider,
        model: record.model,
        callCount: record.callCount,
        successCount: record.successCount,
        errorCount: record.errorCount,
        lastResponseTimeMs: record.lastResponseTimeMs,
        lastStatus: record.lastStatus,
        lastErrorMessage: record.lastErrorMessage,
        lastCalledAt: record.lastCalledAt.toISOString(),
      });

      await fc.assert(
        fc.asyncProperty(batches, async (entryLists) => {
          await truncateTables(stack);
          const reference = new MemoryModelHealthStore();
          for (const entries of entryLists) {
            const batch: ModelCallBatch = { id: randomUUID(), entries };
            await reference.applyBatch(batch);
            await store.applyBatch(batch);
          }
          // listAllModelHealth promises no order: compare in key order.
          const byKey = (a: ModelHealthRecord, b: ModelHealthRecord) =>
            `${a.provider}/${a.model}`.localeCompare(`${b.provider}/${b.model}`);
          const want = [...(await reference.listAllModelHealth())].sort(byKey);
          const got = [...(await store.listAllModelHealth())].sort(byKey);
          expect(got.map(comparable)).toEqual(want.map(comparable));
          got.forEach((record, index) =>
            expect(record.avgResponseTimeMs).toBeCloseTo(want[index]?.avgResponseTimeMs as number, 6),
          );
        }),
        { numRuns: 25 },
      );
    });

    it('returns 0 from record_model_calls for a batch id it has applied', async () => {
      const service = clientFor(stack, stack.serviceRoleKey);
      const args = {
        p_batch_id: randomUUID(),
        p_entries: [
          {
            provider: 'openai',
            model: 'gpt-4o',
            calls: 2,
            successes: 2,
            errors: 0,
            total_response_time_ms: 30,
            last_response_time_ms: 10,
            last_status: 'success',
            last_error_message: null,
            last_called_at: new Date().toISOString(),
          },
        ],
      };
      expect((await service.rpc('record_model_calls', args)).data).toBe(1);
      expect((await service.rpc('record_model_calls', args)).data).toBe(0);
      expect(await stack.postgres.psql('select call_count from public.model_health_tracking')).toBe('2');
    });

    it('keeps updated_at current on direct edits and forgets applied batch ids with old records', async () => {
      await store.applyBatch(batchOf(entryOf(call({ calledAt: new Date(Date.now() - 40 * 86_400_000) }))));
      await stack.postgres.psql(
        "update public.model_health_tracking set updated_at = '2000-01-01', created_at = '2000-01-01'",
      );
      await stack.postgres.psql("update public.model_health_tracking set last_status = 'timeout'");
      expect(
        await stack.postgres.psql(
          "select updated_at > now() - interval '1 minute', created_at < '2001-01-01' from public.model_health_tracking",
        ),
      ).toBe('t|t');

      await stack.postgres.psql(
        "update public.model_health_applied_batches set applied_at = now() - interval '8 days'",
      );
      const recent = batchOf(entryOf(call({ model: 'recent' })));
      await store.applyBatch(recent);
      expect(await store.deleteOlderThan(30)).toBe(1);
      expect(await stack.postgres.psql('select batch_id from public.model_health_applied_batches')).toBe(recent.id);
    });
  });

  describe('query timing', () => {
    it('passes every request to onQuery with the SQL function name', async () => {
      const seen: Array<[string, number]> = [];
      const timed = new SupabaseModelHealthStore({
        url: stack.url,
        serviceRoleKey: stack.serviceRoleKey,
        onQuery: (operation, seconds) => seen.push([operation, seconds]),
      });
      await timed.applyBatch(batchOf(entryOf(call())));
      await timed.getStats();
      await expect(timed.listModelHealth({ limit: 0 })).rejects.toBeInstanceOf(TelemetryInputError);
      expect(seen.map(([operation]) => operation)).toEqual(['record_model_calls', 'get_model_health_stats']);
      for (const [, seconds] of seen) expect(seconds).toBeGreaterThan(0);
    });

    it('records database_query_duration_seconds{operation} through GatewayTelemetry', async () => {
      const reader = new TestMetricReader();
      const telemetry = new GatewayTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }) });
      const timed = new SupabaseModelHealthStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, telemetry });
      await timed.applyBatch(batchOf(entryOf(call())));
      await timed.applyBatch(batchOf(entryOf(call())));
      await timed.listProviders();
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((candidate) => candidate.descriptor.name === 'database_query_duration_seconds');
      const counts = Object.fromEntries(
        (metric?.dataPoints ?? []).map((point) => [
          String(point.attributes.operation),
          (point.value as Histogram).count,
        ]),
      );
      expect(counts).toEqual({ record_model_calls: 2, get_all_provider_health_summaries: 1 });
    });
  });

  it('reports a missing SQL function as NOT_MIGRATED', async () => {
    await stack.postgres.psql(
      'alter function public.get_model_health_stats() rename to get_model_health_stats_renamed',
    );
    try {
      const error = await store.getStats().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
      expect(error).toMatchObject({
        code: 'NOT_MIGRATED',
        retryable: false,
        operation: 'get_model_health_stats',
        status: 404,
      });
      expect((error as Error).message).toMatch(
        /\. Apply migrations\/0001_model_health_tracking\.sql from @gatewayz\/telemetry-supabase/,
      );
    } finally {
      await stack.postgres.psql(
        'alter function public.get_model_health_stats_renamed() rename to get_model_health_stats',
      );
    }
    await expect(store.getStats()).resolves.toMatchObject({ totalModels: 0 });
  });

  describe('migration', () => {
    it('can be applied again over live data', async () => {
      await store.applyBatch(batchOf(entryOf(call())));
      const policies = await stack.postgres.psql("select count(*) from pg_policies where schemaname = 'public'");
      // Every migration, in order, twice (running 0001 alone again would put back its record_model_calls).
      for (const file of [...ALL_MIGRATIONS, ...ALL_MIGRATIONS]) await stack.postgres.applyFile(file);
      expect(await stack.postgres.psql("select count(*) from pg_policies where schemaname = 'public'")).toBe(policies);
      await store.applyBatch(batchOf(entryOf(call())));
      expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ callCount: 2 });
    });

    it('replaces the integer offset and min_calls of earlier versions instead of adding overloads', async () => {
      await stack.postgres.psql('create database migration_upgrade');
      try {
        const options = { database: 'migration_upgrade' };
        await stack.postgres.applyFile(migrationPath(), options);
        // The signatures of 0.1.0, which failed past 2^31 - 1 and had no keyset paging (stand-in bodies).
        await stack.postgres.psql(
          `create function public.get_all_model_health(p_provider text default null, p_status text default null,
             p_limit integer default 100, p_offset integer default 0) returns jsonb language sql as 'select null::jsonb';
           create function public.get_unhealthy_models(error_threshold double precision, min_calls integer default 1)
             returns setof public.model_health_tracking language sql as 'select * from public.model_health_tracking';`,
          options,
        );
        await stack.postgres.applyFile(migrationPath(), options);
        const signatures = await stack.postgres.psql(
          `select string_agg(proname || '(' || pg_get_function_identity_arguments(oid) || ')', ';' order by proname)
           from pg_proc where pronamespace = 'public'::regnamespace and proname in ('get_all_model_health', 'get_unhealthy_models')`,
          options,
        );
        expect(signatures).toBe(
          'get_all_model_health(p_provider text, p_status text, p_limit integer, p_offset bigint, p_after_provider text, p_after_model text);get_unhealthy_models(error_threshold double precision, min_calls bigint)',
        );
      } finally {
        await stack.postgres.psql('drop database migration_upgrade', { database: 'postgres' });
      }
    });

    it('keeps listing without a cursor on a database still on the four-parameter get_all_model_health', async () => {
      await store.applyBatch(batchOf(entryOf(call())));
      // An upgrade of the package before the migration is applied again: the earlier signature
      // (integer offset, no keyset parameters) is what the database has.
      await stack.postgres.psql(
        `alter function public.get_all_model_health(text, text, integer, bigint, text, text) rename to get_all_model_health_new;
         create function public.get_all_model_health(p_provider text default null, p_status text default null,
           p_limit integer default 100, p_offset integer default 0) returns jsonb language sql
           as 'select public.get_all_model_health_new(p_provider, p_status, p_limit, p_offset, null, null)';
         grant execute on function public.get_all_model_health(text, text, integer, integer) to anon, authenticated, service_role;
         notify pgrst, 'reload schema';`,
      );
      try {
        // PostgREST reloads its schema cache on the notification, asynchronously: until it has,
        // it still calls with the new signature's types.
        const listed = await eventually(() => store.listModelHealth({ limit: 10 }));
        expect(listed.items).toHaveLength(1);
        expect(await store.listAllModelHealth()).toHaveLength(1);
        // A cursor needs the keyset parameters: a clear NOT_MIGRATED until the migration is applied.
        await expect(store.listModelHealth({ limit: 10, after: { provider: 'a', model: 'b' } })).rejects.toMatchObject({
          code: 'NOT_MIGRATED',
        });
      } finally {
        await stack.postgres.psql(
          `drop function public.get_all_model_health(text, text, integer, integer);
           alter function public.get_all_model_health_new(text, text, integer, bigint, text, text) rename to get_all_model_health;
           notify pgrst, 'reload schema';`,
        );
        await eventually(() => store.listModelHealth({ limit: 10, after: { provider: 'a', model: 'b' } }));
      }
    });

    it('applies twice to a fresh database whose roles already exist', async () => {
      await stack.postgres.psql('create database migration_twice');
      try {
        for (const file of [...ALL_MIGRATIONS, ...ALL_MIGRATIONS]) {
          await stack.postgres.applyFile(file, { database: 'migration_twice' });
        }
        const functions = await stack.postgres.psql(
          "select string_agg(proname, ',' order by proname) from pg_proc where pronamespace = 'public'::regnamespace",
          { database: 'migration_twice' },
        );
        expect(functions.split(',')).toEqual([
          'delete_old_health_records',
          'get_all_model_health',
          'get_all_provider_health_summaries',
          'get_model_health',
          'get_model_health_stats',
          'get_provider_health_summary',
          'get_unhealthy_models',
          'model_health_fold_entries',
          'model_health_tracking_set_updated_at',
          'record_model_calls',
        ]);
        const executable = await stack.postgres.psql(
          "select string_agg(proname, ',' order by proname) from pg_proc where pronamespace = 'public'::regnamespace and has_function_privilege('anon', oid, 'execute')",
          { database: 'migration_twice' },
        );
        expect(executable).toBe(
          'get_all_model_health,get_all_provider_health_summaries,get_model_health,get_model_health_stats,get_provider_health_summary,get_unhealthy_models',
        );
      } finally {
        await stack.postgres.psql('drop database migration_twice', { database: 'postgres' });
      }
    });
  });
});
