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
  ATTR_OPENAI_REQUEST_SERVICE_TIER,
  ATTR_OPENAI_RESPONSE_SERVICE_TIER,
  ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
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
import {
  MAX_PORT,
  finiteNumberAttribute,
  nonEmptyString,
  stringListAttribute,
  wholeNumberAttribute,
} from './span-attribute-values.js';

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
  /** `gen_ai.request.model`; left out (and out of the span name) when empty. */
  requestModel: string;
  /** `server.address`: host of the provider API, e.g. `api.openai.com`. */
  serverAddress?: string;
  /** `server.port`: port of the provider API, e.g. `443`; anything but an integer from 0 to 65535 is left out and counted. */
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
 * the span. Every field is optional; a token count that is not an integer >= 0 is left out and
 * counted (`gatewayz_telemetry_dropped_total{reason,metric="<attribute>"}`).
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
  /**
   * `gen_ai.response.finish_reasons`: why generation stopped, one entry per choice, e.g. `['stop']`.
   * From plain JavaScript, one string is a list of one; anything else but an array of strings is left out and counted.
   */
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
  /**
   * `openai.response.service_tier`: the service tier OpenAI answered with (the answer's
   * `service_tier`, e.g. `default` or `flex`). v1.41 defines it for `gen_ai.provider.name="openai"`
   * alone, as `openai.request.service_tier` (`GenAiSpanStart.openAiRequestServiceTier`), which
   * `startGenAiSpan()` leaves out for any other provider; `endGenAiSpan()` does not know the span's
   * provider, so give it only for OpenAI's answers. Anything but a non-empty string is left out.
   */
  openAiResponseServiceTier?: string;
  /**
   * `openai.response.system_fingerprint`: the answer's `system_fingerprint`, e.g. `fp_44709d6fcb`,
   * which changes with OpenAI's backend configuration. Given as `openAiResponseServiceTier` is.
   */
  openAiSystemFingerprint?: string;
}

/**
 * Start a CLIENT span for one call to a model provider, named `{operation} {model}` (`{operation}`
 * alone, without `gen_ai.request.model`, when `requestModel` is empty) with the GenAI
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
  const operation = attributes[ATTR_GEN_AI_OPERATION_NAME] as string;
  const model = attributes[ATTR_GEN_AI_REQUEST_MODEL];
  const span = tracer.startSpan(
    model === undefined ? operation : `${operation} ${model as string}`,
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
    ...operation.attributes,
  };
  // Conditionally required "if available": an empty model (or none, from plain JavaScript) is not one.
  if (typeof start.requestModel === 'string' && start.requestModel !== '')
    attributes[ATTR_GEN_AI_REQUEST_MODEL] = start.requestModel;
  if (start.serverAddress !== undefined) attributes[ATTR_SERVER_ADDRESS] = start.serverAddress;
  const serverPort = wholeNumberAttribute(ATTR_SERVER_PORT, start.serverPort, 0, MAX_PORT);
  if (serverPort !== undefined) attributes[ATTR_SERVER_PORT] = serverPort;
  if (start.stream !== undefined) attributes[ATTR_GEN_AI_REQUEST_STREAM] = start.stream;
  if (nonEmptyString(start.conversationId)) attributes[ATTR_GEN_AI_CONVERSATION_ID] = start.conversationId;
  setRequestParameters(attributes, start);
  // The OpenAI conventions' own attribute, for their provider only; `auto` is the default, left out.
  const serviceTier = start.openAiRequestServiceTier;
  if (start.providerName === 'openai' && nonEmptyString(serviceTier) && serviceTier !== 'auto')
    attributes[ATTR_OPENAI_REQUEST_SERVICE_TIER] = serviceTier;
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

/** Reads a value given for `attribute` as the attribute's type in the conventions; undefined leaves it out. */
type AttributeCheck = (attribute: string, value: unknown) => GenAiAttributeValue | undefined;
const count: AttributeCheck = (attribute, value) => wholeNumberAttribute(attribute, value);
const anyInteger: AttributeCheck = (attribute, value) =>
  wholeNumberAttribute(attribute, value, Number.MIN_SAFE_INTEGER);
const anyNumber: AttributeCheck = (attribute, value) => finiteNumberAttribute(attribute, value);

