import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PricingTable } from '@gatewayz/telemetry/genai';
import type { ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { CostEstimator } from '../src/api-keys/cost-estimate.js';
import type { ProviderConfig } from '../src/config.js';
import { anthropicToOpenAi } from '../src/protocol/anthropic-request.js';
import { sampleSum } from './harness.js';
import {
  startScriptedGateway,
  startScriptedUpstream,
  type ScriptedGateway,
  type ScriptedUpstream,
} from './scripted-upstream.js';

/*
 * Two ways a key used to get past its budget: streams its clients leave before the provider's
 * usage chunk (charged nothing, though the provider bills what it generated), and failover after
 * an attempt that reported usage (charged through the hold, so the next attempt was no longer
 * covered by it). Real HTTP on loopback: a scripted upstream, the gateway in this process.
 */

const KEY = 'gwz-cancel-failover';
const AUTH = { authorization: `Bearer ${KEY}` };
/** USD per token, multiples of 2^-16 so the sums below are exact. */
const INPUT = 2 ** -16;
const OUTPUT = 2 ** -14;
const PRICE = { m: { inputPerMillionTokens: INPUT * 1e6, outputPerMillionTokens: OUTPUT * 1e6 } };
/** The prompt of `chat()`: 57 tokens by its bound (34 UTF-8 bytes of content, 15 of keys and role, 4 per array and object). */
const PROMPT_BOUND = 57;

let gateway: ScriptedGateway | undefined;
let second: ScriptedUpstream | undefined;

afterEach(async () => {
  await gateway?.close();
  await second?.close();
  gateway = undefined;
  second = undefined;
});

async function start(
  budgetUsd: number,
  provider: Partial<ProviderConfig> = {},
  others: ProviderConfig[] = [],
): Promise<[ScriptedGateway, ApiKeyAccount]> {
  gateway = await startScriptedGateway({ name: 'scripted', models: ['m'], pricing: PRICE, ...provider }, [], {
    apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd }], required: true },
    providers: others,
  });
  return [gateway, gateway.gateway.apiKeys.account('capped') as ApiKeyAccount];
}

const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'm',
  messages: [{ role: 'user', content: 'Say something about observability.' }],
  stream: true,
  ...extra,
});

const delta = (content: string): Record<string, unknown> => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** A stream of `pieces` at once, then (after a pause the client does not wait for) its end and usage. */
function scriptStream(running: ScriptedGateway, pieces: string[]): void {
  running.upstream.script('/v1/chat/completions', [
    { afterMs: 0, data: { ...delta(''), choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] } },
    ...pieces.map((piece) => ({ afterMs: 0, data: delta(piece) })),
    { afterMs: 3000, data: { ...delta(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } },
    {
      afterMs: 0,
      data: { ...delta(''), choices: [], usage: { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 } },
    },
    { afterMs: 0, data: '[DONE]' },
  ]);
}

/**
 * Open a stream, read until `pieces` pieces of "ab€" arrived, then hang up; resolves with the
 * status once the gateway let go of the request.
 */
async function leaveStream(
  running: ScriptedGateway,
  account: ApiKeyAccount,
  body: Record<string, unknown>,
  pieces: number,
): Promise<number> {
  const leaving = new AbortController();
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify(body),
    signal: leaving.signal,
  });
  if (response.status !== 200) {
    await response.text();
    return response.status;
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.split('ab€').length - 1 < pieces) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before ${pieces} pieces: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  leaving.abort();
  await reader.read().catch(() => undefined);
  await vi.waitFor(() => expect(account.holdCount).toBe(0), { timeout: 5000, interval: 5 });
  return 200;
}

