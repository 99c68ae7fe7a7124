import { MIGRATIONS, migrationPath } from '@gatewayz/telemetry-supabase';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSupabaseStack, supabaseStackAvailable, type SupabaseTestStack } from '../../../test-support/postgres.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

const MODELS = ['gpt-4o-mini', 'claude-3-5-haiku', 'llama-3.1-8b-instruct', 'gpt-4o'];

/** Sum of the attempts a replica made, by outcome, from its own metrics. */
async function attemptsOf(gateway: GatewayProcess): Promise<{ all: number; success: number }> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  return {
    all: sampleSum(text, 'model_inference_requests_total'),
    success: sampleSum(text, 'model_inference_requests_total', { status: 'success' }),
  };
}

async function traffic(gateway: GatewayProcess, requests: number): Promise<number> {
  let ok = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      for (let index = worker; index < requests; index += 8) {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: MODELS[index % MODELS.length],
            stream: index % 5 === 0,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        await response.text();
        if (response.status === 200) ok++;
      }
    }),
  );
  return ok;
}

describe.skipIf(!supabaseStackAvailable())(
  'gateway replicas writing model health to Supabase (PostgreSQL + PostgREST)',
  () => {
    let stack: SupabaseTestStack;

    const totals = async (): Promise<{ calls: number; successes: number; errors: number }> => {
      const [calls, successes, errors] = (
        await stack.postgres.psql(
          'select coalesce(sum(call_count),0), coalesce(sum(success_count),0), coalesce(sum(error_count),0) from public.model_health_tracking',
        )
      )
        .split('|')
        .map(Number);
      return { calls: calls as number, successes: successes as number, errors: errors as number };
    };

    beforeAll(async () => {
      stack = await startSupabaseStack({ migrations: MIGRATIONS.map((name) => migrationPath(name)) });
    }, 60_000);
    afterAll(async () => {
      await stack?.stop();
    });
    beforeEach(async () => {
      await stack.postgres.psql('truncate public.model_health_tracking, public.model_health_applied_batches');
    });

    const replicaEnv = (flushIntervalMs: number): Record<string, string> => ({
      SUPABASE_URL: stack.url,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      MODEL_HEALTH_FLUSH_INTERVAL_MS: String(flushIntervalMs),
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0.3',
      BREAKER_VOLUME_THRESHOLD: '100000',
    });

    it('two replicas count every provider attempt exactly once, and SIGTERM flushes what was still pending', async () => {
      // A one-minute flush interval: nothing reaches the database except through the shutdown flush.
      const replicas = await Promise.all([
        startGatewayProcess(replicaEnv(60_000)),
        startGatewayProcess(replicaEnv(60_000)),
      ]);
      const clientSuccesses = (await Promise.all(replicas.map((replica) => traffic(replica, 120)))).reduce(
        (a, b) => a + b,
        0,
      );
      const attempts = await Promise.all(replicas.map(attemptsOf));
      expect((await totals()).calls).toBe(0);
      expect(await Promise.all(replicas.map((replica) => replica.terminate()))).toEqual([0, 0]);
      const stored = await totals();
      expect(stored.calls).toBe(attempts.reduce((sum, replica) => sum + replica.all, 0));
      expect(stored.successes).toBe(attempts.reduce((sum, replica) => sum + replica.success, 0));
      // Each successful client request is exactly one successful attempt.
      expect(stored.successes).toBe(clientSuccesses);
      expect(stored.errors).toBeGreaterThan(0);
      for (const replica of replicas) expect(replica.output()).toContain('"model_health_store":"supabase"');
    }, 120_000);

    it('keeps serving while the database is down and writes every call once it is back', async () => {
      const gateway = await startGatewayProcess(replicaEnv(100));
      await stack.postgres.stopServer();
      let clientSuccesses: number;
      try {
        clientSuccesses = await traffic(gateway, 80);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(await (await fetch(`${gateway.url}/metrics`)).text()).toMatch(
          /gatewayz_model_health_flush_errors_total [1-9]/,
        );
      } finally {
        await stack.postgres.startServer();
      }
      await stack.postgrest.waitUntilReady(20_000);
      const attempts = await attemptsOf(gateway);
      // The recorder retries with backoff (at most 30 s apart); give it the time to land.
      const deadline = Date.now() + 45_000;
      while ((await totals()).calls < attempts.all && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await gateway.terminate()).toBe(0);
      const stored = await totals();
      expect(stored.calls).toBe(attempts.all);
      expect(stored.successes).toBe(clientSuccesses);
    }, 120_000);
  },
);
