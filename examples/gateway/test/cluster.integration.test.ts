import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { sampleSum, sendOnFreshConnection as send } from './harness.js';

/** `count` inference requests (chat, streamed chat, Anthropic messages) over `connections` clients. */
async function traffic(gateway: GatewayProcess, count: number, connections = 12): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        const index = next++;
        const messages = [{ role: 'user', content: `request ${index}` }];
        const answer =
          index % 5 === 0
            ? await send(gateway, 'POST', '/v1/messages', { model: 'claude-3-5-haiku', max_tokens: 32, messages })
            : await send(gateway, 'POST', '/v1/chat/completions', {
                model: index % 2 === 0 ? 'gpt-4o-mini' : 'claude-3-5-haiku',
                stream: index % 3 === 0,
                messages,
              });
        expect(answer.status).toBe(200);
      }
    }),
  );
}

const workerPids = (output: string): number[] =>
  [...output.matchAll(/"msg":"worker listening"/g)].map((match) => {
    const line = output.slice(output.lastIndexOf('\n', match.index) + 1, output.indexOf('\n', match.index));
    return Number((JSON.parse(line) as { pid: number }).pid);
  });

async function stats(gateway: GatewayProcess): Promise<number> {
  return (JSON.parse((await send(gateway, 'GET', '/v1/model-health/stats')).text) as { total_calls: number })
    .total_calls;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the example gateway on every core (GATEWAY_WORKERS=2)', () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await startGatewayProcess({ GATEWAY_WORKERS: '2', DEMO_LATENCY_MS: '0', DEMO_ERROR_RATE: '0' });
  }, 30_000);

  afterAll(async () => {
    await gateway?.terminate();
  });

  it('serves one port from two workers and every scrape answers the exact total', async () => {
    // The primary announces the port once both workers listen; their own log lines may trail it.
    await until(async () => workerPids(gateway.output()).length === 2, 'both workers to log');
    // The workers serve the primary's simulated providers, and say so.
    for (const line of gateway
      .output()
      .split('\n')
      .filter((entry) => entry.includes('"msg":"worker listening"')))
      expect(JSON.parse(line)).toMatchObject({ simulated_providers: true });
    await traffic(gateway, 300);
    for (let scrape = 0; scrape < 5; scrape++) {
      const text = (await send(gateway, 'GET', '/metrics')).text;
      expect(sampleSum(text, 'model_inference_requests_total')).toBe(300);
      expect(sampleSum(text, 'model_inference_requests_total', { status: 'success' })).toBe(300);
      expect(sampleSum(text, 'gen_ai_client_operation_duration_count')).toBe(300);
      // Both workers' runtime metrics, each under its own worker label.
      expect(
        new Set([...text.matchAll(/^nodejs_eventloop_utilization\{worker="(\d+)"\}/gm)].map((m) => m[1])).size,
      ).toBe(2);
    }
    const models = (await send(gateway, 'GET', '/prometheus/metrics/models')).text;
    expect(sampleSum(models, 'model_inference_requests_total')).toBe(300);
  });

  it('keeps one model-health store for both workers: its totals equal the requests served', async () => {
    await until(async () => (await stats(gateway)) === 300, 'model health to count 300 calls');
    // Any worker answers the same figures.
    for (let read = 0; read < 4; read++) expect(await stats(gateway)).toBe(300);
  });

  it('replaces a worker that is killed; counts already scraped stay and counters never go backwards', async () => {
    const [victim] = workerPids(gateway.output());
    const before = sampleSum((await send(gateway, 'GET', '/metrics')).text, 'model_inference_requests_total');
    process.kill(victim as number, 'SIGKILL');
    await until(async () => workerPids(gateway.output()).length === 3, 'a replacement worker');
    let previous = before;
    for (let round = 0; round < 4; round++) {
      await traffic(gateway, 25, 5);
      const total = sampleSum((await send(gateway, 'GET', '/metrics')).text, 'model_inference_requests_total');
      expect(total).toBeGreaterThanOrEqual(previous);
      previous = total;
    }
    expect(previous).toBe(400);
    await until(async () => (await stats(gateway)) === 400, 'model health to count 400 calls');
    expect(gateway.output()).toContain('worker exited; starting a replacement');
  });

  it('stops every worker on SIGTERM and exits cleanly', async () => {
    expect(await gateway.terminate()).toBe(0);
    expect(gateway.output()).toContain('"role":"cluster-primary","workers_failed":"0"');
  });
});

