/**
 * PostgreSQL goes away under a running store and comes back on the same port: calls fail with a
 * retryable SupabaseModelHealthStoreError while it is down, succeed again afterwards, and a writer
 * that retries each batch under its id (as the write-behind recorder does) ends with exact counts.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ModelCallBatch } from '@gatewayz/telemetry/model-health';

import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import { SupabaseModelHealthStore, SupabaseModelHealthStoreError } from '../src/index.js';
import { batchOf, call, entryOf, startStoreStack, supabaseStackAvailable, truncateTables } from './helpers.js';

/** Apply a batch, retrying retryable failures with the same batch id; returns the failures seen. */
async function applyWithRetry(
  store: SupabaseModelHealthStore,
  batch: ModelCallBatch,
  timeoutMs = 20_000,
): Promise<SupabaseModelHealthStoreError[]> {
  const failures: SupabaseModelHealthStoreError[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await store.applyBatch(batch);
      return failures;
    } catch (error) {
      if (!(error instanceof SupabaseModelHealthStoreError) || !error.retryable || Date.now() > deadline) throw error;
      failures.push(error);
      await sleep(50);
    }
  }
}

describe.skipIf(!supabaseStackAvailable())('SupabaseModelHealthStore when PostgreSQL stops mid-run', () => {
  let stack: SupabaseTestStack;
  let store: SupabaseModelHealthStore;

  beforeAll(async () => {
    stack = await startStoreStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    if (!stack.postgres.running) await stack.postgres.startServer();
    await stack.postgrest.waitUntilReady();
    await truncateTables(stack);
    store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      requestTimeoutMs: 5_000,
      onQuery: () => undefined,
    });
  });

  it('rejects with a retryable UNAVAILABLE error while the database is down and recovers after restart', async () => {
    await store.applyBatch(batchOf(entryOf(call(), call({ status: 'error', errorMessage: 'first' }))));
    const port = stack.postgres.port;

    await stack.postgres.stopServer();
    const during = batchOf(entryOf(call({ responseTimeMs: 300 })));
    const error = await store.applyBatch(during).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', operation: 'record_model_calls', status: 503, retryable: true });
    // Which error PostgREST reports depends on when it notices: its own connection error
    // (PGRST00x) or, on a pooled connection the shutdown cut, PostgreSQL's 57P01 ("terminating
    // connection due to administrator command"). Both are 503 and must read as unavailable.
    expect((error as Error).message).toMatch(
      /^Supabase model-health store: record_model_calls failed \(HTTP 503, (PGRST00\d|57P0\d)\): [^\n]+[^.]\. Supabase\/PostgREST or PostgreSQL is unreachable; retry later\.$/,
    );
    expect((error as Error).message).not.toContain(stack.serviceRoleKey);
    await expect(store.getStats()).rejects.toMatchObject({ code: 'UNAVAILABLE', operation: 'get_model_health_stats' });

    await stack.postgres.startServer();
    expect(stack.postgres.port).toBe(port);
    await applyWithRetry(store, during);
    await store.applyBatch(during); // delivered again: still counted once

    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
      callCount: 3,
      successCount: 2,
      errorCount: 1,
      lastErrorMessage: 'first',
    });
  });

  it('loses and doubles nothing when the database restarts under a stream of flushes', async () => {
    const batches = Array.from({ length: 60 }, (_, index) =>
      batchOf(
        entryOf(
          ...Array.from({ length: (index % 4) + 1 }, (_, position) =>
            call({
              model: `m${position % 2}`,
              status: position === 0 ? 'error' : 'success',
              responseTimeMs: 10 + position,
            }),
          ),
        ),
      ),
    );
    const expectedCalls = batches.reduce(
      (sum, batch) => sum + batch.entries.reduce((inner, entry) => inner + entry.calls, 0),
      0,
    );

    let failures = 0;
    const writer = (async () => {
      for (const batch of batches) {
        failures += (await applyWithRetry(store, batch)).length;
        await sleep(5);
      }
    })();
    await sleep(60);
    await stack.postgres.restart();
    await writer;

    expect(failures).toBeGreaterThan(0);
    const stored = await stack.postgres.psql('select sum(call_count) from public.model_health_tracking');
    expect(Number(stored)).toBe(expectedCalls);
    expect(await stack.postgres.psql('select count(*) from public.model_health_applied_batches')).toBe(
      String(batches.length),
    );
  });
});