/** The request parameters on a span, in order: attribute, field, and the type the conventions give it. */
const REQUEST_PARAMETERS: ReadonlyArray<readonly [string, keyof GenAiRequestParameters, AttributeCheck]> = [
  [ATTR_GEN_AI_REQUEST_MAX_TOKENS, 'maxTokens', count],
  [ATTR_GEN_AI_REQUEST_TEMPERATURE, 'temperature', anyNumber],
  [ATTR_GEN_AI_REQUEST_TOP_P, 'topP', anyNumber],
  [ATTR_GEN_AI_REQUEST_TOP_K, 'topK', anyNumber],
  [ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, 'frequencyPenalty', anyNumber],
  [ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, 'presencePenalty', anyNumber],
  [ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, 'stopSequences', stringListAttribute],
  // A seed is any integer, negative ones included.
  [ATTR_GEN_AI_REQUEST_SEED, 'seed', anyInteger],
  [ATTR_GEN_AI_REQUEST_CHOICE_COUNT, 'choiceCount', count],
  [ATTR_GEN_AI_REQUEST_ENCODING_FORMATS, 'encodingFormats', stringListAttribute],
  [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, 'embeddingsDimensionCount', count],
];

/** The token counts of a call's end, each an integer >= 0. */
const USAGE_COUNTS: ReadonlyArray<readonly [string, keyof GenAiSpanEnd]> = [
  [ATTR_GEN_AI_USAGE_INPUT_TOKENS, 'inputTokens'],
  [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, 'outputTokens'],
  [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 'cacheReadInputTokens'],
  [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, 'cacheCreationInputTokens'],
  [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, 'reasoningOutputTokens'],
];

/**
 * The request-parameter attributes of `parameters`, each when given and of its type in the
 * conventions (`choice.count` only when not 1); see span-attribute-values.ts for what is left out.
 */
function setRequestParameters(
  attributes: Record<string, GenAiAttributeValue>,
  parameters: GenAiRequestParameters,
): void {
  for (const [attribute, field, check] of REQUEST_PARAMETERS) {
    const value = check(attribute, parameters[field]);
    if (value !== undefined && !(attribute === ATTR_GEN_AI_REQUEST_CHOICE_COUNT && value === 1))
      attributes[attribute] = value;
  }
  // The request's own output format; under latest_experimental an image operation already has `image`.
  if (parameters.outputType !== undefined && attributes[ATTR_GEN_AI_OUTPUT_TYPE] === undefined)
    attributes[ATTR_GEN_AI_OUTPUT_TYPE] = parameters.outputType;
}

/**
 * Set the response attributes on a GenAI span and end it. With `errorType`, the span also gets
 * `error.type` and an `ERROR` status. The span is always ended: a value of the wrong type from plain
 * JavaScript (a token count that is not a whole number >= 0, finish reasons that are not strings; a
 * single string is a list of one) is left out and counted in the shared instance's
 * `gatewayz_telemetry_dropped_total{reason,metric="<attribute>"}`, and even an exception from a
 * getter of `end` propagates only after the span has ended.
 *
 * @example
 * ```ts
 * endGenAiSpan(span, { responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 420, outputTokens: 128 });
 * endGenAiSpan(failedSpan, { errorType: 'rate_limited' });
 * ```
 */
export function endGenAiSpan(span: Span, end: GenAiSpanEnd = {}): void {
  try {
    // `null` or a number from plain JavaScript: nothing is known of the end.
    if (typeof end !== 'object' || end === null) return;
    setGenAiEndAttributes(span, end);
    if (end.outputMessages !== undefined)
      setGenAiContentAttributes(span, [[ATTR_GEN_AI_OUTPUT_MESSAGES, end.outputMessages]], end.contentMaxLength);
    if (end.errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorType });
  } finally {
    span.end();
  }
}

/**
 * @internal Set the attributes of a GenAI call known at its end, content apart, on `target` (a span,
 * or what collects an event's attributes): one `setAttribute` each, no record built. Values of the
 * wrong type are left out and counted (span-attribute-values.ts).
 */
export function setGenAiEndAttributes(
  target: { setAttribute(key: string, value: GenAiAttributeValue): unknown },
  end: GenAiSpanEnd,
): void {
  if (end.responseModel !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, end.responseModel);
  for (const [attribute, field] of USAGE_COUNTS) {
    const value = wholeNumberAttribute(attribute, end[field]);
    if (value !== undefined) target.setAttribute(attribute, value);
  }
  if (end.responseId !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_ID, end.responseId);
  const firstChunk = finiteNumberAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, end.timeToFirstChunkSeconds, 0);
  if (firstChunk !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, firstChunk);
  const finishReasons = stringListAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, end.finishReasons);
  if (finishReasons !== undefined) target.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, finishReasons);
  if (nonEmptyString(end.openAiResponseServiceTier))
    target.setAttribute(ATTR_OPENAI_RESPONSE_SERVICE_TIER, end.openAiResponseServiceTier);
  if (nonEmptyString(end.openAiSystemFingerprint))
    target.setAttribute(ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT, end.openAiSystemFingerprint);
  if (end.errorType !== undefined) target.setAttribute(ATTR_ERROR_TYPE, end.errorType);
}
