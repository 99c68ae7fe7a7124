/**
 * The write-behind recorder in front of a real SupabaseModelHealthStore (PostgreSQL + PostgREST):
 * what a gateway sees at shutdown when the database is slow, and an upstream error message that
 * used to make PostgREST refuse every retry of its batch.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { GatewayTelemetry } from '@gatewayz/telemetry';
import { ModelHealthRecorder } from '@gatewayz/telemetry/model-health';

import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import { SupabaseModelHealthStore } from '../src/index.js';
import { call, startStoreStack, supabaseStackAvailable, truncateTables } from './helpers.js';

describe.skipIf(!supabaseStackAvailable())('ModelHealthRecorder with SupabaseModelHealthStore', () => {
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
      requestTimeoutMs: 10_000,
      onQuery: () => undefined,
    });
  });

  function recorder(): ModelHealthRecorder {
    return new ModelHealthRecorder({ store, telemetry: new GatewayTelemetry(), flushIntervalMs: 60_000 });
  }

  it('writes a batch whose upstream error message has an emoji across the 500-character cut', async () => {
    const writer = recorder();
    writer.recordModelCall(call({ status: 'error', errorMessage: `${'x'.repeat(499)}\u{1F600} upstream body` }));
    writer.recordModelCall(call({ model: 'gpt-4o-mini' }));
    expect(await writer.close({ timeoutMs: 5_000 })).toEqual({ flushed: true, pendingCalls: 0 });
    expect(writer.toJSON()).toMatchObject({ batchesWritten: 1, failedFlushes: 0 });
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
      callCount: 1,
      lastErrorMessage: 'x'.repeat(499),
    });
    expect(await store.getModelHealth('openai', 'gpt-4o-mini')).toMatchObject({ callCount: 1 });
  });

  it('returns from close() by its deadline while the database is slow, and the batch lands once later', async () => {
    const writer = recorder();
    for (let index = 0; index < 5; index++) writer.recordModelCall(call({ status: index === 0 ? 'error' : 'success' }));
    // Another session holds the table: record_model_calls waits for the lock for three seconds.
    const locked = stack.postgres.psql(
      'begin; lock table public.model_health_tracking in access exclusive mode; select pg_sleep(3); commit;',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    expect(await writer.close({ timeoutMs: 1_000 })).toEqual({ flushed: false, pendingCalls: 5 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await locked;
    expect(await writer.close({ timeoutMs: 10_000 })).toEqual({ flushed: true, pendingCalls: 0 });
    expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({ callCount: 5, errorCount: 1 });
    expect(await stack.postgres.psql('select count(*) from public.model_health_applied_batches')).toBe('1');
  });
});