describe('a stream the client leaves before the usage chunk', () => {
  it('charges its prompt bound and the UTF-8 bytes received as output tokens, as estimated spend, not as cost', async () => {
    const [running, account] = await start(1, { cancelStopsBilling: true });
    // Three pieces of 5 bytes ("ab€": the euro sign is 3 bytes in UTF-8), then a pause.
    scriptStream(running, ['ab€', 'ab€', 'ab€']);
    const before = await running.scrape();
    expect(await leaveStream(running, account, chat({ max_tokens: 1000 }), 3)).toBe(200);
    const charged = PROMPT_BOUND * INPUT + 15 * OUTPUT;
    expect(account.spentUsd).toBe(charged);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(charged);
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'capped' })).toBeCloseTo(
      1 - charged,
      15,
    );
    // What the providers reported, and nothing else: no usage came, so no cost and no tokens.
    for (const name of ['gatewayz_cost_by_api_key_total', 'gatewayz_cost_by_provider_total', 'tokens_used_total'])
      expect(sampleSum(text, name) - sampleSum(before, name)).toBe(0);
    expect(sampleSum(text, 'gatewayz_tokens_by_api_key_total')).toBe(0);
  });

  it('charges the whole output limit when the provider may go on generating after the client left (the default)', async () => {
    const [running, account] = await start(1);
    scriptStream(running, ['ab€']);
    expect(await leaveStream(running, account, chat({ max_tokens: 1000 }), 1)).toBe(200);
    expect(account.spentUsd).toBe(PROMPT_BOUND * INPUT + 1000 * OUTPUT);
  });

  it('refuses a key whose clients leave their streams once the estimated spend exhausts its budget', async () => {
    // Each left stream costs at most its hold: the prompt's bound and 100 output tokens.
    const hold = PROMPT_BOUND * INPUT + 100 * OUTPUT;
    const [running, account] = await start(3.5 * hold);
    scriptStream(running, ['ab€']);
    const statuses: number[] = [];
    for (let stream = 0; stream < 5; stream++)
      statuses.push(await leaveStream(running, account, chat({ max_tokens: 100 }), 1));
    // Before: every stream served, nothing spent.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(account.spentUsd).toBe(3 * hold);
    const refused = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(chat({ max_tokens: 100 })),
    });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'insufficient_quota' } });
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(3 * hold);
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(3);
  });
});

describe('a request the client leaves before it reached the provider', () => {
  it.each([false, true])('charges nothing (stream: %s): the provider cannot have begun to answer', async (stream) => {
    // A provider that accepts the connection and never reads: a 16 MB prompt stays half-written.
    const sockets = new Set<Socket>();
    const stalled = createTcpServer((socket) => {
      socket.pause();
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = stalled.address() as AddressInfo;
      const others: ProviderConfig[] = [
        { name: 'stalled', baseUrl: `http://127.0.0.1:${port}/v1`, models: ['m'], pricing: PRICE },
      ];
      gateway = await startScriptedGateway({ name: 'scripted', models: ['unused'], pricing: PRICE }, [], {
        apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd: 1e6 }], required: true },
        providers: others,
        env: { MAX_BODY_BYTES: String(64 * 1_048_576) },
      });
      const account = gateway.gateway.apiKeys.account('capped') as ApiKeyAccount;
      const leaving = new AbortController();
      const body = JSON.stringify(chat({ stream, messages: [{ role: 'user', content: 'a'.repeat(16 * 1_048_576) }] }));
      const answer = fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH },
        body,
        signal: leaving.signal,
      }).catch(() => undefined);
      // Admitted, and the gateway is writing the prompt to the provider, which does not read it.
      await vi.waitFor(() => expect(sockets.size).toBe(1), { timeout: 10_000, interval: 10 });
      expect(account.holdCount).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      leaving.abort();
      await answer;
      await vi.waitFor(() => expect(account.holdCount).toBe(0), { timeout: 5000, interval: 5 });
      // Before: charged the bound of a request the provider never received (2^8 USD of prompt alone).
      expect(account.spentUsd).toBe(0);
      const text = await gateway.scrape();
      expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(0);
      expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });
});

