import { badRequest } from './openai-errors.js';
import type { StreamEncoder } from './stream-encoder.js';

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
  const usage = completion['usage'] as { prompt_tokens?: number; completion_tokens?: number } | undefined;
  return {
    id: `msg_${typeof completion['id'] === 'string' ? completion['id'] : ''}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: choice?.message?.content ?? '' }],
    stop_reason: STOP_REASONS[choice?.finish_reason ?? 'stop'] ?? 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage?.prompt_tokens ?? 0, output_tokens: usage?.completion_tokens ?? 0 },
  };
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Translate OpenAI stream chunks into the Anthropic Messages streaming events. */
export function anthropicStreamEncoder(model: string): StreamEncoder {
  let started = false;
  const start = (id: string): string => {
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
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }) +
      event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
    );
  };
  return {
    chunk: (chunk) => {
      let text = start(chunk.id ?? 'stream');
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
      start('stream') +
      event('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      event('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: STOP_REASONS[finishReason ?? 'stop'] ?? 'end_turn', stop_sequence: null },
        usage: { output_tokens: usage?.outputTokens ?? 0 },
      }) +
      event('message_stop', { type: 'message_stop' }),
    error: (message, type) =>
      event('error', {
        type: 'error',
        error: { type: type === 'timeout' ? 'overloaded_error' : 'api_error', message },
      }),
  };
}
