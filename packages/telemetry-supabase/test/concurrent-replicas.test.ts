/**
 * Several gateway replicas flushing into one database at once: two Node processes, each with its
 * own built SupabaseModelHealthStore, apply batches over the same (provider, model) rows
 * concurrently. Counts must come out exact, and a batch delivered by both counts once.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import { requireBuiltPackage, startStoreStack, supabaseStackAvailable, truncateTables } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/apply-batches.mjs', import.meta.url));

interface Totals {
  calls: number;
  successes: number;
  errors: number;
  totalResponseTimeMs: number;
}

interface Replica {
  ready: Promise<void>;
  go(): void;
  result: Promise<{ totals: Record<string, Totals>; batchIds: number; elapsedMs: number }>;
}

function startReplica(
  stack: SupabaseTestStack,
  options: { batches: number; entries: number; keys: number; seed: number; workers: number },
): Replica {
  const child = spawn(
    process.execPath,
    [SCRIPT, ...[options.batches, options.entries, options.keys, options.seed, options.workers].map(String)],
    {
      env: { ...process.env, SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const messages: unknown[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    messages.push(JSON.parse(line));
    waiters.splice(0).forEach((wake) => wake());
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const message = async (index: number): Promise<unknown> => {
    for (;;) {
      if (messages.length > index) return messages[index];
      const woke = new Promise<void>((resolve) => waiters.push(resolve));
      const code = await Promise.race([woke.then(() => undefined), exited]);
      if (code !== undefined && messages.length <= index)
        throw new Error(`replica exited with code ${String(code)} before message ${index}:\n${stderr}`);
    }
  };
  return {
    ready: message(0).then(() => undefined),
    go: () => child.stdin.end('go\n'),
    result: message(1) as Replica['result'],
  };
}

function sumTotals(...all: Array<Record<string, Totals>>): Map<string, Totals> {
  const sums = new Map<string, Totals>();
  for (const totals of all) {
    for (const [model, value] of Object.entries(totals)) {
      const sum = sums.get(model) ?? { calls: 0, successes: 0, errors: 0, totalResponseTimeMs: 0 };
      sum.calls += value.calls;
      sum.successes += value.successes;
      sum.errors += value.errors;
      sum.totalResponseTimeMs += value.totalResponseTimeMs;
      sums.set(model, sum);
    }
  }
  return sums;
}

async function storedRows(stack: SupabaseTestStack): Promise<Map<string, Totals>> {
  const output = await stack.postgres.psql(
    `select model, call_count, success_count, error_count, avg_response_time_ms * call_count
     from public.model_health_tracking where provider = 'concurrency' order by model`,
  );
  const rows = new Map<string, Totals>();
  for (const line of output.split('\n').filter((row) => row !== '')) {
    const [model, calls, successes, errors, total] = line.split('|');
    rows.set(model as string, {
      calls: Number(calls),
      successes: Number(successes),
      errors: Number(errors),
      totalResponseTimeMs: Number(total),
    });
  }
  return rows;
}

function expectSameTotals(stored: Map<string, Totals>, expected: Map<string, Totals>): void {
  expect([...stored.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [model, want] of expected) {
    const got = stored.get(model) as Totals;
    expect({ model, calls: got.calls, successes: got.successes, errors: got.errors }).toEqual({
      model,
      calls: want.calls,
      successes: want.successes,
      errors: want.errors,
    });
    // The mean is re-weighted in floating point on every flush: equal to the exact total within rounding.
    expect(Math.abs(got.totalResponseTimeMs - want.totalResponseTimeMs) / want.totalResponseTimeMs).toBeLessThan(1e-9);
  }
}

describe.skipIf(!supabaseStackAvailable())('concurrent gateway replicas', () => {
  let stack: SupabaseTestStack;

  beforeAll(async () => {
    requireBuiltPackage();
    stack = await startStoreStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await truncateTables(stack);
  });

  it('loses no counts when two processes flush into the same rows at the same time', async () => {
    const options = { batches: 200, entries: 10, keys: 5, workers: 4 };
    const replicas = [startReplica(stack, { ...options, seed: 1 }), startReplica(stack, { ...options, seed: 2 })];
    await Promise.all(replicas.map((replica) => replica.ready));
    replicas.forEach((replica) => replica.go());
    const [first, second] = await Promise.all(replicas.map((replica) => replica.result));

    const expected = sumTotals(first!.totals, second!.totals);
    expect(expected.size).toBe(5);
    expectSameTotals(await storedRows(stack), expected);
    expect(await stack.postgres.psql('select count(*) from public.model_health_applied_batches')).toBe('400');
  });

  it('counts a batch once when both processes deliver it concurrently', async () => {
    const options = { batches: 100, entries: 10, keys: 5, workers: 4, seed: 7 };
    const replicas = [startReplica(stack, options), startReplica(stack, options)];
    await Promise.all(replicas.map((replica) => replica.ready));
    replicas.forEach((replica) => replica.go());
    const [first, second] = await Promise.all(replicas.map((replica) => replica.result));

    // Same seed: the same 100 batches, ids included, so the database holds them once.
    expect(second!.totals).toEqual(first!.totals);
    expectSameTotals(await storedRows(stack), sumTotals(first!.totals));
    expect(await stack.postgres.psql('select count(*) from public.model_health_applied_batches')).toBe('100');
  });
});
