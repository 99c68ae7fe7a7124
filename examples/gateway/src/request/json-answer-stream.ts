import type { IncomingHttpHeaders } from 'node:http';
import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { answeredToolCalls } from '../protocol/chat-tools.js';
import { isObject, nonEmptyString, type Json } from '../protocol/json.js';
import { UNCODED, reportedFailure } from '../providers/stream-answer.js';
import { readUpstreamJson, UpstreamFailure, type UpstreamResponse } from '../providers/upstream.js';
import { withFields } from '../with-fields.js';

/*
 * A chat completion answering a request for a chat stream (a provider that ignored `stream: true`,
 * as some OpenAI-compatible servers do), served as the stream the provider would have sent: the
 * answer is generated and billed, and failing over would throw it away and pay for another. The
 * stream is read by the same relay as a real one (stream-attempt.ts), so translations, usage,
 * telemetry and the breaker see no difference.
 */

/**
 * Whether `headers` (of a 2xx to a request for a stream) announce a JSON body the gateway can read:
 * a JSON media type (`application/json`, `...+json`) and no content coding. An SSE stream answers
 * false on its content type alone.
 */
export function isJsonAnswer(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (type === undefined) return false;
  const media = (type.split(';')[0] ?? '').trim().toLowerCase();
  if (media !== 'application/json' && !media.endsWith('+json')) return false;
  return UNCODED.has(headers['content-encoding']?.trim().toLowerCase() ?? '');
}

/**
 * Read `response` (a 2xx JSON body, see `isJsonAnswer`) to a request for a chat stream (`request`,
 * the body sent): when it is a chat completion (`choices`, each with a `message`, and no `error`),
 * resolves with a response streaming its `chat.completion.chunk` events (`completionEvents`), which
 * the relay reads as the provider's own stream. Otherwise throws the `UpstreamFailure` of a JSON
 * body that does not stream, with the usage it reports (billed): an `error` as the failure
 * `reportedFailure` makes of it, anything else `invalid_response`. A body that cannot be read
 * (malformed, stalled, cut) fails as `readUpstreamJson` says. All of them fail over, but an error
 * the client's request caused.
 */
export async function completionStream(
  response: UpstreamResponse,
  request: Record<string, unknown>,
): Promise<UpstreamResponse> {
  const answer = await readUpstreamJson(response);
  const error = answer['error'];
  if (error !== undefined && error !== null && error !== false)
    throw reportedFailure(error, undefined, usageFromOpenAi(answer['usage']));
  if (!isChatCompletion(answer)) {
    throw new UpstreamFailure(
      'error',
      'invalid_response',
      'Upstream answered a stream request with a JSON body that is not a chat completion',
      true,
    ).withUsage(usageFromOpenAi(answer['usage']));
  }
  const options = request['stream_options'];
  const includeUsage = isObject(options) && options['include_usage'] === true;
  return eventStream(response, completionEvents(answer, includeUsage));
}

/** Whether `answer` (holding no `error`) is a chat completion: a non-empty `choices` whose every entry has a `message`. */
function isChatCompletion(answer: Json): boolean {
  const choices = answer['choices'];
  return (
    Array.isArray(choices) &&
    choices.length > 0 &&
    choices.every((choice) => isObject(choice) && isObject(choice['message']))
  );
}

/**
 * The SSE text a provider streaming `completion` (a chat completion) would have sent, `[DONE]`
 * included: each choice in choice order as a chunk per part of its message (reasoning, text with
 * the choice's `logprobs`, refusal, each tool call whole with its `index`, id, name and arguments),
 * the role on its first chunk, then a chunk with its `finish_reason`; with `includeUsage` (the
 * request asked for `stream_options.include_usage`), the usage chunk (`choices: []`). Every chunk
 * carries the completion's other top-level fields (`id`, `created`, `model`, `system_fingerprint`,
 * ...) and `object: "chat.completion.chunk"`.
 *
 * @example
 * ```ts
 * completionEvents({ id: 'c1', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] }, false);
 * // data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}]}
 * // data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
 * // data: [DONE]
 * ```
 */
