import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSum } from './harness.js';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * Streaming latency metrics where the stream is not what the provider sent as it generated:
 * - a chat completion answering a request for a stream (json-answer-stream.ts) is served as
 *   chunks the gateway makes at once, so it has a first chunk and a first token (when the answer
 *   arrived) but no time per output chunk or token, as a call that was not streamed;
 * - a native Responses stream names a function call in `response.output_item.added`, before its
 *   arguments: that is its first token, as the chat stream's first tool call delta is.
 * A loopback upstream writes events after scripted delays; timers never fire early, so a measured
 * time is at least the scripted one (less EARLY for clock granularity) and at most SLACK later.
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const model = 'gpt-latency';
const SLACK = 0.25;
const EARLY = 0.005;

let gw: ScriptedGateway;
let openai: OpenAI;

beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'openai', models: [model], responsesApi: true });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});

interface Histogram {
  sum: number;
  count: number;
}

/** The increase of each histogram (sum and count over every series) across `run`. */
async function measure(run: () => Promise<unknown>): Promise<(name: string) => Histogram> {
  const before = await gw.scrape();
  await run();
  // The relay records when the stream ends, right after the last bytes reach the client.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await gw.scrape();
  const increase = (name: string): number => sampleSum(after, name) - sampleSum(before, name);
  return (name) => ({ sum: increase(`${name}_sum`), count: increase(`${name}_count`) });
}

/** One observation of `expectedSeconds` (scripted), measured no earlier than it and at most SLACK later. */
function expectObserved(observed: Histogram, expectedSeconds: number): void {
  expect(observed.count).toBe(1);
  expect(observed.sum).toBeGreaterThanOrEqual(expectedSeconds - EARLY);
  expect(observed.sum).toBeLessThanOrEqual(expectedSeconds + SLACK);
}

async function readChat(): Promise<void> {
  const stream = await openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _chunk of stream);
}

async function readResponses(): Promise<string[]> {
  const stream = await openai.responses.create({ model, input: 'hi', stream: true });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  return types;
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
  id: 'chatcmpl-timed',
  object: 'chat.completion.chunk',
  model,
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe('a JSON chat completion served as a stream', () => {
  const usage = {
    prompt_tokens: 5,
    completion_tokens: 30,
    total_tokens: 35,
    completion_tokens_details: { reasoning_tokens: 10 },
  };
  const answer = {
    id: 'chatcmpl-json',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    // Reasoning, text and a tool call: four chunks made at once, then the finish and usage chunks.
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          reasoning_content: 'hmm',
          content: 'hello there',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{}' } }],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage,
  };

  it('records the time to first chunk and token (when it arrived) and no time per output chunk or token', async () => {
    gw.upstream.scriptJson(CHAT, answer, 300);
    const histogram = await measure(readChat);
    expectObserved(histogram('gen_ai_client_operation_time_to_first_chunk'), 0.3);
    expectObserved(histogram('gen_ai_server_time_to_first_token'), 0.3);
    expectObserved(histogram('gatewayz_time_to_first_token_seconds'), 0.3);
    expectObserved(histogram('gen_ai_server_request_duration'), 0.3);
    expect(histogram('gen_ai_client_operation_time_per_output_chunk').count).toBe(0);
    expect(histogram('gen_ai_server_time_per_output_token').count).toBe(0);
  });

  it('leaves the timing of a streamed answer as it was: one time per chunk after the first, and per output token', async () => {
    gw.upstream.script(CHAT, [
      { afterMs: 100, data: chunk({ role: 'assistant', content: 'Hel' }) },
      { afterMs: 100, data: chunk({ content: 'lo' }) },
      { afterMs: 0, data: chunk({}, 'stop') },
      { afterMs: 0, data: { ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } } },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const histogram = await measure(readChat);
    expect(histogram('gen_ai_client_operation_time_per_output_chunk').count).toBe(3);
    expect(histogram('gen_ai_server_time_per_output_token').count).toBe(1);
  });
});

describe('a function call in a native Responses stream', () => {
  const responsesEvent = (afterMs: number, type: string, fields: Record<string, unknown> = {}): ScriptStep => ({
    afterMs,
    event: type,
    data: { type, ...fields },
  });
  const response = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: 'resp_1',
    object: 'response',
    created_at: 1_700_000_000,
    model,
    status,
    output: [],
    ...extra,
  });
  const call = (type: string, name: string): Record<string, unknown> =>
    type === 'function_call'
      ? { id: 'fc_1', type, call_id: 'call_1', name, arguments: '', status: 'in_progress' }
      : { id: 'ctc_1', type, call_id: 'call_1', name, input: '' };
  const usage = { input_tokens: 5, output_tokens: 12, total_tokens: 17 };
  const completed = (item: Record<string, unknown>): ScriptStep =>
    responsesEvent(50, 'response.completed', {
      sequence_number: 9,
      response: response('completed', { output: [item], usage }),
    });
  /** `response.created` at 50 ms, `item` added 100 ms later (t1 = 0.15 s), then `rest`. */
  const script = (item: Record<string, unknown>, rest: ScriptStep[]): ScriptStep[] => [
    responsesEvent(50, 'response.created', { sequence_number: 0, response: response('in_progress') }),
    responsesEvent(100, 'response.output_item.added', { sequence_number: 1, output_index: 0, item }),
    ...rest,
  ];

  it('has its first token when the item naming the call is added, not at its first arguments delta', async () => {
    const item = call('function_call', 'get_weather');
    gw.upstream.script(
      RESPONSES,
      script(item, [
        // t2 = 0.65 s, far beyond t1 + SLACK.
        responsesEvent(500, 'response.function_call_arguments.delta', {
          sequence_number: 2,
          item_id: 'fc_1',
          output_index: 0,
          delta: '{"city":"Paris"}',
        }),
        responsesEvent(0, 'response.function_call_arguments.done', {
          sequence_number: 3,
          item_id: 'fc_1',
          output_index: 0,
          arguments: '{"city":"Paris"}',
        }),
        completed({ ...item, arguments: '{"city":"Paris"}', status: 'completed' }),
      ]),
    );
    const histogram = await measure(readResponses);
    expectObserved(histogram('gen_ai_server_time_to_first_token'), 0.15);
    expectObserved(histogram('gatewayz_time_to_first_token_seconds'), 0.15);
    expectObserved(histogram('gen_ai_server_request_duration'), 0.7);
    expect(histogram('gen_ai_server_time_per_output_token').count).toBe(1);
  });

  it('has a first token when its arguments never come as a delta (a custom tool call too)', async () => {
    for (const type of ['function_call', 'custom_tool_call']) {
      const item = call(type, 'grep');
      gw.upstream.script(
        RESPONSES,
        script(item, [
          responsesEvent(300, 'response.output_item.done', { sequence_number: 2, output_index: 0, item }),
          completed(item),
        ]),
      );
      const histogram = await measure(readResponses);
      expectObserved(histogram('gen_ai_server_time_to_first_token'), 0.15);
      expectObserved(histogram('gatewayz_time_to_first_token_seconds'), 0.15);
    }
  });

  it('is not confused with an added message item, whose first token is its first text', async () => {
    const message = { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    gw.upstream.script(
      RESPONSES,
      script(message, [
        responsesEvent(300, 'response.output_text.delta', {
          sequence_number: 2,
          item_id: 'msg_1',
          output_index: 0,
          content_index: 0,
          delta: 'Hi',
        }),
        completed({ ...message, status: 'completed', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }),
      ]),
    );
    const histogram = await measure(readResponses);
    expectObserved(histogram('gen_ai_server_time_to_first_token'), 0.45);
  });
});
