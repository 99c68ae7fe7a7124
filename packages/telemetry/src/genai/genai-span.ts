import {
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_CHOICE_COUNT,
  ATTR_GEN_AI_REQUEST_ENCODING_FORMATS,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from './semconv.js';
import type { GenAiRequestParameters } from './request-parameters.js';
import type {
  GenAiInputMessage,
  GenAiOutputMessage,
  GenAiSystemInstructionPart,
  GenAiToolDefinition,
} from './messages.js';
import { setGenAiContentAttributes } from './message-content.js';
import { genAiOperation, type GenAiSemconvMode } from './semconv-stability.js';

/**
 * What is known of a GenAI call when it starts: the attributes `startGenAiSpan()` puts on the span,
 * the request's parameters (`GenAiRequestParameters`: max tokens, temperature, stop sequences, ...)
 * included.
 *
 * @example
 * ```ts
 * const start: GenAiSpanStart = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   serverAddress: 'api.openai.com', serverPort: 443, maxTokens: 1024, stream: true,
 * };
 * const span = startGenAiSpan(tracer, start);
 * ```
 */
export interface GenAiSpanStart extends GenAiRequestParameters {
  /** `gen_ai.operation.name`, e.g. `chat`. */
  operationName: string;
  /** `gen_ai.provider.name`, e.g. `openai`. */
  providerName: string;
  /** `gen_ai.request.model`. */
  requestModel: string;
  /** `server.address`: host of the provider API, e.g. `api.openai.com`. */
  serverAddress?: string;
  /** `server.port`: port of the provider API, e.g. `443`. */
  serverPort?: number;
  /** `gen_ai.request.stream`: whether the request asks for a streamed response. */
  stream?: boolean;
  /**
   * `gen_ai.conversation.id`: the id your application gives the conversation (session, thread) this
   * call belongs to, e.g. a chat session id; left out when absent or empty. Not a provider's
   * response id: that is `gen_ai.response.id`.
   */
  conversationId?: string;
  /**
   * Which GenAI conventions to emit (`GatewayTelemetry.genAiSemconvMode`, from
   * `OTEL_SEMCONV_STABILITY_OPT_IN`); default `default`. Under `latest_experimental` an
   * `image_generation` operation is named `generate_content` with `gen_ai.output.type="image"`.
   */
  semconvMode?: GenAiSemconvMode;
  /**
   * `gen_ai.input.messages`: the chat history sent, recorded as a JSON string when given. Give it
   * only when the user opted in to content capture (`GatewayTelemetry.genAiContent.capture`):
   * it may hold personal data. Serialised only when the span is recording.
   */
  inputMessages?: readonly GenAiInputMessage[];
  /** `gen_ai.system_instructions`: instructions given apart from the chat history, as `inputMessages` is recorded. */
  systemInstructions?: readonly GenAiSystemInstructionPart[];
  /**
   * `gen_ai.tool.definitions`: the tools the request offers the model, as `inputMessages` is
   * recorded (opt-in content: descriptions and parameter schemas can be large).
   */
  toolDefinitions?: readonly GenAiToolDefinition[];
  /**
   * Longest text content or tool argument string of `inputMessages`, `systemInstructions` and
   * `toolDefinitions` (whose descriptions and schema strings are cut alike);
   * longer ones are cut and end with `GEN_AI_CONTENT_TRUNCATION_MARKER`. Default: no limit.
   */
  contentMaxLength?: number;
}

/**
 * What is known of a GenAI call when it ends: the attributes `endGenAiSpan()` sets before ending
 * the span. Every field is optional.
 *
 * @example
 * ```ts
 * const end: GenAiSpanEnd = {
 *   responseModel: 'gpt-4o-mini-2024-07-18', responseId: 'chatcmpl-123', inputTokens: 420, outputTokens: 128,
 *   cacheReadInputTokens: 256, finishReasons: ['stop'],
 * };
 * endGenAiSpan(span, end);
 * ```
 */
export interface GenAiSpanEnd {
  /** `gen_ai.response.model`: the model the provider reports having answered with. */
  responseModel?: string;
  /** `gen_ai.usage.input_tokens`: input (prompt) tokens of the call. */
  inputTokens?: number;
  /** `gen_ai.usage.output_tokens`: output (completion) tokens of the call, reasoning ones included. */
  outputTokens?: number;
  /** `gen_ai.usage.cache_read.input_tokens`: input tokens read from the provider's prompt cache (part of `inputTokens`). */
  cacheReadInputTokens?: number;
  /** `gen_ai.usage.cache_creation.input_tokens`: input tokens written to the provider's prompt cache (part of `inputTokens`). */
  cacheCreationInputTokens?: number;
  /** `gen_ai.usage.reasoning.output_tokens`: output tokens spent on reasoning (part of `outputTokens`). */
  reasoningOutputTokens?: number;
  /** `gen_ai.response.id`: the provider's id of the completion, e.g. `chatcmpl-123`. */
  responseId?: string;
  /** `gen_ai.response.time_to_first_chunk`: seconds from issuing a streamed request to its first chunk. */
  timeToFirstChunkSeconds?: number;
  /** `gen_ai.response.finish_reasons`: why generation stopped, one entry per choice, e.g. `['stop']`. */
  finishReasons?: readonly string[];
  /** Low-cardinality error class (`timeout`, `rate_limited`, `500`); marks the span as failed. */
  errorType?: string;
  /**
   * `gen_ai.output.messages`: the answer, one message per choice, recorded as a JSON string when
   * given and the span is recording. Opt-in content, as `GenAiSpanStart.inputMessages`.
   */
  outputMessages?: readonly GenAiOutputMessage[];
  /** Longest text content or tool argument string of `outputMessages` (see `GenAiSpanStart.contentMaxLength`). */
  contentMaxLength?: number;
}

/**
 * Start a CLIENT span for one call to a model provider, named `{operation} {model}` with the GenAI
 * semantic-convention attributes. Prompts and completions are recorded only when given
 * (`inputMessages`, `systemInstructions`, and `outputMessages` at the end), which the caller does
 * only when content capture is on (`GatewayTelemetry.genAiContent`, off by default, as the
 * conventions ask): then as JSON strings following the v1.41 schemas, on a recording span only. A
 * value JSON cannot hold (cyclic, BigInt) is left out with one `diag.warn` per attribute; never thrown.
 *
 * @example
 * ```ts
 * const span = startGenAiSpan(tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' });
 * try { ... } finally { endGenAiSpan(span, { inputTokens: 12, outputTokens: 30 }); }
 *
 * // With content capture on:
 * const { capture, maxLength } = telemetry.genAiContent;
 * const captured = startGenAiSpan(tracer, {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   ...(capture ? { inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }], contentMaxLength: maxLength } : {}),
 * });
 * ```
 */
export function startGenAiSpan(tracer: Tracer, start: GenAiSpanStart, parent: Context = contextApi.active()): Span {
  const attributes = genAiStartAttributes(start);
  const span = tracer.startSpan(
    `${attributes[ATTR_GEN_AI_OPERATION_NAME] as string} ${start.requestModel}`,
    { kind: SpanKind.CLIENT, attributes },
    parent,
  );
  if (
    start.inputMessages !== undefined ||
    start.systemInstructions !== undefined ||
    start.toolDefinitions !== undefined
  )
    setGenAiContentAttributes(span, genAiStartContent(start), start.contentMaxLength);
  return span;
}

/** @internal A GenAI attribute's value on a span (the content attributes are set apart). */
export type GenAiAttributeValue = string | number | boolean | string[];

/** @internal The attributes of a GenAI call known at its start, content apart. */
export function genAiStartAttributes(start: GenAiSpanStart): Record<string, GenAiAttributeValue> {
  const operation = genAiOperation(start.operationName, start.semconvMode ?? 'default');
  const attributes: Record<string, GenAiAttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: operation.name,
    [ATTR_GEN_AI_PROVIDER_NAME]: start.providerName,
    [ATTR_GEN_AI_REQUEST_MODEL]: start.requestModel,
    ...operation.attributes,
  };
  if (start.serverAddress !== undefined) attributes[ATTR_SERVER_ADDRESS] = start.serverAddress;
  if (start.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = start.serverPort;
  if (start.stream !== undefined) attributes[ATTR_GEN_AI_REQUEST_STREAM] = start.stream;
  if (typeof start.conversationId === 'string' && start.conversationId !== '')
    attributes[ATTR_GEN_AI_CONVERSATION_ID] = start.conversationId;
  setRequestParameters(attributes, start);
  return attributes;
}

/** @internal The content attributes of a GenAI call's start, in the order they are recorded. */
export function genAiStartContent(start: GenAiSpanStart): ReadonlyArray<readonly [attribute: string, value: unknown]> {
  return [
    [ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, start.systemInstructions],
    [ATTR_GEN_AI_INPUT_MESSAGES, start.inputMessages],
    [ATTR_GEN_AI_TOOL_DEFINITIONS, start.toolDefinitions],
  ];
}

/** The request-parameter attributes of `parameters`, each when given (`choice.count` only when not 1). */
function setRequestParameters(
  attributes: Record<string, GenAiAttributeValue>,
  parameters: GenAiRequestParameters,
): void {
  if (parameters.maxTokens !== undefined) attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = parameters.maxTokens;
  if (parameters.temperature !== undefined) attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = parameters.temperature;
  if (parameters.topP !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_P] = parameters.topP;
  if (parameters.topK !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_K] = parameters.topK;
  if (parameters.frequencyPenalty !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = parameters.frequencyPenalty;
  if (parameters.presencePenalty !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = parameters.presencePenalty;
  if (parameters.stopSequences !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = [...parameters.stopSequences];
  if (parameters.seed !== undefined) attributes[ATTR_GEN_AI_REQUEST_SEED] = parameters.seed;
  if (parameters.choiceCount !== undefined && parameters.choiceCount !== 1)
    attributes[ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = parameters.choiceCount;
  // The request's own output format; under latest_experimental an image operation already has `image`.
  if (parameters.outputType !== undefined && attributes[ATTR_GEN_AI_OUTPUT_TYPE] === undefined)
    attributes[ATTR_GEN_AI_OUTPUT_TYPE] = parameters.outputType;
  if (parameters.encodingFormats !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_ENCODING_FORMATS] = [...parameters.encodingFormats];
  if (parameters.embeddingsDimensionCount !== undefined)
    attributes[ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = parameters.embeddingsDimensionCount;
}

/**
 * Set the response attributes on a GenAI span and end it. With `errorType`, the span also gets
 * `error.type` and an `ERROR` status.
 *
 * @example
 * ```ts
 * endGenAiSpan(span, { responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 420, outputTokens: 128 });
 * endGenAiSpan(failedSpan, { errorType: 'rate_limited' });
 * ```
 */
export function endGenAiSpan(span: Span, end: GenAiSpanEnd = {}): void {
  setGenAiEndAttributes(span, end);
  if (end.outputMessages !== undefined)
    setGenAiContentAttributes(span, [[ATTR_GEN_AI_OUTPUT_MESSAGES, end.outputMessages]], end.contentMaxLength);
  if (end.errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorType });
  span.end();
}

/**
 * @internal Set the attributes of a GenAI call known at its end, content apart, on `target` (a span,
 * or what collects an event's attributes): one `setAttribute` each, no record built.
 */
export function setGenAiEndAttributes(
  target: { setAttribute(key: string, value: GenAiAttributeValue): unknown },
  end: GenAiSpanEnd,
): void {
  if (end.responseModel !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, end.responseModel);
  if (end.inputTokens !== undefined) target.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, end.inputTokens);
  if (end.outputTokens !== undefined) target.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, end.outputTokens);
  if (end.cacheReadInputTokens !== undefined)
    target.setAttribute(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, end.cacheReadInputTokens);
  if (end.cacheCreationInputTokens !== undefined)
    target.setAttribute(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, end.cacheCreationInputTokens);
  if (end.reasoningOutputTokens !== undefined)
    target.setAttribute(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, end.reasoningOutputTokens);
  if (end.responseId !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_ID, end.responseId);
  if (end.timeToFirstChunkSeconds !== undefined)
    target.setAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, end.timeToFirstChunkSeconds);
  if (end.finishReasons !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [...end.finishReasons]);
  if (end.errorType !== undefined) target.setAttribute(ATTR_ERROR_TYPE, end.errorType);
}
