import { isObject } from './json.js';
import { ApiError, UNSUPPORTED_PARAMETER, badRequest } from './openai-errors.js';
import { chatToolCall, chatToolFields, chatToolResult, isUntranslatable, untranslatable } from './responses-tools.js';
import { withFields } from '../with-fields.js';

/** A validated `POST /v1/responses` request: what the gateway sends upstream and echoes back. */
export interface ResponsesRequest {
  model: string;
  stream: boolean;
  /**
   * The request as an OpenAI chat request, for providers without the Responses API; or, when it
   * uses what chat cannot carry (a built-in tool, an input item other than messages and function
   * calls), the 400 `unsupported_parameter` that says so.
   */
  chat: { body: Record<string, unknown> } | { refusal: ApiError };
  /** The request for a provider that speaks the Responses API: as sent, with `store: false`. */
  nativeBody: Record<string, unknown>;
  /** Request fields a Response object repeats (`instructions`, `max_output_tokens`, ...). */
  echo: ResponseEcho;
}

export interface ResponseEcho {
  instructions: string | null;
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  metadata: Record<string, unknown>;
  text: Record<string, unknown>;
  tools: unknown[];
  toolChoice: unknown;
  parallelToolCalls: boolean;
}

const unsupported = (param: string, message: string): ApiError => badRequest(message, param, UNSUPPORTED_PARAMETER);

/**
 * The gateway keeps no state between requests, so the Responses API features that need it are
 * refused with a 400 that says what to do instead.
 */
function refuseStatefulFeatures(body: Record<string, unknown>): void {
  const present = (field: string): boolean => body[field] !== undefined && body[field] !== null;
  if (present('previous_response_id')) {
    throw unsupported(
      'previous_response_id',
      'previous_response_id is not supported: this gateway stores no responses. Send the whole conversation in `input`.',
    );
  }
  if (present('conversation')) {
    throw unsupported(
      'conversation',
      'conversation is not supported: this gateway stores no conversations. Send the whole conversation in `input`.',
    );
  }
  if (body['store'] === true) {
    throw unsupported(
      'store',
      'store: true is not supported: this gateway stores no responses. Leave `store` out or set it to false.',
    );
  }
  if (body['background'] === true) {
    throw unsupported(
      'background',
      'background: true is not supported: this gateway answers every response in the request.',
    );
  }
  if (present('prompt')) {
    throw unsupported('prompt', 'prompt templates are not supported by this gateway: send `instructions` and `input`.');
  }
}

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * One content part of an input message, as a chat content part. A refusal (an earlier answer's
 * `refusal` part, fed back) is the assistant's text; parts chat has no counterpart for (files,
 * images by `file_id`) are `untranslatable`.
 */
function chatPart(part: unknown, param: string, role: unknown): Record<string, unknown> {
  const candidate = part as Record<string, unknown> | null;
  if (candidate === null || typeof candidate !== 'object') throw badRequest(`${param} must be an object`, param);
  const type = candidate['type'];
  if ((type === 'input_text' || type === 'output_text' || type === 'text') && isString(candidate['text'])) {
    return { type: 'text', text: candidate['text'] };
  }
  if (type === 'input_image' && isString(candidate['image_url'])) {
    const detail = candidate['detail'];
    return {
      type: 'image_url',
      image_url: { url: candidate['image_url'], ...(isString(detail) ? { detail } : {}) },
    };
  }
  if (type === 'refusal' && isString(candidate['refusal']) && role === 'assistant') {
    return { type: 'text', text: candidate['refusal'] };
  }
  if (
    (type === 'input_image' && isString(candidate['file_id'])) ||
    (type === 'input_file' && ['file_id', 'file_data', 'file_url'].some((field) => isString(candidate[field]))) ||
    (type === 'refusal' && isString(candidate['refusal']))
  ) {
    throw untranslatable(
      `${param}.type`,
      `${param} (${JSON.stringify(type)}${type === 'input_image' ? ' by file_id' : ''}) cannot be sent to a provider without the Responses API: message content translates to chat completions as input_text, output_text, input_image parts with image_url, and an assistant's refusal`,
    );
  }
  throw badRequest(
    `${param} must be an input_text ({"type":"input_text","text":"..."}), output_text, refusal, input_image (with image_url or file_id) or input_file part`,
    param,
  );
}

