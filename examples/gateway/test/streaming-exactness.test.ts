import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleSum, SpanRecorder } from './harness.js';
import {
  leaveChatStreamAtFirstContent,
  startScriptedGateway,
  type ScriptedGateway,
  type ScriptStep,
} from './scripted-upstream.js';

/*
 * The streaming latency and token signal against known timing: a loopback upstream writes its
 * chunks after scripted delays, the official OpenAI and Anthropic SDKs read the gateway's stream,
 * and the recorded histograms (and attempt spans) are compared with the script. Timers never fire
 * early, so every measured time is at least the scripted one (less 5 ms for clock granularity);
 * the upper tolerance (SLACK) absorbs a loaded machine. Formulas (time per output token) are
 * checked exactly against the recorded values they are made of.
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const model = 'gpt-timed';
const SLACK = 0.25;
const EARLY = 0.005;

const chunkBase = { id: 'chatcmpl-timed', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const delta = (fields: Record<string, unknown>, finish: string | null = null, index = 0): Record<string, unknown> => ({
  ...chunkBase,
  choices: [{ index, delta: fields, finish_reason: finish }],
});
const usageChunk = (
  prompt: number,
  completion: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  ...chunkBase,
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...extra },
});

let gw: ScriptedGateway;
const spans = new SpanRecorder();
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  gw = await startScriptedGateway(
    {
      name: 'openai',
      models: [model],
      responsesApi: true,
      pricing: { [model]: { inputPerMillionTokens: 2, cachedInputPerMillionTokens: 0.5, outputPerMillionTokens: 8 } },
    },
    [spans],
  );
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  spans.clear();
});

interface Histogram {
  sum: number;
  count: number;
}

/** Histogram deltas across `run` (sum and count of every series whose labels include `labels`). */
async function measure<T>(run: () => Promise<T>): Promise<{
  result: T;
  histogram: (name: string, labels?: Record<string, string>) => Histogram;
  counter: (name: string, labels?: Record<string, string>) => number;
}> {
  const before = await gw.scrape();
  const result = await run();
  // The relay records when the stream ends, right after the last bytes reach the client.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await gw.scrape();
  const counter = (name: string, labels: Record<string, string> = {}): number =>
    sampleSum(after, name, labels) - sampleSum(before, name, labels);
  return {
    result,
    counter,
    histogram: (name, labels = {}) => ({
      sum: counter(`${name}_sum`, labels),
      count: counter(`${name}_count`, labels),
    }),
  };
}

/** One observation of `expectedSeconds` (scripted), measured no earlier than it and at most SLACK later. */
function expectObserved(observed: Histogram, expectedSeconds: number): void {
  expect(observed.count).toBe(1);
  expect(observed.sum).toBeGreaterThanOrEqual(expectedSeconds - EARLY);
  expect(observed.sum).toBeLessThanOrEqual(expectedSeconds + SLACK);
}

const attemptSpan = () => {
  const span = spans.spans.find((candidate) => candidate.name === `chat ${model}`);
  if (span === undefined) throw new Error('no attempt span');
  return span;
};

async function readChat(
  extra: Record<string, unknown> = {},
): Promise<{ firstOutput: number; end: number; chunks: OpenAI.ChatCompletionChunk[] }> {
  const start = performance.now();
  const stream = await openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let firstOutput = 0;
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (firstOutput === 0 && (choice?.delta.content || choice?.delta.tool_calls))
      firstOutput = performance.now() - start;
    chunks.push(chunk);
  }
  return { firstOutput: firstOutput / 1000, end: (performance.now() - start) / 1000, chunks };
}

