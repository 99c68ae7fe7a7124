import type {
  GenAiInputMessage,
  GenAiMessagePart,
  GenAiOutputMessage,
  GenAiSpanStart,
} from '@gatewayz/telemetry/genai';
import { BoundedText, type StreamedOutput } from '../request/streamed-chat-output.js';
import { finishReasonOf, mediaPart, partsOf, toolCallPart, toolResponseMessage } from './chat-content.js';
import { isObject } from './json.js';
import { responsesFinishReason } from './responses-outcome.js';
import { responsesToolDefinitions } from './tool-definitions.js';

/*
 * An OpenAI Responses API request and its native answer as the GenAI conventions' content (v1.41
 * schemas): `instructions` as `gen_ai.system_instructions`, `input` (a string, or messages,
 * function calls and their outputs) as `gen_ai.input.messages`, a Response's `output` items as one
 * output message. Built only when content capture is on, from a body `validateResponsesRequest`
 * validated; anything of an unexpected shape is left out, never thrown.
 */

/** One content part of an input or output message. */
function part(item: unknown): GenAiMessagePart | undefined {
  if (!isObject(item) || typeof item['type'] !== 'string') return undefined;
  const type = item['type'];
  if ((type === 'input_text' || type === 'output_text' || type === 'text') && typeof item['text'] === 'string')
    return { type: 'text', content: item['text'] };
  if (type === 'refusal' && typeof item['refusal'] === 'string') return { type: 'refusal', content: item['refusal'] };
  if (type === 'input_image' && typeof item['image_url'] === 'string') return mediaPart(item['image_url'], 'image');
  if (type === 'input_image' && typeof item['file_id'] === 'string')
    return { type: 'file', modality: 'image', file_id: item['file_id'] };
  return { type };
}

function parts(content: unknown): GenAiMessagePart[] {
  return partsOf(content, part);
}

/**
 * The items of an array `input` as conventions messages: a message as it is, a `function_call` as
 * a `tool_call` part of the assistant message before it (a new one when there is none, as the chat
 * translation sends it), a `function_call_output` as a `tool` message.
 */
function inputItemMessages(input: unknown): GenAiInputMessage[] {
  const messages: GenAiInputMessage[] = [];
  for (const item of Array.isArray(input) ? input.filter(isObject) : []) {
    if (item['type'] === 'function_call' && typeof item['name'] === 'string') {
      const call = toolCallPart(item['call_id'], item['name'], item['arguments']);
      const last = messages.at(-1);
      if (last?.role === 'assistant') last.parts.push(call);
      else messages.push({ role: 'assistant', parts: [call] });
    } else if (item['type'] === 'function_call_output') {
      const output = item['output'];
      messages.push(toolResponseMessage(item['call_id'], Array.isArray(output) ? parts(output) : (output ?? '')));
    } else if (typeof item['role'] === 'string') messages.push({ role: item['role'], parts: parts(item['content']) });
  }
  return messages;
}

/**
 * The content of a Responses API request for the attempt spans: `instructions` as
 * `systemInstructions`, `input` as `inputMessages` (a string is one user message), its `tools` as
 * `toolDefinitions`.
 *
 * @example
 * ```ts
 * responsesContent({ instructions: 'Be brief.', input: 'Hi' });
 * // { systemInstructions: [{ type: 'text', content: 'Be brief.' }],
 * //   inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }] }
 * ```
 */
export function responsesContent(
  body: Record<string, unknown>,
): Pick<GenAiSpanStart, 'inputMessages' | 'systemInstructions' | 'toolDefinitions'> {
  const input = body['input'];
  const inputMessages: GenAiInputMessage[] =
    typeof input === 'string' ? [{ role: 'user', parts: parts(input) }] : inputItemMessages(input);
  const instructions = body['instructions'];
  const toolDefinitions = responsesToolDefinitions(body);
  return {
    inputMessages,
    ...(toolDefinitions !== undefined ? { toolDefinitions } : {}),
    ...(typeof instructions === 'string' && instructions !== ''
      ? { systemInstructions: [{ type: 'text', content: instructions }] }
      : {}),
  };
}

/** The parts of a Response's `output` items: reasoning summaries, message content, function calls. */
function outputParts(output: unknown): GenAiMessagePart[] {
  const items = Array.isArray(output) ? output.filter(isObject) : [];
  return items.flatMap((item): GenAiMessagePart[] => {
    if (item['type'] === 'message') return parts(item['content']);
    if (item['type'] === 'reasoning') {
      const summary = Array.isArray(item['summary']) ? item['summary'].filter(isObject) : [];
      const text = summary.map((entry) => (typeof entry['text'] === 'string' ? entry['text'] : '')).join('');
      return text === '' ? [] : [{ type: 'reasoning', content: text }];
    }
    if (item['type'] === 'function_call' && typeof item['name'] === 'string')
      return [toolCallPart(item['call_id'], item['name'], item['arguments'])];
    return typeof item['type'] === 'string' ? [{ type: item['type'] }] : [];
  });
}

/**
 * A native Response object as `gen_ai.output.messages`: its output items as one assistant
 * message (a Response is one choice), its finish reason as the conventions name it.
 *
 * @example
 * ```ts
 * responsesOutputMessages({ status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi' }] }] });
 * // [{ role: 'assistant', parts: [{ type: 'text', content: 'Hi' }], finish_reason: 'stop' }]
 * ```
 */
export function responsesOutputMessages(response: Record<string, unknown>): GenAiOutputMessage[] {
  const finishReason = response['status'] === 'failed' ? 'error' : responsesFinishReason(response, response['status']);
  return [{ role: 'assistant', parts: outputParts(response['output']), finish_reason: finishReasonOf(finishReason) }];
}

/**
 * The answer of a native Responses stream: the final Response of `response.completed` /
 * `response.incomplete` when it came; else (a stream cut or failed) the text and reasoning deltas
 * received, each held to the content limit, ending with `error`.
 */
export class StreamedResponsesOutput implements StreamedOutput {
  private final: GenAiOutputMessage[] | undefined;
  private readonly text: BoundedText;
  private readonly reasoning: BoundedText;

  constructor(maxLength: number | undefined) {
    this.text = new BoundedText(maxLength);
    this.reasoning = new BoundedText(maxLength);
  }

  add(event: Record<string, unknown>): void {
    const type = event['type'];
    if (type === 'response.output_text.delta') this.text.append(event['delta']);
    else if (type === 'response.reasoning_summary_text.delta' || type === 'response.reasoning_text.delta')
      this.reasoning.append(event['delta']);
    else if ((type === 'response.completed' || type === 'response.incomplete') && isObject(event['response']))
      this.final = responsesOutputMessages(event['response']);
  }

  messages(): GenAiOutputMessage[] {
    if (this.final !== undefined) return this.final;
    const received: GenAiMessagePart[] = [
      ...(this.reasoning.text !== '' ? [{ type: 'reasoning' as const, content: this.reasoning.text }] : []),
      ...(this.text.text !== '' ? [{ type: 'text' as const, content: this.text.text }] : []),
    ];
    return received.length === 0 ? [] : [{ role: 'assistant', parts: received, finish_reason: 'error' }];
  }
}
