import { describe, expect, it } from 'vitest';
import { anthropicContent } from '../src/protocol/anthropic-content.js';
import { anthropicToOpenAi } from '../src/protocol/anthropic-request.js';
import { openAiToAnthropic } from '../src/protocol/anthropic.js';
import { chatContent, chatOutputMessages } from '../src/protocol/chat-content.js';
import { toolCallIndexes } from '../src/protocol/chat-tools.js';
import {
  responsesContent,
  responsesOutputMessages,
  StreamedResponsesOutput,
} from '../src/protocol/responses-content.js';
import { validateResponsesRequest } from '../src/protocol/responses-request.js';
import { validateEmbeddingsRequest } from '../src/protocol/embeddings.js';
import { validateImagesRequest } from '../src/protocol/images.js';
import { ApiError } from '../src/protocol/openai-errors.js';
import { parseCompletionChunk } from '../src/protocol/stream-encoder.js';

/*
 * The protocol translations, field by field, where no other test holds them: what the upstream is
 * sent for an Anthropic Messages or Responses request, what a client gets back, and the GenAI
 * content (`gen_ai.input.messages`, `gen_ai.output.messages`, tool definitions) recorded with
 * content capture on. The translation functions are called as the routes call them.
 */

const user = (content: unknown) => ({ role: 'user', content });
/** A valid Anthropic Messages request with `fields` added. */
const messages = (fields: Record<string, unknown>) => ({
  model: 'm',
  max_tokens: 100,
  messages: [user('hi')],
  ...fields,
});
const weather = { name: 'get_weather', input_schema: { type: 'object' } };

describe('an Anthropic Messages request sent to an OpenAI chat upstream', () => {
  it('sends an assistant turn of tool_use blocks only with content null, not an empty string', () => {
    const { openAi } = anthropicToOpenAi(
      messages({
        messages: [
          user('Weather?'),
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
          user([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'rain' }]),
        ],
      }),
    );
    expect(openAi['messages']).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      // A user turn of tool results only adds no empty user message after them.
      { role: 'tool', tool_call_id: 'toolu_1', content: 'rain' },
    ]);
  });

  it('takes a tool of type custom as a function tool', () => {
    const { openAi } = anthropicToOpenAi(messages({ tools: [{ type: 'custom', ...weather }] }));
    expect(openAi['tools']).toEqual([
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    ]);
  });

  it('sends parallel_tool_calls: false for tool_choice any with disable_parallel_tool_use', () => {
    const { openAi } = anthropicToOpenAi(
      messages({ tools: [weather], tool_choice: { type: 'any', disable_parallel_tool_use: true } }),
    );
    expect(openAi['tool_choice']).toBe('required');
    expect(openAi['parallel_tool_calls']).toBe(false);
  });

  it('sends neither tools nor tool_choice for an empty tools list', () => {
    const { openAi } = anthropicToOpenAi(messages({ tools: [], tool_choice: { type: 'auto' } }));
    expect(Object.keys(openAi).sort()).toEqual(['max_tokens', 'messages', 'model']);
  });

  it('maps a thinking budget of 4096 tokens to medium effort and one of 16384 to high', () => {
    const effort = (budget: number) =>
      anthropicToOpenAi(messages({ max_tokens: 32_000, thinking: { type: 'enabled', budget_tokens: budget } })).openAi[
        'reasoning_effort'
      ];
    expect([4095, 4096, 16_383, 16_384].map(effort)).toEqual(['low', 'medium', 'medium', 'high']);
  });

  it('takes temperature with anthropic-version 2023-01-01', () => {
    expect(anthropicToOpenAi(messages({ temperature: 0.5 }), '2023-01-01').openAi['temperature']).toBe(0.5);
  });

  it('sends no stop for an empty stop_sequences list', () => {
    expect(anthropicToOpenAi(messages({ stop_sequences: [] })).openAi).not.toHaveProperty('stop');
  });
});

