import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import { startSimulatedProvider, type SimulatedProvider } from '../src/index.js';
import { PricingTable } from '@gatewayz/telemetry/genai';
import { CostEstimator } from '../src/api-keys/cost-estimate.js';
import { anthropicToOpenAi } from '../src/protocol/anthropic-request.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startScriptedUpstream, type ScriptedUpstream } from './scripted-upstream.js';
import { sampleSum, sendOnFreshConnection } from './harness.js';

// Secrets of the gateway's API keys: none of them may appear in anything the gateway exports.
const PAID_KEY = `gwz-paid-${randomBytes(12).toString('hex')}`;
const CAPPED_KEY = `gwz-capped-${randomBytes(12).toString('hex')}`;
const TRIAL_KEY = `gwz-trial-${randomBytes(12).toString('hex')}`;
const UNKNOWN_KEY = `gwz-unknown-${randomBytes(12).toString('hex')}`;
const SECRETS = [PAID_KEY, CAPPED_KEY, TRIAL_KEY, UNKNOWN_KEY];
const CAPPED_BUDGET = 50;
const TRIAL_BUDGET = 0.01;

// Prices that are multiples of 2^-16 USD per token (and 2^-6 per image): every call's cost is
// exact in binary floating point, so sums of the same costs grouped by key or by provider must be
// bit-identical. A cost recorded for one and not the other, or twice, shows as a difference.
const PRICE = { inputPerMillionTokens: 1e6 * 2 ** -16, outputPerMillionTokens: 1e6 * 2 ** -15, perImage: 2 ** -6 };

type Json = Record<string, unknown>;

function errorOf(body: Json): Json {
  return body['error'] as Json;
}

/** Sum of the data points of the latest push of `name` whose attributes include `labels`. */
function latestPushSum(metrics: ReceivedMetric[], name: string): number {
  const pushes = metrics.filter((metric) => metric.name === name);
  const latest = pushes.at(-1);
  return latest === undefined ? Number.NaN : latest.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0);
}