/** A message item of `input` as a chat message. */
function chatMessage(item: Record<string, unknown>, param: string): Record<string, unknown> {
  if (typeof item['role'] !== 'string' || !ROLES.has(item['role'])) {
    throw badRequest(`${param}.role must be one of ${[...ROLES].join(', ')}`, `${param}.role`);
  }
  const content = item['content'];
  if (typeof content === 'string') return { role: item['role'], content };
  if (!Array.isArray(content)) {
    throw badRequest(`${param}.content must be a string or an array of content parts`, `${param}.content`);
  }
  const parts = content.map((part: unknown, partIndex) =>
    chatPart(part, `${param}.content[${partIndex}]`, item['role']),
  );
  // Assistant turns and plain text read best upstream as a string.
  const textOnly = parts.every((part) => part['type'] === 'text');
  return { role: item['role'], content: textOnly ? parts.map((part) => part['text']).join('') : parts };
}

/**
 * Where a `tool` message answering `callId` goes: right after the assistant message that made the
 * call and the tool messages following it, as chat requires (a streamed answer with text after its
 * calls, fed back, has a message item between the call and its output); at the end when no
 * assistant message made it.
 */
function toolResultPosition(messages: Array<Record<string, unknown>>, callId: unknown): number {
  let calling = messages.length - 1;
  const makesCall = (message: Record<string, unknown>): boolean =>
    message['role'] === 'assistant' &&
    Array.isArray(message['tool_calls']) &&
    message['tool_calls'].some((call) => isObject(call) && call['id'] === callId);
  while (calling >= 0 && !makesCall(messages[calling] as Record<string, unknown>)) calling--;
  if (calling === -1) return messages.length;
  let position = calling + 1;
  while (messages[position]?.['role'] === 'tool') position++;
  return position;
}

/**
 * `input` (a string, or an array of messages, `function_call` and `function_call_output` items) as
 * chat messages: a function call joins the assistant message before it (chat puts an answer's
 * text and its tool calls in one message), a function call output is a `tool` message after the
 * assistant message with its call.
 */
function chatMessages(input: unknown): Array<Record<string, unknown>> {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0) {
    throw badRequest('input: field required (a string or a non-empty array of messages)', 'input');
  }
  const messages: Array<Record<string, unknown>> = [];
  input.forEach((item: unknown, index) => {
    const param = `input[${index}]`;
    if (!isObject(item)) throw badRequest(`${param} must be a message object`, param);
    const type = item['type'];
    if (type === undefined || type === 'message') messages.push(chatMessage(item, param));
    else if (type === 'function_call') {
      const call = chatToolCall(item, param);
      const last = messages.at(-1);
      if (last?.['role'] === 'assistant' && !Array.isArray(last['content']))
        last['tool_calls'] = [...((last['tool_calls'] as unknown[] | undefined) ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      const result = chatToolResult(item, param);
      messages.splice(toolResultPosition(messages, result['tool_call_id']), 0, result);
    } else {
      throw untranslatable(
        `${param}.type`,
        `${param}.type ${JSON.stringify(type)} cannot be sent to a provider without the Responses API: input items translate to chat completions as messages, function_call and function_call_output`,
      );
    }
  });
  return messages;
}

function optionalNumber(body: Record<string, unknown>, field: string): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(`${field} must be a number`, field);
  return value;
}

/** `text.format` as a chat `response_format`; `undefined` for plain text. */
function responseFormatOf(text: unknown): Record<string, unknown> | undefined {
  if (text === undefined || text === null) return undefined;
  if (!isObject(text)) throw badRequest('text must be an object', 'text');
  const format = text['format'];
  // `null` is no format, as an absent one (plain text).
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw badRequest('text.format must be an object', 'text.format');
  if (format['type'] === 'text') return undefined;
  if (format['type'] === 'json_object') return { type: 'json_object' };
  if (format['type'] === 'json_schema') {
    const { type: _type, ...schema } = format;
    return { type: 'json_schema', json_schema: schema };
  }
  throw badRequest('text.format.type must be text, json_object or json_schema', 'text.format.type');
}

/**
 * The request fields of the Responses API that Chat Completions takes under another name or the
 * same one, for a provider without the Responses API: `reasoning.effort` as `reasoning_effort`,
 * `text.verbosity` as `verbosity`, and `safety_identifier`, `prompt_cache_key` and `service_tier`
 * as they are. Values are passed on unchecked, as they are to a provider with the Responses API:
 * the provider judges them.
 */