describe('streamed chat timing against a client with the OpenAI SDK', () => {
  it('records time to first chunk, per chunk, to first token, per output token and duration as scripted', async () => {
    gw.upstream.script(CHAT, [
      { afterMs: 200, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 300, data: delta({ content: 'Hel' }) },
      { afterMs: 100, data: delta({ content: 'lo' }) },
      { afterMs: 100, data: delta({ content: ' the' }) },
      { afterMs: 100, data: delta({ content: 're' }) },
      { afterMs: 100, data: delta({ content: '!' }) },
      { afterMs: 100, data: delta({}, 'stop') },
      { afterMs: 0, data: usageChunk(1000, 5, { prompt_tokens_details: { cached_tokens: 600 } }) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const {
      result: client,
      histogram,
      counter,
    } = await measure(() => readChat({ stream_options: { include_usage: true } }));
    // What the client saw: the first content at 0.5 s, the end at 1.0 s, usage in the last chunk only.
    expect(client.firstOutput).toBeGreaterThanOrEqual(0.5 - EARLY);
    expect(client.chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 600 },
    });
    expect(client.chunks.slice(0, -1).every((chunk) => chunk.usage === undefined || chunk.usage === null)).toBe(true);

    // Client side (the gateway's call to the provider): the first chunk is the role-only one.
    const firstChunk = histogram('gen_ai_client_operation_time_to_first_chunk');
    expectObserved(firstChunk, 0.2);
    const perChunk = histogram('gen_ai_client_operation_time_per_output_chunk');
    expect(perChunk.count).toBe(7); // every chunk after the first: 5 content, finish, usage
    expect(perChunk.sum).toBeGreaterThanOrEqual(0.8 - EARLY);
    expect(perChunk.sum).toBeLessThanOrEqual(0.8 + SLACK);
    const clientDuration = histogram('gen_ai_client_operation_duration');
    expectObserved(clientDuration, 1.0);
    expect(attemptSpan().attributes['gen_ai.response.time_to_first_chunk']).toBeCloseTo(firstChunk.sum, 9);

    // Server side (the gateway answering its client): the first token is the first content.
    const serverDuration = histogram('gen_ai_server_request_duration');
    expectObserved(serverDuration, 1.0);
    expect(serverDuration.sum).toBeLessThanOrEqual(client.end);
    const firstToken = histogram('gen_ai_server_time_to_first_token');
    expectObserved(firstToken, 0.5);
    expect(firstToken.sum).toBeLessThanOrEqual(client.firstOutput);
    const perToken = histogram('gen_ai_server_time_per_output_token');
    expect(perToken.count).toBe(1);
    expect(perToken.sum).toBeCloseTo((serverDuration.sum - firstToken.sum) / (5 - 1), 9);
    expect(perToken.sum).toBeGreaterThanOrEqual(0.125 - EARLY);
    expect(perToken.sum).toBeLessThanOrEqual(0.125 + SLACK);
    // The seed's time to first token (per provider attempt).
    expectObserved(histogram('gatewayz_time_to_first_token_seconds'), 0.5);

    // Tokens and cost: 400 uncached at 2, 600 cached at 0.5, 5 output at 8 USD per million.
    expect(counter('tokens_used_total', { token_type: 'input' })).toBe(1000);
    expect(counter('tokens_used_total', { token_type: 'cache_read' })).toBe(600);
    expect(counter('gatewayz_cost_by_provider_total')).toBeCloseTo((400 * 2 + 600 * 0.5 + 5 * 8) / 1e6, 12);
    // The attempt span carries the number the cost counter got.
    expect(attemptSpan().attributes['gatewayz.usage.cost_usd']).toBeCloseTo((400 * 2 + 600 * 0.5 + 5 * 8) / 1e6, 15);
    expect(attemptSpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.cache_read.input_tokens': 600,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.finish_reasons': ['stop'],
    });
  });

  it('takes a tool-call delta as the first token of a stream that answers with a tool call', async () => {
    gw.upstream.script(CHAT, [
      {
        afterMs: 150,
        data: delta({
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }],
        }),
      },
      { afterMs: 100, data: delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) },
      { afterMs: 100, data: delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }) },
      { afterMs: 100, data: delta({}, 'tool_calls') },
      { afterMs: 0, data: usageChunk(20, 9) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const { histogram } = await measure(() => readChat());
    const duration = histogram('gen_ai_server_request_duration');
    const firstToken = histogram('gen_ai_server_time_to_first_token');
    expectObserved(firstToken, 0.15);
    expectObserved(histogram('gatewayz_time_to_first_token_seconds'), 0.15);
    const perToken = histogram('gen_ai_server_time_per_output_token');
    expect(perToken.count).toBe(1);
    expect(perToken.sum).toBeCloseTo((duration.sum - firstToken.sum) / (9 - 1), 9);
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it('takes streamed reasoning as the first token, and leaves hidden reasoning out of the tokens after it', async () => {
    // Reasoning streamed (DeepSeek's reasoning_content): the first token is at 0.1 s.
    gw.upstream.script(CHAT, [
      { afterMs: 100, data: delta({ role: 'assistant', content: '', reasoning_content: 'Let' }) },
      { afterMs: 100, data: delta({ reasoning_content: ' me think' }) },
      { afterMs: 300, data: delta({ content: 'Yes' }) },
      { afterMs: 100, data: delta({ content: '.' }) },
      { afterMs: 0, data: delta({}, 'stop') },
      { afterMs: 0, data: usageChunk(10, 4, { completion_tokens_details: { reasoning_tokens: 2 } }) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const streamed = await measure(() => readChat());
    const streamedFirst = streamed.histogram('gen_ai_server_time_to_first_token');
    expectObserved(streamedFirst, 0.1);
    expect(streamed.histogram('gen_ai_server_time_per_output_token').sum).toBeCloseTo(
      (streamed.histogram('gen_ai_server_request_duration').sum - streamedFirst.sum) / (4 - 1),
      9,
    );

    // The same stream to an Anthropic client: /v1/messages passes on text only, so its first
    // token is the first text (0.5 s), and the 2 reasoning tokens it never saw came before it.
    const toAnthropic = await measure(() =>
      anthropic.messages.stream({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(),
    );
    expect(toAnthropic.result.content).toMatchObject([{ type: 'text', text: 'Yes.' }]);
    const anthropicFirst = toAnthropic.histogram('gen_ai_server_time_to_first_token');
    expectObserved(anthropicFirst, 0.5);
    expect(toAnthropic.histogram('gen_ai_server_time_per_output_token').sum).toBeCloseTo(
      (toAnthropic.histogram('gen_ai_server_request_duration').sum - anthropicFirst.sum) / (4 - 2 - 1),
      9,
    );
    // The provider's first token is still its first reasoning delta.
    expectObserved(toAnthropic.histogram('gatewayz_time_to_first_token_seconds'), 0.1);

    // Reasoning hidden (OpenAI's o-series on chat completions): 40 reasoning tokens were made
    // before the first visible token at 0.5 s; the 2 tokens after it took 0.1 s each.
    gw.upstream.script(CHAT, [
      { afterMs: 100, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 400, data: delta({ content: 'A' }) },
      { afterMs: 100, data: delta({ content: 'B' }) },
      { afterMs: 100, data: delta({ content: 'C' }) },
      { afterMs: 0, data: delta({}, 'stop') },
      { afterMs: 0, data: usageChunk(10, 43, { completion_tokens_details: { reasoning_tokens: 40 } }) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const hidden = await measure(() => readChat());
    const hiddenFirst = hidden.histogram('gen_ai_server_time_to_first_token');
    expectObserved(hiddenFirst, 0.5);
    const perToken = hidden.histogram('gen_ai_server_time_per_output_token');
    expect(perToken.sum).toBeCloseTo(
      (hidden.histogram('gen_ai_server_request_duration').sum - hiddenFirst.sum) / (3 - 1),
      9,
    );
    expect(perToken.sum).toBeGreaterThanOrEqual(0.1 - EARLY);
    expect(perToken.sum).toBeLessThanOrEqual(0.1 + SLACK);
    expect(hidden.counter('tokens_used_total', { token_type: 'reasoning' })).toBe(40);
  });

  it('reports one finish reason per choice for n = 2, streamed and not', async () => {
    gw.upstream.script(CHAT, [
      { afterMs: 20, data: delta({ role: 'assistant', content: '' }, null, 0) },
      { afterMs: 0, data: delta({ role: 'assistant', content: '' }, null, 1) },
      { afterMs: 20, data: delta({ content: 'A' }, null, 1) },
      { afterMs: 20, data: delta({ content: 'B' }, null, 0) },
      { afterMs: 20, data: delta({}, 'stop', 0) },
      { afterMs: 0, data: delta({}, 'length', 1) },
      { afterMs: 0, data: usageChunk(10, 4) },
      { afterMs: 0, data: '[DONE]' },
    ]);
    await measure(() => readChat({ n: 2 }));
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['stop', 'length']);

    spans.clear();
    gw.upstream.scriptJson(CHAT, {
      id: 'chatcmpl-two',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        { index: 0, message: { role: 'assistant', content: 'A' }, finish_reason: 'length' },
        { index: 1, message: { role: 'assistant', content: 'B' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
    });
    const completion = await openai.chat.completions.create({
      model,
      n: 2,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices.map((choice) => choice.finish_reason)).toEqual(['length', 'stop']);
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['length', 'stop']);
  });
});

describe('streams that end badly', () => {
  it('ends at the upstream error event (OpenAI and OpenRouter shapes), with its message, for OpenAI and Anthropic clients', async () => {
    // The upstream reports its failure and then keeps the connection open for 2 s.
    const failing: ScriptStep[] = [
      { afterMs: 20, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 20, data: delta({ content: 'A' }) },
      {
        afterMs: 20,
        data: { error: { message: 'The model is overloaded', type: 'server_error', code: 'overloaded' } },
      },
      { afterMs: 2000, data: '[DONE]' },
    ];
    gw.upstream.script(CHAT, failing);
    const openAiCall = await measure(async () => {
      const start = performance.now();
      const error = await readChat().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      return { error, seconds: (performance.now() - start) / 1000 };
    });
    expect(openAiCall.result.error).toBeInstanceOf(OpenAI.APIError);
    expect(String(openAiCall.result.error)).toContain('The model is overloaded');
    expect(openAiCall.result.seconds).toBeLessThan(1);
    expect(openAiCall.histogram('gen_ai_server_request_duration', { error_type: 'upstream_stream_error' }).count).toBe(
      1,
    );
    expect(
      openAiCall.histogram('gen_ai_client_operation_duration', { error_type: 'upstream_stream_error' }).count,
    ).toBe(1);
    expect(openAiCall.histogram('gen_ai_server_time_to_first_token').count).toBe(0);

    gw.upstream.script(CHAT, failing);
    const anthropicCall = await measure(async () => {
      const stream = anthropic.messages.stream({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
      return stream.finalMessage().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    });
    expect(anthropicCall.result).toBeInstanceOf(Anthropic.APIError);
    expect(String(anthropicCall.result)).toContain('The model is overloaded');
    expect(
      anthropicCall.histogram('gen_ai_server_request_duration', { error_type: 'upstream_stream_error' }).count,
    ).toBe(1);

    // OpenRouter's shape: a chunk with a top-level error and a choice that finished with "error".
    gw.upstream.script(CHAT, [
      failing[0] as ScriptStep,
      failing[1] as ScriptStep,
      {
        afterMs: 20,
        data: { ...delta({ content: '' }, 'error'), error: { code: 502, message: 'The model is overloaded' } },
      },
      { afterMs: 2000, data: '[DONE]' },
    ]);
    const openRouterCall = await measure(() =>
      readChat().then(
        () => 'ended',
        (thrown: unknown) => String(thrown),
      ),
    );
    expect(openRouterCall.result).toContain('The model is overloaded');
    expect(
      openRouterCall.histogram('gen_ai_server_request_duration', { error_type: 'upstream_stream_error' }).count,
    ).toBe(1);
  });

  it('records a stream the upstream cuts as network_error, and a client that leaves as client_cancelled', async () => {
    gw.upstream.script(CHAT, [
      { afterMs: 50, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 100, data: delta({ content: 'A' }) },
      { afterMs: 100, destroy: true },
    ]);
    const cut = await measure(() =>
      readChat().then(
        () => 'ended',
        () => 'threw',
      ),
    );
    expect(cut.result).toBe('threw');
    expectObserved(cut.histogram('gen_ai_server_request_duration', { error_type: 'network_error' }), 0.25);
    expectObserved(cut.histogram('gen_ai_client_operation_duration', { error_type: 'network_error' }), 0.25);
    expect(cut.histogram('gen_ai_server_time_to_first_token').count).toBe(0);
    // The provider did produce a first token and chunks before it failed.
    expectObserved(cut.histogram('gen_ai_client_operation_time_to_first_chunk'), 0.05);
    expect(cut.histogram('gen_ai_client_operation_time_per_output_chunk').count).toBe(1);

    spans.clear();
    gw.upstream.script(CHAT, [
      { afterMs: 50, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 100, data: delta({ content: 'A' }) },
      { afterMs: 3000, data: delta({ content: 'B' }) },
    ]);
    const left = await measure(() => leaveChatStreamAtFirstContent(openai, model));
    expectObserved(left.histogram('gen_ai_server_request_duration', { error_type: 'client_cancelled' }), 0.15);
    expect(left.histogram('gen_ai_server_time_to_first_token').count).toBe(0);
    expect(attemptSpan().attributes['gatewayz.client_cancelled']).toBe(true);
    // No usage came: no cost on the span (what the key may have been charged is an estimate).
    expect(attemptSpan().attributes['gatewayz.usage.cost_usd']).toBeUndefined();
  });
});

/** One event of a native Responses API stream. */
const responsesEvent = (afterMs: number, type: string, fields: Record<string, unknown> = {}): ScriptStep => ({
  afterMs,
  event: type,
  data: { type, ...fields },
});

describe('answers from a provider that reports no usage', () => {
  it('leaves the cost off their attempt spans, streamed or not (not a cost of 0)', async () => {
    gw.upstream.scriptJson(CHAT, {
      id: 'chatcmpl-no-usage',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
    });
    const json = await measure(() =>
      openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(json.result.choices[0]?.message.content).toBe('hello');
    expect(attemptSpan().attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(attemptSpan().attributes['gatewayz.usage.cost_usd']).toBeUndefined();
    expect(json.counter('model_inference_requests_total', { provider: 'openai', status: 'success' })).toBe(1);

    spans.clear();
    gw.upstream.script(CHAT, [
      { afterMs: 0, data: delta({ role: 'assistant', content: 'hel' }) },
      { afterMs: 0, data: delta({ content: 'lo' }, 'stop') },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const streamed = await measure(() => readChat());
    expect(streamed.result.chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('hello');
    expect(attemptSpan().attributes['gatewayz.usage.cost_usd']).toBeUndefined();
    expect(streamed.counter('model_inference_requests_total', { provider: 'openai', status: 'success' })).toBe(1);
  });
});

describe('native Responses API streams (the OpenAI SDK against a Responses upstream)', () => {
  it('takes a reasoning summary as the first token, reads response.incomplete, and prices cached input', async () => {
    const response = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      id: 'resp_timed',
      object: 'response',
      created_at: 1_700_000_000,
      model,
      status,
      output: [],
      ...extra,
    });
    const usage = {
      input_tokens: 50,
      input_tokens_details: { cached_tokens: 20 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 10 },
      total_tokens: 80,
    };
    gw.upstream.script(RESPONSES, [
      responsesEvent(50, 'response.created', { sequence_number: 0, response: response('in_progress') }),
      responsesEvent(0, 'response.in_progress', { sequence_number: 1, response: response('in_progress') }),
      responsesEvent(100, 'response.reasoning_summary_text.delta', {
        sequence_number: 2,
        item_id: 'rs_1',
        output_index: 0,
        summary_index: 0,
        delta: 'Thinking',
      }),
      responsesEvent(400, 'response.output_text.delta', {
        sequence_number: 3,
        item_id: 'msg_1',
        output_index: 1,
        content_index: 0,
        delta: 'Hi',
        logprobs: [],
      }),
      responsesEvent(100, 'response.incomplete', {
        sequence_number: 4,
        response: response('incomplete', { incomplete_details: { reason: 'content_filter' }, usage }),
      }),
    ]);
    const { result, histogram, counter } = await measure(async () => {
      // The SDK's SSE parser, without its accumulator (which wants every output_item event).
      const stream = await openai.responses.create({ model, input: 'hi', stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      return types;
    });
    expect(result).toContain('response.incomplete');
    expectObserved(histogram('gen_ai_client_operation_time_to_first_chunk'), 0.05);
    const firstToken = histogram('gen_ai_server_time_to_first_token');
    expectObserved(firstToken, 0.15);
    // 30 output tokens, 10 of them hidden reasoning made before the summary: 19 after the first.
    expect(histogram('gen_ai_server_time_per_output_token').sum).toBeCloseTo(
      (histogram('gen_ai_server_request_duration').sum - firstToken.sum) / (30 - 10 - 1),
      9,
    );
    expect(attemptSpan().attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['content_filter'],
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.cache_read.input_tokens': 20,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.usage.reasoning.output_tokens': 10,
    });
    expect(counter('gatewayz_cost_by_provider_total')).toBeCloseTo((30 * 2 + 20 * 0.5 + 30 * 8) / 1e6, 12);
  });
});

/** The SSE events of a raw response body: `event:` name (if any) and parsed `data:`. */
async function sseEvents(response: Response): Promise<Array<{ event?: string; data: string }>> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { ...(event !== undefined ? { event } : {}), data };
    });
}

describe('the wire the clients parse', () => {
  it('sends usage once, in the final usage chunk, when the upstream puts it on the finish chunk', async () => {
    gw.upstream.script(CHAT, [
      { afterMs: 10, data: { ...delta({ role: 'assistant', content: 'Hi' }), usage: null } },
      {
        afterMs: 10,
        data: { ...delta({}, 'stop'), usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
      },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const { result } = await measure(() => readChat({ stream_options: { include_usage: true } }));
    const withUsage = result.chunks.filter((chunk) => chunk.usage !== null && chunk.usage !== undefined);
    expect(withUsage).toHaveLength(1);
    expect(withUsage[0]).toBe(result.chunks.at(-1));
    expect(withUsage[0]?.choices).toEqual([]);
    expect(withUsage[0]?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
    expect(result.chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it("keeps the client's other stream options when it asks the upstream for the usage", async () => {
    const script: ScriptStep[] = [
      { afterMs: 0, data: delta({ role: 'assistant', content: 'Hi' }, 'stop') },
      { afterMs: 0, data: usageChunk(5, 1) },
      { afterMs: 0, data: '[DONE]' },
    ];
    gw.upstream.script(CHAT, script);
    await measure(() => readChat({ stream_options: { include_usage: false, include_obfuscation: false } }));
    expect(gw.upstream.lastBody(CHAT)?.['stream_options']).toEqual({ include_usage: true, include_obfuscation: false });
    gw.upstream.script(CHAT, script);
    await measure(() => readChat());
    expect(gw.upstream.lastBody(CHAT)?.['stream_options']).toEqual({ include_usage: true });
  });

  it("passes on a first chunk without choices nor usage (Azure OpenAI's content filter results), usage still last", async () => {
    const filterResults = [
      { prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } },
    ];
    const script: ScriptStep[] = [
      {
        afterMs: 0,
        data: { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: filterResults },
      },
      { afterMs: 10, data: delta({ role: 'assistant', content: 'Hi' }) },
      {
        afterMs: 10,
        data: { ...delta({}, 'stop'), usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
      },
      { afterMs: 0, data: '[DONE]' },
    ];
    for (const includeUsage of [true, false]) {
      gw.upstream.script(CHAT, script);
      const { result } = await measure(() => readChat({ stream_options: { include_usage: includeUsage } }));
      const first = result.chunks[0] as unknown as Record<string, unknown>;
      expect(first['choices'], `include_usage ${includeUsage}`).toEqual([]);
      expect(first['prompt_filter_results']).toEqual(filterResults);
      const withUsage = result.chunks.filter((chunk) => chunk.usage !== null && chunk.usage !== undefined);
      if (includeUsage) {
        expect(withUsage).toHaveLength(1);
        expect(withUsage[0]).toBe(result.chunks.at(-1));
        expect(withUsage[0]?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
      } else {
        expect(withUsage).toHaveLength(0);
      }
      expect(result.chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hi');
    }
  });

  it('streams /v1/messages event for event as Anthropic does, timed as scripted, with cumulative cached usage', async () => {
    const steps: ScriptStep[] = [
      { afterMs: 100, data: delta({ role: 'assistant', content: '' }) },
      { afterMs: 200, data: delta({ content: 'Hel' }) },
      { afterMs: 100, data: delta({ content: 'lo' }) },
      { afterMs: 100, data: delta({}, 'length') },
      { afterMs: 0, data: usageChunk(1000, 3, { prompt_tokens_details: { cached_tokens: 800 } }) },
      { afterMs: 0, data: '[DONE]' },
    ];
    gw.upstream.script(CHAT, steps);
    const { result, histogram, counter } = await measure(async () => {
      const stream = anthropic.messages.stream({ model, max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] });
      const start = performance.now();
      let firstText = 0;
      stream.on('text', () => {
        if (firstText === 0) firstText = (performance.now() - start) / 1000;
      });
      const message = await stream.finalMessage();
      return { message, firstText };
    });
    // Anthropic's input_tokens excludes the cache: 200 uncached + 800 read = 1000 in the conventions' terms.
    expect(result.message.usage).toMatchObject({
      input_tokens: 200,
      cache_read_input_tokens: 800,
      cache_creation_input_tokens: 0,
      output_tokens: 3,
    });
    expect(result.message.stop_reason).toBe('max_tokens');
    expect(result.message.content).toMatchObject([{ type: 'text', text: 'Hello' }]);
    const firstToken = histogram('gen_ai_server_time_to_first_token');
    expectObserved(firstToken, 0.3);
    expect(firstToken.sum).toBeLessThanOrEqual(result.firstText);
    expect(histogram('gen_ai_server_time_per_output_token').sum).toBeCloseTo(
      (histogram('gen_ai_server_request_duration').sum - firstToken.sum) / (3 - 1),
      9,
    );
    expect(attemptSpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.cache_read.input_tokens': 800,
    });
    expect(counter('gatewayz_cost_by_provider_total')).toBeCloseTo((200 * 2 + 800 * 0.5 + 3 * 8) / 1e6, 12);

    gw.upstream.script(CHAT, steps);
    const raw = await sseEvents(
      await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    expect(raw.map((event) => event.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const event of raw) expect((JSON.parse(event.data) as { type: string }).type).toBe(event.event);
    expect(JSON.parse(raw[6]?.data ?? '{}')).toMatchObject({
      delta: { stop_reason: 'max_tokens' },
      usage: { input_tokens: 200, cache_read_input_tokens: 800, cache_creation_input_tokens: 0, output_tokens: 3 },
    });
  });
});

describe('SSE line endings from the upstream', () => {
  it('reads events separated by CRLF or CR, also when a chunk boundary falls between CR and LF', async () => {
    // One chunk as two data lines (SSE joins them with a line feed; JSON takes it as white space).
    const json = JSON.stringify(delta({ content: 'Hi' }));
    const cut = json.indexOf(',') + 1;
    const [firstHalf, secondHalf] = [json.slice(0, cut), json.slice(cut)];
    for (const lineEnding of ['\r\n', '\r']) {
      const steps: ScriptStep[] = [
        { afterMs: 10, data: delta({ role: 'assistant', content: '' }), lineEnding },
        // Split right after the first data line's CR: its LF comes in the next piece.
        {
          afterMs: 10,
          dataLines: [firstHalf as string, secondHalf as string],
          lineEnding,
          splitAt: `data: ${firstHalf}\r`.length,
        },
        { afterMs: 10, data: delta({}, 'stop'), lineEnding },
        { afterMs: 0, data: usageChunk(7, 1), lineEnding },
        { afterMs: 0, data: '[DONE]', lineEnding },
      ];
      gw.upstream.script(CHAT, steps);
      spans.clear();
      const { result } = await measure(() => readChat());
      expect(result.chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hi');
      expect(attemptSpan().attributes).toMatchObject({
        'gen_ai.usage.output_tokens': 1,
        'gen_ai.response.finish_reasons': ['stop'],
      });
    }
    // A Responses event whose `event:` line and `data:` line are split between CR and LF.
    gw.upstream.script(RESPONSES, [
      {
        afterMs: 10,
        event: 'response.output_text.delta',
        data: {
          type: 'response.output_text.delta',
          sequence_number: 0,
          item_id: 'm',
          output_index: 0,
          content_index: 0,
          delta: 'Hi',
        },
        lineEnding: '\r\n',
        splitAt: 'event: response.output_text.delta\r'.length,
      },
      {
        afterMs: 10,
        event: 'response.completed',
        data: {
          type: 'response.completed',
          sequence_number: 1,
          response: {
            id: 'resp_1',
            object: 'response',
            model,
            status: 'completed',
            output: [],
            usage: { input_tokens: 3, output_tokens: 1 },
          },
        },
        lineEnding: '\r\n',
      },
    ]);
    spans.clear();
    const { result: types } = await measure(async () => {
      const stream = await openai.responses.create({ model, input: 'hi', stream: true });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      return seen;
    });
    expect(types).toEqual(['response.output_text.delta', 'response.completed']);
    expect(attemptSpan().attributes['gen_ai.usage.output_tokens']).toBe(1);

    // CR line endings to the very end: the last event's final CR is the last byte of the stream.
    gw.upstream.script(
      RESPONSES,
      gw.upstream.lastScript(RESPONSES).map((step) => ({ ...step, lineEnding: '\r', splitAt: undefined })),
    );
    spans.clear();
    const { result: crTypes } = await measure(async () => {
      const stream = await openai.responses.create({ model, input: 'hi', stream: true });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      return seen;
    });
    expect(crTypes).toEqual(['response.output_text.delta', 'response.completed']);
    expect(attemptSpan().attributes['error.type']).toBeUndefined();
  });
});
