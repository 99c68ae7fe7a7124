/**
 * OpenTelemetry GenAI semantic-convention strings, kept in one place, pinned to release v1.41.0 of
 * the conventions (`GEN_AI_SEMCONV_VERSION`; its GenAI conventions are unchanged in v1.41.1, the
 * last release before they moved to their own repository). Every name here is in that release: its
 * GenAI registry, metrics and events, the OpenAI attributes of its OpenAI conventions, and the
 * error, server and exception attributes they use.
 *
 * The `@opentelemetry/semantic-conventions` package marks these as incubating, so we pin the
 * strings here instead of depending on its unstable entry point. The metric helpers and
 * `startGenAiSpan()`/`endGenAiSpan()` use them; use them too for attributes you set yourself.
 *
 * @example
 * ```ts
 * import { semconv } from '@gatewayz/telemetry/genai';
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
/** `gen_ai.request.temperature`: the sampling temperature the request asks for. */
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
/** `gen_ai.request.top_p`: the nucleus-sampling probability mass the request asks for. */
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
/** `gen_ai.request.top_k`: the top-k sampling setting the request asks for (Anthropic's `top_k`). */
export const ATTR_GEN_AI_REQUEST_TOP_K = 'gen_ai.request.top_k';
/** `gen_ai.request.frequency_penalty`: the frequency penalty the request asks for. */
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = 'gen_ai.request.frequency_penalty';
/** `gen_ai.request.presence_penalty`: the presence penalty the request asks for. */
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = 'gen_ai.request.presence_penalty';
/** `gen_ai.request.stop_sequences`: the sequences at which the model is asked to stop generating. */
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences';
/** `gen_ai.request.seed`: the seed the request asks for (conditionally required when the request has one). */
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed';
/** `gen_ai.request.choice.count`: the number of candidate completions asked for (conditionally required when not 1). */
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count';
/** `gen_ai.request.encoding_formats`: the encodings an embeddings request asks for, e.g. `['float']`. */
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = 'gen_ai.request.encoding_formats';
/** `gen_ai.embeddings.dimension.count`: the number of dimensions an embeddings request asks for. */
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count';
/**
 * `gen_ai.conversation.id`: the id of the conversation (session, thread) a call belongs to, when the
 * application has one (conditionally required then); `startGenAiSpan()` sets it from `conversationId`.
 */
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
/** `gen_ai.request.stream`: whether the request asked for a streamed response (`startGenAiSpan()` sets it from `stream`). */
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
/** `gen_ai.response.id`: the provider's identifier of the completion, e.g. `chatcmpl-123`. */
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
/** `gen_ai.response.time_to_first_chunk`: seconds from issuing a streamed request to the first chunk of its response. */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
/** `gen_ai.usage.cache_read.input_tokens`: input tokens served from a provider-managed cache (included in `gen_ai.usage.input_tokens`). */
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
/** `gen_ai.usage.cache_creation.input_tokens`: input tokens written to a provider-managed cache (included in `gen_ai.usage.input_tokens`). */
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
/** `gen_ai.usage.reasoning.output_tokens`: output tokens spent on reasoning (included in `gen_ai.usage.output_tokens`). */
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
/** `gen_ai.output.type`: the output modality the client asked for: `text`, `json`, `image` or `speech` (see `GEN_AI_OUTPUT_TYPES`). */
export const ATTR_GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type';
/**
 * `gen_ai.input.messages`: the chat history sent to the model, as a JSON string following the
 * conventions' input messages schema (`GenAiInputMessage[]`). Opt-in: it may hold personal data.
 */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
/**
 * `gen_ai.output.messages`: the model's answer, one message per choice, as a JSON string following
 * the conventions' output messages schema (`GenAiOutputMessage[]`). Opt-in: it may hold personal data.
 */
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
/**
 * `gen_ai.system_instructions`: instructions given to the model apart from the chat history
 * (Anthropic's `system`), as a JSON string following the conventions' system instructions schema
 * (`GenAiSystemInstructionPart[]`). Opt-in: it may hold personal data.
 */
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
/**
 * `gen_ai.tool.definitions`: the tools the request offers the model (`GenAiToolDefinition[]`), as a
 * JSON string on spans and structured in events, following the conventions' tool definitions
 * schema. Opt-in: descriptions and parameter schemas can be large and may hold private details.
 */
export const ATTR_GEN_AI_TOOL_DEFINITIONS = 'gen_ai.tool.definitions';
/**
 * `gen_ai.client.inference.operation.details`: the event (a log record with this event name) that
 * describes one inference call, its parameters, usage and, when content goes to events, its
 * messages. Opt-in; see `emitGenAiOperationDetails()`.
 */
export const EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS = 'gen_ai.client.inference.operation.details';
/**
 * `gen_ai.client.operation.exception`: the event (a log record with this event name, severity WARN)
 * that records an exception of a GenAI client operation: an API error, a rate limit, a timeout. See
 * `emitGenAiOperationException()`.
 */
export const EVENT_GEN_AI_CLIENT_OPERATION_EXCEPTION = 'gen_ai.client.operation.exception';
/** `exception.type`: the type of an exception (its class name, or a Node.js error's `code`), e.g. `UpstreamFailure`. */
export const ATTR_EXCEPTION_TYPE = 'exception.type';
/** `exception.message`: the message of an exception. It may hold sensitive information. */
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
/** `exception.stacktrace`: the stack trace of an exception, as the runtime writes it (`Error.stack`). */
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';
/** `error.type`: low-cardinality class of the error an operation ended with (e.g. `timeout`, `rate_limited`, `500`); absent on success. */
export const ATTR_ERROR_TYPE = 'error.type';
/**
 * `openai.request.service_tier`: the service tier an OpenAI request asks for (`service_tier`), e.g.
 * `flex`; the conventions define it for `gen_ai.provider.name="openai"` only, and not for `auto`.
 */
