import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleSum, SpanRecorder } from './harness.js';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * Tool use on /v1/messages (Anthropic Messages translated to an OpenAI chat upstream): the official
 * Anthropic SDK calls the gateway, a loopback upstream answers as an OpenAI-compatible server, and
 * the test reads what the upstream was sent and what the SDK made of the answer.
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-tools';

let gw: ScriptedGateway;
let anthropic: Anthropic;
const spans = new SpanRecorder();

beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'openai', models: [model] }, [spans]);
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  spans.clear();
});

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const weatherFunction = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: weatherTool.input_schema },
};
const usage = { prompt_tokens: 80, completion_tokens: 20, total_tokens: 100 };

const completion = (message: Record<string, unknown>, finish: string): Record<string, unknown> => ({
  id: 'chatcmpl-tools',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
  usage,
});

const chunkBase = { id: 'chatcmpl-tools', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const chunk = (afterMs: number, delta: Record<string, unknown>, finish: string | null = null): ScriptStep => ({
  afterMs,
  data: { ...chunkBase, choices: [{ index: 0, delta, finish_reason: finish }] },
});
const callDelta = (index: number, fields: Record<string, unknown>): Record<string, unknown> => ({
  tool_calls: [{ index, ...fields }],
});

async function failure(request: Promise<unknown>): Promise<unknown> {
  return request.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('tool use on /v1/messages, not streamed', () => {
  it('sends the tools and tool choice upstream and answers the tool call as a tool_use block', async () => {
    gw.upstream.scriptJson(
      CHAT,
      completion(
        {
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        'tool_calls',
      ),
    );
    const message = await anthropic.messages.create({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const sent = gw.upstream.lastBody(CHAT);
    expect(sent?.['tools']).toEqual([weatherFunction]);
    expect(sent?.['tool_choice']).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(sent?.['parallel_tool_calls']).toBe(false);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 80, output_tokens: 20 });
    const attempt = spans.spans.find((span) => span.name === `chat ${model}`);
    expect(attempt?.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it('maps auto, any and none, and turns tool_use and tool_result turns into tool calls and tool messages', async () => {
    gw.upstream.scriptJson(CHAT, completion({ content: 'It is sunny in Paris and raining in Rome.' }, 'stop'));
    const choices: Array<[Anthropic.ToolChoice, unknown]> = [
      [{ type: 'auto' }, 'auto'],
      [{ type: 'any' }, 'required'],
      [{ type: 'none' }, 'none'],
    ];
    for (const [choice, expected] of choices) {
      await anthropic.messages.create({
        model,
        max_tokens: 100,
        tools: [weatherTool],
        tool_choice: choice,
        messages: [{ role: 'user', content: 'Weather?' }],
      });
      expect(gw.upstream.lastBody(CHAT)?.['tool_choice']).toEqual(expected);
      expect(gw.upstream.lastBody(CHAT)?.['parallel_tool_calls']).toBeUndefined();
    }
    const message = await anthropic.messages.create({
      model,
      max_tokens: 100,
      system: 'Be brief.',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking both.' },
            { type: 'tool_use', id: 'call_p', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_r', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_p', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'call_r', content: [{ type: 'text', text: 'rain' }], is_error: false },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ],
    });
    expect(gw.upstream.lastBody(CHAT)?.['messages']).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_r', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_p', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_r', content: 'rain' },
      { role: 'user', content: 'Summarise.' },
    ]);
    expect(message.content).toEqual([{ type: 'text', text: 'It is sunny in Paris and raining in Rome.' }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('refuses server tools and unknown tool choices with a 400 in Anthropic shape, and fails unusable arguments', async () => {
    gw.upstream.scriptJson(CHAT, completion({ content: 'unused' }, 'stop'));
    const serverTool = await failure(
      anthropic.messages.create({
        model,
        max_tokens: 100,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        messages: [{ role: 'user', content: 'Search.' }],
      }),
    );
    expect(serverTool).toBeInstanceOf(Anthropic.BadRequestError);
    expect((serverTool as Error).message).toContain('web_search_20250305');
    const badChoice = await failure(
      anthropic.messages.create({
        model,
        max_tokens: 100,
        tools: [weatherTool],
        tool_choice: { type: 'sometimes' } as unknown as Anthropic.ToolChoice,
        messages: [{ role: 'user', content: 'Weather?' }],
      }),
    );
    expect(badChoice).toBeInstanceOf(Anthropic.BadRequestError);
    expect(
      ((badChoice as InstanceType<typeof Anthropic.BadRequestError>).error as { error: { type: string } }).error.type,
    ).toBe('invalid_request_error');

    // Arguments that are not a JSON object cannot become a tool_use input: the attempt fails.
    gw.upstream.scriptJson(
      CHAT,
      completion(
        {
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }],
        },
        'tool_calls',
      ),
    );
    const before = await gw.scrape();
    const truncated = await failure(
      anthropic.messages.create({
        model,
        max_tokens: 100,
        tools: [weatherTool],
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(truncated).toBeInstanceOf(Anthropic.APIError);
    expect((truncated as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    const after = await gw.scrape();
    const invalid = { error_type: 'invalid_response' };
    expect(
      sampleSum(after, 'gen_ai_client_operation_duration_count', invalid) -
        sampleSum(before, 'gen_ai_client_operation_duration_count', invalid),
    ).toBe(1);
  });
});

describe('tool use on /v1/messages, streamed', () => {
  it('streams text then each tool call as a tool_use block with input_json_delta, as the SDK accumulates them', async () => {
    gw.upstream.script(CHAT, [
      chunk(20, { role: 'assistant', content: '' }),
      chunk(10, { content: 'Checking.' }),
      chunk(10, callDelta(0, { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '' } })),
      chunk(10, callDelta(0, { function: { arguments: '{"city":' } })),
      chunk(10, callDelta(0, { function: { arguments: '"Paris"}' } })),
      chunk(
        10,
        callDelta(1, {
          id: 'call_r',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
        }),
      ),
      chunk(10, {}, 'tool_calls'),
      { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const before = await gw.scrape();
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
    });
    const events: string[] = [];
    for await (const received of stream) {
      events.push(
        received.type === 'content_block_start'
          ? `start:${received.content_block.type}`
          : received.type === 'content_block_delta'
            ? `delta:${received.index}:${received.delta.type}`
            : received.type,
      );
    }
    const message = await stream.finalMessage();
    expect(gw.upstream.lastBody(CHAT)?.['tools']).toEqual([weatherFunction]);
    expect(events).toEqual([
      'message_start',
      'start:text',
      // (the SDK's iterator leaves out the ping that follows the first content_block_start)
      'delta:0:text_delta',
      'content_block_stop',
      'start:tool_use',
      'delta:1:input_json_delta',
      'delta:1:input_json_delta',
      'content_block_stop',
      'start:tool_use',
      'delta:2:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_p', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_r', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 80, output_tokens: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await gw.scrape();
    // The tool call reached the client: a stream answering only with it has a first token too.
    expect(
      sampleSum(after, 'gen_ai_server_time_to_first_token_count') -
        sampleSum(before, 'gen_ai_server_time_to_first_token_count'),
    ).toBe(1);
  });

  it('ends in an error event, the attempt failed as invalid_response, when the arguments are not a JSON object', async () => {
    gw.upstream.script(CHAT, [
      chunk(0, { role: 'assistant', content: null }),
      chunk(5, callDelta(0, { id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '[1,' } })),
      chunk(5, callDelta(0, { function: { arguments: '2' } })),
      chunk(5, {}, 'tool_calls'),
      { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const before = await gw.scrape();
    // Read as text: the fragments were relayed before the arguments could be checked.
    const response = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model,
        max_tokens: 100,
        stream: true,
        tools: [weatherTool],
        messages: [{ role: 'user', content: 'Weather?' }],
      }),
    });
    const text = await response.text();
    expect(text).toContain('"partial_json":"[1,"');
    expect(text).toMatch(
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"Upstream returned tool call arguments that are not a JSON object"\}\}/,
    );
    expect(text).not.toContain('message_stop');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await gw.scrape();
    const delta = (name: string, labels: Record<string, string>): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('gen_ai_client_operation_duration_count', { error_type: 'invalid_response' })).toBe(1);
    expect(delta('model_inference_requests_total', { provider: 'openai', status: 'error' })).toBe(1);
    // The provider answered and bills it: its usage is recorded.
    expect(delta('tokens_used_total', { provider: 'openai', token_type: 'input' })).toBe(80);
  });

  it('starts with the tool_use block when the answer is a tool call only, and says tool_use on a stop finish', async () => {
    gw.upstream.script(CHAT, [
      chunk(0, { role: 'assistant', content: null }),
      chunk(10, callDelta(0, { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } })),
      // Some OpenAI-compatible servers finish a tool call with `stop`.
      chunk(10, {}, 'stop'),
      { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} }]);
    expect(message.stop_reason).toBe('tool_use');
  });
});
