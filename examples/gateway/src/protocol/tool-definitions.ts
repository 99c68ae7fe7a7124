import type { GenAiToolDefinition } from '@gatewayz/telemetry/genai';
import { isObject, type Json } from './json.js';
import { withFields } from '../with-fields.js';

/*
 * The tools a request offers the model, in each wire format, as the GenAI conventions' tool
 * definitions (`gen_ai.tool.definitions`, v1.41 schema: `{ type, name, description?, parameters? }`).
 * Built only when content capture is on; entries of an unexpected shape are left out, never thrown.
 */

/** A function definition: its name, and its description and parameter schema when they are given. */
function functionDefinition(name: unknown, description: unknown, parameters: unknown): GenAiToolDefinition | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  return {
    type: 'function',
    name,
    ...(typeof description === 'string' ? { description } : {}),
    ...(isObject(parameters) ? { parameters } : {}),
  };
}

/** A tool of another kind, with its settings: named by its `name`, or by its type when it has none. */
function otherTool(tool: Json, type: string): GenAiToolDefinition {
  return withFields(tool, { type, name: typeof tool['name'] === 'string' ? tool['name'] : type });
}

/** The entries of `list` that `toDefinition` maps; `undefined` when `list` is not a non-empty array. */
function definitionsOf(
  list: unknown,
  toDefinition: (tool: Json) => GenAiToolDefinition | undefined,
): GenAiToolDefinition[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const definitions = list
    .filter(isObject)
    .map(toDefinition)
    .filter((definition): definition is GenAiToolDefinition => definition !== undefined);
  return definitions.length > 0 ? definitions : undefined;
}

/**
 * The `tools` of an OpenAI chat request (`{ type: 'function', function: { name, description,
 * parameters } }`, custom tools as `{ type: 'custom', name, ... }`), or its legacy `functions`.
 *
 * @example
 * ```ts
 * chatToolDefinitions({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] });
 * // [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }]
 * ```
 */
export function chatToolDefinitions(body: Json): GenAiToolDefinition[] | undefined {
  // An OpenAI function, in a tool or in the legacy list: `{ name, description, parameters }`.
  const openAiFunction = (fn: Json): GenAiToolDefinition | undefined =>
    functionDefinition(fn['name'], fn['description'], fn['parameters']);
  const fromTools = definitionsOf(body['tools'], (tool) => {
    const type = tool['type'];
    if (type === 'function') return openAiFunction(isObject(tool['function']) ? tool['function'] : {});
    if (typeof type !== 'string') return undefined;
    // A custom tool's settings are under its type: `{ type: 'custom', custom: { name, ... } }`.
    return otherTool(isObject(tool[type]) ? tool[type] : {}, type);
  });
  return fromTools ?? definitionsOf(body['functions'], openAiFunction);
}

/**
 * The `tools` of an Anthropic Messages request (`{ name, description, input_schema }`) as functions.
 * The gateway refuses Anthropic's server tools before this reads the request.
 *
 * @example
 * ```ts
 * anthropicToolDefinitions({ tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] });
 * // [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }]
 * ```
 */
export function anthropicToolDefinitions(body: Json): GenAiToolDefinition[] | undefined {
  return definitionsOf(body['tools'], (tool) =>
    functionDefinition(tool['name'], tool['description'], tool['input_schema']),
  );
}

/**
 * The `tools` of a Responses API request: function tools (`{ type: 'function', name, description,
 * parameters }`) as functions, the provider's built-in tools with their settings.
 *
 * @example
 * ```ts
 * responsesToolDefinitions({ tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }, { type: 'web_search' }] });
 * // [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }, { type: 'web_search', name: 'web_search' }]
 * ```
 */
export function responsesToolDefinitions(body: Json): GenAiToolDefinition[] | undefined {
  return definitionsOf(body['tools'], (tool) => {
    const type = tool['type'];
    if (type === 'function') return functionDefinition(tool['name'], tool['description'], tool['parameters']);
    return typeof type === 'string' ? otherTool(tool, type) : undefined;
  });
}
