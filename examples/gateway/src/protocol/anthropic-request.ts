import { GENERATION_PARAMETER_FIELDS, generationParameters } from './anthropic-parameters.js';
import { chatFunctionTool, chatNamedToolChoice, type ChatToolCall } from './chat-tools.js';
import { badRequest } from './openai-errors.js';
import { isObject, nonEmptyString, type Json } from './json.js';

/*
 * An Anthropic Messages request as an OpenAI chat request: the system prompt, text turns, tool
 * use (tool definitions, `tool_choice`, the assistant's `tool_use` blocks and the user's
 * `tool_result` blocks) and the generation parameters (anthropic-parameters.ts). What has no
 * OpenAI counterpart (images, documents, thinking blocks, Anthropic's server tools, `top_k`) is
 * refused with a 400, never dropped.
 */

/** An OpenAI chat message made from an Anthropic turn. */
type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The text of a text block, or a 400 naming `param`. */
function textBlock(block: unknown, param: string): string {
  if (!isObject(block) || block['type'] !== 'text' || typeof block['text'] !== 'string')
    throw badRequest(`${param} must be a text block ({"type":"text","text":"..."})`, param);
  return block['text'];
}

/** A string, or the joined text of an array of text blocks (the system prompt, a tool result). */
function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((block, index) => textBlock(block, `${param}[${index}]`)).join('');
  throw badRequest(`${param} must be a string or an array of text blocks`, param);
}

/** An assistant turn: its text, and its `tool_use` blocks as OpenAI tool calls. */
function assistantMessage(content: unknown, param: string): ChatMessage {
  if (!Array.isArray(content)) return { role: 'assistant', content: textOf(content, param) };
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  content.forEach((block: unknown, index) => {
    const at = `${param}[${index}]`;
    if (isObject(block) && block['type'] === 'tool_use') {
      if (!nonEmptyString(block['id'])) throw badRequest(`${at}.id must be a non-empty string`, `${at}.id`);
      if (!nonEmptyString(block['name'])) throw badRequest(`${at}.name must be a non-empty string`, `${at}.name`);
      if (!isObject(block['input'])) throw badRequest(`${at}.input must be an object`, `${at}.input`);
      toolCalls.push({
        id: block['id'],
        type: 'function',
        function: { name: block['name'], arguments: JSON.stringify(block['input']) },
      });
    } else {
      text += textOrToolBlock(block, at, 'tool_use');
    }
  });
  return toolCalls.length === 0
    ? { role: 'assistant', content: text }
    : { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls };
}

/** A text block's text; a 400 naming the blocks the turn can hold otherwise. */
function textOrToolBlock(block: unknown, param: string, toolBlock: 'tool_use' | 'tool_result'): string {
  if (isObject(block) && block['type'] === 'text' && typeof block['text'] === 'string') return block['text'];
  throw badRequest(`${param} must be a text or ${toolBlock} block`, param);
}

/**
 * A user turn: its `tool_result` blocks as OpenAI `tool` messages (first, as OpenAI wants them
 * right after the assistant's tool calls), then its text as a user message, if any.
 */
function userMessages(content: unknown, param: string): ChatMessage[] {
  if (!Array.isArray(content)) return [{ role: 'user', content: textOf(content, param) }];
  const results: ChatMessage[] = [];
  const texts: string[] = [];
  content.forEach((block: unknown, index) => {
    const at = `${param}[${index}]`;
    if (isObject(block) && block['type'] === 'tool_result') {
      if (!nonEmptyString(block['tool_use_id']))
        throw badRequest(`${at}.tool_use_id must be a non-empty string`, `${at}.tool_use_id`);
      const result = block['content'] === undefined ? '' : textOf(block['content'], `${at}.content`);
      results.push({ role: 'tool', tool_call_id: block['tool_use_id'], content: result });
    } else {
      texts.push(textOrToolBlock(block, at, 'tool_result'));
    }
  });
  return texts.length === 0 && results.length > 0 ? results : [...results, { role: 'user', content: texts.join('') }];
}