describe('an OpenAI chat answer sent to an Anthropic client', () => {
  it('gets a toolu_ id for a tool call whose id is an empty string', () => {
    const message = openAiToAnthropic(
      {
        id: 'c1',
        choices: [
          {
            message: { content: null, tool_calls: [{ id: '', function: { name: 'f', arguments: '{}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      },
      'm',
    );
    const [toolUse] = message['content'] as Array<Record<string, unknown>>;
    expect(toolUse?.['id']).toMatch(/^toolu_[0-9a-f]{24}$/);
  });
});

describe('tool call fragments of a stream', () => {
  it('put a call without index at a fresh position after the calls already open, not into one', () => {
    const indexOf = toolCallIndexes();
    // Two whole calls without index, in chunks of their own, then a chunk carrying b's arguments and a third call.
    expect(indexOf({ id: 'a', function: { name: 'f' } }, 0)).toBe(0);
    expect(indexOf({ id: 'b', function: { name: 'g' } }, 0)).toBe(1);
    expect(indexOf({ id: 'b', function: { arguments: '{}' } }, 0)).toBe(1);
    expect(indexOf({ id: 'c', function: { name: 'h' } }, 1)).toBe(2);
  });
});

describe('the GenAI content of an OpenAI chat request and answer', () => {
  it('records a data: URL that is not base64 as a blob of its bytes in base64', () => {
    const { inputMessages } = chatContent({
      messages: [user([{ type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } }])],
    });
    expect(inputMessages).toEqual([
      {
        role: 'user',
        parts: [{ type: 'blob', modality: 'image', mime_type: 'image/svg+xml', content: 'PHN2Zy8+' }],
      },
    ]);
  });

  it('records an empty string content as no parts, and a legacy function message as a tool message', () => {
    const { inputMessages } = chatContent({
      messages: [user(''), { role: 'function', name: 'lookup', content: '42' }],
    });
    expect(inputMessages).toEqual([
      { role: 'user', parts: [] },
      { role: 'tool', name: 'lookup', parts: [{ type: 'tool_call_response', id: null, response: '42' }] },
    ]);
  });

  it('records the choices in index order, and a function_call finish as tool_call', () => {
    const output = chatOutputMessages({
      choices: [
        { index: 1, message: { role: 'assistant', content: 'second' }, finish_reason: 'stop' },
        {
          index: 0,
          message: { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{"x":1}' } },
          finish_reason: 'function_call',
        },
      ],
    });
    expect(output).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', name: 'f', arguments: { x: 1 } }],
        finish_reason: 'tool_call',
      },
      { role: 'assistant', parts: [{ type: 'text', content: 'second' }], finish_reason: 'stop' },
    ]);
  });
});

describe('the GenAI content of an Anthropic Messages request', () => {
  it('has no system instructions for an empty system prompt', () => {
    expect(anthropicContent(messages({ system: '' }))).toEqual({
      inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }],
    });
  });
});

/** The chat request a Responses request is translated to (it must be translatable). */
function chatBody(body: Record<string, unknown>): Record<string, unknown> {
  const { chat } = validateResponsesRequest({ model: 'm', ...body });
  if (!('body' in chat)) throw chat.refusal;
  return chat.body;
}

describe('a Responses request sent to an OpenAI chat upstream', () => {
  it("refuses a refusal part in a user's message as untranslatable", () => {
    const { chat } = validateResponsesRequest({
      model: 'm',
      input: [{ role: 'user', content: [{ type: 'refusal', refusal: 'No.' }] }],
    });
    expect('refusal' in chat ? [chat.refusal.code, chat.refusal.param] : chat).toEqual([
      'unsupported_parameter',
      'input[0].content[0].type',
    ]);
  });

  it('sends a function call after an assistant message of content parts as an assistant message of its own', () => {
    const image = { type: 'input_image', image_url: 'https://example.com/a.png' };
    const body = chatBody({
      input: [
        { role: 'assistant', content: [{ type: 'output_text', text: 'See' }, image] },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      ],
    });
    expect(body['messages']).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'See' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
    ]);
  });

  it('translates top_logprobs: 0, which asks for no log probabilities', () => {
    expect(chatBody({ input: 'hi', top_logprobs: 0 })['messages']).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it("passes on an allowed_tools choice's mode", () => {
    const body = chatBody({
      input: 'hi',
      tools: [{ type: 'function', name: 'f' }],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] },
    });
    expect(body['tool_choice']).toEqual({
      type: 'allowed_tools',
      allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'f' } }] },
    });
  });

  it('sends neither tools nor tool_choice nor parallel_tool_calls for an empty tools list', () => {
    const body = chatBody({ input: 'hi', tools: [], tool_choice: 'required', parallel_tool_calls: false });
    expect(Object.keys(body).sort()).toEqual(['messages', 'model']);
  });

  it('echoes tool_choice auto and parallel_tool_calls true when the request leaves them out', () => {
    const { echo } = validateResponsesRequest({ model: 'm', input: 'hi' });
    expect([echo.toolChoice, echo.parallelToolCalls]).toEqual(['auto', true]);
  });
});