export function completionEvents(completion: Json, includeUsage: boolean): string {
  const { choices, usage, object: _object, ...fields } = completion;
  const common = withFields({ id: completion['id'], object: 'chat.completion.chunk' }, fields);
  const event = (chunk: Json): string => `data: ${JSON.stringify(withFields(common, chunk))}\n\n`;
  let text = '';
  for (const { choice, index } of inChoiceOrder(choices as unknown[])) {
    const logprobs = isObject(choice['logprobs']) ? choice['logprobs'] : null;
    for (const { delta, scored } of messageDeltas(choice['message'] as Json)) {
      text += event({ choices: [{ index, delta, logprobs: scored ? logprobs : null, finish_reason: null }] });
    }
    if (typeof choice['finish_reason'] === 'string') {
      text += event({ choices: [{ index, delta: {}, logprobs: null, finish_reason: choice['finish_reason'] }] });
    }
  }
  if (includeUsage && isObject(usage)) text += event({ choices: [], usage });
  return `${text}data: [DONE]\n\n`;
}

/** The choices with their `index` (their position when they have none), in choice order. */
function inChoiceOrder(choices: unknown[]): Array<{ choice: Json; index: number }> {
  return choices
    .filter(isObject)
    .map((choice, position) => ({ choice, index: typeof choice['index'] === 'number' ? choice['index'] : position }))
    .sort((a, b) => a.index - b.index);
}

/**
 * One delta per part of a message, in the order a stream sends them, the role on the first (alone
 * with an empty text when the message has nothing else); `scored`: the delta the choice's
 * `logprobs` go with (the text, or else the refusal).
 */
function messageDeltas(message: Json): Array<{ delta: Json; scored: boolean }> {
  const role = typeof message['role'] === 'string' ? message['role'] : 'assistant';
  const deltas: Array<{ delta: Json; scored: boolean }> = [];
  const add = (delta: Json, scored = false): void => {
    deltas.push({ delta: deltas.length === 0 ? withFields({ role }, delta) : delta, scored });
  };
  // DeepSeek's `reasoning_content`, OpenRouter's `reasoning`: streamed under the same name.
  const reasoning = ['reasoning_content', 'reasoning'].find((field) => nonEmptyString(message[field]));
  if (reasoning !== undefined) add({ [reasoning]: message[reasoning] });
  const content = textOf(message['content']);
  if (content !== '') add({ content }, true);
  if (nonEmptyString(message['refusal'])) add({ refusal: message['refusal'] }, content === '');
  answeredToolCalls(message).forEach((call, index) => {
    const fn = { name: call.name, arguments: argumentsText(call.arguments) };
    add({
      tool_calls: [
        call.id !== undefined
          ? { index, id: call.id, type: 'function', function: fn }
          : { index, type: 'function', function: fn },
      ],
    });
  });
  if (isObject(message['function_call'])) add({ function_call: message['function_call'] });
  if (deltas.length === 0) add({ content: '' });
  return deltas;
}

/** A message's text: its `content` string, or the text of its `text` parts (some servers send an array). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((part) => (part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : ''))
    .join('');
}

/** Tool call arguments as the text a stream carries: a string as it is, anything else as JSON (none: empty). */
function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/** `response` with `text` as its body, whole in one read: an SSE stream the relay reads as it reads the provider's. */
function eventStream(response: UpstreamResponse, text: string): UpstreamResponse {
  let read = false;
  const bytes = new TextEncoder().encode(text);
  return {
    status: response.status,
    headers: withFields(response.headers, { 'content-type': 'text/event-stream' }),
    bodyIdleTimeoutMs: response.bodyIdleTimeoutMs,
    body: {
      read: () => {
        if (read) return Promise.resolve({ done: true, value: undefined });
        read = true;
        return Promise.resolve({ done: false, value: bytes });
      },
      // The provider's body was read whole: there is nothing to let go.
      cancel: () => {},
      discardRest: () => {},
    },
  };
}
