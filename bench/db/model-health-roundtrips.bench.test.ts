// Model-health writes against a real PostgreSQL + PostgREST (the Supabase store): recorded calls per
// second on the request path, and database round trips per 10,000 calls for the write-behind
// recorder vs a naive upsert per call. Run by bench/sections/model-health-db.mjs through vitest (it
// reuses the TypeScript test harness); writes its figures to BENCH_RESULT_FILE.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type TrackerClock } from '@gatewayz/telemetry';
import { ModelHealthRecorder, foldModelCall, type ModelCall } from '@gatewayz/telemetry/model-health';
import { MIGRATIONS, SupabaseModelHealthStore, migrationPath } from '@gatewayz/telemetry-supabase';
import { expect, it } from 'vitest';
import { startSupabaseStack } from '../../test-support/postgres.js';

const SHORT = process.env['BENCH_SHORT'] === '1';
const CALLS = SHORT ? 1_000 : 10_000;
const RECORD_ITERATIONS = SHORT ? 100_000 : 2_000_000;

/** Timers that never fire: flushes happen only when the bench asks. */
const stillClock: TrackerClock = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => {} };

function makeCalls(count: number): ModelCall[] {
  return Array.from({ length: count }, (_, index) => ({
    provider: ['openai', 'anthropic', 'openrouter', 'groq', 'together'][index % 5] as string,
    model: `model-${index % 10}`,
    responseTimeMs: 50 + (index % 400),
    status: index % 16 === 0 ? 'error' : 'success',
    errorMessage: index % 16 === 0 ? 'Upstream error (HTTP 500)' : null,
  }));
}

it('measures write-behind vs per-call upserts against PostgREST', { timeout: 600_000 }, async () => {
  const stack = await startSupabaseStack({ migrations: MIGRATIONS.map((name) => migrationPath(name)) });
  try {
    const total = async (): Promise<number> =>
      Number(await stack.postgres.psql('select coalesce(sum(call_count),0) from public.model_health_tracking'));
    const store = new SupabaseModelHealthStore({
      url: stack.url,
      serviceRoleKey: stack.serviceRoleKey,
      onQuery: () => {},
    });
    const calls = makeCalls(CALLS);

    // Request path: recordModelCall throughput (no I/O happens here by design).
    const hot = new ModelHealthRecorder({ store, clock: stillClock });
    const hotCalls = makeCalls(1024);
    for (let index = 0; index < 100_000; index++) hot.recordModelCall(hotCalls[index & 1023] as ModelCall);
    const started = process.hrtime.bigint();
    for (let index = 0; index < RECORD_ITERATIONS; index++) hot.recordModelCall(hotCalls[index & 1023] as ModelCall);
    const recordNs = Number(process.hrtime.bigint() - started) / RECORD_ITERATIONS;
    stack.proxy.reset();
    await hot.flush();
    const hotFlushRequests = stack.proxy.requests.length;
    await stack.postgres.psql('truncate public.model_health_tracking, public.model_health_applied_batches');

    // Write-behind: CALLS calls, then one flush.
    const recorder = new ModelHealthRecorder({ store, clock: stillClock });
    stack.proxy.reset();
    for (const call of calls) recorder.recordModelCall(call);
    const flushStarted = performance.now();
    await recorder.flush();
    const writeBehindMs = performance.now() - flushStarted;
    const writeBehindRequests = stack.proxy.requests.length;
    expect(await total()).toBe(CALLS);
    await stack.postgres.psql('truncate public.model_health_tracking, public.model_health_applied_batches');

    // Naive: one upsert round trip per call, as the seed's Python code did.
    stack.proxy.reset();
    const naiveStarted = performance.now();
    for (const call of calls) await store.applyBatch({ id: randomUUID(), entries: [foldModelCall(undefined, call)] });
    const naiveMs = performance.now() - naiveStarted;
    const naiveRequests = stack.proxy.requests.length;
    expect(await total()).toBe(CALLS);

    const result = {
      calls: CALLS,
      recordIterations: RECORD_ITERATIONS,
      recordNsPerCall: recordNs,
      recordCallsPerSecond: 1e9 / recordNs,
      hotFlushRequests,
      writeBehind: {
        requests: writeBehindRequests,
        ms: writeBehindMs,
        requestsPer10k: (writeBehindRequests * 10_000) / CALLS,
      },
      naive: { requests: naiveRequests, ms: naiveMs, requestsPer10k: (naiveRequests * 10_000) / CALLS },
      roundTripRatio: naiveRequests / Math.max(1, writeBehindRequests),
    };
    const file = process.env['BENCH_RESULT_FILE'];
    if (file) writeFileSync(file, JSON.stringify(result));
    process.stderr.write(`[bench:model-health-db] ${JSON.stringify(result)}\n`);
  } finally {
    await stack.stop();
  }
});