describe('the GenAI content of a Responses request and answer', () => {
  it('records a function call after an assistant message as a part of that message', () => {
    const { inputMessages } = responsesContent({
      input: [
        { role: 'assistant', content: 'Checking.' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' },
      ],
    });
    expect(inputMessages).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Checking.' },
          { type: 'tool_call', id: 'c1', name: 'f', arguments: { a: 1 } },
        ],
      },
    ]);
  });

  it('records a failed Response as finished by error', () => {
    const output = [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Par' }] }];
    expect(responsesOutputMessages({ status: 'failed', output })).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Par' }], finish_reason: 'error' },
    ]);
  });

  it('records the reasoning text deltas of a stream cut before its end', () => {
    const streamed = new StreamedResponsesOutput(undefined);
    streamed.add({ type: 'response.reasoning_text.delta', delta: 'Think' });
    streamed.add({ type: 'response.output_text.delta', delta: 'Hi' });
    expect(streamed.messages()).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Think' },
          { type: 'text', content: 'Hi' },
        ],
        finish_reason: 'error',
      },
    ]);
  });
});

describe('an upstream chat stream chunk', () => {
  it('carrying only a refusal is generated output (the first token), a refusal', () => {
    const chunk = parseCompletionChunk(JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { refusal: 'No' } }] }));
    expect(chunk !== 'done' ? [chunk?.output, chunk?.refusal] : chunk).toEqual(['refusal', 'No']);
  });
});

/** The param of the 400 `validate` throws, or `accepted`. */
function refusedParam(validate: () => unknown): string | null {
  try {
    validate();
    return 'accepted';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    expect(error.status).toBe(400);
    return error.param;
  }
}

describe('image and embeddings requests', () => {
  it('take n from 1 to 10 images, and refuse 11', () => {
    const images = (n: number) => () => validateImagesRequest({ model: 'dall-e-3', prompt: 'a cat', n });
    expect([1, 10, 11].map((n) => refusedParam(images(n)))).toEqual(['accepted', 'accepted', 'n']);
  });

  it('take 2048 inputs, and refuse 2049', () => {
    const embeddings = (count: number) => () =>
      validateEmbeddingsRequest({ model: 'e', input: Array.from({ length: count }, () => 'x') });
    expect([2048, 2049].map((count) => refusedParam(embeddings(count)))).toEqual(['accepted', 'input']);
  });

  it('take token id 0 in token arrays, and refuse a negative one', () => {
    const tokens = (input: unknown) => () => validateEmbeddingsRequest({ model: 'e', input });
    expect([[0, 1], [[0], [2]], [-1]].map((input) => refusedParam(tokens(input)))).toEqual([
      'accepted',
      'accepted',
      'input',
    ]);
  });
});
