import Anthropic from '@anthropic-ai/sdk';
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
 * Tool calls as chat upstreams other than OpenAI's stream them, read back by the official SDKs:
 * calls without `index` (Gemini), interleaved fragments, calls without arguments, a cut output;
 * and the input items a Response's output fed back makes (content chat cannot carry, a message
 * between a call and its output).
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const model = 'chat-only-streams';
const nativeModel = 'native-streams';

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

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};
// Strict: the SDK parses the arguments of strict function tools (`parsed_arguments`).
const timeTool = {
  type: 'function' as const,
  name: 'get_time',
  parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
  strict: true,
};
const usage = { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62 };
const chunkBase = { id: 'chatcmpl-streams', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const chunk = (delta: Record<string, unknown>, finish: string | null = null): ScriptStep => ({
  afterMs: 0,
  data: { ...chunkBase, choices: [{ index: 0, delta, finish_reason: finish }] },
});
const call = (index: number | undefined, fields: Record<string, unknown>) => ({
  tool_calls: [{ ...(index !== undefined ? { index } : {}), ...fields }],
});
const end = (finish: string): ScriptStep[] => [
  chunk({}, finish),
  { afterMs: 0, data: { ...chunkBase, choices: [], usage } },
  { afterMs: 0, data: '[DONE]' },
];
type Event = { type: string; output_index?: number } & Record<string, unknown>;

async function streamed(
  params: Omit<OpenAI.Responses.ResponseCreateParamsStreaming, 'stream'>,
): Promise<{ events: Event[]; final: OpenAI.Responses.Response }> {
  const stream = openai.responses.stream(params);
  const events: Event[] = [];
  for await (const event of stream) events.push(event as unknown as Event);
  return { events, final: await stream.finalResponse() };
}

const callsOf = (response: OpenAI.Responses.Response) =>
  response.output.flatMap((item) =>
    item.type === 'function_call' ? [[item.call_id, item.arguments, item.status] as const] : [],
  );

describe('streamed tool calls', () => {
  it('takes calls without index, each with an id of its own, as separate calls (/v1/responses and /v1/messages)', async () => {
    const script = [
      chunk(call(undefined, { id: 'call_a', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } })),
      chunk(call(undefined, { id: 'call_b', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } })),
      ...end('tool_calls'),
    ];
    gw.upstream.script(CHAT, script);
    const { final } = await streamed({ model, input: 'Weather?', tools: [weatherTool] });
    expect(callsOf(final)).toEqual([
      ['call_a', '{"city":"Paris"}', 'completed'],
      ['call_b', '{"city":"Oslo"}', 'completed'],
    ]);
    gw.upstream.script(CHAT, script);
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    const message = await anthropic.messages
      .stream({
        model,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      })
      .finalMessage();
    expect(message.content.map((block) => (block.type === 'tool_use' ? [block.id, block.input] : block.type))).toEqual([
      ['call_a', { city: 'Paris' }],
      ['call_b', { city: 'Oslo' }],
    ]);
  });

  it('keeps interleaved calls open, each delta at its own output_index, and completes them', async () => {
    gw.upstream.script(CHAT, [
      chunk(call(0, { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } })),
      chunk(call(1, { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '' } })),
      chunk(call(0, { function: { arguments: '{"city":"Paris"}' } })),
      chunk(call(1, { function: { arguments: '{"city":"Oslo"}' } })),
      ...end('tool_calls'),
    ]);
    const { events, final } = await streamed({ model, input: 'Weather?', tools: [weatherTool] });
    const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta');
    expect(deltas.map((event) => [event.output_index, event['delta']])).toEqual([
      [0, '{"city":"Paris"}'],
      [1, '{"city":"Oslo"}'],
    ]);
    const done = events.filter((event) => event.type === 'response.function_call_arguments.done');
    expect(done.map((event) => [event.output_index, event['arguments']])).toEqual([
      [0, '{"city":"Paris"}'],
      [1, '{"city":"Oslo"}'],
    ]);
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(callsOf(final)).toEqual([
      ['call_a', '{"city":"Paris"}', 'completed'],
      ['call_b', '{"city":"Oslo"}', 'completed'],
    ]);
  });

  it('gives a call without arguments "{}", which the SDK parses, in the stream and in JSON', async () => {
    gw.upstream.script(CHAT, [
      chunk(call(0, { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '' } })),
      ...end('tool_calls'),
    ]);
    const { events, final } = await streamed({ model, input: 'Time?', tools: [timeTool] });
    const args = events.filter((event) => event.type.startsWith('response.function_call_arguments'));
    expect(args.map((event) => [event.type, event['delta'] ?? event['arguments']])).toEqual([
      ['response.function_call_arguments.delta', '{}'],
      ['response.function_call_arguments.done', '{}'],
    ]);
    expect(final.output).toEqual([expect.objectContaining({ arguments: '{}', parsed_arguments: {} })]);
    gw.upstream.scriptJson(CHAT, {
      ...chunkBase,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_t', function: { name: 'get_time' } }] },
          finish_reason: 'tool_calls',
        },
      ],
      usage,
    });
    const parsed = await openai.responses.parse({ model, input: 'Time?', tools: [timeTool] });
    expect(parsed.output).toEqual([expect.objectContaining({ arguments: '{}', parsed_arguments: {} })]);
  });

  it('marks only the call the output limit cut incomplete, in the stream and in JSON', async () => {
    const paris = { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const oslo = { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Os' } };
    gw.upstream.script(CHAT, [chunk(call(0, paris)), chunk(call(1, oslo)), ...end('length')]);
    const { events, final } = await streamed({ model, input: 'Weather?', tools: [weatherTool] });
    const expected = [
      ['call_a', '{"city":"Paris"}', 'completed'],
      ['call_b', '{"city":"Os', 'incomplete'],
    ];
    expect(final.status).toBe('incomplete');
    expect(callsOf(final)).toEqual(expected);
    const itemsDone = events.filter((event) => event.type === 'response.output_item.done');
    expect(itemsDone.map((event) => (event['item'] as { status: string }).status)).toEqual(['completed', 'incomplete']);
    gw.upstream.scriptJson(CHAT, {
      ...chunkBase,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', tool_calls: [paris, oslo] }, finish_reason: 'length' }],
      usage,
    });
    expect(callsOf(await openai.responses.create({ model, input: 'Weather?', tools: [weatherTool] }))).toEqual(
      expected,
    );
  });
});

