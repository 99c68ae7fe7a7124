import type {
  GenAiInputMessage,
  GenAiMessagePart,
  GenAiSpanStart,
  GenAiSystemInstructionPart,
} from '@gatewayz/telemetry/genai';
import { mediaPart, partsOf } from './chat-content.js';
import { isObject } from './json.js';
import { anthropicToolDefinitions } from './tool-definitions.js';

/*
 * An Anthropic Messages request as the GenAI conventions' content (v1.41 schemas): the top-level
 * `system` as `gen_ai.system_instructions` (the API gives it apart from the history), the turns
 * as `gen_ai.input.messages`. Built only when content capture is on, from a body
 * `anthropicToOpenAi` validated; anything of an unexpected shape is left out, never thrown.
 */

/** One content block of a turn (or of the system prompt, or of a tool result). */
function blockPart(block: unknown): GenAiMessagePart | undefined {
  if (!isObject(block) || typeof block['type'] !== 'string') return undefined;
  switch (block['type']) {
    case 'text':
      return typeof block['text'] === 'string' ? { type: 'text', content: block['text'] } : undefined;
    case 'tool_use':
      return typeof block['name'] === 'string'
        ? {
            type: 'tool_call',
            id: typeof block['id'] === 'string' ? block['id'] : null,
            name: block['name'],
            arguments: block['input'],
          }
        : undefined;
    case 'tool_result': {
      const content = block['content'];
      return {
        type: 'tool_call_response',
        id: typeof block['tool_use_id'] === 'string' ? block['tool_use_id'] : null,
        response: Array.isArray(content) ? blockParts(content) : (content ?? ''),
      };
    }
    case 'image': {
      const source = block['source'];
      if (!isObject(source)) return undefined;
      if (source['type'] === 'base64' && typeof source['data'] === 'string')
        return {
          type: 'blob',
          modality: 'image',
          ...(typeof source['media_type'] === 'string' ? { mime_type: source['media_type'] } : {}),
          content: source['data'],
        };
      if (source['type'] === 'url' && typeof source['url'] === 'string') return mediaPart(source['url'], 'image');
      if (source['type'] === 'file' && typeof source['file_id'] === 'string')
        return { type: 'file', modality: 'image', file_id: source['file_id'] };
      return undefined;
    }
    case 'thinking':
      return typeof block['thinking'] === 'string' ? { type: 'reasoning', content: block['thinking'] } : undefined;
    default:
      return { type: block['type'] };
  }
}

/** A string, or an array of content blocks, as parts. */
function blockParts(content: unknown): GenAiMessagePart[] {
  return partsOf(content, blockPart);
}

/**
 * The content of an Anthropic Messages request for the attempt spans: `system` (a string or text
 * blocks) as `systemInstructions`, the turns as `inputMessages` with their text, `tool_use`
 * (`tool_call`), `tool_result` (`tool_call_response`), image (blob, URI or file) and thinking
 * (reasoning) blocks, in the roles the request gives them; its `tools` as `toolDefinitions`.
 *
 * @example
 * ```ts
 * anthropicContent({ system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
 * // { systemInstructions: [{ type: 'text', content: 'Be brief.' }],
 * //   inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }] }
 * ```
 */
export function anthropicContent(
  body: Record<string, unknown>,
): Pick<GenAiSpanStart, 'inputMessages' | 'systemInstructions' | 'toolDefinitions'> {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  const inputMessages = messages
    .filter(isObject)
    .filter((message) => typeof message['role'] === 'string')
    .map((message): GenAiInputMessage => ({ role: message['role'] as string, parts: blockParts(message['content']) }));
  const system =
    body['system'] === undefined ? undefined : (blockParts(body['system']) as GenAiSystemInstructionPart[]);
  const toolDefinitions = anthropicToolDefinitions(body);
  return {
    inputMessages,
    ...(system !== undefined && system.length > 0 ? { systemInstructions: system } : {}),
    ...(toolDefinitions !== undefined ? { toolDefinitions } : {}),
  };
}
