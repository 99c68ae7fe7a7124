import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { endGenAiSpan, startGenAiSpan, type GenAiOutputMessage } from '@gatewayz/telemetry/genai';
import { describe, expect, it } from 'vitest';
import { anthropicContent } from '../src/protocol/anthropic-content.js';
import { chatInputMessages, chatOutputMessages } from '../src/protocol/chat-content.js';
import { responsesOutputMessages, StreamedResponsesOutput } from '../src/protocol/responses-content.js';
import { openAiStreamEncoder } from '../src/protocol/stream-encoder.js';
import type { UpstreamResponse } from '../src/providers/upstream.js';
import type { AttemptCompletion } from '../src/request/attempt.js';
import { relaySse } from '../src/request/sse-relay.js';
import { StreamedChatOutput } from '../src/request/streamed-chat-output.js';

/** An upstream stream that sends `events` (SSE text), then ends. */
function upstream(events: string[]): UpstreamResponse {
  const queue = events.map((text) => new TextEncoder().encode(text));
  return {
    status: 200,
    headers: {},
    bodyIdleTimeoutMs: 30_000,
    body: {
      read: () => {
        const value = queue.shift();
        return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
      },
      cancel: () => {},
      discardRest: () => {},
    },
  };
}

const chunk = (choices: unknown[]): string => `data: ${JSON.stringify({ id: 'c1', model: 'gpt-4o', choices })}\n\n`;

/** Relay `events` with content capture (`output`), or without; the completion the stream ended with. */
async function relay(events: string[], output?: StreamedChatOutput): Promise<AttemptCompletion> {
  let ended: AttemptCompletion | undefined;
  const stream = relaySse(upstream(events), {
    encoder: openAiStreamEncoder(false),
    idleTimeoutMs: 10_000,
    attemptStartedAt: performance.now(),
    ...(output !== undefined ? { output } : {}),
    onEnd: (completion) => (ended = completion),
  });
  await new Response(stream).text();
  expect(ended).toBeDefined();
  return ended as AttemptCompletion;
}

describe('StreamedChatOutput: a streamed answer as gen_ai.output.messages', () => {
  it('puts two choices together from their deltas: reasoning, text, tool calls split over chunks', async () => {
    const completion = await relay(
      [
        chunk([{ index: 0, delta: { role: 'assistant', reasoning_content: 'Check ' } }]),
        chunk([{ index: 1, delta: { role: 'assistant', content: 'Rain' } }]),
        chunk([{ index: 0, delta: { reasoning_content: 'the tool.' } }]),
        chunk([
          {
            index: 0,
            delta: {
              tool_calls: [
                { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } },
              ],
            },
          },
        ]),
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] } }]),
        chunk([{ index: 1, delta: { content: 'y.' }, finish_reason: 'stop' }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
        'data: [DONE]\n\n',
      ],
      new StreamedChatOutput(undefined),
    );
    expect(completion.status).toBe('success');
    expect(completion.outputMessages).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Check the tool.' },
          { type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_call',
      },
      { role: 'assistant', parts: [{ type: 'text', content: 'Rainy.' }], finish_reason: 'stop' },
    ]);
  });

  it('builds nothing when capture is off', async () => {
    const completion = await relay([
      chunk([{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }]),
      'data: [DONE]\n\n',
    ]);
    expect(completion.status).toBe('success');
    expect(completion).not.toHaveProperty('outputMessages');
  });

  it('a stream cut before its finish reason ends its choice with finish_reason "error"', async () => {
    const completion = await relay(
      [chunk([{ index: 0, delta: { content: 'Half an ans' } }])],
      new StreamedChatOutput(64),
    );
    expect(completion.status).toBe('network_error');
    expect(completion.outputMessages).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Half an ans' }], finish_reason: 'error' },
    ]);
  });

  it('holds at most the limit and one character, and the span records what cutting the whole answer records', () => {
    const limit = 10;
    const pieces = Array.from({ length: 200 }, (_, index) => `w${index} `);
    const bounded = new StreamedChatOutput(limit);
    for (const piece of pieces) {
      bounded.add({ choices: [{ index: 0, delta: { content: piece } }] });
      bounded.add({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] } }] });
    }
    bounded.add({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const [message] = bounded.messages();
    const parts = message?.parts as Array<{ content?: string; arguments?: unknown }>;
    expect(parts[0]?.content).toHaveLength(limit + 1);
    expect(parts[1]?.arguments).toHaveLength(limit + 1);
    const whole = pieces.join('');
    const full: GenAiOutputMessage[] = [
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: whole },
          { type: 'tool_call', id: null, name: '', arguments: whole },
        ],
        finish_reason: 'stop',
      },
    ];
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const start = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o' };
    endGenAiSpan(startGenAiSpan(tracer, start), { outputMessages: bounded.messages(), contentMaxLength: limit });
    endGenAiSpan(startGenAiSpan(tracer, start), { outputMessages: full, contentMaxLength: limit });
    const [fromBounded, fromWhole] = exporter
      .getFinishedSpans()
      .map((span) => span.attributes['gen_ai.output.messages']);
    expect(fromBounded).toBe(fromWhole);
    expect(fromBounded).toContain('"content":"w0 w1 w2 w…[truncated]"');
  });
});

