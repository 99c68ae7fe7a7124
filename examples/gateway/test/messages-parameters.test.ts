import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanRecorder } from './harness.js';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * The generation parameters of /v1/messages (Anthropic Messages translated to an OpenAI chat
 * upstream): what the upstream is sent, what the attempt span says was sent, what is refused, and
 * the stop reason of a content-filter finish. The official Anthropic SDK calls the gateway; a
 * loopback upstream answers as an OpenAI-compatible server.
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-params';

let gw: ScriptedGateway;
/** The SDK as it is: `anthropic-version: 2026-10-21`, which has no temperature, top_p or top_k. */
let anthropic: Anthropic;
/** The SDK on API version 2023-06-01, which still has them. */
let legacy: Anthropic;
const spans = new SpanRecorder();

beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'openai', models: [model] }, [spans]);
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  legacy = new Anthropic({
    baseURL: gw.url,
    apiKey: 'sk-ant-test',
    maxRetries: 0,
    defaultHeaders: { 'anthropic-version': '2023-06-01' },
  });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  spans.clear();
});

const usage = { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 };
const completion = (content: string, finish: string): Record<string, unknown> => ({
  id: 'chatcmpl-params',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
  usage,
});
const chunkBase = { id: 'chatcmpl-params', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const chunk = (delta: Record<string, unknown>, finish: string | null = null): ScriptStep => ({
  afterMs: 5,
  data: { ...chunkBase, choices: [{ index: 0, delta, finish_reason: finish }] },
});
const streamed = (text: string, finish: string): ScriptStep[] => [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: text }),
  chunk({}, finish),
  { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
  { afterMs: 0, data: '[DONE]' },
];

/** A Messages request with fields the SDK's 2026-10-21 types no longer have (sent as they are). */
const withExtras = (params: Record<string, unknown>): Anthropic.MessageCreateParamsNonStreaming =>
  params as unknown as Anthropic.MessageCreateParamsNonStreaming;

const attemptSpan = () => {
  const span = spans.spans.find((candidate) => candidate.name === `chat ${model}`);
  if (span === undefined) throw new Error('no attempt span');
  return span;
};

async function failure(request: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await request.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Anthropic.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

const errorTypeOf = (error: InstanceType<typeof Anthropic.APIError>): unknown =>
  (error.error as { error?: { type?: unknown } } | undefined)?.error?.type;

const sampling = {
  model,
  max_tokens: 4096,
  temperature: 0.3,
  top_p: 0.8,
  stop_sequences: ['END', 'STOP'],
  metadata: { user_id: 'user-7f3a' },
  thinking: { type: 'enabled', budget_tokens: 2048 },
  messages: [{ role: 'user', content: 'Count to three.' }],
};

describe('parameters of /v1/messages sent upstream', () => {
  it('sends temperature, top_p, stop_sequences, metadata.user_id and a thinking budget, and the span says so', async () => {
    gw.upstream.scriptJson(CHAT, completion('1, 2, 3', 'stop'));
    const message = await legacy.messages.create(withExtras(sampling));
    expect(message.content).toEqual([{ type: 'text', text: '1, 2, 3' }]);
    const sent = gw.upstream.lastBody(CHAT);
    expect(sent).toMatchObject({
      max_tokens: 4096,
      temperature: 0.3,
      top_p: 0.8,
      stop: ['END', 'STOP'],
      user: 'user-7f3a',
      // A 2,048-token thinking budget is a low reasoning effort.
      reasoning_effort: 'low',
    });
    expect(sent).not.toHaveProperty('top_k');
    expect(attemptSpan().attributes).toMatchObject({
      'gen_ai.request.max_tokens': 4096,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.top_p': 0.8,
      'gen_ai.request.stop_sequences': ['END', 'STOP'],
    });
    expect(attemptSpan().attributes['gen_ai.request.top_k']).toBeUndefined();
  });

  it('sends the same parameters on a stream', async () => {
    gw.upstream.script(CHAT, streamed('1, 2, 3', 'stop'));
    const stream = legacy.messages.stream({
      ...withExtras(sampling),
      thinking: { type: 'enabled', budget_tokens: 20_000 },
      max_tokens: 32_000,
    });
    expect((await stream.finalMessage()).content).toEqual([{ type: 'text', text: '1, 2, 3' }]);
    expect(gw.upstream.lastBody(CHAT)).toMatchObject({
      stream: true,
      max_tokens: 32_000,
      temperature: 0.3,
      top_p: 0.8,
      stop: ['END', 'STOP'],
      user: 'user-7f3a',
      reasoning_effort: 'high',
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(attemptSpan().attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.top_p': 0.8,
      'gen_ai.request.stop_sequences': ['END', 'STOP'],
    });
  });

  it("sends output_config's effort and JSON schema format (the span's output type is json)", async () => {
    gw.upstream.scriptJson(CHAT, completion('{"count":3}', 'stop'));
    const schema = {
      type: 'object',
      properties: { count: { type: 'integer' } },
      required: ['count'],
      additionalProperties: false,
    };
    await anthropic.messages.create({
      model,
      max_tokens: 8000,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      output_config: { effort: 'xhigh', format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'How many?' }],
    });
    const sent = gw.upstream.lastBody(CHAT);
    // The explicit effort wins over the one a thinking budget maps to.
    expect(sent?.['reasoning_effort']).toBe('xhigh');
    expect(sent?.['response_format']).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    });
    expect(attemptSpan().attributes['gen_ai.output.type']).toBe('json');

    // Anthropic's highest effort, max, is OpenAI's highest level (OpenAI has no max).
    await anthropic.messages.create({
      model,
      max_tokens: 100,
      output_config: { effort: 'max' },
      messages: [{ role: 'user', content: 'How many?' }],
    });
    expect(gw.upstream.lastBody(CHAT)?.['reasoning_effort']).toBe('xhigh');

    // Adaptive thinking, or none: the model decides, nothing is sent.
    await anthropic.messages.create({
      model,
      max_tokens: 100,
      thinking: { type: 'adaptive' },
      messages: [{ role: 'user', content: 'How many?' }],
    });
    expect(gw.upstream.lastBody(CHAT)).not.toHaveProperty('reasoning_effort');
    expect(gw.upstream.lastBody(CHAT)).not.toHaveProperty('response_format');
  });
});