function chatCounterparts(body: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const reasoning = body['reasoning'];
  if (isObject(reasoning) && reasoning['effort'] !== undefined && reasoning['effort'] !== null)
    fields['reasoning_effort'] = reasoning['effort'];
  const text = body['text'];
  if (isObject(text) && text['verbosity'] !== undefined && text['verbosity'] !== null)
    fields['verbosity'] = text['verbosity'];
  for (const field of ['safety_identifier', 'prompt_cache_key', 'service_tier']) {
    if (body[field] !== undefined && body[field] !== null) fields[field] = body[field];
  }
  return fields;
}

/**
 * Log probabilities (`top_logprobs` above 0, or `include` asking for
 * `message.output_text.logprobs`): chat completions has them in another shape, which the gateway
 * does not translate back, so a translated request would answer without them. `untranslatable`: a
 * provider with the Responses API still takes them.
 */
function refuseLogprobs(body: Record<string, unknown>): void {
  const top = body['top_logprobs'];
  if (typeof top === 'number' && top > 0)
    throw untranslatable(
      'top_logprobs',
      'top_logprobs cannot be sent to a provider without the Responses API: the gateway does not translate log probabilities',
    );
  const include = body['include'];
  if (Array.isArray(include) && include.includes('message.output_text.logprobs'))
    throw untranslatable(
      'include',
      'include "message.output_text.logprobs" cannot be sent to a provider without the Responses API: the gateway does not translate log probabilities',
    );
}

/**
 * The chat request `translate` makes of `body`, or the refusal of what it cannot translate. A
 * malformed request is a 400 whichever provider serves it: thrown, not kept.
 */
function chatRequest(translate: () => Record<string, unknown>): ResponsesRequest['chat'] {
  try {
    return { body: translate() };
  } catch (error) {
    if (isUntranslatable(error)) return { refusal: error };
    throw error;
  }
}

/**
 * Validate an OpenAI Responses API request (string or item-array `input`, `instructions`,
 * `max_output_tokens`, `temperature`, `top_p`, `text.format`, `stream`, function tools) and
 * translate it to a chat request. Throws a 400 `ApiError` in OpenAI's shape, also for the stateful
 * features (`previous_response_id`, `conversation`, `store: true`) the gateway does not keep; what
 * only chat cannot carry is the request's `chat.refusal`, for the route to answer when no provider
 * of the model has the Responses API.
 */
export function validateResponsesRequest(body: Record<string, unknown>): ResponsesRequest {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  refuseStatefulFeatures(body);
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    throw badRequest('stream must be a boolean', 'stream');
  const instructions = body['instructions'];
  if (instructions !== undefined && instructions !== null && typeof instructions !== 'string')
    throw badRequest('instructions must be a string', 'instructions');
  const maxOutputTokens = body['max_output_tokens'];
  if (
    maxOutputTokens !== undefined &&
    maxOutputTokens !== null &&
    (typeof maxOutputTokens !== 'number' || !Number.isInteger(maxOutputTokens) || maxOutputTokens < 1)
  ) {
    throw badRequest('max_output_tokens must be a positive integer', 'max_output_tokens');
  }
  const temperature = optionalNumber(body, 'temperature');
  const topP = optionalNumber(body, 'top_p');
  const responseFormat = responseFormatOf(body['text']);
  const metadata = body['metadata'];
  const parallelToolCalls = body['parallel_tool_calls'];
  return {
    model,
    stream: stream === true,
    chat: chatRequest(() => {
      refuseLogprobs(body);
      const messages = chatMessages(body['input']);
      if (typeof instructions === 'string') messages.unshift({ role: 'system', content: instructions });
      return {
        model,
        messages,
        ...(typeof maxOutputTokens === 'number' ? { max_tokens: maxOutputTokens } : {}),
        ...(temperature !== null ? { temperature } : {}),
        ...(topP !== null ? { top_p: topP } : {}),
        ...(responseFormat !== undefined ? { response_format: responseFormat } : {}),
        ...(typeof body['user'] === 'string' ? { user: body['user'] } : {}),
        ...chatCounterparts(body),
        ...chatToolFields(body),
      };
    }),
    nativeBody: withFields(body, { store: false }),
    echo: {
      instructions: typeof instructions === 'string' ? instructions : null,
      maxOutputTokens: typeof maxOutputTokens === 'number' ? maxOutputTokens : null,
      temperature,
      topP,
      metadata: metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {},
      text: (body['text'] as Record<string, unknown> | undefined) ?? { format: { type: 'text' } },
      tools: Array.isArray(body['tools']) ? body['tools'] : [],
      toolChoice: body['tool_choice'] ?? 'auto',
      parallelToolCalls: typeof parallelToolCalls === 'boolean' ? parallelToolCalls : true,
    },
  };
}
