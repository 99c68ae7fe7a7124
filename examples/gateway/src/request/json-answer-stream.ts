import type { IncomingHttpHeaders } from 'node:http';
import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { isObject, nonEmptyString, type Json } from '../protocol/json.js';
import { UNCODED, reportedFailure } from '../providers/stream-answer.js';
import { readUpstreamJson, UpstreamFailure, type AbortLike, type UpstreamResponse } from '../providers/upstream.js';
import { withFields } from '../with-fields.js';
import type { Usage } from './attempt.js';

/*
 * A chat completion answering a request for a chat stream (a provider that ignored `stream: true`,
 * as some OpenAI-compatible servers do), served as the stream the provider would have sent: the
 * answer is generated and billed, and failing over would throw it away and pay for another. The
 * stream is read by the same relay as a real one (stream-attempt.ts), so translations, usage,
 * telemetry and the breaker see no difference, but for its timing: the answer arrived whole, so its
 * first chunk and first token are when it arrived, and it has no time per output chunk or token
 * (`RelayReading.jsonAnswer`).
 */

/** A chat completion to a request for a chat stream, as the relay reads it. */
export interface JsonAnswerStream {
  /** The completion's `chat.completion.chunk` events (`completionEvents`), as the provider's response. */
  upstream: UpstreamResponse;
  /**
   * The completion's usage, known before the relay reads a byte: its `RelayReading.usage`, so an
   * attempt whose client left before the relay opened still records and charges it.
   */
  usage: Usage | undefined;
}

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
 * the relay reads as the provider's own stream, and with its usage. Otherwise throws the
 * `UpstreamFailure` of a JSON body that does not stream, with the usage it reports (billed): an
 * `error` as the failure `reportedFailure` makes of it, anything else `invalid_response`. A body
 * that cannot be read (malformed, stalled, cut) fails as `readUpstreamJson` says. All of them fail
 * over, but an error the client's request caused. A body still arriving when `clientGone` aborts is
 * read on for its usage, for one more idle timeout at most, then let go (`cancelled`, no usage); at
 * once when the server cut the request (`clientGone.cut`), whose client then gets the cut's 503, as
 * a stream request cut before its first event does.
 */
export async function completionStream(
  response: UpstreamResponse,
  request: Record<string, unknown>,
  clientGone?: AbortLike,
): Promise<JsonAnswerStream> {
  const answer = await readUpstreamJson(response, clientGone);
  const usage = usageFromOpenAi(answer['usage']);
  const error = answer['error'];
  if (error !== undefined && error !== null && error !== false) throw reportedFailure(error, undefined, usage);
  if (!isChatCompletion(answer)) {
    throw new UpstreamFailure(
      'error',
      'invalid_response',
      'Upstream answered a stream request with a JSON body that is not a chat completion',
      true,
    ).withUsage(usage);
  }
  const options = request['stream_options'];
  const includeUsage = isObject(options) && options['include_usage'] === true;
  return { upstream: eventStream(response, completionEvents(answer, includeUsage)), usage };
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
 * included: each choice in choice order as a chunk per part of its message (reasoning, OpenRouter's
 * `reasoning_details`, text with the choice's `logprobs`, refusal, each other field, such as
 * `annotations` or `audio`, as it is, each tool call whole with its `index`: a function call with
 * its id, name and arguments text, a call of another type, such as `custom`, as it is), the role
 * on its first chunk, then a chunk with its `finish_reason`; with `includeUsage` (the
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

/** The message fields `messageDeltas` streams its own way (the reasoning field it does not stream is dropped). */
const READ_FIELDS = new Set([
  'role',
  'reasoning_content',
  'reasoning',
  'reasoning_details',
  'content',
  'refusal',
  'tool_calls',
  'function_call',
]);

/**
 * One delta per part of a message, in the order a stream sends them, the role on the first (alone
 * with an empty text when the message has nothing else); `scored`: the delta the choice's
 * `logprobs` go with (the text, or else the refusal). A field it does not know (OpenAI's
 * `annotations` and `audio`, ...) goes on a delta of its own as it is, as streams carry them: the
 * relay reads none of them, and an OpenAI client puts them back on the message.
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
  // OpenRouter's structured reasoning (with its signatures), streamed beside the reasoning text.
  if (carries(message['reasoning_details'])) add({ reasoning_details: message['reasoning_details'] });
  const content = textOf(message['content']);
  if (content !== '') add({ content }, true);
  if (nonEmptyString(message['refusal'])) add({ refusal: message['refusal'] }, content === '');
  for (const [field, value] of Object.entries(message)) {
    if (!READ_FIELDS.has(field) && carries(value)) add({ [field]: value });
  }
  const calls = Array.isArray(message['tool_calls']) ? message['tool_calls'].filter(isObject) : [];
  calls.forEach((call, index) => add({ tool_calls: [toolCallDelta(call, index)] }));
  if (isObject(message['function_call'])) add({ function_call: message['function_call'] });
  if (deltas.length === 0) add({ content: '' });
  return deltas;
}

/** Whether a message field has something to stream: not `null`, nor an empty string, array or object. */
function carries(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return !isObject(value) || Object.keys(value).length > 0;
}

/**
 * A message's tool call (`index`: its position) as the one delta streaming it whole: a function
 * call (also one without a `type`) with its id, name and arguments text, the fields a provider adds
 * (Gemini's `extra_content`) kept; a call of another type (`custom`, with `custom: { name, input }`)
 * with its own type and payload, as it is.
 */
function toolCallDelta(call: Json, index: number): Json {
  const { index: _index, id, type, function: called, ...rest } = call;
  if (type !== undefined && type !== null && type !== 'function') return Object.assign({ index }, call, { index });
  const fn = isObject(called) ? called : {};
  const name = typeof fn['name'] === 'string' ? fn['name'] : '';
  const delta: Json = nonEmptyString(id) ? { index, id } : { index };
  return Object.assign(
    delta,
    { type: 'function', function: { name, arguments: argumentsText(fn['arguments']) } },
    rest,
  );
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