describe('parameters of /v1/messages that cannot be honoured', () => {
  it('refuses top_k, and sampling parameters on an API version without them, in Anthropic shape', async () => {
    gw.upstream.scriptJson(CHAT, completion('unused', 'stop'));
    const topK = await failure(legacy.messages.create(withExtras({ ...sampling, top_k: 40 })));
    expect(topK.status).toBe(400);
    expect(errorTypeOf(topK)).toBe('invalid_request_error');
    expect(topK.message).toContain('top_k');

    // The SDK's own version (2026-10-21) has no temperature: Anthropic answers 400, and so does the gateway.
    const removed = await failure(anthropic.messages.create(withExtras({ ...sampling, thinking: undefined })));
    expect(removed.status).toBe(400);
    expect(errorTypeOf(removed)).toBe('invalid_request_error');
    expect(removed.message).toContain('anthropic-version');
    // Nothing reached a provider.
    expect(spans.spans.filter((span) => span.name === `chat ${model}`)).toEqual([]);
  });

  it('refuses values Anthropic refuses, and containers and MCP servers', async () => {
    const cases: Array<[Anthropic, Record<string, unknown>, string]> = [
      [legacy, { temperature: 1.5 }, 'temperature'],
      [anthropic, { thinking: { type: 'enabled', budget_tokens: 512 } }, 'budget_tokens'],
      [anthropic, { thinking: { type: 'enabled', budget_tokens: 4096 } }, 'less than max_tokens'],
      [anthropic, { stop_sequences: 'END' }, 'stop_sequences'],
      [anthropic, { metadata: { user_id: 'u', email: 'a@b.c' } }, 'metadata.email'],
      [anthropic, { output_config: { effort: 'extreme' } }, 'output_config.effort'],
      [anthropic, { container: 'container_1' }, 'container'],
      [anthropic, { mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'x' }] }, 'mcp_servers'],
    ];
    for (const [client, extra, mentioned] of cases) {
      const refused = await failure(
        client.messages.create(
          withExtras({ model, max_tokens: 4096, messages: [{ role: 'user', content: 'x' }], ...extra }),
        ),
      );
      expect(refused.status, JSON.stringify(extra)).toBe(400);
      expect(errorTypeOf(refused)).toBe('invalid_request_error');
      expect(refused.message).toContain(mentioned);
    }
  });
});

describe('stop reason of a content-filter finish on /v1/messages', () => {
  it('is refusal, not end_turn, answered as JSON', async () => {
    gw.upstream.scriptJson(CHAT, completion('I cannot', 'content_filter'));
    const message = await anthropic.messages.create({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(message.stop_reason).toBe('refusal');
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['content_filter']);
  });

  it('is refusal, not end_turn, streamed', async () => {
    gw.upstream.script(CHAT, streamed('I cannot', 'content_filter'));
    const stream = anthropic.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'x' }] });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'I cannot' }]);
    expect(message.stop_reason).toBe('refusal');
  });
});
