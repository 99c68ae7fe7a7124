import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { chatBody, sampleSum, startTestGateway, type TestGateway } from './harness.js';

/*
 * Budget holds (api-keys/cost-estimate.ts, ApiKeyAccount.hold): a request of a key with a budget
 * holds what it may cost when it is admitted, is charged what it cost when it completes, and gives
 * back the rest however it ends. The gateway runs in this process (demo providers on loopback), so
 * the account's holds can be read while requests are in flight and after they end.
 */

const KEY = 'gwz-budget-holds';
const AUTH = { authorization: `Bearer ${KEY}` };
const IMAGE = { model: 'gpt-image-1', prompt: 'a lighthouse' };
/** The demo's gpt-4o prices, USD per token. */
const GPT_4O_INPUT = 2.5 / 1e6;
const GPT_4O_OUTPUT = 10 / 1e6;

let gateway: TestGateway | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function start(budgetUsd: number, env: Record<string, string> = {}): Promise<[TestGateway, ApiKeyAccount]> {
  gateway = await startTestGateway({
    apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd }], required: true },
    env,
  });
  return [gateway, gateway.gateway.apiKeys.account('capped') as ApiKeyAccount];
}

function slowDown(running: TestGateway, behaviour: { latencyMs?: number; errorRate?: number; chunkDelayMs?: number }) {
  for (const name of ['openai', 'openrouter', 'anthropic']) running.provider(name).configure(behaviour);
}

async function statusOf(response: Promise<Response>): Promise<number> {
  const answer = await response;
  await answer.text();
  return answer.status;
}

function expectNothingHeld(account: ApiKeyAccount): void {
  expect(account.holdCount).toBe(0);
  expect(account.heldUsd).toBe(0);
}

/** Wait until `holds` requests of the key are admitted and in flight. */
async function inFlight(account: ApiKeyAccount, holds: number): Promise<void> {
  await vi.waitFor(() => expect(account.holdCount).toBe(holds), { timeout: 5000, interval: 5 });
}

