import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * The gateway's translations for a provider that speaks chat completions only.
 *
 * A model that declines answers with OpenAI's `refusal` instead of `content`. The translations the
 * gateway makes of a chat answer must carry it: Anthropic's Messages (the refusal as the reply's
 * text, `stop_reason: "refusal"`) and the Responses API (a `refusal` content part, streamed as
 * `response.refusal.delta` / `response.refusal.done`). Before, the client got an empty reply that
 * read as a normal end of turn, while the tokens were billed. The official SDKs read the answers.
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-refusing';
const REFUSAL = "I'm sorry, I can't help with that.";

let gw: ScriptedGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  // No Responses API at the provider: /v1/responses is translated from chat completions.
  gw = await startScriptedGateway({ name: 'openai', models: [model] });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});

const refusedCompletion = {
  id: 'chatcmpl-refused',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: REFUSAL }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 10, total_tokens: 19 },
};

const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
  id: 'chatcmpl-refused',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, delta, finish_reason: finish }],
});

const refusedStream: ScriptStep[] = [
  { afterMs: 0, data: chunk({ role: 'assistant', content: null, refusal: '' }) },
  { afterMs: 5, data: chunk({ refusal: "I'm sorry, " }) },
  { afterMs: 5, data: chunk({ refusal: "I can't help with that." }) },
  { afterMs: 5, data: chunk({}, 'stop') },
  {
    afterMs: 0,
    data: { ...chunk({}), choices: [], usage: { prompt_tokens: 9, completion_tokens: 10, total_tokens: 19 } },
  },
  { afterMs: 0, data: '[DONE]' },
];

describe('a refusal from an OpenAI upstream', () => {
  it("reaches Anthropic clients as the reply's text with stop_reason refusal, streamed or not", async () => {
    gw.upstream.scriptJson(CHAT, refusedCompletion);
    const message = await anthropic.messages.create({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Something it will not do' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: REFUSAL }]);
    expect(message.stop_reason).toBe('refusal');
    expect(message.usage.output_tokens).toBe(10);

    gw.upstream.script(CHAT, refusedStream);
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Something it will not do' }],
    });
    const streamed = await stream.finalMessage();
    expect(streamed.content).toHaveLength(1);
    expect(streamed.content[0]).toMatchObject({ type: 'text', text: REFUSAL });
    expect(streamed.stop_reason).toBe('refusal');
  });

  it('reaches Responses API clients as a refusal content part, streamed or not', async () => {
    gw.upstream.scriptJson(CHAT, refusedCompletion);
    const response = await openai.responses.create({ model, input: 'Something it will not do' });
    expect(response.status).toBe('completed');
    const item = response.output[0] as OpenAI.Responses.ResponseOutputMessage;
    expect(item.content).toHaveLength(1);
    expect(item.content[0]).toMatchObject({ type: 'refusal', refusal: REFUSAL });
    expect(response.output_text).toBe('');

    gw.upstream.script(CHAT, refusedStream);
    const events: Array<{ type: string; delta?: string; refusal?: string }> = [];
    const stream = openai.responses.stream({ model, input: 'Something it will not do' });
    stream.on('event', (event) => events.push(event as { type: string }));
    const final = await stream.finalResponse();
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(
      events
        .filter((event) => event.type === 'response.refusal.delta')
        .map((event) => event.delta)
        .join(''),
    ).toBe(REFUSAL);
    expect(events.find((event) => event.type === 'response.refusal.done')?.refusal).toBe(REFUSAL);
    const finalContent = (final.output[0] as OpenAI.Responses.ResponseOutputMessage).content;
    expect(finalContent).toHaveLength(1);
    expect(finalContent[0]).toMatchObject({ type: 'refusal', refusal: REFUSAL });
    expect(final.usage?.output_tokens).toBe(10);
  });
});

describe('a /v1/responses request translated to chat completions', () => {
  it('passes on the parameters Chat Completions takes too: reasoning effort, verbosity, safety identifier, cache key, tier', async () => {
    gw.upstream.scriptJson(CHAT, {
      ...refusedCompletion,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    });
    await openai.responses.create({
      model,
      input: 'hi',
      reasoning: { effort: 'high' },
      text: { verbosity: 'low' },
      safety_identifier: 'user-1',
      prompt_cache_key: 'key-1',
      service_tier: 'flex',
    });
    expect(gw.upstream.lastBody(CHAT)).toMatchObject({
      reasoning_effort: 'high',
      verbosity: 'low',
      safety_identifier: 'user-1',
      prompt_cache_key: 'key-1',
      service_tier: 'flex',
    });
    // Without them, none is sent.
    await openai.responses.create({ model, input: 'hi' });
    const plain = gw.upstream.lastBody(CHAT)!;
    for (const field of ['reasoning_effort', 'verbosity', 'safety_identifier', 'prompt_cache_key', 'service_tier'])
      expect(plain, field).not.toHaveProperty(field);
  });
});
