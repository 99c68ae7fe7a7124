import { chatFunctionTool, chatNamedToolChoice, type ChatToolCall } from './chat-tools.js';
import { isObject, nonEmptyString, type Json } from './json.js';
import { ApiError, UNSUPPORTED_PARAMETER, badRequest } from './openai-errors.js';

/*
 * Tool use of a Responses API request as OpenAI chat takes it, for a provider without the
 * Responses API: function tools, `tool_choice` and `parallel_tool_calls`, and the `function_call`
 * and `function_call_output` items of `input`. The tools the provider itself runs (web search,
 * file search, computer use, MCP, code interpreter, custom tools...) have no chat counterpart:
 * they are `untranslatable`, which a provider with the Responses API still takes as they are.
 */

/**
 * A 400 `unsupported_parameter` for what chat completions cannot carry. Thrown while translating;
 * the route then sends the request only to the providers with the Responses API, and answers it
 * when the model has none.
 */
export const untranslatable = (param: string, message: string): ApiError =>
  badRequest(message, param, UNSUPPORTED_PARAMETER);

/** Whether `error` is an `untranslatable` refusal (as opposed to a malformed request). */
export const isUntranslatable = (error: unknown): error is ApiError =>
  error instanceof ApiError && error.code === UNSUPPORTED_PARAMETER;

const absent = (value: unknown): boolean => value === undefined || value === null;

/** A Responses function tool (`{ type: 'function', name, description, parameters, strict }`) as a chat tool. */
function chatTool(tool: unknown, at: string): Json {
  if (!isObject(tool)) throw badRequest(`${at} must be an object`, at);
  const type = tool['type'];
  if (type !== 'function') {
    throw untranslatable(
      `${at}.type`,
      `${at}.type ${JSON.stringify(type)} cannot be sent to a provider without the Responses API: only function tools translate to chat completions`,
    );
  }
  if (!nonEmptyString(tool['name'])) throw badRequest(`${at}.name must be a non-empty string`, `${at}.name`);
  const { description, parameters, strict } = tool;
  if (!absent(description) && typeof description !== 'string')
    throw badRequest(`${at}.description must be a string`, `${at}.description`);
  if (!absent(parameters) && !isObject(parameters))
    throw badRequest(`${at}.parameters must be a JSON Schema object`, `${at}.parameters`);
  if (!absent(strict) && typeof strict !== 'boolean')
    throw badRequest(`${at}.strict must be a boolean`, `${at}.strict`);
  return chatFunctionTool({
    name: tool['name'],
    description: typeof description === 'string' ? description : undefined,
    parameters: isObject(parameters) ? parameters : undefined,
    strict: typeof strict === 'boolean' ? strict : undefined,
  });
}

/** A function named in an `allowed_tools` choice, as chat names it. */
function allowedTool(tool: unknown, at: string): Json {
  if (isObject(tool) && tool['type'] === 'function' && nonEmptyString(tool['name']))
    return { type: 'function', function: { name: tool['name'] } };
  throw untranslatable(at, `${at} cannot be sent to a provider without the Responses API: only functions translate`);
}

/** The Responses `tool_choice` as chat's: `auto`, `none`, `required`, a named function or `allowed_tools`. */
function chatToolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (!isObject(choice)) throw badRequest('tool_choice must be "auto", "none", "required" or an object', 'tool_choice');
  if (choice['type'] === 'function') {
    if (!nonEmptyString(choice['name']))
      throw badRequest('tool_choice.name must be a non-empty string', 'tool_choice.name');
    return chatNamedToolChoice(choice['name']);
  }
  if (choice['type'] === 'allowed_tools' && Array.isArray(choice['tools'])) {
    const tools = choice['tools'].map((tool: unknown, index) => allowedTool(tool, `tool_choice.tools[${index}]`));
    return { type: 'allowed_tools', allowed_tools: { mode: choice['mode'], tools } };
  }
  throw untranslatable(
    'tool_choice',
    `tool_choice ${JSON.stringify(choice['type'])} cannot be sent to a provider without the Responses API: only auto, none, required, a function and allowed_tools of functions translate`,
  );
}

/**
 * `tools`, `tool_choice` and `parallel_tool_calls` of a Responses request as chat request fields;
 * none without tools (chat refuses a tool choice or `parallel_tool_calls` with nothing to choose
 * from, and without tools they change nothing). `max_tool_calls` bounds the provider's built-in
 * tool calls only, which chat has none of.
 */
export function chatToolFields(body: Json): Json {
  const tools = body['tools'];
  if (absent(tools)) return {};
  if (!Array.isArray(tools)) throw badRequest('tools must be an array', 'tools');
  if (tools.length === 0) return {};
  const parallel = body['parallel_tool_calls'];
  if (!absent(parallel) && typeof parallel !== 'boolean')
    throw badRequest('parallel_tool_calls must be a boolean', 'parallel_tool_calls');
  return {
    tools: tools.map((tool: unknown, index) => chatTool(tool, `tools[${index}]`)),
    ...(absent(body['tool_choice']) ? {} : { tool_choice: chatToolChoice(body['tool_choice']) }),
    ...(typeof parallel === 'boolean' ? { parallel_tool_calls: parallel } : {}),
  };
}

/** A `function_call` input item as a chat tool call. */
export function chatToolCall(item: Json, at: string): ChatToolCall {
  if (!nonEmptyString(item['call_id'])) throw badRequest(`${at}.call_id must be a non-empty string`, `${at}.call_id`);
  if (!nonEmptyString(item['name'])) throw badRequest(`${at}.name must be a non-empty string`, `${at}.name`);
  if (typeof item['arguments'] !== 'string')
    throw badRequest(`${at}.arguments must be a string (the call's arguments as JSON)`, `${at}.arguments`);
  return { id: item['call_id'], type: 'function', function: { name: item['name'], arguments: item['arguments'] } };
}

/** A `function_call_output` input item as a chat `tool` message: its output text, or its `input_text` parts' text. */
export function chatToolResult(item: Json, at: string): Json {
  if (!nonEmptyString(item['call_id'])) throw badRequest(`${at}.call_id must be a non-empty string`, `${at}.call_id`);
  const output = item['output'];
  let text: string;
  if (typeof output === 'string') text = output;
  else if (Array.isArray(output)) {
    text = output
      .map((part: unknown, index) => {
        if (isObject(part) && part['type'] === 'input_text' && typeof part['text'] === 'string') return part['text'];
        throw untranslatable(
          `${at}.output[${index}]`,
          `${at}.output[${index}] cannot be sent to a provider without the Responses API: a tool result translates with input_text parts only`,
        );
      })
      .join('');
  } else throw badRequest(`${at}.output must be a string or an array of content parts`, `${at}.output`);
  return { role: 'tool', tool_call_id: item['call_id'], content: text };
}