describe('budget holds', () => {
  it('admits a concurrent burst only as far as the budget goes (40 images of 0.04 USD, 0.4 USD budget)', async () => {
    const [running, account] = await start(0.4);
    // Long enough for the scrape below to finish while the ten are still in flight on a loaded machine.
    slowDown(running, { latencyMs: 1500 });
    const answers = Array.from({ length: 40 }, () => running.post('/v1/images/generations', IMAGE, AUTH));
    await inFlight(account, 10);
    // Ten images held, exactly the budget; nothing spent yet, and the gauge says so.
    expect(account.heldUsd).toBe(0.4);
    expect(sampleSum(await running.scrape(), 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'capped' })).toBe(
      0.4,
    );
    const statuses = await Promise.all(answers.map(statusOf));
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30);
    expect(account.spentUsd).toBe(0.4);
    expect(account.exhausted).toBe(true);
    expectNothingHeld(account);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'capped' })).toBe(0);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' })).toBeLessThanOrEqual(0.4);
  });

  it('holds a chat request for its prompt and max_tokens at the output price, and charges what it cost', async () => {
    const [running, account] = await start(0.05);
    slowDown(running, { latencyMs: 1000 });
    const body = chatBody('gpt-4o', { max_tokens: 1000 });
    const answers = Array.from({ length: 10 }, () => running.post('/v1/chat/completions', body, AUTH));
    // The prompt's bound: 57 tokens (the content's 34 UTF-8 bytes, 15 of `role`, `user` and `content`, 4 each
    // for the array and the message).
    const held = 57 * GPT_4O_INPUT + 1000 * GPT_4O_OUTPUT;
    // 4 × 0.010145 fit in 0.05, a fifth does not.
    await inFlight(account, 4);
    expect(account.heldUsd).toBeCloseTo(4 * held, 15);
    const statuses = await Promise.all(answers.map(statusOf));
    expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
    expectNothingHeld(account);
    // Charged what the answers cost (12 output tokens each), far less than held.
    const spent = sampleSum(await running.scrape(), 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' });
    expect(account.spentUsd).toBeCloseTo(spent, 15);
    expect(spent).toBeLessThan(4 * held);
    expect(spent).toBeGreaterThan(4 * 12 * GPT_4O_OUTPUT);
  });

  it('holds GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS output tokens for a request without an output limit (default 4096)', async () => {
    for (const [env, outputTokens] of [
      [{}, 4096],
      [{ GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS: '100' }, 100],
    ] as const) {
      const [running, account] = await start(1, env);
      slowDown(running, { latencyMs: 500 });
      const answer = running.post('/v1/chat/completions', chatBody('gpt-4o'), AUTH);
      await inFlight(account, 1);
      expect(account.heldUsd).toBeCloseTo(57 * GPT_4O_INPUT + outputTokens * GPT_4O_OUTPUT, 15);
      expect(await statusOf(answer)).toBe(200);
      expectNothingHeld(account);
      await running.close();
      gateway = undefined;
    }
  });

  it('refuses a request whose hold alone exceeds what is left, on every endpoint, in each API shape', async () => {
    const [running, account] = await start(0.01);
    const refusals = [
      await running.post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 2000 }), AUTH),
      await running.post('/v1/responses', { model: 'gpt-4o', input: 'hi', max_output_tokens: 2000 }, AUTH),
      await running.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'x'.repeat(600_000) }, AUTH),
      await running.post('/v1/images/generations', IMAGE, AUTH),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: { type: 'insufficient_quota', code: 'insufficient_quota' } });
    }
    const messages = await running.post(
      '/v1/messages',
      { model: 'claude-3-5-sonnet', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-api-key': KEY },
    );
    expect(messages.status).toBe(429);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    // Requests that fit are served, and nothing of the refused ones stays held.
    expect(await statusOf(running.post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 100 }), AUTH))).toBe(
      200,
    );
    expect(await statusOf(running.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }, AUTH))).toBe(
      200,
    );
    expectNothingHeld(account);
    expect(account.spentUsd).toBeGreaterThan(0);
  });

  it('holds a long prompt whole whatever fields its message carries, and refuses limits it cannot hold for', async () => {
    const [running, account] = await start(0.01);
    // 100,000 bytes of prompt at gpt-4o's input price bound: 0.25 USD, over the 0.01 USD budget,
    // with or without a `type` field on the message (it used to count as one 2,000-token image).
    const prompt = 'x'.repeat(100_000);
    for (const extra of [{}, { type: 'image' }, { type: 'x', image_url: 'u' }]) {
      const body = { model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: prompt, ...extra }] };
      const refused = await running.post('/v1/chat/completions', body, AUTH);
      expect(refused.status, JSON.stringify(extra)).toBe(429);
      expect(await refused.json()).toMatchObject({ error: { code: 'insufficient_quota' } });
    }
    // Output limits and n the hold cannot read are refused with a 400 naming the field (they used
    // to be held for the default output, or, past a double's range, for nothing).
    for (const [field, value] of [
      ['n', '8'],
      ['n', 1.5],
      ['max_completion_tokens', '100000'],
      ['max_tokens', 1e308],
    ] as const) {
      const answer = await running.post('/v1/chat/completions', chatBody('gpt-4o', { [field]: value }), AUTH);
      expect(answer.status, `${field}: ${String(value)}`).toBe(400);
      expect(await answer.json()).toMatchObject({ error: { param: field, type: 'invalid_request_error' } });
    }
    expectNothingHeld(account);
    expect(account.spentUsd).toBe(0);
  });
});