describe('a Response output fed back', () => {
  const answer = { ...chunkBase, object: 'chat.completion', usage };

  it('puts each tool message right after the assistant message with its call, also with text after the call', async () => {
    gw.upstream.script(CHAT, [
      chunk({ role: 'assistant', content: 'Let me check. ' }),
      chunk(call(0, { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } })),
      chunk(call(0, { function: { arguments: '"Paris"}' } })),
      chunk({ content: 'Done.' }),
      ...end('tool_calls'),
    ]);
    const { final } = await streamed({ model, input: 'Weather?', tools: [weatherTool] });
    expect(final.output.map((item) => item.type)).toEqual(['message', 'function_call', 'message']);
    gw.upstream.scriptJson(CHAT, {
      ...answer,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Sunny.' }, finish_reason: 'stop' }],
    });
    await openai.responses.create({
      model,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather?' },
        ...(final.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
      ],
    });
    const sent = gw.upstream.lastBody(CHAT)?.['messages'] as Array<Record<string, unknown>>;
    expect(sent.map((message) => [message['role'], message['content'] ?? null])).toEqual([
      ['user', 'Weather?'],
      ['assistant', 'Let me check. '],
      ['tool', 'sunny'],
      ['assistant', 'Done.'],
    ]);
  });

  it('sends an assistant refusal to chat as its text', async () => {
    gw.upstream.scriptJson(CHAT, {
      ...answer,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Fine.' }, finish_reason: 'stop' }],
    });
    await openai.responses.create({
      model,
      input: [
        { role: 'user', content: 'x' },
        { type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] },
        { role: 'user', content: 'y' },
      ] as OpenAI.Responses.ResponseInputItem[],
    });
    expect(gw.upstream.lastBody(CHAT)?.['messages']).toEqual([
      { role: 'user', content: 'x' },
      { role: 'assistant', content: 'I cannot.' },
      { role: 'user', content: 'y' },
    ]);
  });

  it('passes files and images by file_id to a Responses API provider, and refuses them for chat', async () => {
    const input = [
      {
        role: 'user' as const,
        content: [
          { type: 'input_text' as const, text: 'Sum these up' },
          { type: 'input_file' as const, file_id: 'file-abc' },
          { type: 'input_image' as const, file_id: 'file-img', detail: 'auto' as const },
        ],
      },
    ];
    native.scriptJson(RESPONSES, {
      id: 'resp_native',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      model: nativeModel,
      output: [],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
    });
    await openai.responses.create({ model: nativeModel, input });
    expect(native.lastBody(RESPONSES)?.['input']).toEqual(input);
    const refused = await openai.responses.create({ model, input }).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'input[0].content[1].type' });
  });
});

describe('content capture of function call items', () => {
  it('records a function_call as a tool_call part of an assistant message and its output as a tool message', () => {
    const content = responsesContent({
      input: [
        { role: 'user', content: 'Weather?' },
        { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
      ],
    });
    expect(content.inputMessages).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_a', response: 'sunny' }] },
    ]);
  });
});
