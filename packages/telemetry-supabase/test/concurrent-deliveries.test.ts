/**
 * Writes that meet in the database (migration 0003): a repeated delivery of a batch whose first
 * delivery is still blocked must fail at once with a retryable error instead of taking another
 * PostgREST connection to wait, and retention must not deadlock with flushes of the rows it expires.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ModelCallAggregate } from '@gatewayz/telemetry/model-health';

import { findPostgresBinaries, type SupabaseTestStack } from '../../../test-support/postgres.js';
import {
  CONCURRENCY_MIGRATION,
  migrationPath,
  SupabaseModelHealthStore,
  SupabaseModelHealthStoreError,
} from '../src/index.js';
import { batchOf, call, entryOf, startStoreStack, supabaseStackAvailable, truncateTables } from './helpers.js';

/** A psql session that locks a row in an open transaction until `release()`. */
interface RowLock {
  release(): Promise<void>;
}

async function lockRow(stack: SupabaseTestStack, provider: string, model: string): Promise<RowLock> {
  const binaries = findPostgresBinaries();
  if (binaries === undefined) throw new Error('psql not found');
  const { postgres } = stack;
  const child: ChildProcessWithoutNullStreams = spawn(
    binaries.psql,
    [
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      postgres.host,
      '-p',
      String(postgres.port),
      '-U',
      postgres.superuser,
      '-d',
      postgres.database,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const locked = new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    void exited.then(() => reject(new Error('psql exited before it locked the row')));
  });
  child.stdin.write(
    `begin;\nselect 'locked' from public.model_health_tracking where provider = '${provider}' and model = '${model}' for update;\n`,
  );
  await locked;
  return {
    release: async () => {
      child.stdin.end('rollback;\n');
      await exited;
    },
  };
}

/** Backends running record_model_calls right now, other than the one asking. */
async function recordModelCallsBackends(stack: SupabaseTestStack): Promise<number> {
  return Number(
    await stack.postgres.psql(
      "select count(*) from pg_stat_activity where state = 'active' and query like '%record_model_calls%' and pid <> pg_backend_pid()",
    ),
  );
}

async function failureOf(promise: Promise<unknown>): Promise<SupabaseModelHealthStoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SupabaseModelHealthStoreError))
    throw new Error(`expected a store error, got ${String(error)}`);
  return error;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!supabaseStackAvailable())('concurrent deliveries and retention', () => {
  let stack: SupabaseTestStack;
  let lock: RowLock | undefined;

  beforeAll(async () => {
    stack = await startStoreStack();
    // The tests run against 0003 applied twice: it is safe to run again.
    await stack.postgres.applyFile(migrationPath(CONCURRENCY_MIGRATION));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await truncateTables(stack);
  });

  afterEach(async () => {
    await lock?.release();
    lock = undefined;
  });

  it('fails a repeated delivery of a batch still being applied at once, with a retryable error', async () => {
    await stack.postgres.psql(
      "insert into public.model_health_tracking (provider, model, call_count, success_count, error_count, last_status, last_called_at) values ('locks', 'hot', 1, 1, 0, 'success', now())",
    );
    lock = await lockRow(stack, 'locks', 'hot');
    const store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      requestTimeoutMs: 300,
      onQuery: () => undefined,
    });
    const batch = batchOf(entryOf(call({ provider: 'locks', model: 'hot' })));

    // The first delivery blocks on the row lock; its request times out, but the query keeps running.
    expect((await failureOf(store.applyBatch(batch))).code).toBe('TIMEOUT');
    await until(async () => (await recordModelCallsBackends(stack)) === 1, 2_000);

    const patient = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      requestTimeoutMs: 3_000,
      onQuery: () => undefined,
    });
    const started = Date.now();
    const repeated = await failureOf(patient.applyBatch(batch));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(repeated).toMatchObject({ code: 'REJECTED', databaseCode: '55P03', retryable: true });
    expect(repeated.message).toMatch(/is still being applied by an earlier delivery/);
    expect(repeated.message).toMatch(/retry later: the batch applies at most once/);
    expect(await recordModelCallsBackends(stack)).toBe(1);

    // Once the first delivery commits, the retry finds the batch applied: counted once.
    await lock.release();
    lock = undefined;
    await until(async () => (await recordModelCallsBackends(stack)) === 0, 2_000);
    await patient.applyBatch(batch);
    expect(await stack.postgres.psql("select call_count from public.model_health_tracking where model = 'hot'")).toBe(
      '2',
    );
  });

  it('does not deadlock retention with flushes of the rows it expires', async () => {
    const store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      onQuery: () => undefined,
    });
    const models = Array.from({ length: 200 }, (_, index) => `model-${index}`);
    const entry = (model: string, at: number): ModelCallAggregate =>
      entryOf(call({ provider: 'retention', model, responseTimeMs: 5, calledAt: new Date(at) }));
    const deadlocks: string[] = [];
    const noteDeadlock = (error: unknown): void => {
      if (!(error instanceof SupabaseModelHealthStoreError) || error.databaseCode !== '40P01') throw error;
      deadlocks.push(error.operation);
    };

    for (let round = 0; round < 15; round++) {
      await truncateTables(stack);
      // History of two flushes 40 days ago, then four flushes of every model racing the retention.
      const old = Date.now() - 40 * 86_400_000;
      await store.applyBatch(batchOf(...models.slice(100).map((model) => entry(model, old))));
      await store.applyBatch(batchOf(...models.slice(0, 100).map((model) => entry(model, old))));
      await Promise.all([
        ...[0, 1, 2, 3].map(() =>
          store
            .applyBatch({ id: randomUUID(), entries: models.map((model) => entry(model, Date.now())) })
            .catch(noteDeadlock),
        ),
        store.deleteOlderThan(30).catch(noteDeadlock),
      ]);
    }
    expect(deadlocks).toEqual([]);
  });
});