describe('GATEWAY_WORKERS=2 with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY present but empty', () => {
  it("keeps model health in the primary's memory, as when they are unset", async () => {
    // A compose file's `SUPABASE_URL: ${SUPABASE_URL:-}` passes empty values. They used to count as
    // set: the primary kept no store and every worker failed on an empty Supabase URL, restarted
    // until the crash-loop guard stopped the gateway.
    const gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
      SUPABASE_URL: '',
      SUPABASE_SERVICE_ROLE_KEY: '',
    });
    try {
      await traffic(gateway, 10);
      await until(async () => (await stats(gateway)) === 10, 'the 10 calls in the shared store');
      expect(gateway.output()).toContain('"model_health_store":"memory (cluster primary)"');
      expect(gateway.output()).not.toContain('worker exited');
    } finally {
      expect(await gateway.terminate()).toBe(0);
    }
  }, 30_000);
});

describe('GATEWAY_WORKERS=2 with a configuration every worker would refuse', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-cluster-config-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('refuses a bad providers file in the primary, once, before forking a worker', async () => {
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([{ name: 'a', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'], apiKey: 'x' }]),
    );
    const failure = startGatewayProcess({ GATEWAY_WORKERS: '2', GATEWAY_PROVIDERS_FILE: providersFile });
    await expect(failure).rejects.toThrow(/gateway exited with 1/);
    const output = String((await failure.catch((error: unknown) => error)) as Error);
    expect(output.match(/apiKey/g)?.length).toBeGreaterThanOrEqual(1);
    expect(output).not.toContain('worker');
  });

  it('refuses, in the primary, a budgeted key of GATEWAY_API_KEYS_FILE on UPSTREAM_* models, which carry no price', async () => {
    const keysFile = join(directory, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([{ name: 'tiny', key: 'gwz-tiny-000000', plan: 'trial', budget_usd: 1 }]));
    const failure = startGatewayProcess({
      GATEWAY_WORKERS: '2',
      OTEL_SDK_DISABLED: 'true',
      UPSTREAM_BASE_URL: 'http://127.0.0.1:9/v1',
      UPSTREAM_MODELS: 'gpt-4o',
      GATEWAY_API_KEYS_FILE: keysFile,
    });
    const output = String((await failure.catch((error: unknown) => error)) as Error);
    expect(output).toMatch(/gateway exited with 1/);
    expect(output).toContain('GatewayConfigError: GATEWAY_API_KEYS_FILE gives tiny a budget');
    expect(output).toContain('upstream/gpt-4o (no price)');
    expect(output).not.toContain('worker');
  });

  it('stops, rather than replacing workers for ever, when a worker fails before the gateway listened', async () => {
    // The port is taken: only the workers' listen meets it (the primary binds on their behalf).
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const failure = startGatewayProcess({
        GATEWAY_WORKERS: '2',
        OTEL_SDK_DISABLED: 'true',
        PORT: String((holder.address() as AddressInfo).port),
      });
      const output = String((await failure.catch((error: unknown) => error)) as Error);
      expect(output).toMatch(/gateway exited with 1/);
      expect(output).toContain('EADDRINUSE');
      expect(output).toContain('a worker exited before the gateway started listening; stopping the gateway');
      expect(output).not.toContain('starting a replacement');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 30_000);
});
