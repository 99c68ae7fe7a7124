/**
 * OpenTelemetry GenAI semantic-convention strings, kept in one place.
 *
 * The `@opentelemetry/semantic-conventions` package marks these as incubating, so we pin the
 * strings here instead of depending on its unstable entry point. The metric helpers and
 * `startGenAiSpan()`/`endGenAiSpan()` use them; use them too for attributes you set yourself.
 *
 * @example
 * ```ts
 * import { semconv } from '@gatewayz/telemetry';
 *
 * span.setAttribute(semconv.ATTR_GEN_AI_REQUEST_STREAM, true);
 * span.setAttribute(semconv.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ['stop']);
 * ```
 *
 * @module semconv
 */

/** `gen_ai.operation.name`: what the client asked the model to do, e.g. `chat` or `embeddings` (see `GEN_AI_OPERATION_NAMES`). */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
/** `gen_ai.provider.name`: the GenAI provider the client called, e.g. `openai` or `anthropic`. */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** `gen_ai.request.model`: the model name the request asked for, e.g. `gpt-4o-mini`. */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
/** `gen_ai.response.model`: the model name the provider reports having answered with, e.g. a dated snapshot. */
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
/** `gen_ai.token.type`: the token direction of a `gen_ai.client.token.usage` observation (`input` or `output`). */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
/** `gen_ai.usage.input_tokens`: span attribute with the number of input (prompt) tokens of the call. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
/** `gen_ai.usage.output_tokens`: span attribute with the number of output (completion) tokens of the call. */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** `gen_ai.response.finish_reasons`: span attribute listing why generation stopped, one entry per choice (e.g. `stop`, `length`). */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
/** `gen_ai.request.max_tokens`: the maximum number of tokens the request lets the model generate. */
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
/** `gen_ai.request.stream`: whether the request asked for a streamed response. The helpers of this package do not set it. */
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
/** `error.type`: low-cardinality class of the error an operation ended with (e.g. `timeout`, `rate_limited`, `500`); absent on success. */
export const ATTR_ERROR_TYPE = 'error.type';
/** `server.address`: host name of the provider API the client called, e.g. `api.openai.com`. */
export const ATTR_SERVER_ADDRESS = 'server.address';
/** `server.port`: port of the provider API the client called, e.g. `443`. */
export const ATTR_SERVER_PORT = 'server.port';

/** `gen_ai.client.operation.duration`: histogram of GenAI client operation durations, in seconds (catalog key `genAiOperationDuration`). */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** `gen_ai.client.token.usage`: histogram of the tokens one GenAI operation used, by `gen_ai.token.type` (catalog key `genAiTokenUsage`). */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';

/** Values of `gen_ai.operation.name` used by LLM gateways. */
export const GEN_AI_OPERATION_NAMES = [
  'chat',
  'text_completion',
  'embeddings',
  'generate_content',
  'image_generation',
] as const;
/** One of `GEN_AI_OPERATION_NAMES`, e.g. `chat`. */
export type GenAiOperationName = (typeof GEN_AI_OPERATION_NAMES)[number];

/** Values of `gen_ai.token.type`. */
export const GEN_AI_TOKEN_TYPES = ['input', 'output'] as const;
/** One of `GEN_AI_TOKEN_TYPES`: `input` or `output`. */
export type GenAiTokenType = (typeof GEN_AI_TOKEN_TYPES)[number];

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.client.operation.duration` (seconds). */
export const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.client.token.usage`. */
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
