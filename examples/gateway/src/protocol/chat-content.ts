import type {
  GenAiFinishReason,
  GenAiInputMessage,
  GenAiMessagePart,
  GenAiOutputMessage,
  GenAiSpanStart,
} from '@gatewayz/telemetry/genai';
import { isObject, type Json } from './json.js';
import { chatToolDefinitions } from './tool-definitions.js';

/*
 * OpenAI chat requests and completions as the GenAI conventions' messages (v1.41 schemas), for
 * `gen_ai.input.messages` and `gen_ai.output.messages` on the attempt spans. Built only when
 * content capture is on (`GatewayTelemetry.genAiContent.capture`). Reads the bodies the gateway
 * validated; anything of an unexpected shape is left out, never thrown.
 */

/** Tool call arguments as the conventions show them: the parsed JSON object, or the text when it is not JSON. */
export function toolArguments(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const isHexDigit = (byte: number): boolean =>
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);

/**
 * The bytes of a percent-encoded text as the URL standard decodes them: `%` and two hex digits is
 * that byte, any other `%` stays as it is. (`decodeURIComponent` throws on a stray `%` and on bytes
 * that are not UTF-8, which a `data:` URL may hold.)
 */
function percentDecode(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const decoded = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]!;
    if (byte === 0x25 && index + 2 < bytes.length && isHexDigit(bytes[index + 1]!) && isHexDigit(bytes[index + 2]!)) {
      decoded[length++] = Number.parseInt(bytes.toString('latin1', index + 1, index + 3), 16);
      index += 2;
    } else decoded[length++] = byte;
  }
  return decoded.subarray(0, length);
}

/**
 * `data:[<mime>][;<parameter>…][;base64],<data>`: a blob part's MIME type (without its parameters)
 * and base64 content; `undefined` for other URLs.
 */
function dataUrl(url: string): { mimeType?: string; content: string } | undefined {
  const match = /^data:([^,]*),(.*)$/is.exec(url);
  if (match === null) return undefined;
  const header = (match[1] ?? '').split(';').map((piece) => piece.trim());
  const base64 = header.length > 1 && header.at(-1)!.toLowerCase() === 'base64';
  const data = match[2] ?? '';
  const content = base64 ? data : percentDecode(data).toString('base64');
  const mimeType = header[0];
  return mimeType ? { mimeType, content } : { content };
}

/** An image (or other media) given by URL: a blob part for a `data:` URL, else a URI part. */
export function mediaPart(url: string, modality: string): GenAiMessagePart {
  const inline = dataUrl(url);
  if (inline === undefined) return { type: 'uri', modality, uri: url };
  return {
    type: 'blob',
    modality,
    ...(inline.mimeType !== undefined ? { mime_type: inline.mimeType } : {}),
    content: inline.content,
  };
}

/** One content part of an OpenAI chat message. */
function contentPart(part: unknown): GenAiMessagePart | undefined {
  if (!isObject(part) || typeof part['type'] !== 'string') return undefined;
  switch (part['type']) {
    case 'text':
      return typeof part['text'] === 'string' ? { type: 'text', content: part['text'] } : undefined;
    case 'refusal':
      return typeof part['refusal'] === 'string' ? { type: 'refusal', content: part['refusal'] } : undefined;
    case 'image_url': {
      const url = isObject(part['image_url']) ? part['image_url']['url'] : undefined;
      return typeof url === 'string' ? mediaPart(url, 'image') : undefined;
    }
    case 'input_audio': {
      const audio = part['input_audio'];
      if (!isObject(audio) || typeof audio['data'] !== 'string') return undefined;
      const format = typeof audio['format'] === 'string' ? { mime_type: `audio/${audio['format']}` } : {};
      return { type: 'blob', modality: 'audio', ...format, content: audio['data'] };
    }
    case 'file': {
      // A file part of the conventions names an uploaded file (file_id); inline data is a blob.
      const file = isObject(part['file']) ? part['file'] : {};
      if (typeof file['file_id'] === 'string') return { type: 'file', modality: 'document', file_id: file['file_id'] };
      const data = file['file_data'];
      if (typeof data !== 'string') return undefined;
      return /^data:/i.test(data) ? mediaPart(data, 'document') : { type: 'blob', modality: 'document', content: data };
    }
    default:
      return { type: part['type'] };
  }
}

/**
 * The parts of a message's `content` in any of the wire formats: a non-empty string is one text
 * part; an array maps each entry with `toPart` (the format's own blocks), leaving out the entries it
 * cannot map; anything else has no parts.
 *
 * @example
 * ```ts
 * partsOf('Hi', contentPart); // [{ type: 'text', content: 'Hi' }]
 * ```
 */
export function partsOf(
  content: unknown,
  toPart: (entry: unknown) => GenAiMessagePart | undefined,
): GenAiMessagePart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.map(toPart).filter((part): part is GenAiMessagePart => part !== undefined);
}

/** The parts of a chat message's `content`: a string, or an array of content parts. */
function contentParts(content: unknown): GenAiMessagePart[] {
  return partsOf(content, contentPart);
}

/** A tool call as a `tool_call` part: its id (`null` when none), name, and arguments (`toolArguments`). */
export const toolCallPart = (id: unknown, name: string, args: unknown): GenAiMessagePart => ({
  type: 'tool_call',
  id: typeof id === 'string' ? id : null,
  name,
  arguments: toolArguments(args),
});