describe('gateway API keys (GATEWAY_API_KEYS_FILE) in a real gateway process', () => {
  let alpha: SimulatedProvider;
  let beta: SimulatedProvider;
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;
  let directory: string;
  let atStart = '';
  let scraped = '';
  const exported: string[] = [];
  let exitCode: number | null = null;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const chat = (index: number): Json => ({
    model: 'shared-model',
    stream: index % 3 === 0,
    messages: [{ role: 'user', content: `question ${index}` }],
  });

  beforeAll(async () => {
    // Two providers serve the same model; alpha fails a third of its calls, so requests fail over
    // and the per-status counts are not all successes.
    alpha = await startSimulatedProvider({ name: 'alpha', models: ['shared-model'], errorRate: 0.3 });
    beta = await startSimulatedProvider({ name: 'beta', models: ['shared-model', 'embed-model', 'image-model'] });
    receiver = await startOtlpReceiver();
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        { name: 'alpha', baseUrl: alpha.baseUrl, models: ['shared-model'], pricing: { 'shared-model': PRICE } },
        {
          name: 'beta',
          baseUrl: beta.baseUrl,
          models: ['shared-model', 'embed-model', 'image-model'],
          embeddingModels: ['embed-model'],
          imageModels: ['image-model'],
          pricing: { 'shared-model': PRICE, 'embed-model': PRICE, 'image-model': PRICE },
        },
      ]),
    );
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([
        { name: 'team-paid', key: PAID_KEY, plan: 'paid' },
        { name: 'team-capped', key: CAPPED_KEY, plan: 'paid', budget_usd: CAPPED_BUDGET },
        { name: 'trial-user', key: TRIAL_KEY, plan: 'trial', budget_usd: TRIAL_BUDGET },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      GATEWAY_API_KEYS_FILE: keysFile,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
      BREAKER_VOLUME_THRESHOLD: '100000',
    });
    atStart = await (await fetch(`${gateway.url}/metrics`)).text();
  }, 60_000);

  afterAll(async () => {
    if (gateway?.child.exitCode === null) await gateway.terminate();
    await receiver?.close();
    await alpha?.close();
    await beta?.close();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('sets the business gauges and budgets from the keys as soon as it starts', () => {
    expect(sampleSum(atStart, 'subscription_count')).toBe(2);
    expect(sampleSum(atStart, 'trial_active')).toBe(1);
    expect(atStart).toMatch(/^active_api_keys 0$/m);
    expect(sampleSum(atStart, 'gatewayz_api_key_budget_usd', { api_key_name: 'team-capped' })).toBe(CAPPED_BUDGET);
    expect(sampleSum(atStart, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'trial-user' })).toBe(
      TRIAL_BUDGET,
    );
    // A key without a budget has no budget series.
    expect(atStart).not.toContain('api_key_name="team-paid"');
  });

  it.each([
    ['/v1/chat/completions', { model: 'shared-model', messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/responses', { model: 'shared-model', input: 'hi' }],
    ['/v1/embeddings', { model: 'embed-model', input: 'hi' }],
    ['/v1/images/generations', { model: 'image-model', prompt: 'a lighthouse' }],
  ])('answers 401 in OpenAI shape on %s without a known Bearer key', async (path, body) => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'missing_api_key'],
      [bearer(UNKNOWN_KEY), 'invalid_api_key'],
      [
        { authorization: `Basic ${Buffer.from(`user:${PAID_KEY}`).toString('base64')}` },
        'invalid_authorization_header',
      ],
      [{ authorization: PAID_KEY }, 'invalid_authorization_header'],
      [{ authorization: 'Bearer ' }, 'invalid_authorization_header'],
      // x-api-key is Anthropic's header: only /v1/messages takes it.
      [{ 'x-api-key': PAID_KEY }, 'missing_api_key'],
    ];
    for (const [headers, code] of cases) {
      const response = await post(path, body, headers);
      const text = await response.text();
      exported.push(text);
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const error = errorOf(JSON.parse(text) as Json);
      expect(error).toMatchObject({ type: 'invalid_request_error', code, param: null });
      expect(typeof error['message']).toBe('string');
    }
  });

  it('answers 401 in Anthropic shape on /v1/messages, and takes the key from x-api-key or Bearer', async () => {
    const body = { model: 'shared-model', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
    for (const headers of [{}, { 'x-api-key': UNKNOWN_KEY }, bearer(UNKNOWN_KEY), { authorization: 'Token x' }]) {
      const response = await post('/v1/messages', body, headers);
      const answer = (await response.json()) as Json;
      exported.push(JSON.stringify(answer));
      expect(response.status).toBe(401);
      expect(answer).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
    for (const headers of [{ 'x-api-key': PAID_KEY }, bearer(PAID_KEY)]) {
      const response = await post('/v1/messages', body, headers);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Json)['type']).toBe('message');
    }
  });

  it('serves known keys on every inference endpoint, and refuses a key past its budget with 429 insufficient_quota', async () => {
    for (let index = 0; index < 12; index++) {
      for (const key of [PAID_KEY, CAPPED_KEY]) {
        const response = await post('/v1/chat/completions', chat(index), bearer(key));
        expect(response.status).toBe(200);
        await response.text();
      }
    }
    for (const [path, body] of [
      ['/v1/responses', { model: 'shared-model', input: 'hello' }],
      ['/v1/responses', { model: 'shared-model', input: 'hello', stream: true }],
      ['/v1/embeddings', { model: 'embed-model', input: ['one', 'two'] }],
      ['/v1/images/generations', { model: 'image-model', prompt: 'a lighthouse', n: 2 }],
    ] as const) {
      const response = await post(path, body, bearer(PAID_KEY));
      expect(response.status, path).toBe(200);
      await response.text();
    }
    // The trial key spends until what is left of its budget no longer covers a request's hold
    // (its prompt and 16 output tokens); that request is refused.
    let served = 0;
    let refused: Response | undefined;
    for (let index = 0; index < 200 && refused === undefined; index++) {
      const response = await post('/v1/chat/completions', { ...chat(index), max_tokens: 16 }, bearer(TRIAL_KEY));
      if (response.status === 429) refused = response;
      else {
        expect(response.status).toBe(200);
        await response.text();
        served++;
      }
    }
    expect(served).toBeGreaterThan(0);
    expect(refused).toBeDefined();
    const body = (await refused?.json()) as Json;
    exported.push(JSON.stringify(body));
    expect(errorOf(body)).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(String(errorOf(body)['message'])).toContain('trial-user');
    // Refused on every endpoint, Anthropic's included, when what is left does not cover the hold
    // (1,000 input tokens of embeddings, 1,024 output tokens of a message: more than the budget).
    const again = await post('/v1/embeddings', { model: 'embed-model', input: 'x'.repeat(1000) }, bearer(TRIAL_KEY));
    expect(again.status).toBe(429);
    await again.text();
    const messages = await post(
      '/v1/messages',
      { model: 'shared-model', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-api-key': TRIAL_KEY },
    );
    expect(messages.status).toBe(429);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    scraped = await (await fetch(`${gateway.url}/metrics`)).text();
    for (const path of [
      '/metrics',
      '/prometheus/metrics/all',
      '/prometheus/metrics/system',
      '/prometheus/metrics/providers',
      '/prometheus/metrics/models',
      '/prometheus/metrics/business',
      '/prometheus/metrics/performance',
      '/prometheus/metrics/health_service',
      '/prometheus/metrics/summary',
      '/prometheus/metrics/summary?category=business',
      '/prometheus/metrics/docs',
      '/v1/model-health',
      '/health',
    ]) {
      const response = await fetch(`${gateway.url}${path}`, {
        headers: { accept: path === '/metrics' ? 'application/openmetrics-text' : '*/*' },
      });
      expect(response.status, path).toBe(200);
      exported.push(await response.text());
    }
    exported.push(scraped);
  }, 60_000);

  it('attributes cost to keys so that cost by key sums to cost by provider exactly', () => {
    const byKey = sampleSum(scraped, 'gatewayz_cost_by_api_key_total');
    const byProvider = sampleSum(scraped, 'gatewayz_cost_by_provider_total');
    expect(byProvider).toBeGreaterThan(0);
    expect(byKey).toBe(byProvider);
    for (const name of ['team-paid', 'team-capped', 'trial-user'])
      expect(sampleSum(scraped, 'gatewayz_cost_by_api_key_total', { api_key_name: name }), name).toBeGreaterThan(0);
  });

  it('counts requests by key with the statuses of model_inference_requests_total, and tokens by key', () => {
    for (const status of ['success', 'error', 'timeout', 'rate_limited', 'network_error']) {
      expect(sampleSum(scraped, 'gatewayz_requests_by_api_key_total', { status }), status).toBe(
        sampleSum(scraped, 'model_inference_requests_total', { status }),
      );
    }
    expect(sampleSum(scraped, 'gatewayz_requests_by_api_key_total', { status: 'error' })).toBeGreaterThan(0);
    for (const tokenType of ['input', 'output', 'cache_read', 'cache_write', 'reasoning']) {
      expect(sampleSum(scraped, 'gatewayz_tokens_by_api_key_total', { token_type: tokenType })).toBe(
        sampleSum(scraped, 'tokens_used_total', { token_type: tokenType }),
      );
    }
    // Requests refused before any provider was asked (401, 429) are attempts of nobody.
    expect(scraped).not.toContain('api_key_name="anonymous"');
  });

  it('shows the budgets: each at its budget minus its cost, the trial key stopped within one hold of its budget', () => {
    const trialCost = sampleSum(scraped, 'gatewayz_cost_by_api_key_total', { api_key_name: 'trial-user' });
    expect(trialCost).toBeLessThanOrEqual(TRIAL_BUDGET);
    // A hold: at most 16 output tokens and a 60-token prompt bound (its question's bytes and framing).
    expect(trialCost).toBeGreaterThan(TRIAL_BUDGET - 16 * PRICE.outputPerMillionTokens * 1e-6 - 60 * 2 ** -16);
    expect(sampleSum(scraped, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'trial-user' })).toBe(
      TRIAL_BUDGET - trialCost,
    );
    const cappedCost = sampleSum(scraped, 'gatewayz_cost_by_api_key_total', { api_key_name: 'team-capped' });
    expect(sampleSum(scraped, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'team-capped' })).toBe(
      CAPPED_BUDGET - cappedCost,
    );
    expect(sampleSum(scraped, 'active_api_keys')).toBe(3);
  });

  it('pushes the same per-key attribution over OTLP, names the key on request spans, and never exports a secret', async () => {
    // The final push on SIGTERM carries everything served.
    exitCode = await gateway.terminate();
    expect(exitCode).toBe(0);
    const metrics = receiver.metrics();
    expect(latestPushSum(metrics, 'gatewayz_cost_by_api_key')).toBe(
      latestPushSum(metrics, 'gatewayz_cost_by_provider'),
    );
    expect(latestPushSum(metrics, 'gatewayz_cost_by_api_key')).toBe(
      sampleSum(scraped, 'gatewayz_cost_by_api_key_total'),
    );

    const spans = await receiver.waitForSpans(
      (received) => received.some((span) => span.attributes['gatewayz.api_key.name'] === 'trial-user'),
      10_000,
    );
    const serverSpans = spans.filter((span) => span.name === 'POST /v1/chat/completions');
    const names = new Set(serverSpans.map((span) => span.attributes['gatewayz.api_key.name']));
    expect(names).toEqual(new Set(['team-paid', 'team-capped', 'trial-user', undefined]));
    expect(receiver.logRecords().length).toBeGreaterThan(0);

    exported.push(JSON.stringify(receiver.requests()), JSON.stringify(spans), JSON.stringify(metrics));
    exported.push(JSON.stringify(receiver.logRecords()), gateway.output());
    const everything = exported.join('\n');
    expect(everything).toContain('team-capped');
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  }, 30_000);
});

