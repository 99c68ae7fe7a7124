/*
 * The shapes of `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions`
 * as the GenAI conventions v1.41.0 define them (the JSON schemas `gen-ai-input-messages.json`,
 * `gen-ai-output-messages.json` and `gen-ai-system-instructions.json`). Field names are the
 * schemas' own (`finish_reason`, `mime_type`, `file_id`, ...): these objects are serialised as they
 * are. Every schema object allows more properties than it names; add them with a cast.
 */

/**
 * `role` of a message: one of the schema's roles, or any other string the provider uses (e.g. `developer`).
 *
 * @example
 * ```ts
 * const role: GenAiRole = 'assistant';
 * ```
 */
export type GenAiRole = 'system' | 'user' | 'assistant' | 'tool' | (string & {});

/**
 * `modality` of a blob, file or URI part: `image`, `video`, `audio`, or another string.
 *
 * @example
 * ```ts
 * const modality: GenAiModality = 'image';
 * ```
 */
export type GenAiModality = 'image' | 'video' | 'audio' | (string & {});

/**
 * `finish_reason` of an output message: one of the schema's reasons (OpenAI's `tool_calls` is
 * `tool_call` here), or the provider's own string.
 *
 * @example
 * ```ts
 * const reason: GenAiFinishReason = 'tool_call';
 * ```
 */
export type GenAiFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_call' | 'error' | (string & {});

/**
 * Text sent to or received from the model.
 *
 * @example
 * ```ts
 * const part: GenAiTextPart = { type: 'text', content: 'What is the weather in Paris?' };
 * ```
 */
export interface GenAiTextPart {
  /** Always `text`. */
  type: 'text';
  /** The text. */
  content: string;
}

/**
 * A tool call the model asks for. `arguments` is any JSON value: the parsed object when the
 * provider sends JSON text, as the conventions' examples show.
 *
 * @example
 * ```ts
 * const part: GenAiToolCallRequestPart = { type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris' } };
 * ```
 */
export interface GenAiToolCallRequestPart {
  /** Always `tool_call`. */
  type: 'tool_call';
  /** The provider's id of the call, which its response repeats. */
  id?: string | null;
  /** The tool's name. */
  name: string;
  /** The arguments the model gave the tool. */
  arguments?: unknown;
}

/**
 * The result of a tool call, sent back to the model; `id` is the call's.
 *
 * @example
 * ```ts
 * const part: GenAiToolCallResponsePart = { type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' };
 * ```
 */
export interface GenAiToolCallResponsePart {
  /** Always `tool_call_response`. */
  type: 'tool_call_response';
  /** The id of the tool call answered. */
  id?: string | null;
  /** What the tool returned: text or any JSON value. */
  response: unknown;
}

/**
 * A tool call the provider runs itself (code interpreter, web search); `server_tool_call.type`
 * names the tool's kind.
 *
 * @example
 * ```ts
 * const part: GenAiServerToolCallPart = { type: 'server_tool_call', id: 'ws_1', name: 'web_search', server_tool_call: { type: 'web_search', query: 'Paris weather' } };
 * ```
 */
export interface GenAiServerToolCallPart {
  /** Always `server_tool_call`. */
  type: 'server_tool_call';
  /** The provider's id of the call. */
  id?: string | null;
  /** The server tool's name. */
  name: string;
  /** The call's details; `type` names the tool's kind. */
  server_tool_call: { type: string; [property: string]: unknown };
}

/**
 * The outcome of a tool call the provider ran itself.
 *
 * @example
 * ```ts
 * const part: GenAiServerToolCallResponsePart = { type: 'server_tool_call_response', id: 'ws_1', server_tool_call_response: { type: 'web_search' } };
 * ```
 */
export interface GenAiServerToolCallResponsePart {
  /** Always `server_tool_call_response`. */
  type: 'server_tool_call_response';
  /** The id of the server tool call answered. */
  id?: string | null;
  /** The outcome's details; `type` names the tool's kind. */
  server_tool_call_response: { type: string; [property: string]: unknown };
}

/**
 * Binary data sent inline, `content` base64-encoded.
 *
 * @example
 * ```ts
 * const part: GenAiBlobPart = { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo...' };
 * ```
 */
export interface GenAiBlobPart {
  /** Always `blob`. */
  type: 'blob';
  /** The IANA MIME type of the data, when known, e.g. `image/png`. */
  mime_type?: string | null;
  /** The kind of media. */
  modality: GenAiModality;
  /** The data, base64-encoded. */
  content: string;
}

/**
 * A file uploaded to the provider beforehand, by its id.
 *
 * @example
 * ```ts
 * const part: GenAiFilePart = { type: 'file', modality: 'image', file_id: 'file-abc123' };
 * ```
 */
export interface GenAiFilePart {
  /** Always `file`. */
  type: 'file';
  /** The IANA MIME type of the file, when known. */
  mime_type?: string | null;
  /** The kind of media. */
  modality: GenAiModality;
  /** The provider's id of the uploaded file. */
  file_id: string;
}

/**
 * Data the model reads from a URI (not a `data:` URL, which is a blob part).
 *
 * @example
 * ```ts
 * const part: GenAiUriPart = { type: 'uri', modality: 'image', uri: 'https://example.com/cat.png' };
 * ```
 */
