/**
 * Migration 0002 (`last_error_at`) on a real PostgreSQL + PostgREST: the current store against a
 * database still on 0001, the upgrade of existing rows, and a store of an earlier version (entries
 * without `last_error_at`) against the migrated database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import {
  LAST_ERROR_AT_MIGRATION,
  MODEL_HEALTH_MIGRATION,
  SupabaseModelHealthStore,
  migrationPath,
} from '../src/index.js';
import { batchOf, call, clientFor, entryOf, startStoreStack, supabaseStackAvailable } from './helpers.js';

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

describe.skipIf(!supabaseStackAvailable())('migration 0002: last_error_at', () => {
  let stack: SupabaseTestStack;
  let store: SupabaseModelHealthStore;
  const base = Math.floor(Date.now() / 1000) * 1000;
  const at = (offsetMs: number): Date => new Date(base + offsetMs);

  beforeAll(async () => {
    // The schema of the previous release: 0001 only.
    stack = await startStoreStack([migrationPath(MODEL_HEALTH_MIGRATION)]);
    store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      onQuery: () => undefined,
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps working before the migration, upgrades existing rows, then keeps the most recent error', async () => {
    // Before the migration: the current store writes and reads (the database ignores last_error_at).
    await store.applyBatch(
      batchOf(
        entryOf(
          call({ status: 'error', errorMessage: 'before upgrade', calledAt: at(-10_000) }),
          call({ responseTimeMs: 200, calledAt: at(-5_000) }),
        ),
        entryOf(call({ model: 'always-fine', calledAt: at(-5_000) })),
      ),
    );
    const before = await store.getModelHealth('openai', 'gpt-4o');
    expect(before).toMatchObject({
      callCount: 2,
      errorCount: 1,
      lastErrorMessage: 'before upgrade',
      lastErrorAt: null,
    });
    expect((await store.listModelHealth()).items.map((record) => record.lastErrorAt)).toEqual([null, null]);
    expect(
      await stack.postgres.psql("select count(*) from information_schema.columns where column_name = 'last_error_at'"),
    ).toBe('0');

    await stack.postgres.applyFile(migrationPath(LAST_ERROR_AT_MIGRATION));
    await stack.postgres.psql("notify pgrst, 'reload schema'");

    // Existing rows: a message gets the latest time it can be from (last_called_at); updated_at is kept.
    const upgraded = await eventually(async () => {
      const record = await store.getModelHealth('openai', 'gpt-4o');
      if (record?.lastErrorAt === null) throw new Error('last_error_at not visible yet');
      return record;
    });
    expect(upgraded).toMatchObject({ callCount: 2, errorCount: 1, lastErrorMessage: 'before upgrade' });
    expect(upgraded?.lastErrorAt?.getTime()).toBe(at(-5_000).getTime());
    expect(upgraded?.updatedAt.getTime()).toBe(before?.updatedAt.getTime());
    expect((await store.getModelHealth('openai', 'always-fine'))?.lastErrorAt).toBeNull();

    // A late error older than that bound leaves the message; a late error newer than it replaces it,
    // although a newer success was stored first.
    await store.applyBatch(
      batchOf(entryOf(call({ status: 'error', errorMessage: 'late, older', calledAt: at(-7_000) }))),
    );
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ lastErrorMessage: 'before upgrade' });
    await store.applyBatch(batchOf(entryOf(call({ responseTimeMs: 50, calledAt: at(-1_000) }))));
    await store.applyBatch(
      batchOf(entryOf(call({ status: 'rate_limited', errorMessage: 'late, newer', calledAt: at(-3_000) }))),
    );
    const after = await store.getModelHealth('openai', 'gpt-4o');
    expect(after).toMatchObject({
      callCount: 5,
      successCount: 2,
      errorCount: 3,
      lastStatus: 'success',
      lastResponseTimeMs: 50,
      lastErrorMessage: 'late, newer',
    });
    expect(after?.lastCalledAt.getTime()).toBe(at(-1_000).getTime());
    expect(after?.lastErrorAt?.getTime()).toBe(at(-3_000).getTime());

    // Running 0002 again changes nothing.
    await stack.postgres.applyFile(migrationPath(LAST_ERROR_AT_MIGRATION));
    expect(await store.getModelHealth('openai', 'gpt-4o')).toEqual(after);
  });

  it('accepts the entries of an earlier store version, without last_error_at, after the migration', async () => {
    const service = clientFor(stack, stack.serviceRoleKey);
    const entry = (model: string, message: string | null, calledAt: Date): Record<string, unknown> => ({
      provider: 'legacy',
      model,
      calls: 1,
      successes: message === null ? 1 : 0,
      errors: message === null ? 0 : 1,
      total_response_time_ms: 10,
      last_response_time_ms: 10,
      last_status: message === null ? 'success' : 'error',
      last_error_message: message,
      last_called_at: calledAt.toISOString(),
    });
    const send = async (...entries: Record<string, unknown>[]): Promise<void> => {
      const { error } = await service.rpc('record_model_calls', {
        p_batch_id: crypto.randomUUID(),
        p_entries: entries,
      });
      expect(error).toBeNull();
    };
    await send(entry('m', null, at(-1_000)), entry('m', 'first', at(-4_000)));
    let record = await store.getModelHealth('legacy', 'm');
    expect(record).toMatchObject({ callCount: 2, lastStatus: 'success', lastErrorMessage: 'first' });
    expect(record?.lastErrorAt?.getTime()).toBe(at(-4_000).getTime());
    await send(entry('m', 'second', at(-2_000)));
    record = await store.getModelHealth('legacy', 'm');
    expect(record).toMatchObject({ callCount: 3, lastStatus: 'success', lastErrorMessage: 'second' });
    expect(record?.lastErrorAt?.getTime()).toBe(at(-2_000).getTime());

    // What the database itself refuses in a hand-built entry.
    for (const bad of [
      { ...entry('m', 'x', at(-1_000)), last_error_at: 42 },
      { ...entry('m', null, at(-1_000)), last_error_at: at(-2_000).toISOString() },
      { ...entry('m', 'x', at(-1_000)), last_error_at: at(0).toISOString() },
    ]) {
      const { error } = await service.rpc('record_model_calls', { p_batch_id: crypto.randomUUID(), p_entries: [bad] });
      expect(error).toMatchObject({ code: '22023' });
    }
    expect((await store.getModelHealth('legacy', 'm'))?.callCount).toBe(3);
  });
});
