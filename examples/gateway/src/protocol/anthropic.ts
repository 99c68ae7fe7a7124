import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { ApiError, badRequest } from './openai-errors.js';
import type { Usage } from '../request/attempt.js';
import type { StreamEncoder } from './stream-encoder.js';
import { anthropicUsage } from './usage.js';

interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block: unknown, index) => {
        const candidate = block as Partial<AnthropicTextBlock> | null;
        if (
          candidate === null ||
          typeof candidate !== 'object' ||
          candidate.type !== 'text' ||
          typeof candidate.text !== 'string'
        ) {
          throw badRequest(
            `${param}[${index}] must be a text block ({"type":"text","text":"..."})`,
            `${param}[${index}]`,
          );
        }
        return candidate.text;
      })
      .join('');
  }
  throw badRequest(`${param} must be a string or an array of text blocks`, param);
}

/** Validate an Anthropic Messages request and turn it into an OpenAI chat request body. */
export function anthropicToOpenAi(body: Record<string, unknown>): {
  model: string;
  stream: boolean;
  openAi: Record<string, unknown>;
} {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const maxTokens = body['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw badRequest('max_tokens: field required (a positive integer)', 'max_tokens');
  }
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest('messages: field required (a non-empty array)', 'messages');
  const stream = body['stream'];
  if (stream !== undefined && typeof stream !== 'boolean') throw badRequest('stream must be a boolean', 'stream');
  // Tools are not translated: dropping them would answer a tool request with text, silently.
  for (const field of ['tools', 'tool_choice'] as const) {
    if (body[field] !== undefined && body[field] !== null)
      throw badRequest(`${field}: tool use is not supported on /v1/messages by this gateway`, field);
  }
  const converted: Array<{ role: string; content: string }> = [];
  if (body['system'] !== undefined) converted.push({ role: 'system', content: textOf(body['system'], 'system') });
  messages.forEach((message: unknown, index) => {
    const candidate = message as { role?: unknown; content?: unknown } | null;
    if (candidate === null || typeof candidate !== 'object')
      throw badRequest(`messages[${index}] must be an object`, `messages[${index}]`);
    if (candidate.role !== 'user' && candidate.role !== 'assistant') {
      throw badRequest(`messages[${index}].role must be "user" or "assistant"`, `messages[${index}].role`);
    }
    converted.push({ role: candidate.role, content: textOf(candidate.content, `messages[${index}].content`) });
  });
  return { model, stream: stream === true, openAi: { model, max_tokens: maxTokens, messages: converted } };
}

const STOP_REASONS: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

/** Turn an OpenAI chat completion into an Anthropic message. */
export function openAiToAnthropic(completion: Record<string, unknown>, model: string): Record<string, unknown> {
  const choice = (
    completion['choices'] as Array<{ message?: { content?: string | null }; finish_reason?: string }> | undefined
  )?.[0];
  return {
    id: `msg_${typeof completion['id'] === 'string' ? completion['id'] : ''}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: choice?.message?.content ?? '' }],
    stop_reason: STOP_REASONS[choice?.finish_reason ?? 'stop'] ?? 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage(usageFromOpenAi(completion['usage'])),
  };
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Translate OpenAI stream chunks into Anthropic's Messages stream, event for event as Anthropic
 * sends it: `message_start` (with the input tokens when the upstream's first chunk reports them;
 * an OpenAI upstream reports usage only at the end), `content_block_start`, `ping`, text deltas,
 * `content_block_stop`, a `message_delta` with the cumulative usage (input, output, cache read and
 * cache creation tokens) and `message_stop`; a failure midway is an `error` event in Anthropic's
 * error shape.
 */
export function anthropicStreamEncoder(model: string): StreamEncoder {
  let started = false;
  const start = (id: string, usage: Usage | undefined): string => {
    if (started) return '';
    started = true;
    return (
      event('message_start', {
        type: 'message_start',
        message: {
          id: `msg_${id}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...anthropicUsage(usage), output_tokens: 0 },
        },
      }) +
      event('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }) +
      event('ping', { type: 'ping' })
    );
  };
  const error = (message: string, type: string): string =>
    event('error', {
      type: 'error',
      error: { type: type === 'timeout' || type === 'rate_limited' ? 'overloaded_error' : 'api_error', message },
    });
  return {
    chunk: (chunk) => {
      // The upstream's own error event ends the stream: the client gets it as Anthropic's `error`.
      if (chunk.failure !== undefined) return error(chunk.failure, 'upstream_stream_error');
      let text = start(chunk.id ?? 'stream', chunk.usage);
      if (chunk.content !== undefined && chunk.content !== '') {
        text += event('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: chunk.content },
        });
      }
      return text;
    },
    end: ({ usage, finishReason }) =>
      start('stream', usage) +
      event('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      event('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: STOP_REASONS[finishReason ?? 'stop'] ?? 'end_turn', stop_sequence: null },
        usage: anthropicUsage(usage),
      }) +
      event('message_stop', { type: 'message_stop' }),
    // Text only: reasoning and tool calls of the upstream are not translated.
    relaysOutput: (chunk) => chunk.content !== undefined && chunk.content !== '',
    error,
  };
}

/** Anthropic's error type for an HTTP status. */
function anthropicErrorType(status: number): string {
  if (status === 400 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  return 'api_error';
}

/** An `ApiError` answered in Anthropic's error shape: `{"type":"error","error":{"type":...,"message":...}}`. */
export function anthropicErrorResponse(error: ApiError): Response {
  return new Response(
    JSON.stringify({ type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } }),
    { status: error.status, headers: { 'content-type': 'application/json; charset=utf-8' } },
  );
}