export interface GenAiUriPart {
  /** Always `uri`. */
  type: 'uri';
  /** The IANA MIME type of the data, when known. */
  mime_type?: string | null;
  /** The kind of media. */
  modality: GenAiModality;
  /** Where the data is, e.g. an `https:` or `gs:` URI. */
  uri: string;
}

/**
 * Reasoning (thinking) content received from the model.
 *
 * @example
 * ```ts
 * const part: GenAiReasoningPart = { type: 'reasoning', content: 'The user asks about Paris, so...' };
 * ```
 */
export interface GenAiReasoningPart {
  /** Always `reasoning`. */
  type: 'reasoning';
  /** The reasoning text. */
  content: string;
}

/**
 * A part of another kind: its `type` and any properties.
 *
 * @example
 * ```ts
 * const part: GenAiGenericPart = { type: 'refusal', content: 'I cannot help with that.' };
 * ```
 */
export interface GenAiGenericPart {
  /** The part's kind, e.g. `refusal`. */
  type: string;
  [property: string]: unknown;
}

/**
 * One part of a message or of the system instructions (the schemas' `parts` items).
 *
 * @example
 * ```ts
 * const parts: GenAiMessagePart[] = [{ type: 'text', content: 'Weather in Paris?' }];
 * ```
 */
export type GenAiMessagePart =
  | GenAiTextPart
  | GenAiToolCallRequestPart
  | GenAiToolCallResponsePart
  | GenAiServerToolCallPart
  | GenAiServerToolCallResponsePart
  | GenAiBlobPart
  | GenAiFilePart
  | GenAiUriPart
  | GenAiReasoningPart
  | GenAiGenericPart;

/**
 * One part of `gen_ai.system_instructions`: the message parts less the server tool calls, which
 * the system instructions schema does not list.
 *
 * @example
 * ```ts
 * const instructions: GenAiSystemInstructionPart[] = [{ type: 'text', content: 'You are a helpful bot.' }];
 * ```
 */
export type GenAiSystemInstructionPart =
  | GenAiTextPart
  | GenAiToolCallRequestPart
  | GenAiToolCallResponsePart
  | GenAiBlobPart
  | GenAiFilePart
  | GenAiUriPart
  | GenAiReasoningPart
  | GenAiGenericPart;

/**
 * One message of the chat history sent to the model (`gen_ai.input.messages` items), in the
 * order sent.
 *
 * @example
 * ```ts
 * const messages: GenAiInputMessage[] = [
 *   { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
 *   { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris' } }] },
 *   { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' }] },
 * ];
 * ```
 */
export interface GenAiInputMessage {
  /** Who wrote the message: `system`, `user`, `assistant`, `tool`, or the provider's own role. */
  role: GenAiRole;
  /** The message's content, in order. */
  parts: GenAiMessagePart[];
  /** The participant's name, when the request gives one. */
  name?: string | null;
}

/**
 * One choice (candidate) the model answered with (`gen_ai.output.messages` items): one message
 * per choice, never split.
 *
 * @example
 * ```ts
 * const messages: GenAiOutputMessage[] = [
 *   { role: 'assistant', parts: [{ type: 'text', content: 'Rainy, 57°F.' }], finish_reason: 'stop' },
 * ];
 * ```
 */
export interface GenAiOutputMessage extends GenAiInputMessage {
  /** Why the model stopped generating this choice. */
  finish_reason: GenAiFinishReason;
}

/**
 * A function the request offers the model (`gen_ai.tool.definitions` items, the conventions'
 * `FunctionToolDefinition`): its name, and its description and JSON Schema (draft-07) parameters
 * when known.
 *
 * @example
 * ```ts
 * const tool: GenAiFunctionToolDefinition = {
 *   type: 'function', name: 'get_weather', description: 'Current weather',
 *   parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
 * };
 * ```
 */
export interface GenAiFunctionToolDefinition {
  /** Always `function`. */
  type: 'function';
  /** The function's name, as the model calls it. */
  name: string;
  /** What the function does, as the request describes it. */
  description?: string | null;
  /** The JSON Schema of the function's arguments. */
  parameters?: Record<string, unknown> | null;
  /** Other fields the provider's definition has (e.g. `strict`). */
  [field: string]: unknown;
}

/**
 * A tool of another kind (`GenericToolDefinition`): a provider's built-in tool such as web search,
 * named by its type when it has no name of its own.
 *
 * @example
 * ```ts
 * const tool: GenAiGenericToolDefinition = { type: 'web_search', name: 'web_search' };
 * ```
 */
export interface GenAiGenericToolDefinition {
  /** The kind of tool, e.g. `web_search`, `code_interpreter`. */
  type: string;
  /** The tool's name. */
  name: string;
  /** The tool's other settings. */
  [field: string]: unknown;
}

/**
 * One tool the request offers the model, as `gen_ai.tool.definitions` lists it (v1.41 tool
 * definitions schema): a function or a tool of another kind.
 *
 * @example
 * ```ts
 * const tools: GenAiToolDefinition[] = [
 *   { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } },
 *   { type: 'web_search', name: 'web_search' },
 * ];
 * ```
 */
export type GenAiToolDefinition = GenAiFunctionToolDefinition | GenAiGenericToolDefinition;