/** Anthropic tool definitions as OpenAI function tools; server tools (`type` other than `custom`) are refused. */
function toolsOf(tools: unknown): Json[] {
  if (!Array.isArray(tools)) throw badRequest('tools must be an array', 'tools');
  return tools.map((tool: unknown, index) => {
    const at = `tools[${index}]`;
    if (!isObject(tool)) throw badRequest(`${at} must be an object`, at);
    const type = tool['type'];
    if (type !== undefined && type !== null && type !== 'custom') {
      throw badRequest(
        `${at}.type: Anthropic's server tool ${JSON.stringify(type)} is not supported by this gateway; define a custom tool (name, input_schema)`,
        `${at}.type`,
      );
    }
    if (!nonEmptyString(tool['name'])) throw badRequest(`${at}.name must be a non-empty string`, `${at}.name`);
    if (!isObject(tool['input_schema']))
      throw badRequest(`${at}.input_schema must be a JSON Schema object`, `${at}.input_schema`);
    const description = tool['description'];
    if (description !== undefined && typeof description !== 'string')
      throw badRequest(`${at}.description must be a string`, `${at}.description`);
    return chatFunctionTool({
      name: tool['name'],
      description,
      parameters: tool['input_schema'],
      strict: typeof tool['strict'] === 'boolean' ? tool['strict'] : undefined,
    });
  });
}

/** Anthropic's `tool_choice` as OpenAI's `tool_choice`, and `parallel_tool_calls: false` for `disable_parallel_tool_use`. */
function toolChoiceOf(choice: unknown): Json {
  if (!isObject(choice)) throw badRequest('tool_choice must be an object', 'tool_choice');
  const parallel = choice['disable_parallel_tool_use'] === true ? { parallel_tool_calls: false } : {};
  switch (choice['type']) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      if (!nonEmptyString(choice['name']))
        throw badRequest('tool_choice.name must be a non-empty string', 'tool_choice.name');
      return { tool_choice: chatNamedToolChoice(choice['name']), ...parallel };
    default:
      throw badRequest('tool_choice.type must be one of auto, any, tool, none', 'tool_choice.type');
  }
}

/**
 * The top-level fields of an Anthropic Messages request (API version 2023-06-01 and later, not
 * the betas): the model, messages, `max_tokens`, `system`, `stream`, tools and tool choice (here);
 * the generation parameters, translated or refused (anthropic-parameters.ts); and those left out
 * as they do not change the answer (prompt caching, service tier and speed, region, diagnostics,
 * workspace and user profile). Any other field is refused as Anthropic refuses it (`Extra inputs
 * are not permitted`), not silently dropped.
 */
const MESSAGES_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stream',
  'tools',
  'tool_choice',
  ...GENERATION_PARAMETER_FIELDS,
  // Accepted and left out.
  'cache_control',
  'service_tier',
  'speed',
  'inference_geo',
  'diagnostics',
  'workspace_id',
  'user_profile_id',
]);

/**
 * Validate an Anthropic Messages request and turn it into an OpenAI chat request body.
 * `apiVersion` is the request's `anthropic-version` header, if any: it decides whether the
 * sampling parameters are part of the request.
 */
export function anthropicToOpenAi(body: Json, apiVersion?: string): { model: string; stream: boolean; openAi: Json } {
  for (const field of Object.keys(body)) {
    if (!MESSAGES_FIELDS.has(field)) throw badRequest(`${field}: Extra inputs are not permitted`, field);
  }
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const maxTokens = body['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw badRequest('max_tokens: field required (a positive integer)', 'max_tokens');
  }
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest('messages: field required (a non-empty array)', 'messages');
  const stream = body['stream'];
  if (stream !== undefined && typeof stream !== 'boolean') throw badRequest('stream must be a boolean', 'stream');
  const converted: ChatMessage[] = [];
  if (body['system'] !== undefined) converted.push({ role: 'system', content: textOf(body['system'], 'system') });
  messages.forEach((message: unknown, index) => {
    if (!isObject(message)) throw badRequest(`messages[${index}] must be an object`, `messages[${index}]`);
    const param = `messages[${index}].content`;
    if (message['role'] === 'assistant') converted.push(assistantMessage(message['content'], param));
    else if (message['role'] === 'user') converted.push(...userMessages(message['content'], param));
    else throw badRequest(`messages[${index}].role must be "user" or "assistant"`, `messages[${index}].role`);
  });
  const tools = body['tools'] === undefined || body['tools'] === null ? undefined : toolsOf(body['tools']);
  const choice =
    body['tool_choice'] === undefined || body['tool_choice'] === null ? {} : toolChoiceOf(body['tool_choice']);
  return {
    model,
    stream: stream === true,
    openAi: {
      model,
      max_tokens: maxTokens,
      messages: converted,
      ...generationParameters(body, maxTokens, apiVersion),
      // Without tools a tool choice has nothing to choose from (OpenAI refuses it then).
      ...(tools !== undefined && tools.length > 0 ? { tools, ...choice } : {}),
    },
  };
}
