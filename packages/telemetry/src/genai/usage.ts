/**
 * Token usage of one GenAI call in the conventions' terms: totals that include their subsets, as
 * `gen_ai.usage.input_tokens` includes `gen_ai.usage.cache_read.input_tokens` and
 * `gen_ai.usage.cache_creation.input_tokens`, and `gen_ai.usage.output_tokens` includes
 * `gen_ai.usage.reasoning.output_tokens`. It is what `PricingTable.cost()` prices. The one-hour
 * cache writes and the audio tokens have no attribute in the conventions: they are read for pricing.
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
  /** Input tokens written to the provider's prompt cache, whatever their lifetime (part of `inputTokens`). */
  cacheCreationInputTokens?: number;
  /** Of `cacheCreationInputTokens`, those written for one hour (Anthropic's `ttl: "1h"`), billed at a dearer rate. */
  cacheCreation1hInputTokens?: number;
  /** Input tokens of audio (part of `inputTokens`). */
  audioInputTokens?: number;
  /** Output tokens spent on reasoning (part of `outputTokens`). */
  reasoningOutputTokens?: number;
  /** Output tokens of audio (part of `outputTokens`). */
  audioOutputTokens?: number;
  /**
   * The call's cost in USD as the provider reported it with the usage (OpenRouter's `usage.cost`,
   * in credits of 1 USD), when it reports one. `PricingTable.cost()` does not read it: a caller that
   * trusts the provider's figure uses it instead of the table's once checked (`pricing.reportedCost(usage) ?? pricing.cost(usage)`).
   */
  reportedCostUsd?: number;
}

/** The subsets of a `GenAiUsage`: optional, each read only when the provider reports it as a count. */
type UsageSubsets = Omit<GenAiUsage, 'inputTokens' | 'outputTokens' | 'reportedCostUsd'>;

/*
 * A token count: an integer from 0 to `Number.MAX_SAFE_INTEGER`. Past that a double no longer holds
 * every integer, and no call uses 9e15 tokens: such a count (`prompt_tokens: 1e20`) is a broken
 * provider, and read as a count it would put trillions of USD into the cost counters and exhaust
 * every budget.
 */
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

type Fields = Record<string, unknown> | null | undefined;
const field = (object: unknown, name: string): unknown =>
  typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[name] : undefined;

/** The totals with each subset that is a count; a subset that is not (absent, null, -5) is left out. */
function withSubsets(
  inputTokens: number,
  outputTokens: number,
  subsets: Readonly<Partial<Record<keyof UsageSubsets, unknown>>>,
): GenAiUsage {
  const usage: GenAiUsage = { inputTokens, outputTokens };
  for (const [name, reported] of Object.entries(subsets)) {
    const value = count(reported);
    if (value !== undefined) usage[name as keyof UsageSubsets] = value;
  }
  return usage;
}

/**
 * Whether the reasoning tokens of an OpenAI-compatible usage are counted beside its output total
 * rather than inside it. OpenAI counts them inside (`total_tokens = prompt + completion`); xAI's
 * Grok, and some OpenAI-compatible Gemini endpoints, beside (`total_tokens = prompt + completion +
 * reasoning`). The total decides when it matches either sum; without one that does, reasoning above
 * the output total can only be beside it.
 */
function reasoningBesideOutput(input: number, output: number, reasoning: number | undefined, total: unknown): boolean {
  if (reasoning === undefined || reasoning === 0) return false;
  if (total === input + output + reasoning) return true;
  if (total === input + output) return false;
  return reasoning > output;
}

/**
 * Usage of an OpenAI (or OpenAI-compatible) response: the `usage` object of a chat completion, of
 * the final chunk of a stream requested with `stream_options: { include_usage: true }`, or of a
 * Responses API response. OpenAI counts cached tokens inside `prompt_tokens` / `input_tokens`
 * (`prompt_tokens_details.cached_tokens`, else DeepSeek's `prompt_cache_hit_tokens`), audio tokens
 * inside both totals (`prompt_tokens_details.audio_tokens`, `completion_tokens_details.audio_tokens`)
 * and reasoning tokens inside `completion_tokens` (`completion_tokens_details.reasoning_tokens`);
 * OpenRouter's `prompt_tokens_details.cache_write_tokens` is read as cache creation, and its
 * `usage.cost` as `reportedCostUsd` (plus `cost_details.upstream_inference_cost` when `is_byok`).
 *
 * Reasoning tokens reported beside `completion_tokens` (xAI's Grok: `total_tokens` is prompt +
 * completion + reasoning) are added to the output total, so they are billed: when `total_tokens`
 * equals prompt + completion + reasoning, or, without a `total_tokens` equal to either sum, when the
 * reasoning tokens outnumber the completion tokens. A `total_tokens` above every sum with nothing
 * reported to explain the gap is not read into either total: Google's `totalTokenCount` sums input
 * (tool-use prompt) as well as output (thoughts) tokens, so the gap has no one price.
 *
 * `undefined` when either total is missing, `null` or not an integer from 0 to
 * `Number.MAX_SAFE_INTEGER`: usage without an output total (an embeddings response has
 * `prompt_tokens` and `total_tokens` only) is not read as 0 output tokens; a caller that knows there
 * is no output says so (`{ completion_tokens: 0, ...usage }`).
 *
 * @example
 * ```ts
 * const usage = usageFromOpenAi(completion.usage);
 * // { inputTokens: 2006, outputTokens: 300, cacheReadInputTokens: 1920, reasoningOutputTokens: 192 }
 * usageFromOpenAi({ prompt_tokens: 10, completion_tokens: 50, total_tokens: 360, completion_tokens_details: { reasoning_tokens: 300 } });
 * // { inputTokens: 10, outputTokens: 350, reasoningOutputTokens: 300 } (xAI)
 * ```
 */
