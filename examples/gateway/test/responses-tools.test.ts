import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startScriptedGateway,
  startScriptedUpstream,
  type ScriptedGateway,
  type ScriptedUpstream,
  type ScriptStep,
} from './scripted-upstream.js';
import { responsesContent } from '../src/protocol/responses-content.js';

/*
 * Function tools on /v1/responses translated to chat completions: the official OpenAI SDK calls
 * the gateway, a loopback upstream answers as an OpenAI-compatible chat server with tool calls,
 * and the test reads what the upstream was sent and what the SDK made of the answer. Tools chat
 * cannot carry are refused when no provider of the model has the Responses API, and passed on to a
 * provider with it (responses-native-only.test.ts: a model with both kinds of provider).
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const model = 'chat-only-tools';
const nativeModel = 'native-tools';

let gw: ScriptedGateway;
let native: ScriptedUpstream;
let openai: OpenAI;

beforeAll(async () => {
  native = await startScriptedUpstream();
  gw = await startScriptedGateway({ name: 'chatonly', models: [model] }, [], {
    providers: [{ name: 'native', baseUrl: `${native.url}/v1`, models: [nativeModel], responsesApi: true }],
  });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
  await native.close();
});

const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters,
  strict: true,
};
const usage = { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62 };
const chunkBase = { id: 'chatcmpl-tools', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const chunk = (delta: Record<string, unknown>, finish: string | null = null): ScriptStep => ({
  afterMs: 0,
  data: { ...chunkBase, choices: [{ index: 0, delta, finish_reason: finish }] },
});
const callDelta = (index: number, fields: Record<string, unknown>) => ({ tool_calls: [{ index, ...fields }] });

describe('function tools on /v1/responses through a chat-only provider', () => {
  it('sends the tools, tool choice and parallel_tool_calls as chat fields, and answers the tool calls as function_call items', async () => {
    gw.upstream.scriptJson(CHAT, {
      id: 'chatcmpl-tools',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Looking it up.',
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage,
    });
    const response = await openai.responses.create({
      model,
      input: 'Weather in Paris and Oslo?',
      tools: [weatherTool],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
    });
    const sent = gw.upstream.lastBody(CHAT);
    expect(sent?.['tools']).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather in a city', parameters, strict: true },
      },
    ]);
    expect(sent?.['tool_choice']).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(sent?.['parallel_tool_calls']).toBe(false);
    expect(response.status).toBe('completed');
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(response.output_text).toBe('Looking it up.');
    const calls = response.output.filter((item) => item.type === 'function_call');
    expect(calls).toEqual([
      expect.objectContaining({
        call_id: 'call_a',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      }),
      expect.objectContaining({
        call_id: 'call_b',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
        status: 'completed',
      }),
    ]);
    expect(calls[0]?.id).toMatch(/^fc_/);
    expect(response.tools).toEqual([weatherTool]);
    expect(response.parallel_tool_calls).toBe(false);
  });

  it('answers a tool call alone without an empty message item, and sends tool_choice strings as they are', async () => {
    gw.upstream.scriptJson(CHAT, {
      id: 'chatcmpl-tools',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_c', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage,
    });
    const response = await openai.responses.create({
      model,
      input: 'Weather?',
      tools: [weatherTool],
      tool_choice: 'required',
    });
    expect(gw.upstream.lastBody(CHAT)?.['tool_choice']).toBe('required');
    expect(response.output).toEqual([
      expect.objectContaining({ type: 'function_call', call_id: 'call_c', arguments: '{}' }),
    ]);
  });

  it('sends function_call items as one assistant message with tool_calls, and function_call_output items as tool messages', async () => {
    gw.upstream.scriptJson(CHAT, {
      id: 'chatcmpl-tools',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Sunny in both.' }, finish_reason: 'stop' }],
      usage,
    });
    const response = await openai.responses.create({
      model,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: 'sunny too' }] },
      ],
    });
    expect(gw.upstream.lastBody(CHAT)?.['messages']).toEqual([
      { role: 'user', content: 'Weather in Paris and Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_b', content: 'sunny too' },
    ]);
    expect(response.output_text).toBe('Sunny in both.');
  });

  it('streams tool calls as function_call items the SDK assembles, with consecutive sequence numbers', async () => {
    gw.upstream.script(CHAT, [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Checking.' }),
      chunk(callDelta(0, { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } })),
      chunk(callDelta(0, { function: { arguments: '{"city":' } })),
      chunk(callDelta(0, { function: { arguments: '"Paris"}' } })),
      chunk(
        callDelta(1, {
          id: 'call_b',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        }),
      ),
      chunk({}, 'tool_calls'),
      { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
      { afterMs: 0, data: '[DONE]' },
    ]);
    const stream = openai.responses.stream({ model, input: 'Weather in Paris and Oslo?', tools: [weatherTool] });
    const events: Array<{ type: string; sequence_number: number } & Record<string, unknown>> = [];
    for await (const event of stream) events.push(event as (typeof events)[number]);
    const final = await stream.finalResponse();
    expect(gw.upstream.lastBody(CHAT)?.['tools']).toHaveLength(1);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const added = events.filter((event) => event.type === 'response.output_item.added');
    expect(added.map((event) => [event['output_index'], (event['item'] as { type: string }).type])).toEqual([
      [0, 'message'],
      [1, 'function_call'],
      [2, 'function_call'],
    ]);
    expect(added[1]?.['item']).toMatchObject({
      call_id: 'call_a',
      name: 'get_weather',
      arguments: '',
      status: 'in_progress',
    });
    const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta');
    expect(deltas.map((event) => [event['output_index'], event['delta']])).toEqual([
      [1, '{"city":'],
      [1, '"Paris"}'],
      [2, '{"city":"Oslo"}'],
    ]);
    const done = events.filter((event) => event.type === 'response.function_call_arguments.done');
    expect(done.map((event) => [event['output_index'], event['name'], event['arguments']])).toEqual([
      [1, 'get_weather', '{"city":"Paris"}'],
      [2, 'get_weather', '{"city":"Oslo"}'],
    ]);
    // The message is done when a call starts; the calls stay open until the stream ends.
    const items = events.filter((event) => event.type.startsWith('response.output_item'));
    expect(items.map((event) => [event.type, event['output_index']])).toEqual([
      ['response.output_item.added', 0],
      ['response.output_item.done', 0],
      ['response.output_item.added', 1],
      ['response.output_item.added', 2],
      ['response.output_item.done', 1],
      ['response.output_item.done', 2],
    ]);
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(final.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(final.output.filter((item) => item.type === 'function_call')).toEqual([
      expect.objectContaining({
        call_id: 'call_a',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      }),
      expect.objectContaining({
        call_id: 'call_b',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
        status: 'completed',
      }),
    ]);
    expect(final.output_text).toBe('Checking.');
  });

  it('ends the stream in an error when a call gets arguments after text followed it', async () => {
    gw.upstream.script(CHAT, [
      chunk(callDelta(0, { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{' } })),
      chunk({ content: 'Checking.' }),
      chunk(callDelta(0, { function: { arguments: '}' } })),
      chunk({}, 'tool_calls'),
      { afterMs: 0, data: '[DONE]' },
    ]);
    const response = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'Weather?', tools: [weatherTool], stream: true }),
    });
    const text = await response.text();
    expect(text).toContain('event: error');
    expect(text).toContain('after the call had ended');
    expect(text).not.toContain('response.completed');
  });
});

describe('tools chat cannot carry', () => {
  const webSearch = { type: 'web_search' as const };

  it('are answered 400 unsupported_parameter, naming the tool type, when no provider of the model has the Responses API', async () => {
    const marker = `never sent ${model}`;
    const error = await openai.responses
      .create({ model, input: marker, tools: [weatherTool, webSearch] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.code).toBe('unsupported_parameter');
    expect(apiError.param).toBe('tools[1].type');
    expect(apiError.message).toContain('"web_search"');
    expect(apiError.message).toContain('chatonly');
    expect(JSON.stringify(gw.upstream.lastBody(CHAT) ?? {})).not.toContain(marker);
    expect(JSON.stringify(native.lastBody(RESPONSES) ?? {})).not.toContain(marker);
  });

  it('are answered 400 for a hosted tool choice and an input item of another kind', async () => {
    const choice = await openai.responses
      .create({ model, input: 'hi', tools: [weatherTool], tool_choice: { type: 'web_search_preview' } })
      .catch((caught: unknown) => caught);
    expect(choice).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'tool_choice' });
    const item = await openai.responses
      .create({ model, input: [{ type: 'item_reference', id: 'msg_1' }] })
      .catch((caught: unknown) => caught);
    expect(item).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'input[0].type' });
  });

  it('are answered 400 for log probabilities, which the translation would drop', async () => {
    const top = await openai.responses
      .create({ model, input: 'never sent top_logprobs', top_logprobs: 3 })
      .catch((caught: unknown) => caught);
    expect(top).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'top_logprobs' });
    const include = await openai.responses
      .create({ model, input: 'never sent include', include: ['message.output_text.logprobs'] })
      .catch((caught: unknown) => caught);
    expect(include).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'include' });
    expect(JSON.stringify(gw.upstream.lastBody(CHAT) ?? {})).not.toContain('never sent');
  });

  it('go as they are to a model whose providers all have the Responses API', async () => {
    native.scriptJson(RESPONSES, {
      id: 'resp_native',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      model: nativeModel,
      output: [
        {
          id: 'msg_1',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Found it.', annotations: [] }],
        },
      ],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
    });
    const response = await openai.responses.create({
      model: nativeModel,
      input: 'search',
      tools: [weatherTool, webSearch],
      tool_choice: 'auto',
      top_logprobs: 2,
      include: ['message.output_text.logprobs'],
    });
    expect(response.output_text).toBe('Found it.');
    expect(native.lastBody(RESPONSES)?.['tools']).toEqual([weatherTool, webSearch]);
    expect(native.lastBody(RESPONSES)).toMatchObject({ top_logprobs: 2, include: ['message.output_text.logprobs'] });
  });
});

describe('content capture of a Responses request with tools', () => {
  it('records function and built-in tools as tool definitions', () => {
    expect(responsesContent({ input: 'hi', tools: [weatherTool, { type: 'web_search' }] }).toolDefinitions).toEqual([
      { type: 'function', name: 'get_weather', description: 'Current weather in a city', parameters },
      { type: 'web_search', name: 'web_search' },
    ]);
  });
});
