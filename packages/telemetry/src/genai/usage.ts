/**
 * Token usage of one GenAI call in the conventions' terms: totals that include their subsets, as
 * `gen_ai.usage.input_tokens` includes `gen_ai.usage.cache_read.input_tokens` and
 * `gen_ai.usage.cache_creation.input_tokens`, and `gen_ai.usage.output_tokens` includes
 * `gen_ai.usage.reasoning.output_tokens`. It is what `PricingTable.cost()` prices.
 *
 * @example
 * ```ts
 * const usage: GenAiUsage = { inputTokens: 2006, outputTokens: 300, cacheReadInputTokens: 1920, reasoningOutputTokens: 192 };
 * ```
 */
export interface GenAiUsage {
  /** Every input token, cached ones included. */
  inputTokens: number;
  /** Every output token, reasoning ones included. */
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (part of `inputTokens`). */
  cacheReadInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (part of `inputTokens`). */
  cacheCreationInputTokens?: number;
  /** Output tokens spent on reasoning (part of `outputTokens`). */
  reasoningOutputTokens?: number;
}

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

type Fields = Record<string, unknown> | null | undefined;
const field = (object: unknown, name: string): unknown =>
  typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[name] : undefined;

function withSubsets(
  inputTokens: number,
  outputTokens: number,
  cacheRead: unknown,
  cacheCreation: unknown,
  reasoning: unknown,
): GenAiUsage {
  const cacheReadInputTokens = count(cacheRead);
  const cacheCreationInputTokens = count(cacheCreation);
  const reasoningOutputTokens = count(reasoning);
  return {
    inputTokens,
    outputTokens,
    ...(cacheReadInputTokens !== undefined ? { cacheReadInputTokens } : {}),
    ...(cacheCreationInputTokens !== undefined ? { cacheCreationInputTokens } : {}),
    ...(reasoningOutputTokens !== undefined ? { reasoningOutputTokens } : {}),
  };
}

/**
 * Usage of an OpenAI (or OpenAI-compatible) response: the `usage` object of a chat completion, of
 * the final chunk of a stream requested with `stream_options: { include_usage: true }`, or of a
 * Responses API response. OpenAI counts cached tokens inside `prompt_tokens` / `input_tokens`
 * (`prompt_tokens_details.cached_tokens`) and reasoning tokens inside `completion_tokens`
 * (`completion_tokens_details.reasoning_tokens`); OpenRouter's
 * `prompt_tokens_details.cache_write_tokens` is read as cache creation. `undefined` when either
 * total is missing, `null` or not a non-negative integer: usage without an output total (an
 * embeddings response has `prompt_tokens` and `total_tokens` only) is not read as 0 output tokens;
 * a caller that knows there is no output says so (`{ completion_tokens: 0, ...usage }`).
 *
 * @example
 * ```ts
 * const usage = usageFromOpenAi(completion.usage);
 * // { inputTokens: 2006, outputTokens: 300, cacheReadInputTokens: 1920, reasoningOutputTokens: 192 }
 * ```
 */
export function usageFromOpenAi(usage: unknown): GenAiUsage | undefined {
  const fields = usage as Fields;
  const names = field(fields, 'prompt_tokens') !== undefined ? CHAT_COMPLETIONS_USAGE : RESPONSES_USAGE;
  const inputTokens = count(field(fields, names.input));
  // A missing or null output total is unknown, not 0: a 0 would go on spans, token usage and cost.
  const outputTokens = count(field(fields, names.output));
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  const inputDetails = field(fields, names.inputDetails);
  return withSubsets(
    inputTokens,
    outputTokens,
    field(inputDetails, 'cached_tokens'),
    field(inputDetails, 'cache_write_tokens'),
    field(field(fields, names.outputDetails), 'reasoning_tokens'),
  );
}

/** Where OpenAI's two usage shapes keep the same figures: Chat Completions and the Responses API. */
const CHAT_COMPLETIONS_USAGE = {
  input: 'prompt_tokens',
  output: 'completion_tokens',
  inputDetails: 'prompt_tokens_details',
  outputDetails: 'completion_tokens_details',
} as const;
const RESPONSES_USAGE = {
  input: 'input_tokens',
  output: 'output_tokens',
  inputDetails: 'input_tokens_details',
  outputDetails: 'output_tokens_details',
} as const;

/**
 * Usage of an Anthropic Messages API response, or of a stream: give the final `message_delta`'s
 * cumulative `usage` and, as `startUsage`, the `usage` of the stream's `message_start`. A field the
 * delta leaves out or sends as `null` (input and cache counts arrive in `message_start` only on
 * many streams) is taken from `startUsage`. Anthropic counts cached tokens beside `input_tokens`,
 * which is the uncached part only: the total input is `input_tokens + cache_read_input_tokens +
 * cache_creation_input_tokens`, as the conventions define `gen_ai.usage.input_tokens`.
 * `undefined` when `input_tokens` or `output_tokens` is in neither, or a count is not a
 * non-negative integer.
 *
 * @example
 * ```ts
 * usageFromAnthropic({ input_tokens: 50, cache_read_input_tokens: 1900, cache_creation_input_tokens: 0, output_tokens: 120 });
 * // { inputTokens: 1950, outputTokens: 120, cacheReadInputTokens: 1900, cacheCreationInputTokens: 0 }
 * // A stream: message_delta's usage, then message_start's.
 * usageFromAnthropic({ output_tokens: 120, input_tokens: null }, { input_tokens: 50, cache_read_input_tokens: 1900, output_tokens: 1 });
 * // { inputTokens: 1950, outputTokens: 120, cacheReadInputTokens: 1900, cacheCreationInputTokens: 0 }
 * ```
 */
export function usageFromAnthropic(usage: unknown, startUsage?: unknown): GenAiUsage | undefined {
  // The delta's value when it reports one, else the start's (absent and null mean "not reported here").
  const reported = (name: string): unknown => field(usage, name) ?? field(startUsage, name);
  const uncached = count(reported('input_tokens'));
  const outputTokens = count(reported('output_tokens'));
  if (uncached === undefined || outputTokens === undefined) return undefined;
  const cacheRead = count(reported('cache_read_input_tokens') ?? 0);
  const cacheCreation = count(reported('cache_creation_input_tokens') ?? 0);
  if (cacheRead === undefined || cacheCreation === undefined) return undefined;
  return {
    inputTokens: uncached + cacheRead + cacheCreation,
    outputTokens,
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
  };
}
