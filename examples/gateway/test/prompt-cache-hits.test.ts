import { afterEach, describe, expect, it } from 'vitest';
import { sampleSum } from './harness.js';
import { chatCompletionAnswer, startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * The providers' prompt caches in cache_hits_total / cache_misses_total{cache="provider_prompt"}:
 * one per attempt whose usage says whether it read from the cache. Real HTTP on loopback.
 */

let gateway: ScriptedGateway | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function chat(running: ScriptedGateway, usage: Record<string, unknown>): Promise<void> {
  running.upstream.scriptJson('/v1/chat/completions', chatCompletionAnswer('chatcmpl-c', 'm', 'hello', usage));
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(response.status).toBe(200);
  await response.text();
}

describe("providers' prompt caches", () => {
  it('counts an attempt that read cached prompt tokens as a hit, one that read none as a miss, and one that says nothing as neither', async () => {
    gateway = await startScriptedGateway({ name: 'scripted', models: ['m'] });
    const usage = { prompt_tokens: 40, completion_tokens: 5, total_tokens: 45 };
    await chat(gateway, { ...usage, prompt_tokens_details: { cached_tokens: 20 } });
    await chat(gateway, { ...usage, prompt_tokens_details: { cached_tokens: 0 } });
    await chat(gateway, { ...usage, prompt_tokens_details: { cached_tokens: 0 } });
    await chat(gateway, usage);
    const text = await gateway.scrape();
    expect(sampleSum(text, 'cache_hits_total', { cache: 'provider_prompt' })).toBe(1);
    expect(sampleSum(text, 'cache_misses_total', { cache: 'provider_prompt' })).toBe(2);
    expect(sampleSum(text, 'tokens_used_total', { token_type: 'cache_read' })).toBe(20);
  });
});