export function usageFromOpenAi(usage: unknown): GenAiUsage | undefined {
  const fields = usage as Fields;
  const names = field(fields, 'prompt_tokens') !== undefined ? CHAT_COMPLETIONS_USAGE : RESPONSES_USAGE;
  const inputTokens = count(field(fields, names.input));
  // A missing or null output total is unknown, not 0: a 0 would go on spans, token usage and cost.
  const reportedOutput = count(field(fields, names.output));
  if (inputTokens === undefined || reportedOutput === undefined) return undefined;
  const inputDetails = field(fields, names.inputDetails);
  const outputDetails = field(fields, names.outputDetails);
  const reasoning = count(field(outputDetails, 'reasoning_tokens'));
  const outputTokens = reasoningBesideOutput(inputTokens, reportedOutput, reasoning, field(fields, 'total_tokens'))
    ? count(reportedOutput + (reasoning as number))
    : reportedOutput;
  if (outputTokens === undefined) return undefined;
  const read = withSubsets(inputTokens, outputTokens, {
    cacheReadInputTokens: field(inputDetails, 'cached_tokens') ?? field(fields, 'prompt_cache_hit_tokens'),
    cacheCreationInputTokens: field(inputDetails, 'cache_write_tokens'),
    audioInputTokens: field(inputDetails, 'audio_tokens'),
    reasoningOutputTokens: reasoning,
    audioOutputTokens: field(outputDetails, 'audio_tokens'),
  });
  const reportedCostUsd = reportedCost(fields);
  if (reportedCostUsd !== undefined) read.reportedCostUsd = reportedCostUsd;
  return read;
}

/** An amount of USD: a finite number from 0. */
const amount = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/**
 * OpenRouter's cost of a call: `usage.cost`, what it charged in credits (1 USD each). With the
 * caller's own provider key (`usage.is_byok: true`) that is only OpenRouter's fee, and the provider
 * bills `cost_details.upstream_inference_cost` to that key: the call cost both. Without
 * `is_byok`, `upstream_inference_cost` is the same money as `cost`, not more of it. `undefined`
 * when `cost` (or, with `is_byok`, the upstream cost) is not a finite number from 0.
 */
function reportedCost(fields: Fields): number | undefined {
  const charged = amount(field(fields, 'cost'));
  if (charged === undefined || field(fields, 'is_byok') !== true) return charged;
  const upstream = amount(field(field(fields, 'cost_details'), 'upstream_inference_cost'));
  return upstream === undefined ? undefined : charged + upstream;
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
 * cache_creation_input_tokens`, as the conventions define `gen_ai.usage.input_tokens`. The cache
 * writes' split by lifetime (`cache_creation.ephemeral_1h_input_tokens`, billed at 2× the input
 * price where five-minute writes are 1.25×) is read as `cacheCreation1hInputTokens`; without
 * `cache_creation_input_tokens`, the cache writes are the split's sum. `undefined` when
 * `input_tokens` or `output_tokens` is in neither, or a count is not an integer from 0 to
 * `Number.MAX_SAFE_INTEGER`.
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
  const reportedWrite = (name: string): unknown =>
    field(field(usage, 'cache_creation'), name) ?? field(field(startUsage, 'cache_creation'), name);
  const uncached = count(reported('input_tokens'));
  const outputTokens = count(reported('output_tokens'));
  if (uncached === undefined || outputTokens === undefined) return undefined;
  const fiveMinuteWrites = count(reportedWrite('ephemeral_5m_input_tokens'));
  const oneHourWrites = count(reportedWrite('ephemeral_1h_input_tokens'));
  const cacheRead = count(reported('cache_read_input_tokens') ?? 0);
  const cacheCreation = count(
    reported('cache_creation_input_tokens') ?? (fiveMinuteWrites ?? 0) + (oneHourWrites ?? 0),
  );
  if (cacheRead === undefined || cacheCreation === undefined) return undefined;
  const inputTokens = count(uncached + cacheRead + cacheCreation);
  if (inputTokens === undefined) return undefined;
  return {
    inputTokens,
    outputTokens,
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
    ...(oneHourWrites !== undefined ? { cacheCreation1hInputTokens: oneHourWrites } : {}),
  };
}