describe('failover after an attempt that reported usage', () => {
  // /v1/messages: the first provider answers a tool call whose arguments are not JSON (which the
  // gateway cannot translate: it fails over) and bills 100 output tokens; the second answers.
  const MESSAGES = { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'weather?' }] };
  const completion = (toolArguments: string, completionTokens: number): Record<string, unknown> => ({
    id: 'chatcmpl-2',
    object: 'chat.completion',
    model: 'm',
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
    usage: { prompt_tokens: 20, completion_tokens: completionTokens, total_tokens: 20 + completionTokens },
  });
  const billed = 20 * INPUT + 100 * OUTPUT;

  async function startPair(budget: (hold: number) => number): Promise<[ScriptedGateway, ApiKeyAccount, number]> {
    second = await startScriptedUpstream();
    const others: ProviderConfig[] = [{ name: 'second', baseUrl: `${second.url}/v1`, models: ['m'], pricing: PRICE }];
    const estimator = new CostEstimator(others, new PricingTable({ second: PRICE }));
    const hold = estimator.chat('m', anthropicToOpenAi(MESSAGES).openAi);
    const [running, account] = await start(budget(hold), {}, others);
    running.upstream.scriptJson('/v1/chat/completions', completion('not json', 100));
    second.scriptJson('/v1/chat/completions', completion('{"city":"Paris"}', 100), 300);
    return [running, account, hold];
  }

  const send = (running: ScriptedGateway): Promise<Response> =>
    fetch(`${running.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify(MESSAGES),
    });

  it('holds what the next attempt may cost again, extending the hold by what the failed one was charged', async () => {
    const [running, account, hold] = await startPair((hold) => hold + billed);
    expect(billed).toBeLessThan(hold);
    const answer = send(running);
    // The first attempt was charged; the second is in flight, covered by a whole hold again.
    await vi.waitFor(() => expect(account.spentUsd).toBe(billed), { timeout: 5000, interval: 5 });
    expect(account.heldUsd).toBeCloseTo(hold, 15);
    const response = await answer;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ type: 'message', stop_reason: 'tool_use' });
    expect(account.spentUsd).toBe(2 * billed);
    expect(account.holdCount).toBe(0);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' })).toBe(2 * billed);
    expect(sampleSum(text, 'gatewayz_failovers_total', { provider: 'scripted', next_provider: 'second' })).toBe(1);
  });

  it('answers 429 (Anthropic rate_limit_error) instead of failing over when the budget cannot cover the next attempt', async () => {
    // Room for the hold and half of what the failed attempt was billed.
    const [running, account, hold] = await startPair((hold) => hold + billed / 2);
    const response = await send(running);
    // Before: served by the second provider, and the key spent 2 × billed, past its budget.
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(account.spentUsd).toBe(billed);
    expect(account.spentUsd).toBeLessThanOrEqual(hold + billed / 2);
    expect(account.holdCount).toBe(0);
    expect(second?.lastBody('/v1/chat/completions')).toBeUndefined();
  });

  it('charges the failed attempt its bound when its answer came without usage', async () => {
    const [running, account, hold] = await startPair((hold) => 3 * hold);
    const { usage: _usage, ...withoutUsage } = completion('not json', 100);
    running.upstream.scriptJson('/v1/chat/completions', withoutUsage);
    const response = await send(running);
    expect(response.status).toBe(200);
    // Before: only the second provider's answer was charged, though the first made (and bills) one.
    expect(account.spentUsd).toBeCloseTo(hold + billed, 15);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBeCloseTo(
      hold,
      15,
    );
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(1);
  });
});

describe('an answer the pricing gives no cost', () => {
  const answer = (usage?: Record<string, unknown>): Record<string, unknown> => ({
    id: 'chatcmpl-3',
    object: 'chat.completion',
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
    ...(usage !== undefined ? { usage } : {}),
  });
  // The request's hold: its prompt's bound and its 100 output tokens.
  const hold = PROMPT_BOUND * INPUT + 100 * OUTPUT;

  async function ask(running: ScriptedGateway): Promise<void> {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(chat({ stream: false, max_tokens: 100 })),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ choices: [{ message: { content: 'hello' } }] });
  }

  it('charges a key its hold when the provider reported no usage, and counts the attempt as without usage', async () => {
    const [running, account] = await start(1);
    running.upstream.scriptJson('/v1/chat/completions', answer());
    await ask(running);
    // Before: charged nothing, so a key could read without limit from a provider that reports no usage.
    expect(account.spentUsd).toBe(hold);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(hold);
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total')).toBe(0);
  });

  it('charges a key its hold when the reported usage has no price (more cached than prompt tokens)', async () => {
    const [running, account] = await start(1);
    running.upstream.scriptJson(
      '/v1/chat/completions',
      answer({
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 20 },
      }),
    );
    await ask(running);
    expect(account.spentUsd).toBe(hold);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(hold);
    // The usage came, so the attempt is not one without usage: the pricing counted what it refused.
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(0);
    expect(sampleSum(text, 'gatewayz_telemetry_dropped_total', { reason: 'cache_exceeds_input' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total')).toBe(0);
  });

  it('charges nothing beyond the reported cost when the usage is priced', async () => {
    const [running, account] = await start(1);
    running.upstream.scriptJson(
      '/v1/chat/completions',
      answer({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }),
    );
    await ask(running);
    expect(account.spentUsd).toBe(10 * INPUT + 5 * OUTPUT);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' })).toBe(0);
  });
});
