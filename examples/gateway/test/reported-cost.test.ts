import { afterEach, describe, expect, it } from 'vitest';
import type { ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { sampleSum } from './harness.js';
import { chatCompletionAnswer, startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * A provider that reports each answer's cost (OpenRouter's `usage.cost`): with `reportsCost` the
 * cost counters and the key's spend take its figure; without, the pricing table's. Real HTTP on
 * loopback: a scripted upstream, the gateway in this process.
 */

const KEY = 'gwz-reported-cost';
/** USD per token, multiples of 2^-16 so the sums below are exact. */
const INPUT = 2 ** -16;
const OUTPUT = 2 ** -14;
const PRICE = { m: { inputPerMillionTokens: INPUT * 1e6, outputPerMillionTokens: OUTPUT * 1e6 } };
const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.375 };

let gateway: ScriptedGateway | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function start(reportsCost: boolean): Promise<[ScriptedGateway, ApiKeyAccount]> {
  gateway = await startScriptedGateway({ name: 'router', models: ['m'], pricing: PRICE, reportsCost }, [], {
    apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd: 10 }], required: true },
  });
  return [gateway, gateway.gateway.apiKeys.account('capped') as ApiKeyAccount];
}

async function chat(running: ScriptedGateway, stream: boolean): Promise<string> {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream }),
  });
  expect(response.status).toBe(200);
  return response.text();
}

const chunk = (fields: Record<string, unknown>): Record<string, unknown> => ({
  id: 'chatcmpl-r',
  object: 'chat.completion.chunk',
  model: 'm',
  choices: [],
  ...fields,
});

describe('a provider that reports its cost', () => {
  it('costs an answer what the provider reported when reportsCost is set, streamed or not', async () => {
    const [running, account] = await start(true);
    running.upstream.scriptJson('/v1/chat/completions', chatCompletionAnswer('chatcmpl-r', 'm', 'hello', USAGE));
    await chat(running, false);
    running.upstream.script('/v1/chat/completions', [
      { afterMs: 0, data: chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'hello' } }] }) },
      { afterMs: 0, data: chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) },
      { afterMs: 0, data: chunk({ usage: { ...USAGE, cost: 0.125 } }) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    expect(await chat(running, true)).toContain('hello');
    // Before: the table's 10 × 2^-16 + 5 × 2^-14 USD each.
    expect(account.spentUsd).toBe(0.5);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_cost_by_provider_total', { provider: 'router' })).toBe(0.5);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' })).toBe(0.5);
    expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total')).toBe(0);
  });

  it('prices from the table, and counts the drop, when the reported cost is more than the usage can cost', async () => {
    const [running, account] = await start(true);
    running.upstream.scriptJson(
      '/v1/chat/completions',
      chatCompletionAnswer('chatcmpl-r', 'm', 'hello', { ...USAGE, cost: 1e308 }),
    );
    await chat(running, false);
    // Before: 1e308 USD in the cost counters, and the key's budget spent for good.
    expect(account.spentUsd).toBe(10 * INPUT + 5 * OUTPUT);
    const text = await running.scrape();
    expect(sampleSum(text, 'gatewayz_cost_by_provider_total', { provider: 'router' })).toBe(10 * INPUT + 5 * OUTPUT);
    expect(
      sampleSum(text, 'gatewayz_telemetry_dropped_total', {
        reason: 'out_of_range',
        metric: 'gatewayz_cost_by_provider',
      }),
    ).toBe(1);
  });

  it('prices from the table when reportsCost is not set, or the answer reports no cost', async () => {
    const [running, account] = await start(false);
    running.upstream.scriptJson('/v1/chat/completions', chatCompletionAnswer('chatcmpl-r', 'm', 'hello', USAGE));
    await chat(running, false);
    expect(account.spentUsd).toBe(10 * INPUT + 5 * OUTPUT);
    await gateway?.close();
    const [reporting, reportingAccount] = await start(true);
    const { cost: _cost, ...withoutCost } = USAGE;
    reporting.upstream.scriptJson(
      '/v1/chat/completions',
      chatCompletionAnswer('chatcmpl-r', 'm', 'hello', withoutCost),
    );
    await chat(reporting, false);
    expect(reportingAccount.spentUsd).toBe(10 * INPUT + 5 * OUTPUT);
  });
});