describe('gateway API keys in a cluster (GATEWAY_WORKERS=2)', () => {
  const BUDGET = 0.003;
  let gateway: GatewayProcess | undefined;
  let directory: string;

  afterAll(async () => {
    await gateway?.terminate();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('holds a budget for the whole gateway: the workers share spend through the primary', async () => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-cluster-'));
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([
        { name: 'shared-budget', key: CAPPED_KEY, plan: 'trial', budget_usd: BUDGET },
        { name: 'idle', key: PAID_KEY, plan: 'paid' },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      GATEWAY_API_KEYS_FILE: keysFile,
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
    });
    const ask = (): Promise<{ status: number; text: string }> =>
      sendOnFreshConnection(
        gateway as GatewayProcess,
        'POST',
        '/v1/chat/completions',
        { model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'how much is left?' }] },
        { authorization: `Bearer ${CAPPED_KEY}` },
      );
    expect((await sendOnFreshConnection(gateway, 'POST', '/v1/chat/completions', { model: 'gpt-4o' }, {})).status).toBe(
      401,
    );
    let served = 0;
    let refused = false;
    let largestCost = 0;
    let previousCost = 0;
    while (!refused && served < 500) {
      const answer = await ask();
      if (answer.status === 429) {
        refused = true;
        expect(errorOf(JSON.parse(answer.text) as Json)).toMatchObject({ code: 'insufficient_quota' });
        break;
      }
      expect(answer.status).toBe(200);
      served++;
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      const cost = sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'shared-budget' });
      largestCost = Math.max(largestCost, cost - previousCost);
      previousCost = cost;
      // Paced well beyond two exchange intervals (2 × 50 ms), so each worker has heard of the
      // other's spend even on a loaded machine (150 ms was too little at a load average of 8).
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(refused).toBe(true);
    // Both workers refuse now.
    for (let index = 0; index < 8; index++) expect((await ask()).status).toBe(429);
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const spent = sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'shared-budget' });
    // Each worker alone would have let the key spend its budget: about twice the budget in all.
    // Requests paced apart: the key stops when what is left no longer covers one request's hold
    // (a 40-token prompt bound at 2.5 USD and 16 output tokens at 10 USD per million).
    const hold = 40 * 2.5e-6 + 16 * 10e-6;
    expect(spent).toBeLessThanOrEqual(BUDGET);
    expect(spent).toBeGreaterThan(BUDGET - hold);
    expect(largestCost).toBeLessThan(hold);
    expect(served).toBeGreaterThan(5);
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'shared-budget' })).toBeCloseTo(
      BUDGET - spent,
      15,
    );
    expect(sampleSum(text, 'active_api_keys')).toBe(1);
    expect(sampleSum(text, 'subscription_count')).toBe(1);
    expect(sampleSum(text, 'trial_active')).toBe(1);
    // A worker whose shutdown failed makes the primary exit 1; its log says why.
    const exitCode = await gateway.terminate();
    expect(exitCode, gateway.output()).toBe(0);
  }, 60_000);
});

