/**
 * OpenTelemetry GenAI semantic-convention strings, kept in one place.
 *
 * The `@opentelemetry/semantic-conventions` package marks these as incubating, so we pin the
 * strings here instead of depending on its unstable entry point.
 */

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';

export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';

/** Values of `gen_ai.operation.name` used by LLM gateways. */
export const GEN_AI_OPERATION_NAMES = [
  'chat',
  'text_completion',
  'embeddings',
  'generate_content',
  'image_generation',
] as const;
export type GenAiOperationName = (typeof GEN_AI_OPERATION_NAMES)[number];

/** Values of `gen_ai.token.type`. */
export const GEN_AI_TOKEN_TYPES = ['input', 'output'] as const;
export type GenAiTokenType = (typeof GEN_AI_TOKEN_TYPES)[number];

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.client.operation.duration` (seconds). */
export const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.client.token.usage`. */
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
