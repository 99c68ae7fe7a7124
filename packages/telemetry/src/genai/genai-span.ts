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
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from './semconv.js';

/**
 * What is known of a GenAI call when it starts: the attributes `startGenAiSpan()` puts on the span.
 *
 * @example
 * ```ts
 * const start: GenAiSpanStart = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   serverAddress: 'api.openai.com', serverPort: 443, maxTokens: 1024,
 * };
 * const span = startGenAiSpan(tracer, start);
 * ```
 */
export interface GenAiSpanStart {
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
  /** `gen_ai.request.max_tokens`: the most tokens the request lets the model generate. */
  maxTokens?: number;
}

/**
 * What is known of a GenAI call when it ends: the attributes `endGenAiSpan()` sets before ending
 * the span. Every field is optional.
 *
 * @example
 * ```ts
 * const end: GenAiSpanEnd = {
 *   responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 420, outputTokens: 128, finishReasons: ['stop'],
 * };
 * endGenAiSpan(span, end);
 * ```
 */
export interface GenAiSpanEnd {
  /** `gen_ai.response.model`: the model the provider reports having answered with. */
  responseModel?: string;
  /** `gen_ai.usage.input_tokens`: input (prompt) tokens of the call. */
  inputTokens?: number;
  /** `gen_ai.usage.output_tokens`: output (completion) tokens of the call. */
  outputTokens?: number;
  /** `gen_ai.response.finish_reasons`: why generation stopped, one entry per choice, e.g. `['stop']`. */
  finishReasons?: readonly string[];
  /** Low-cardinality error class (`timeout`, `rate_limited`, `500`); marks the span as failed. */
  errorType?: string;
}

/**
 * Start a CLIENT span for one call to a model provider, named `{operation} {model}` with the GenAI
 * semantic-convention attributes. Prompts and completions are never recorded.
 *
 * @example
 * ```ts
 * const span = startGenAiSpan(tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' });
 * try { ... } finally { endGenAiSpan(span, { inputTokens: 12, outputTokens: 30 }); }
 * ```
 */
export function startGenAiSpan(tracer: Tracer, start: GenAiSpanStart, parent: Context = contextApi.active()): Span {
  const attributes: Record<string, string | number> = {
    [ATTR_GEN_AI_OPERATION_NAME]: start.operationName,
    [ATTR_GEN_AI_PROVIDER_NAME]: start.providerName,
    [ATTR_GEN_AI_REQUEST_MODEL]: start.requestModel,
  };
  if (start.serverAddress !== undefined) attributes[ATTR_SERVER_ADDRESS] = start.serverAddress;
  if (start.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = start.serverPort;
  if (start.maxTokens !== undefined) attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = start.maxTokens;
  return tracer.startSpan(
    `${start.operationName} ${start.requestModel}`,
    { kind: SpanKind.CLIENT, attributes },
    parent,
  );
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
  if (end.responseModel !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, end.responseModel);
  if (end.inputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, end.inputTokens);
  if (end.outputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, end.outputTokens);
  if (end.finishReasons !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [...end.finishReasons]);
  if (end.errorType !== undefined) {
    span.setAttribute(ATTR_ERROR_TYPE, end.errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorType });
  }
  span.end();
}