/** A tool's result as a `tool` message with a `tool_call_response` part for the call `id` (`null` when none). */
export const toolResponseMessage = (
  id: unknown,
  response: unknown,
  name: { name?: string } = {},
): GenAiInputMessage => ({
  role: 'tool',
  ...name,
  parts: [{ type: 'tool_call_response', id: typeof id === 'string' ? id : null, response }],
});

/** An assistant message's tool calls (`tool_calls`, or the legacy `function_call`) as tool call parts. */
function toolCallParts(message: Json): GenAiMessagePart[] {
  const calls = Array.isArray(message['tool_calls']) ? message['tool_calls'] : [];
  const parts: GenAiMessagePart[] = [];
  for (const call of calls) {
    const fn = isObject(call) ? call['function'] : undefined;
    if (!isObject(fn) || typeof fn['name'] !== 'string') continue;
    parts.push(toolCallPart(isObject(call) ? call['id'] : undefined, fn['name'], fn['arguments']));
  }
  const legacy = message['function_call'];
  if (isObject(legacy) && typeof legacy['name'] === 'string')
    parts.push({ type: 'tool_call', name: legacy['name'], arguments: toolArguments(legacy['arguments']) });
  return parts;
}

/** One message of an OpenAI chat request as a conventions message. */
function inputMessage(message: unknown): GenAiInputMessage | undefined {
  if (!isObject(message) || typeof message['role'] !== 'string') return undefined;
  const role = message['role'];
  const name = typeof message['name'] === 'string' ? { name: message['name'] } : {};
  if (role === 'tool' || role === 'function') {
    const content = message['content'];
    return toolResponseMessage(
      message['tool_call_id'],
      Array.isArray(content) ? contentParts(content) : (content ?? ''),
      name,
    );
  }
  const parts = contentParts(message['content']);
  if (role === 'assistant') {
    if (typeof message['refusal'] === 'string') parts.push({ type: 'refusal', content: message['refusal'] });
    parts.push(...toolCallParts(message));
  }
  return { role, ...name, parts };
}

/**
 * The `messages` of an OpenAI chat request as `gen_ai.input.messages`, in the order sent. System
 * and developer messages stay in the history, where the request puts them.
 *
 * @example
 * ```ts
 * chatInputMessages({ messages: [{ role: 'user', content: 'Hi' }] });
 * // [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }]
 * ```
 */
export function chatInputMessages(body: Json): GenAiInputMessage[] {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  return messages.map(inputMessage).filter((message): message is GenAiInputMessage => message !== undefined);
}

/**
 * The content of an OpenAI chat request for the attempt spans and events: its messages
 * (`chatInputMessages`) and the tools it offers (`chatToolDefinitions`), when it offers any.
 *
 * @example
 * ```ts
 * chatContent({ messages: [{ role: 'user', content: 'Hi' }] });
 * // { inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }] }
 * ```
 */
export function chatContent(body: Json): Pick<GenAiSpanStart, 'inputMessages' | 'toolDefinitions'> {
  const toolDefinitions = chatToolDefinitions(body);
  return { inputMessages: chatInputMessages(body), ...(toolDefinitions !== undefined ? { toolDefinitions } : {}) };
}

/** An OpenAI `finish_reason` as the conventions name it (`tool_calls` and `function_call` are `tool_call`). */
export function finishReasonOf(reason: unknown): GenAiFinishReason {
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_call';
  return typeof reason === 'string' ? reason : 'error';
}

/** Reasoning text of a message or delta (DeepSeek's `reasoning_content`, OpenRouter's `reasoning`). */
export function reasoningOf(message: Json): string | undefined {
  const reasoning = message['reasoning_content'] ?? message['reasoning'];
  return typeof reasoning === 'string' && reasoning !== '' ? reasoning : undefined;
}

/**
 * The choices of an OpenAI chat completion as `gen_ai.output.messages`, one message per choice in
 * choice order: reasoning, text, refusal, then tool calls.
 *
 * @example
 * ```ts
 * chatOutputMessages({ choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }] });
 * // [{ role: 'assistant', parts: [{ type: 'text', content: 'Hello' }], finish_reason: 'stop' }]
 * ```
 */
export function chatOutputMessages(completion: Json): GenAiOutputMessage[] {
  const choices = Array.isArray(completion['choices']) ? completion['choices'] : [];
  return choices
    .filter(isObject)
    .map((choice, position) => ({ choice, index: typeof choice['index'] === 'number' ? choice['index'] : position }))
    .sort((a, b) => a.index - b.index)
    .map(({ choice }) => {
      const message = isObject(choice['message']) ? choice['message'] : {};
      const reasoning = reasoningOf(message);
      const parts: GenAiMessagePart[] = [
        ...(reasoning !== undefined ? [{ type: 'reasoning' as const, content: reasoning }] : []),
        ...contentParts(message['content']),
        ...(typeof message['refusal'] === 'string' ? [{ type: 'refusal', content: message['refusal'] }] : []),
        ...toolCallParts(message),
      ];
      return {
        role: typeof message['role'] === 'string' ? message['role'] : 'assistant',
        parts,
        finish_reason: finishReasonOf(choice['finish_reason']),
      };
    });
}