describe('budgets under concurrent requests (holds), in a real gateway process', () => {
  const IMAGES_KEY = `gwz-images-${randomBytes(12).toString('hex')}`;
  const CHAT_KEY = `gwz-chat-${randomBytes(12).toString('hex')}`;
  let gateway: GatewayProcess | undefined;
  let directory: string;

  afterAll(async () => {
    await gateway?.terminate();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  const send = async (path: string, body: unknown, key: string): Promise<number> => {
    const response = await fetch(`${(gateway as GatewayProcess).url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 429)
      expect(errorOf(JSON.parse(text) as Json)).toMatchObject({ code: 'insufficient_quota' });
    return response.status;
  };
  const count = (statuses: number[], status: number): number => statuses.filter((value) => value === status).length;

  it('serves at most what the budget covers: 40 concurrent 0.04 USD images at 300 ms on 0.4 USD, chats by max_tokens', async () => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-holds-'));
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([
        { name: 'images', key: IMAGES_KEY, plan: 'paid', budget_usd: 0.4 },
        { name: 'chats', key: CHAT_KEY, plan: 'paid', budget_usd: 0.05 },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_API_KEYS_FILE: keysFile,
      DEMO_LATENCY_MS: '300',
      DEMO_ERROR_RATE: '0',
    });
    const image = { model: 'gpt-image-1', prompt: 'a lighthouse' };
    const images = await Promise.all(
      Array.from({ length: 40 }, () => send('/v1/images/generations', image, IMAGES_KEY)),
    );
    // Before holds: all 40 served, 1.60 USD spent.
    expect(count(images, 200)).toBe(10);
    expect(count(images, 429)).toBe(30);
    // gpt-4o (2.5 and 10 USD per million tokens), 1,000 output tokens: a hold of about 0.0101 USD,
    // so about 4 fit in 0.05 USD at once (the answers cost some 0.00016 USD each). Before holds: all 10.
    const chat = { model: 'gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'how much is left?' }] };
    const chats = await Promise.all(Array.from({ length: 10 }, () => send('/v1/chat/completions', chat, CHAT_KEY)));
    expect(count(chats, 200)).toBeGreaterThan(0);
    expect(count(chats, 200)).toBeLessThan(10);
    expect(count(chats, 200) + count(chats, 429)).toBe(10);
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const imagesSpent = sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'images' });
    expect(imagesSpent).toBeLessThanOrEqual(0.4);
    expect(imagesSpent).toBeCloseTo(0.4, 12);
    // The remaining-budget gauge is the budget less the spend (holds are not spend).
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'images' })).toBe(0);
    const chatsSpent = sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'chats' });
    expect(chatsSpent).toBeLessThan(0.05);
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'chats' })).toBeCloseTo(
      0.05 - chatsSpent,
      15,
    );
    // Every hold was given back: the chat key is served again, four at a time.
    const again = await Promise.all(Array.from({ length: 4 }, () => send('/v1/chat/completions', chat, CHAT_KEY)));
    expect(again).toEqual([200, 200, 200, 200]);
    expect(await send('/v1/images/generations', image, IMAGES_KEY)).toBe(429);
    const exitCode = await gateway.terminate();
    expect(exitCode, gateway.output()).toBe(0);
  }, 60_000);
});

describe('budget holds in a cluster (GATEWAY_WORKERS=2): admitted by the primary', () => {
  let gateway: GatewayProcess | undefined;
  let directory: string;

  afterAll(async () => {
    await gateway?.terminate();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  const images = async (count: number): Promise<number[]> =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const answer = await sendOnFreshConnection(
          gateway as GatewayProcess,
          'POST',
          '/v1/images/generations',
          { model: 'gpt-image-1', prompt: 'a lighthouse' },
          { authorization: `Bearer ${CAPPED_KEY}` },
        );
        if (answer.status === 429)
          expect(errorOf(JSON.parse(answer.text) as Json)).toMatchObject({ code: 'insufficient_quota' });
        return answer.status;
      }),
    );
  const served = (statuses: number[]): number => statuses.filter((status) => status === 200).length;

  it('admits a burst spread over both workers only as far as the budget goes, and frees the holds of finished requests', async () => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-cluster-holds-'));
    const keysFile = join(directory, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([{ name: 'images', key: CAPPED_KEY, plan: 'paid', budget_usd: 0.8 }]));
    gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      GATEWAY_API_KEYS_FILE: keysFile,
      DEMO_LATENCY_MS: '300',
      DEMO_ERROR_RATE: '0',
    });
    // Half the budget: all 10 served, and their holds are given back to the primary as they end.
    expect(served(await images(10))).toBe(10);
    // 40 simultaneous images reach both workers: with holds per worker 20 were served (0.80 USD
    // on 0.4 USD left), before holds all 40.
    const burst = await images(40);
    expect(served(burst)).toBe(10);
    expect(burst.filter((status) => status === 429)).toHaveLength(30);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'images' })).toBeCloseTo(0.8, 12);
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'images' })).toBe(0);
    expect(served(await images(4))).toBe(0);
    const exitCode = await gateway.terminate();
    expect(exitCode, gateway.output()).toBe(0);
  }, 60_000);
});

describe('streams left before their usage, in a cluster (GATEWAY_WORKERS=2)', () => {
  let gateway: GatewayProcess | undefined;
  let slow: SimulatedProvider | undefined;
  let directory: string;

  afterAll(async () => {
    await gateway?.terminate();
    await slow?.close();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  /** Open a stream on a fresh connection (either worker), hang up at its first chunk; the status. */
  const leaveStream = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL('/v1/chat/completions', (gateway as GatewayProcess).url);
      const outgoing = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${CAPPED_KEY}` },
        },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
            return;
          }
          response.once('data', () => {
            outgoing.destroy();
            resolve(200);
          });
        },
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (!outgoing.destroyed || error.code !== 'ECONNRESET') reject(error);
      });
      outgoing.end(
        JSON.stringify({
          model: 'shared-model',
          stream: true,
          max_tokens: 50,
          messages: [{ role: 'user', content: 'stream' }],
        }),
      );
    });

  it("charges each left stream's bound to the key's spend shared by both workers, and refuses the key once it is spent", async () => {
    // The prompt's bound: 29 tokens (6 bytes of content, 15 of keys and role, 4 per array and
    // object); 50 output tokens: the provider may go on generating after the client left.
    const bound = 29 * 2 ** -16 + 50 * 2 ** -15;
    slow = await startSimulatedProvider({ name: 'slow', models: ['shared-model'], chunkDelayMs: 300 });
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-cluster-cancel-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        { name: 'slow', baseUrl: slow.baseUrl, models: ['shared-model'], pricing: { 'shared-model': PRICE } },
      ]),
    );
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([{ name: 'leaver', key: CAPPED_KEY, plan: 'paid', budget_usd: 3.5 * bound }]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      GATEWAY_PROVIDERS_FILE: providersFile,
      GATEWAY_API_KEYS_FILE: keysFile,
    });
    const statuses: number[] = [];
    for (let stream = 0; stream < 6; stream++) {
      statuses.push(await leaveStream());
      // Well beyond two exchange intervals: both workers know the spend of the stream just left.
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    // Before: every stream served, nothing spent.
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const text = (await sendOnFreshConnection(gateway, 'GET', '/metrics')).text;
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'leaver' })).toBe(3 * bound);
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'leaver' })).toBe(3);
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'leaver' })).toBeCloseTo(
      0.5 * bound,
      15,
    );
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'leaver' })).toBe(0);
    const exitCode = await gateway.terminate();
    expect(exitCode, gateway.output()).toBe(0);
  }, 60_000);
});

