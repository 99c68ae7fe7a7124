import { badRequest } from './openai-errors.js';

const CHAT_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** The fields of an OpenAI chat request the gateway relies on. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  /** `stream_options.include_usage`: the client wants the usage-only chunk of a stream. */
  includeUsage: boolean;
}

/** Validate the fields of an OpenAI chat request the gateway relies on; throws a 400 `ApiError`. */
export function validateChatRequest(body: Record<string, unknown>): ChatRequest {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest('messages: field required (a non-empty array)', 'messages');
  messages.forEach((message: unknown, index) => {
    const candidate = message as { role?: unknown; content?: unknown } | null;
    if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
      throw badRequest(`messages[${index}] must be an object`, `messages[${index}]`);
    }
    if (typeof candidate.role !== 'string' || !CHAT_ROLES.has(candidate.role)) {
      throw badRequest(
        `messages[${index}].role must be one of ${[...CHAT_ROLES].join(', ')}`,
        `messages[${index}].role`,
      );
    }
    const content = candidate.content;
    if (content !== null && content !== undefined && typeof content !== 'string' && !Array.isArray(content)) {
      throw badRequest(
        `messages[${index}].content must be a string or an array of content parts`,
        `messages[${index}].content`,
      );
    }
  });
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    throw badRequest('stream must be a boolean', 'stream');
  // The output limits and the number of choices bound what a request may cost (its budget hold):
  // a value the hold cannot read (a string, a fraction) would be held for the default instead.
  for (const field of ['max_tokens', 'max_completion_tokens', 'n']) {
    const value = body[field];
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    ) {
      throw badRequest(`${field} must be a positive integer (at most ${Number.MAX_SAFE_INTEGER})`, field);
    }
  }
  const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
  return { model, stream: stream === true, includeUsage: streamOptions?.include_usage === true };
}