export const ATTR_OPENAI_REQUEST_SERVICE_TIER = 'openai.request.service_tier';
/** `openai.response.service_tier`: the service tier OpenAI answered with (`service_tier` of the answer), e.g. `default`. */
export const ATTR_OPENAI_RESPONSE_SERVICE_TIER = 'openai.response.service_tier';
/** `openai.response.system_fingerprint`: OpenAI's fingerprint of the backend configuration that answered, e.g. `fp_44709d6fcb`. */
export const ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT = 'openai.response.system_fingerprint';
/** `server.address`: host name of the provider API the client called, e.g. `api.openai.com`. */
export const ATTR_SERVER_ADDRESS = 'server.address';
/** `server.port`: port of the provider API the client called, e.g. `443`. */
export const ATTR_SERVER_PORT = 'server.port';

/** `gen_ai.client.operation.duration`: histogram of GenAI client operation durations, in seconds (catalog key `genAiOperationDuration`). */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** `gen_ai.client.token.usage`: histogram of the tokens one GenAI operation used, by `gen_ai.token.type` (catalog key `genAiTokenUsage`). */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
/** `gen_ai.client.operation.time_to_first_chunk`: histogram of the time from issuing a streamed request to its first chunk, in seconds. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk';
/** `gen_ai.client.operation.time_per_output_chunk`: histogram of the time between consecutive chunks of a stream after the first, in seconds. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK = 'gen_ai.client.operation.time_per_output_chunk';
/** `gen_ai.server.request.duration`: histogram of the time a GenAI server takes to answer a request, to its last byte, in seconds. */
export const METRIC_GEN_AI_SERVER_REQUEST_DURATION = 'gen_ai.server.request.duration';
/** `gen_ai.server.time_to_first_token`: histogram of the time a GenAI server takes to send the first token of a successful response, in seconds. */
export const METRIC_GEN_AI_SERVER_TIME_TO_FIRST_TOKEN = 'gen_ai.server.time_to_first_token';
/** `gen_ai.server.time_per_output_token`: histogram of the time per output token after the first, of a successful response, in seconds. */
export const METRIC_GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN = 'gen_ai.server.time_per_output_token';

/** The release of the OpenTelemetry semantic conventions every string of this module is pinned to. */
export const GEN_AI_SEMCONV_VERSION = '1.41.0';
/**
 * The schema URL of `GEN_AI_SEMCONV_VERSION`: the `schemaUrl` of the instrumentation scope of this
 * package's meter and of `@gatewayz/telemetry-node`'s tracer, so a backend knows which release the
 * names follow. Give it to the tracer and logger you get yourself, through the provider: the API's
 * `trace.getTracer()` shortcut takes no options.
 *
 * @example
 * ```ts
 * import { GEN_AI_SEMCONV_SCHEMA_URL } from '@gatewayz/telemetry/genai';
 *
 * const tracer = trace.getTracerProvider().getTracer('my-gateway', '1.0.0', { schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL });
 * const events = logs.getLogger('my-gateway', '1.0.0', { schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL });
 * ```
 */
export const GEN_AI_SEMCONV_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.41.0';

/**
 * Values of `gen_ai.operation.name` used by LLM gateways. All but `image_generation` are values of
 * the v1.41 registry; `image_generation` is this package's name for OpenAI-style image generation,
 * which the conventions do not name: it is emitted by default (dashboards written against earlier
 * releases of this package select it) and becomes `generate_content` with
 * `gen_ai.output.type="image"` under `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`
 * (see `genAiOperation()`).
 */
export const GEN_AI_OPERATION_NAMES = [
  'chat',
  'text_completion',
  'embeddings',
  'generate_content',
  'image_generation',
] as const;
/** One of `GEN_AI_OPERATION_NAMES`, e.g. `chat`. */
export type GenAiOperationName = (typeof GEN_AI_OPERATION_NAMES)[number];

/** Values of `gen_ai.output.type` in v1.41. */
export const GEN_AI_OUTPUT_TYPES = ['text', 'json', 'image', 'speech'] as const;
/** One of `GEN_AI_OUTPUT_TYPES`, e.g. `json`. */
export type GenAiOutputType = (typeof GEN_AI_OUTPUT_TYPES)[number];

/** Values of `gen_ai.token.type` (v1.41 has `input` and `output`; cache and reasoning counts are span attributes only). */
export const GEN_AI_TOKEN_TYPES = ['input', 'output'] as const;
/** One of `GEN_AI_TOKEN_TYPES`: `input` or `output`. */
export type GenAiTokenType = (typeof GEN_AI_TOKEN_TYPES)[number];

/**
 * Bucket boundaries the GenAI conventions recommend for `gen_ai.client.operation.duration`,
 * `gen_ai.client.operation.time_to_first_chunk`, `gen_ai.client.operation.time_per_output_chunk` and
 * `gen_ai.server.request.duration` (seconds).
 */
export const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.client.token.usage`. */
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.server.time_to_first_token` (seconds). */
export const GEN_AI_SERVER_TIME_TO_FIRST_TOKEN_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
] as const;

/** Bucket boundaries the GenAI conventions recommend for `gen_ai.server.time_per_output_token` (seconds). */
export const GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
] as const;