describe('budget holds are released however a request ends', () => {
  it('upstream errors (every provider fails: 502), then the whole budget is still there', async () => {
    const [running, account] = await start(0.4, { BREAKER_VOLUME_THRESHOLD: '100000' });
    slowDown(running, { errorRate: 1, latencyMs: 50 });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => statusOf(running.post('/v1/images/generations', IMAGE, AUTH))),
    );
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    expect(statuses.filter((status) => status === 502)).toHaveLength(10);
    expectNothingHeld(account);
    expect(account.spentUsd).toBe(0);
    slowDown(running, { errorRate: 0 });
    const served = [];
    for (let call = 0; call < 11; call++)
      served.push(await statusOf(running.post('/v1/images/generations', IMAGE, AUTH)));
    expect(served).toEqual([...Array(10).fill(200), 429]);
    expectNothingHeld(account);
  });

  it('failover: the provider that answered is charged once, the hold released', async () => {
    const [running, account] = await start(1, { BREAKER_VOLUME_THRESHOLD: '100000' });
    running.provider('openai').configure({ errorRate: 1 });
    for (const stream of [false, true]) {
      const answer = await running.post(
        '/v1/chat/completions',
        chatBody('gpt-4o-mini', { max_tokens: 50, stream }),
        AUTH,
      );
      expect(answer.status).toBe(200);
      await answer.text();
    }
    expectNothingHeld(account);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_failovers_total')).toBeGreaterThanOrEqual(2);
    expect(account.spentUsd).toBeCloseTo(
      sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' }),
      15,
    );
    expect(account.spentUsd).toBeGreaterThan(0);
  });

  it('attempt timeouts (504/502 after ATTEMPT_TIMEOUT_MS)', async () => {
    const [running, account] = await start(1, { ATTEMPT_TIMEOUT_MS: '50', BREAKER_VOLUME_THRESHOLD: '100000' });
    slowDown(running, { latencyMs: 400 });
    const answers = [
      statusOf(running.post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 10 }), AUTH)),
      statusOf(running.post('/v1/images/generations', IMAGE, AUTH)),
      statusOf(running.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }, AUTH)),
    ];
    await inFlight(account, 3);
    const statuses = await Promise.all(answers);
    for (const status of statuses) expect(status).toBeGreaterThanOrEqual(500);
    expectNothingHeld(account);
    expect(account.spentUsd).toBe(0);
  });

  it('client cancels: a JSON answer awaited, and a stream mid-way', async () => {
    const [running, account] = await start(1);
    slowDown(running, { latencyMs: 500 });
    const waiting = new AbortController();
    const pending = fetch(`${running.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(IMAGE),
      signal: waiting.signal,
    }).catch((error: unknown) => error);
    await inFlight(account, 1);
    waiting.abort();
    await pending;
    await vi.waitFor(() => expectNothingHeld(account), { timeout: 5000, interval: 5 });

    slowDown(running, { latencyMs: 0, chunkDelayMs: 200 });
    const streaming = new AbortController();
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(chatBody('gpt-4o', { stream: true, max_tokens: 12 })),
      signal: streaming.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    expect(account.holdCount).toBe(1);
    streaming.abort();
    await reader.read().catch(() => undefined);
    await vi.waitFor(() => expectNothingHeld(account), { timeout: 5000, interval: 5 });
    // A stream read to its end is released too.
    slowDown(running, { chunkDelayMs: 0 });
    const whole = await running.post(
      '/v1/chat/completions',
      chatBody('gpt-4o', { stream: true, max_tokens: 12 }),
      AUTH,
    );
    expect(await whole.text()).toContain('[DONE]');
    await vi.waitFor(() => expectNothingHeld(account), { timeout: 5000, interval: 5 });
  });

  it('shutdown: requests the drain deadline cut give their holds back', async () => {
    const [running, account] = await start(1, { SHUTDOWN_TIMEOUT_MS: '100' });
    slowDown(running, { latencyMs: 3000 });
    const cut = [
      running.post('/v1/images/generations', IMAGE, AUTH).catch((error: unknown) => error),
      running
        .post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 10 }), AUTH)
        .catch((error: unknown) => error),
    ];
    await inFlight(account, 2);
    await running.close();
    gateway = undefined;
    await Promise.all(cut);
    expectNothingHeld(account);
    // Cut before the answers, which the providers may still make and bill: each is charged the most
    // it can cost (the image exactly, the chat its prompt's 57-token bound and its 10 output tokens).
    expect(account.spentUsd).toBeCloseTo(0.04 + 57 * GPT_4O_INPUT + 10 * GPT_4O_OUTPUT, 15);
  });
});