describe('request content as the conventions shape it', () => {
  it('maps images: a data URL or base64 source to a blob part, a URL to a URI part', () => {
    expect(
      chatInputMessages({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            ],
          },
        ],
      }),
    ).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
          { type: 'uri', modality: 'image', uri: 'https://example.com/a.png' },
          { type: 'blob', modality: 'audio', mime_type: 'audio/wav', content: 'UklGRg==' },
        ],
      },
    ]);
    expect(
      anthropicContent({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/b.jpg' } },
            ],
          },
        ],
      }),
    ).toEqual({
      inputMessages: [
        {
          role: 'user',
          parts: [
            { type: 'blob', modality: 'image', mime_type: 'image/jpeg', content: '/9j/4AAQ' },
            { type: 'uri', modality: 'image', uri: 'https://example.com/b.jpg' },
          ],
        },
      ],
    });
  });

  it('maps an answer that is not JSON-shaped tool arguments as text, and OpenAI finish reasons to the schema', () => {
    expect(
      chatOutputMessages({
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'not json' } }],
            },
            finish_reason: 'tool_calls',
          },
          { index: 1, message: { role: 'assistant', content: 'cut' }, finish_reason: 'length' },
        ],
      }),
    ).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'c', name: 'f', arguments: 'not json' }],
        finish_reason: 'tool_call',
      },
      { role: 'assistant', parts: [{ type: 'text', content: 'cut' }], finish_reason: 'length' },
    ]);
  });

  it('maps a native Response: reasoning summary, text and function call in one message; a cut stream keeps its deltas', () => {
    const response = {
      status: 'completed',
      output: [
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Needs the tool.' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Calling it.' }] },
        { type: 'function_call', call_id: 'call_9', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      ],
    };
    expect(responsesOutputMessages(response)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Needs the tool.' },
          { type: 'text', content: 'Calling it.' },
          { type: 'tool_call', id: 'call_9', name: 'get_weather', arguments: { city: 'Oslo' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
    const cut = new StreamedResponsesOutput(5);
    cut.add({ type: 'response.reasoning_summary_text.delta', delta: 'Thinking hard' });
    cut.add({ type: 'response.output_text.delta', delta: 'Half ' });
    cut.add({ type: 'response.output_text.delta', delta: 'an answer' });
    expect(cut.messages()).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Thinki' },
          { type: 'text', content: 'Half a' },
        ],
        finish_reason: 'error',
      },
    ]);
    const whole = new StreamedResponsesOutput(undefined);
    whole.add({ type: 'response.output_text.delta', delta: 'Calling' });
    whole.add({ type: 'response.completed', response });
    expect(whole.messages()).toEqual(responsesOutputMessages(response));
  });
});
