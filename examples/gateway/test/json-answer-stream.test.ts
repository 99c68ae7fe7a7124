import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completionEvents } from '../src/request/json-answer-stream.js';
import { sampleSum, SpanRecorder } from './harness.js';
import { post, startLoggedGateway, startUpstream } from './misbehaving-upstream.js';
import {
  startScriptedGateway,
  startScriptedUpstream,
  type ScriptedGateway,
  type ScriptedUpstream,
  type ScriptStep,
} from './scripted-upstream.js';

/*
 * A provider that ignores `stream: true` and answers a chat completion as one JSON body. The
 * gateway used to fail the attempt and try the next provider, so the answer was billed and thrown
 * away and the next one billed again. Now the completion is served as the stream it would have
 * been, through the same relay: the clients (OpenAI chat, Anthropic messages, Responses) get their
 * streams, the usage is recorded once, the attempt is the provider's success and the next
 * provider is not called. A body that is not a chat completion still fails over.
 */

const CHAT = '/v1/chat/completions';
const MODEL = 'json-only';
const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

const completion = (
  choices: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> =>
  Object.assign(
    { id: 'chatcmpl-json', object: 'chat.completion', created: 1_700_000_000, model: MODEL, choices, usage: USAGE },
    extra,
  );
const textChoice = (content: string, index = 0, finish = 'stop'): Record<string, unknown> => ({
  index,
  message: { role: 'assistant', content, refusal: null },
  logprobs: null,
  finish_reason: finish,
});
const TOOL_CALLS = [
  { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
  { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{"zone":"CET"}' } },
];
const toolChoice = {
  index: 0,
  message: { role: 'assistant', content: null, tool_calls: TOOL_CALLS },
  finish_reason: 'tool_calls',
};
const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** The backup provider's stream, saying "from backup". */
const BACKUP_STREAM: ScriptStep[] = [
  { afterMs: 0, data: { id: 'b', model: MODEL, choices: [{ index: 0, delta: { content: 'from backup' } }] } },
  { afterMs: 0, data: { id: 'b', model: MODEL, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } },
  { afterMs: 0, data: '[DONE]' },
];

let gw: ScriptedGateway;
let backup: ScriptedUpstream;
const spans = new SpanRecorder();
let openai: OpenAI;

beforeAll(async () => {
  backup = await startScriptedUpstream();
  gw = await startScriptedGateway({ name: 'primary', models: [MODEL] }, [spans], {
    providers: [{ name: 'backup', baseUrl: `${backup.url}/v1`, models: [MODEL] }],
    env: { BREAKER_VOLUME_THRESHOLD: '100000' },
  });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
  await backup.close();
});
beforeEach(() => spans.clear());

const attemptSpans = () => spans.spans.filter((span) => span.name === `chat ${MODEL}`);
const streamRequest = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  Object.assign({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }, extra);
/** The `data:` payloads of an SSE text, parsed (but `[DONE]`). */
const events = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n\n')
    .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
    .map((event) => JSON.parse(event.slice(6)) as Record<string, unknown>);
const tokens = (metrics: string, type: string): number =>
  sampleSum(metrics, 'tokens_used_total', { provider: 'primary', model: MODEL, token_type: type });

describe('a chat completion answering a request for a chat stream', () => {
  it('is streamed to the client, counted once as the provider success, without calling the next provider', async () => {
    gw.upstream.scriptJson(CHAT, completion([textChoice('Hello from JSON')]));
    const before = await gw.scrape();
    const answer = await post(gw.url, CHAT, streamRequest());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await answer.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = events(text);
    expect(
      chunks.every((chunk) => chunk['object'] === 'chat.completion.chunk' && chunk['id'] === 'chatcmpl-json'),
    ).toBe(true);
    expect(chunks.map((chunk) => chunk['choices'])).toEqual([
      [{ index: 0, delta: { role: 'assistant', content: 'Hello from JSON' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
    ]);
    // The client did not ask for the usage.
    expect(text).not.toContain('"usage"');
    expect(backup.lastBody(CHAT)).toBeUndefined();

    const metrics = await gw.scrape();
    const increase = (name: string, labels: Record<string, string>): number =>
      sampleSum(metrics, name, labels) - sampleSum(before, name, labels);
    expect([
      tokens(metrics, 'input') - tokens(before, 'input'),
      tokens(metrics, 'output') - tokens(before, 'output'),
    ]).toEqual([10, 5]);
    expect(increase('model_inference_requests_total', { provider: 'primary', model: MODEL, status: 'success' })).toBe(
      1,
    );
    expect(increase('model_inference_requests_total', { provider: 'primary', model: MODEL, status: 'error' })).toBe(0);
    expect(increase('gatewayz_time_to_first_token_seconds_count', { provider: 'primary', model: MODEL })).toBe(1);
    // Its chunks were made at once from the whole answer: no time between them, nor per output token.
    expect(increase('gen_ai_client_operation_time_per_output_chunk_count', {})).toBe(0);
    expect(increase('gen_ai_server_time_per_output_token_count', {})).toBe(0);
    expect(increase('gen_ai_server_time_to_first_token_count', {})).toBe(1);
    expect(increase('gatewayz_failovers_total', {})).toBe(0);
    const [span, ...others] = attemptSpans();
    expect(others).toEqual([]);
    expect(span?.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'chatcmpl-json',
      'gen_ai.response.model': MODEL,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    });
    expect(span?.attributes['error.type']).toBeUndefined();
    expect(span?.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);

    await gw.gateway.recorder.flush();
    const health = await gw.gateway.store.getModelHealth('primary', MODEL);
    expect([health?.callCount, health?.successCount]).toEqual([1, 1]);
  });

  it("closes a half-open breaker: the provider's trial succeeded", async () => {
    // A gateway whose breaker opens at the first failure and goes half-open 50 ms later.
    const alone = await startScriptedGateway({ name: 'primary', models: [MODEL] }, [], {
      env: { BREAKER_VOLUME_THRESHOLD: '1', BREAKER_RESET_TIMEOUT_MS: '50' },
    });
    try {
      const state = (): string | undefined => alone.gateway.router.breakerStates()['primary'];
      const stream = (): Promise<Response> => post(alone.url, CHAT, streamRequest());
      // Nothing scripted yet: the upstream answers 404, the provider's fault.
      expect((await stream()).status).toBe(502);
      // Open, or already half-open when answering the 502 took the machine more than 50 ms.
      expect(['open', 'half_open']).toContain(state());
      for (let waited = 0; state() !== 'half_open'; waited += 10) {
        if (waited > 5000) throw new Error('the breaker did not go half-open');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      alone.upstream.scriptJson(CHAT, completion([textChoice('Trial')]));
      const trial = await stream();
      expect(trial.status).toBe(200);
      expect(await trial.text()).toContain('"Trial"');
      expect(state()).toBe('closed');
    } finally {
      await alone.close();
    }
  });

  it('sends the usage chunk, once, only to a client that asked for it (stream_options.include_usage)', async () => {
    gw.upstream.scriptJson(CHAT, completion([textChoice('Counted')]));
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withUsage = chunks.filter((chunk) => chunk.usage !== null && chunk.usage !== undefined);
    expect(withUsage).toHaveLength(1);
    expect(withUsage[0]).toMatchObject({ choices: [], usage: USAGE });
    expect(chunks.at(-1)).toBe(withUsage[0]);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Counted');
    // The gateway asks every upstream for the usage, whatever the client asked.
    expect(gw.upstream.lastBody(CHAT)?.['stream_options']).toEqual({ include_usage: true });
  });

  it('streams tool calls with their index, id, name and arguments, as the OpenAI SDK puts them together', async () => {
    gw.upstream.scriptJson(CHAT, completion([toolChoice]));
    const stream = openai.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'weather and time?' }],
      tools: [WEATHER_TOOL],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls).toEqual(TOOL_CALLS);
    expect(attemptSpans()[0]?.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it("keeps the message's other fields, each on a delta of its own: annotations, reasoning details, audio", async () => {
    const annotations = [
      { type: 'url_citation', url_citation: { url: 'https://example.com', title: 'Ex', start_index: 0, end_index: 3 } },
    ];
    const reasoningDetails = [{ type: 'reasoning.text', text: 'Look it up', signature: 'sig', index: 0 }];
    const audio = { id: 'audio_1', data: 'UklGRg==', expires_at: 1_700_003_600, transcript: 'See the docs.' };
    const message = { role: 'assistant', content: 'See the docs.', reasoning: 'Look it up', annotations, audio };
    gw.upstream.scriptJson(
      CHAT,
      completion([{ index: 0, message: { ...message, reasoning_details: reasoningDetails }, finish_reason: 'stop' }]),
    );
    const stream = openai.chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: 'docs?' }] });
    expect((await stream.finalChatCompletion()).choices[0]?.message).toMatchObject({
      ...message,
      reasoning_details: reasoningDetails,
    });
  });

  it('streams a tool call of another type than function (custom) with its own type and payload', async () => {
    const custom = { id: 'call_c', type: 'custom', custom: { name: 'grep', input: 'TODO' } };
    const gemini = { id: 'call_g', type: 'function', function: TOOL_CALLS[0]?.function, extra_content: { sig: 'x' } };
    gw.upstream.scriptJson(
      CHAT,
      completion([
        { index: 0, message: { role: 'assistant', tool_calls: [custom, gemini] }, finish_reason: 'tool_calls' },
      ]),
    );
    const chunks = events(await (await post(gw.url, CHAT, streamRequest())).text());
    const deltas = chunks.map((chunk) => (chunk['choices'] as Array<{ delta: Record<string, unknown> }>)[0]?.delta);
    expect(deltas.map((delta) => delta?.['tool_calls']).filter((calls) => calls !== undefined)).toEqual([
      [{ index: 0, ...custom }],
      [{ index: 1, ...gemini }],
    ]);
  });

  it('streams every choice (n = 2) with its own finish reason, and a refusal', async () => {
    gw.upstream.scriptJson(
      CHAT,
      completion([
        textChoice('Second', 1, 'length'),
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
          finish_reason: 'stop',
        },
      ]),
    );
    const stream = openai.chat.completions.stream({ model: MODEL, n: 2, messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    expect(
      final.choices.map((choice) => [
        choice.index,
        choice.message.content,
        choice.message.refusal,
        choice.finish_reason,
      ]),
    ).toEqual([
      [0, null, 'I cannot help with that.', 'stop'],
      [1, 'Second', null, 'length'],
    ]);
    expect(attemptSpans()[0]?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop', 'length']);
  });

  it('is translated into an Anthropic messages stream for /v1/messages', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    gw.upstream.scriptJson(CHAT, completion([textChoice('Bonjour')]));
    const text = await anthropic.messages
      .stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(text.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(text.stop_reason).toBe('end_turn');
    expect(text.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });

    gw.upstream.scriptJson(CHAT, completion([toolChoice]));
    const tools = await anthropic.messages
      .stream({
        model: MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'weather and time?' }],
        tools: [{ name: 'weather', input_schema: { type: 'object' } }],
      })
      .finalMessage();
    expect(tools.stop_reason).toBe('tool_use');
    expect(tools.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'time', input: { zone: 'CET' } },
    ]);
    expect(backup.lastBody(CHAT)).toBeUndefined();
  });

  it('is translated into a Responses stream for /v1/responses at a chat-only provider', async () => {
    gw.upstream.scriptJson(CHAT, completion([textChoice('Responded')]));
    const stream = openai.responses.stream({ model: MODEL, input: 'hi' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const response = await stream.finalResponse();
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Responded');
    expect(response.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    expect(types).toContain('response.output_text.delta');
    expect(types.at(-1)).toBe('response.completed');
    expect(backup.lastBody(CHAT)).toBeUndefined();
  });
});

describe('a JSON body that is not a chat completion', () => {
  it.each([
    ['an error (OpenRouter, status 200)', { error: { code: 502, message: 'overloaded' } }, '502'],
    [
      'an error beside its choices',
      completion([textChoice('partial')], { error: { message: 'cut' } }),
      'upstream_stream_error',
    ],
    ['no choices', { object: 'list', data: [] }, 'invalid_response'],
    [
      'choices without a message',
      { object: 'text_completion', choices: [{ index: 0, text: 'legacy' }] },
      'invalid_response',
    ],
  ])('fails over to the next provider: %s', async (_what, body, errorType) => {
    gw.upstream.scriptJson(CHAT, body);
    backup.script(CHAT, BACKUP_STREAM);
    const answer = await post(gw.url, CHAT, streamRequest());
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('from backup');
    expect(attemptSpans().map((span) => span.attributes['error.type'])).toEqual([errorType, undefined]);
  });
});

describe('a JSON completion with a content coding', () => {
  it('fails over: the gateway asks for no coding and decodes none', async () => {
    const coded = await startUpstream((_model, _stream, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        .end(gzipSync(JSON.stringify(completion([textChoice('zipped')])))),
    );
    const gateway = await startLoggedGateway([
      { name: 'coded', baseUrl: coded.baseUrl, models: [MODEL] },
      { name: 'backup', baseUrl: `${backup.url}/v1`, models: [MODEL] },
    ]);
    try {
      backup.script(CHAT, BACKUP_STREAM);
      const answer = await post(gateway.url, CHAT, streamRequest());
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('from backup');
      expect(coded.received.get(MODEL)).toBe(1);
      const metrics = await gateway.scrape();
      expect(
        sampleSum(metrics, 'model_inference_requests_total', { provider: 'coded', model: MODEL, status: 'error' }),
      ).toBe(1);
    } finally {
      await gateway.close();
      await coded.close();
    }
  });
});

describe('completionEvents', () => {
  it('puts the role on the first chunk, reasoning before the text, the logprobs with the text, and the usage when asked', () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }] };
    const text = completionEvents(
      {
        id: 'c1',
        object: 'chat.completion',
        model: 'm',
        system_fingerprint: 'fp_1',
        choices: [
          {
            message: { role: 'assistant', reasoning_content: 'Think', content: [{ type: 'text', text: 'Hi' }] },
            logprobs,
            finish_reason: 'stop',
          },
        ],
        usage: USAGE,
      },
      true,
    );
    expect(events(text)).toEqual([
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'm',
        system_fingerprint: 'fp_1',
        choices: [
          { index: 0, delta: { role: 'assistant', reasoning_content: 'Think' }, logprobs: null, finish_reason: null },
        ],
      },
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'm',
        system_fingerprint: 'fp_1',
        choices: [{ index: 0, delta: { content: 'Hi' }, logprobs, finish_reason: null }],
      },
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        model: 'm',
        system_fingerprint: 'fp_1',
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
      },
      { id: 'c1', object: 'chat.completion.chunk', model: 'm', system_fingerprint: 'fp_1', choices: [], usage: USAGE },
    ]);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    // An empty message still has its role chunk (its empty fields have nothing to stream); no usage chunk unless asked.
    const empty = { content: '', refusal: null, annotations: [], audio: null, tool_calls: [], function_call: null };
    expect(
      events(completionEvents({ choices: [{ message: empty, finish_reason: 'length' }], usage: USAGE }, false)),
    ).toEqual([
      {
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      },
      { object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }] },
    ]);
  });
});
