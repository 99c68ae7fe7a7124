import { isObject, type Json } from './json.js';
import type { CompletionChunk } from './stream-encoder.js';

/*
 * OpenAI chat's side of tool use, shared by the translations to and from it (Anthropic Messages,
 * the Responses API): function tools and a named tool choice in a request, the tool calls of a
 * completion, and the tool call fragments of a stream chunk.
 */

/** A tool call of an assistant message, as a chat request carries it. */
export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A chat function tool: `{ type: 'function', function: { name, description?, parameters?, strict? } }`. */
export function chatFunctionTool(definition: {
  name: string;
  description?: string | undefined;
  parameters?: Json | undefined;
  strict?: boolean | undefined;
}): Json {
  return {
    type: 'function',
    function: {
      name: definition.name,
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      ...(definition.parameters !== undefined ? { parameters: definition.parameters } : {}),
      ...(definition.strict !== undefined ? { strict: definition.strict } : {}),
    },
  };
}

/** Chat's `tool_choice` forcing the function `name`. */
export const chatNamedToolChoice = (name: string): Json => ({ type: 'function', function: { name } });

/** A tool call of a completion's message, its fields as the upstream sent them (any may be missing). */
export interface AnsweredToolCall {
  /** The upstream's call id; `undefined` when it sent none (some OpenAI-compatible servers). */
  id: string | undefined;
  name: string;
  /** The arguments as sent: a JSON text, normally. */
  arguments: unknown;
}

/** The tool calls of a chat completion's message (`message.tool_calls`), in order. */
export function answeredToolCalls(message: { tool_calls?: unknown } | undefined): AnsweredToolCall[] {
  const calls = message?.tool_calls;
  return (Array.isArray(calls) ? calls.filter(isObject) : []).map((call) => {
    const fn = isObject(call['function']) ? call['function'] : {};
    return {
      id: typeof call['id'] === 'string' && call['id'] !== '' ? call['id'] : undefined,
      name: typeof fn['name'] === 'string' ? fn['name'] : '',
      arguments: fn['arguments'],
    };
  });
}

/** One tool call fragment of a chat chunk's first choice (`delta.tool_calls[]`). */
export interface ToolCallDelta {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

/** The tool call fragments of a chunk's first choice. */
export function toolCallDeltas(chunk: CompletionChunk): ToolCallDelta[] {
  const choices = chunk.json['choices'];
  const first = Array.isArray(choices) ? (choices[0] as { delta?: { tool_calls?: unknown } | null } | null) : null;
  const calls = first?.delta?.tool_calls;
  return Array.isArray(calls)
    ? (calls.filter((call) => typeof call === 'object' && call !== null) as ToolCallDelta[])
    : [];
}

/**
 * The upstream's index of each tool call fragment of a stream, one tracker per stream: a
 * fragment's `index`; without one (Gemini's OpenAI-compatible endpoint sends each call whole, in a
 * chunk of its own, with no `index`), its position in the chunk, unless it carries an id other
 * than that of the call open at that position: then it starts a call of its own, at the next free
 * index.
 */
export function toolCallIndexes(): (call: ToolCallDelta, position: number) => number {
  /** The call open at each position of a chunk, for fragments without an index. */
  const open = new Map<number, { index: number; id: string | undefined }>();
  let nextFree = 0;
  return (call, position) => {
    let index: number;
    if (typeof call.index === 'number' && Number.isInteger(call.index)) index = call.index;
    else {
      const { id } = toolCallStart(call);
      const current = open.get(position);
      if (current === undefined) index = Math.max(position, nextFree);
      else if (id !== undefined && current.id !== undefined && id !== current.id) index = nextFree;
      else index = current.index;
      if (current?.index !== index) open.set(position, { index, id });
      else if (current.id === undefined && id !== undefined) current.id = id;
    }
    nextFree = Math.max(nextFree, index + 1);
    return index;
  };
}

/** The id and name a fragment starting a tool call carries (`undefined` id when it has none). */
export function toolCallStart(call: ToolCallDelta): { id: string | undefined; name: string } {
  return {
    id: typeof call.id === 'string' && call.id !== '' ? call.id : undefined,
    name: typeof call.function?.name === 'string' ? call.function.name : '',
  };
}

/** The argument text a fragment adds, `''` when none. */
export const toolCallFragment = (call: ToolCallDelta): string =>
  typeof call.function?.arguments === 'string' ? call.function.arguments : '';
