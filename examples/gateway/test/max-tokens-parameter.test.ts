import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayConfigError, parseProviders } from '../src/config.js';
import { maxTokensParameterOf, withMaxTokensParameter } from '../src/protocol/max-tokens-parameter.js';
import { SpanRecorder } from './harness.js';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * The field the output limit of a translated request reaches a provider in. OpenAI's reasoning
 * models (o-series, gpt-5) refuse `max_tokens` ("Use 'max_completion_tokens' instead"), while some
 * OpenAI-compatible servers know only `max_tokens`: a provider's `maxTokensParameter` says which,
 * defaulting to `max_completion_tokens` for api.openai.com only. The official SDKs call the
 * gateway; the loopback scripted upstream records what it was sent.
 */

const CHAT = '/v1/chat/completions';
const model = 'o-reasoning';

const usage = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };
const completion = {
  id: 'chatcmpl-limit',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Done.' }, finish_reason: 'stop' }],
  usage,
};
const chunkBase = { id: 'chatcmpl-limit', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const streamed: ScriptStep[] = [
  { afterMs: 0, data: { ...chunkBase, choices: [{ index: 0, delta: { role: 'assistant', content: 'Done.' } }] } },
  { afterMs: 0, data: { ...chunkBase, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } },
  { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
  { afterMs: 0, data: '[DONE]' },
];
const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Prove it.' }];

describe('a provider taking max_completion_tokens', () => {
  let gw: ScriptedGateway;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const spans = new SpanRecorder();

  beforeAll(async () => {
    gw = await startScriptedGateway({ name: 'openai', models: [model], maxTokensParameter: 'max_completion_tokens' }, [
      spans,
    ]);
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(async () => gw.close());

  const sentLimit = (): Record<string, unknown> => {
    const body = gw.upstream.lastBody(CHAT) ?? {};
    return { max_tokens: body['max_tokens'], max_completion_tokens: body['max_completion_tokens'] };
  };

  it('gets /v1/messages max_tokens as max_completion_tokens, JSON and streamed', async () => {
    gw.upstream.scriptJson(CHAT, completion);
    const answer = await anthropic.messages.create({ model, max_tokens: 2000, messages });
    expect(answer.content).toEqual([{ type: 'text', text: 'Done.' }]);
    expect(sentLimit()).toEqual({ max_tokens: undefined, max_completion_tokens: 2000 });
    // The attempt span still says what limit was asked for, under its semantic-convention name.
    const span = spans.spans.find((candidate) => candidate.name === `chat ${model}`);
    expect(span?.attributes['gen_ai.request.max_tokens']).toBe(2000);

    gw.upstream.script(CHAT, streamed);
    const stream = anthropic.messages.stream({ model, max_tokens: 3000, messages });
    expect((await stream.finalMessage()).content).toEqual([{ type: 'text', text: 'Done.' }]);
    expect(sentLimit()).toEqual({ max_tokens: undefined, max_completion_tokens: 3000 });
  });

  it('gets /v1/responses max_output_tokens (translated to chat) as max_completion_tokens', async () => {
    gw.upstream.scriptJson(CHAT, completion);
    const response = await openai.responses.create({ model, input: 'Prove it.', max_output_tokens: 500 });
    expect(response.output_text).toBe('Done.');
    expect(sentLimit()).toEqual({ max_tokens: undefined, max_completion_tokens: 500 });

    gw.upstream.script(CHAT, streamed);
    const events = await openai.responses.create({ model, input: 'Prove it.', max_output_tokens: 600, stream: true });
    for await (const event of events) void event;
    expect(sentLimit()).toEqual({ max_tokens: undefined, max_completion_tokens: 600 });
  });

  it('passes a /v1/chat/completions request on with the field its client chose', async () => {
    gw.upstream.scriptJson(CHAT, completion);
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 70 });
    expect(sentLimit()).toEqual({ max_tokens: 70, max_completion_tokens: undefined });
  });
});

describe('a provider on any other base URL, unset', () => {
  let gw: ScriptedGateway;
  beforeAll(async () => {
    gw = await startScriptedGateway({ name: 'compatible', models: [model] });
  });
  afterAll(async () => gw.close());

  it('gets max_tokens, the field every OpenAI-compatible server knows', async () => {
    gw.upstream.scriptJson(CHAT, completion);
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    await anthropic.messages.create({ model, max_tokens: 2000, messages });
    const body = gw.upstream.lastBody(CHAT) ?? {};
    expect(body['max_tokens']).toBe(2000);
    expect('max_completion_tokens' in body).toBe(false);
  });
});

describe('maxTokensParameterOf and the providers file', () => {
  it('defaults to max_completion_tokens for api.openai.com only; the setting wins', () => {
    expect(maxTokensParameterOf({ baseUrl: 'https://api.openai.com/v1' })).toBe('max_completion_tokens');
    expect(maxTokensParameterOf({ baseUrl: 'https://openrouter.ai/api/v1' })).toBe('max_tokens');
    expect(maxTokensParameterOf({ baseUrl: 'http://127.0.0.1:8000/v1' })).toBe('max_tokens');
    expect(maxTokensParameterOf({ baseUrl: 'https://api.openai.com/v1', maxTokensParameter: 'max_tokens' })).toBe(
      'max_tokens',
    );
    const body = { model, max_tokens: 10 };
    expect(withMaxTokensParameter(body, { baseUrl: 'https://api.openai.com/v1' })).toEqual({
      model,
      max_completion_tokens: 10,
    });
    // No limit asked: nothing added.
    expect(withMaxTokensParameter({ model }, { baseUrl: 'https://api.openai.com/v1' })).toEqual({ model });
  });

  it('reads maxTokensParameter from the providers file and refuses other values', () => {
    const entry = { name: 'azure', baseUrl: 'https://example.openai.azure.com/openai/v1', models: ['o4-mini'] };
    const [read] = parseProviders(
      JSON.stringify([{ ...entry, maxTokensParameter: 'max_completion_tokens' }]),
      'providers.json',
      {},
    );
    expect(read?.maxTokensParameter).toBe('max_completion_tokens');
    expect(parseProviders(JSON.stringify([entry]), 'providers.json', {})[0]?.maxTokensParameter).toBeUndefined();
    const bad = (): unknown =>
      parseProviders(JSON.stringify([{ ...entry, maxTokensParameter: 'max_output_tokens' }]), 'providers.json', {});
    expect(bad).toThrow(GatewayConfigError);
    expect(bad).toThrow(/provider 0: "maxTokensParameter" must be "max_tokens" or "max_completion_tokens"/);
  });
});
