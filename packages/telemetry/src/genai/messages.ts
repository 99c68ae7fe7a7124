/*
 * The shapes of `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions`
 * as the GenAI conventions v1.41.0 define them (the JSON schemas `gen-ai-input-messages.json`,
 * `gen-ai-output-messages.json` and `gen-ai-system-instructions.json`). Field names are the
 * schemas' own (`finish_reason`, `mime_type`, `file_id`, ...): these objects are serialised as they
 * are. Every schema object allows more properties than it names; add them with a cast.
 */

/** `role` of a message: one of the schema's roles, or any other string the provider uses (e.g. `developer`). */
export type GenAiRole = 'system' | 'user' | 'assistant' | 'tool' | (string & {});

/** `modality` of a blob, file or URI part: `image`, `video`, `audio`, or another string. */
export type GenAiModality = 'image' | 'video' | 'audio' | (string & {});

/**
 * `finish_reason` of an output message: one of the schema's reasons (OpenAI's `tool_calls` is
 * `tool_call` here), or the provider's own string.
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
  type: 'text';
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
  type: 'tool_call';
  id?: string | null;
  name: string;
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
  type: 'tool_call_response';
  id?: string | null;
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
  type: 'server_tool_call';
  id?: string | null;
  name: string;
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
  type: 'server_tool_call_response';
  id?: string | null;
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
  type: 'blob';
  mime_type?: string | null;
  modality: GenAiModality;
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
  type: 'file';
  mime_type?: string | null;
  modality: GenAiModality;
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
  type: 'uri';
  mime_type?: string | null;
  modality: GenAiModality;
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
  type: 'reasoning';
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
  role: GenAiRole;
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
  finish_reason: GenAiFinishReason;
}