describe('failover after an attempt that reported usage, in a cluster (GATEWAY_WORKERS=2)', () => {
  const ROOMY_KEY = `gwz-roomy-${randomBytes(12).toString('hex')}`;
  const TIGHT_KEY = `gwz-tight-${randomBytes(12).toString('hex')}`;
  let gateway: GatewayProcess | undefined;
  let first: ScriptedUpstream | undefined;
  let second: ScriptedUpstream | undefined;
  let directory: string;

  afterAll(async () => {
    await gateway?.terminate();
    await first?.close();
    await second?.close();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  const MESSAGES = { model: 'shared-model', max_tokens: 100, messages: [{ role: 'user', content: 'weather?' }] };
  /** A chat completion calling a tool with `toolArguments`, billed 20 input and 100 output tokens. */
  const completion = (toolArguments: string): Json => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'shared-model',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: toolArguments } }],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 100, total_tokens: 120 },
  });

  it('extends the hold through the primary before the next attempt, or answers 429 when the budget cannot cover it', async () => {
    // The first provider's answer cannot be translated for /v1/messages (its tool arguments are not
    // JSON): the gateway fails over to the second, after being billed for the first.
    first = await startScriptedUpstream();
    second = await startScriptedUpstream();
    first.scriptJson('/v1/chat/completions', completion('not json'));
    second.scriptJson('/v1/chat/completions', completion('{"city":"Paris"}'));
    const providers = [first, second].map((upstream, index) => ({
      name: index === 0 ? 'first' : 'second',
      baseUrl: `${upstream.url}/v1`,
      models: ['shared-model'],
      pricing: { 'shared-model': PRICE },
    }));
    const hold = new CostEstimator(providers, new PricingTable({ first: { 'shared-model': PRICE } })).chat(
      'shared-model',
      anthropicToOpenAi(MESSAGES).openAi,
    );
    const billed = 20 * 2 ** -16 + 100 * 2 ** -15;
    directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-cluster-failover-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(providersFile, JSON.stringify(providers));
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([
        // Room for the hold, then for the second attempt's hold after the first was charged.
        { name: 'roomy', key: ROOMY_KEY, plan: 'paid', budget_usd: hold + 1.01 * billed },
        // Room for the hold and half the first attempt's bill: the second attempt is not covered.
        { name: 'tight', key: TIGHT_KEY, plan: 'paid', budget_usd: hold + billed / 2 },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      GATEWAY_PROVIDERS_FILE: providersFile,
      GATEWAY_API_KEYS_FILE: keysFile,
      BREAKER_VOLUME_THRESHOLD: '100000',
    });
    const ask = (key: string): Promise<{ status: number; text: string }> =>
      sendOnFreshConnection(gateway as GatewayProcess, 'POST', '/v1/messages', MESSAGES, { 'x-api-key': key });
    const roomy = await ask(ROOMY_KEY);
    expect(roomy.status, roomy.text).toBe(200);
    expect(JSON.parse(roomy.text)).toMatchObject({ type: 'message', stop_reason: 'tool_use' });
    // Before: served too, 2 × billed spent on a budget of hold + billed / 2.
    const tight = await ask(TIGHT_KEY);
    expect(tight.status).toBe(429);
    expect(JSON.parse(tight.text)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const text = (await sendOnFreshConnection(gateway, 'GET', '/metrics')).text;
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'roomy' })).toBe(2 * billed);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'tight' })).toBe(billed);
    const exitCode = await gateway.terminate();
    expect(exitCode, gateway.output()).toBe(0);
  }, 60_000);
});

describe('a gateway given a bad GATEWAY_API_KEYS_FILE', () => {
  it('refuses to start, naming the entry and the fix without repeating the key', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gateway-api-keys-bad-'));
    try {
      const keysFile = join(directory, 'keys.json');
      writeFileSync(
        keysFile,
        JSON.stringify([
          { name: 'a', key: PAID_KEY, plan: 'paid' },
          { name: 'b', key: PAID_KEY, plan: 'paid' },
        ]),
      );
      for (const workers of ['1', '2']) {
        const started = startGatewayProcess({ GATEWAY_API_KEYS_FILE: keysFile, GATEWAY_WORKERS: workers });
        const error = await started.then(
          () => new Error('started'),
          (failure: unknown) => failure as Error,
        );
        expect(error.message).toMatch(/exited with 1/);
        expect(error.message).toContain('ApiKeysFileError');
        expect(error.message).toContain('entry 1 ("b"): has the same key as entry 0');
        expect(error.message).not.toContain(PAID_KEY);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 30_000);
});
