import type { GenAiOutputType } from './semconv.js';
import { nonEmptyString } from './span-attribute-values.js';

/**
 * The parameters of a GenAI request that the conventions put on its span (`gen_ai.request.*`,
 * `gen_ai.output.type`, `gen_ai.embeddings.dimension.count`). Every field is optional: set what the
 * request carries. `startGenAiSpan()` takes them; `requestParametersFromOpenAi()` and
 * `requestParametersFromAnthropic()` read them from the wire shapes. Given from plain JavaScript, a
 * value of the wrong type is left out of the span and counted in
 * `gatewayz_telemetry_dropped_total{reason,metric="<attribute>"}`: a count (`maxTokens`,
 * `choiceCount`, `embeddingsDimensionCount`) that is not an integer >= 0, a `seed` that is not an
 * integer, another number that is not finite, a list that is neither an array of strings nor one
 * string (which is a list of one).
 *
 * @example
 * ```ts
 * const parameters: GenAiRequestParameters = { maxTokens: 256, temperature: 0.2, stopSequences: ['\n\n'], outputType: 'json' };
 * const span = startGenAiSpan(tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini', ...parameters });
 * ```
 */
export interface GenAiRequestParameters {
  /** `gen_ai.request.max_tokens`: the most tokens the request lets the model generate. */
  maxTokens?: number;
  /** `gen_ai.request.temperature`. */
  temperature?: number;
  /** `gen_ai.request.top_p`. */
  topP?: number;
  /** `gen_ai.request.top_k`. */
  topK?: number;
  /** `gen_ai.request.frequency_penalty`. */
  frequencyPenalty?: number;
  /** `gen_ai.request.presence_penalty`. */
  presencePenalty?: number;
  /** `gen_ai.request.stop_sequences`. */
  stopSequences?: readonly string[];
  /** `gen_ai.request.seed`. */
  seed?: number;
  /** `gen_ai.request.choice.count`: candidate completions asked for; set on the span only when not 1, as the conventions ask. */
  choiceCount?: number;
  /** `gen_ai.output.type`: the output format the request asks for, e.g. `json` for a JSON response format. */
  outputType?: GenAiOutputType;
  /** `gen_ai.request.encoding_formats` (embeddings), e.g. `['base64']`. */
  encodingFormats?: readonly string[];
  /** `gen_ai.embeddings.dimension.count` (embeddings): the dimensions asked for. */
  embeddingsDimensionCount?: number;
  /**
   * `openai.request.service_tier`: the service tier an OpenAI request asks for (its `service_tier`),
   * e.g. `flex`. Set on the span only when `providerName` is `openai` and the tier is not `auto`:
   * v1.41 defines the attribute in its OpenAI conventions alone (an OpenAI-compatible provider
   * under its own name, `azure.ai.inference` or `openrouter`, has no such attribute), and makes it
   * conditionally required "if the request includes a service_tier and the value is not 'auto'".
   * Anything but a non-empty string is left out.
   */
  openAiRequestServiceTier?: string;
}

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const text = (value: unknown): string | undefined => (nonEmptyString(value) ? value : undefined);
const integer = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
const field = (object: unknown, name: string): unknown =>
  typeof object === 'object' && object !== null && !Array.isArray(object)
    ? (object as Record<string, unknown>)[name]
    : undefined;
/** A string, or an array of strings, as an array; anything else undefined. */
function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

/** `gen_ai.output.type` of an OpenAI `response_format` (Chat Completions) or `text.format` (Responses API). */
function outputTypeOf(format: unknown): GenAiOutputType | undefined {
  const type = field(format, 'type');
  if (type === 'json_object' || type === 'json_schema') return 'json';
  if (type === 'text') return 'text';
  return undefined;
}

/** Set `key` when `value` is defined, so spreading the result never sets a key to undefined. */
function put<K extends keyof GenAiRequestParameters>(
  parameters: GenAiRequestParameters,
  key: K,
  value: GenAiRequestParameters[K] | undefined,
): void {
  if (value !== undefined) parameters[key] = value;
}

/**
 * The span parameters of an OpenAI (or OpenAI-compatible) request body: Chat Completions
 * (`max_completion_tokens` or `max_tokens`, `temperature`, `top_p`, `frequency_penalty`,
 * `presence_penalty`, `stop`, `seed`, `n`, `response_format`), the Responses API
 * (`max_output_tokens`, `text.format`) or embeddings (`encoding_format`, `dimensions`), and the
 * `service_tier` of the first two. Values of the wrong type are left out; it never throws.
 *
 * @example
 * ```ts
 * requestParametersFromOpenAi({ model: 'gpt-4o-mini', max_tokens: 50, temperature: 0.3, stop: 'END', response_format: { type: 'json_object' }, service_tier: 'flex' });
 * // { maxTokens: 50, temperature: 0.3, stopSequences: ['END'], outputType: 'json', openAiRequestServiceTier: 'flex' }
 * ```
 */
export function requestParametersFromOpenAi(body: unknown): GenAiRequestParameters {
  const parameters: GenAiRequestParameters = {};
  put(
    parameters,
    'maxTokens',
    integer(field(body, 'max_completion_tokens') ?? field(body, 'max_tokens') ?? field(body, 'max_output_tokens')),
  );
  put(parameters, 'temperature', finite(field(body, 'temperature')));
  put(parameters, 'topP', finite(field(body, 'top_p')));
  put(parameters, 'frequencyPenalty', finite(field(body, 'frequency_penalty')));
  put(parameters, 'presencePenalty', finite(field(body, 'presence_penalty')));
  put(parameters, 'stopSequences', strings(field(body, 'stop')));
  put(parameters, 'seed', integer(field(body, 'seed')));
  put(parameters, 'choiceCount', integer(field(body, 'n')));
  put(parameters, 'outputType', outputTypeOf(field(body, 'response_format') ?? field(field(body, 'text'), 'format')));
  put(parameters, 'encodingFormats', strings(field(body, 'encoding_format')));
  put(parameters, 'embeddingsDimensionCount', integer(field(body, 'dimensions')));
  put(parameters, 'openAiRequestServiceTier', text(field(body, 'service_tier')));
  return parameters;
}

/**
 * The span parameters of an Anthropic Messages API request body: `max_tokens`, `temperature`,
 * `top_p`, `top_k` and `stop_sequences`. Values of the wrong type are left out; it never throws.
 *
 * @example
 * ```ts
 * requestParametersFromAnthropic({ model: 'claude-3-5-haiku', max_tokens: 1024, top_k: 40, stop_sequences: ['\n\nHuman:'] });
 * // { maxTokens: 1024, topK: 40, stopSequences: ['\n\nHuman:'] }
 * ```
 */
export function requestParametersFromAnthropic(body: unknown): GenAiRequestParameters {
  const parameters: GenAiRequestParameters = {};
  put(parameters, 'maxTokens', integer(field(body, 'max_tokens')));
  put(parameters, 'temperature', finite(field(body, 'temperature')));
  put(parameters, 'topP', finite(field(body, 'top_p')));
  put(parameters, 'topK', finite(field(body, 'top_k')));
  put(parameters, 'stopSequences', strings(field(body, 'stop_sequences')));
  return parameters;
}
