import type { Usage } from '../request/attempt.js';

/*
 * Token usage in the three wire shapes the gateway speaks. OpenAI counts cached tokens inside the
 * input (`prompt_tokens` / `input_tokens`); Anthropic counts them beside it, so its
 * `input_tokens` is the uncached part.
 */

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

function details(cached: unknown, cacheWrite: unknown, reasoning: unknown): Partial<Usage> {
  const cachedInputTokens = count(cached);
  const cacheWriteInputTokens = count(cacheWrite);
  const reasoningTokens = count(reasoning);
  return {
    ...(cachedInputTokens !== undefined ? { cachedInputTokens } : {}),
    ...(cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens } : {}),
    ...(reasoningTokens !== undefined ? { reasoningTokens } : {}),
  };
}

/** Usage of an OpenAI chat completion or chunk (`usage.prompt_tokens`, ...); `undefined` when absent. */
export function chatUsageOf(usage: unknown): Usage | undefined {
  const fields = usage as
    | {
        prompt_tokens?: unknown;
        completion_tokens?: unknown;
        prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
        completion_tokens_details?: { reasoning_tokens?: unknown } | null;
      }
    | null
    | undefined;
  const inputTokens = count(fields?.prompt_tokens);
  const outputTokens = count(fields?.completion_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return {
    inputTokens,
    outputTokens,
    ...details(
      fields?.prompt_tokens_details?.cached_tokens,
      fields?.prompt_tokens_details?.cache_write_tokens,
      fields?.completion_tokens_details?.reasoning_tokens,
    ),
  };
}

/** Usage of an OpenAI Responses API response (`usage.input_tokens`, ...); `undefined` when absent. */
export function responsesUsageOf(usage: unknown): Usage | undefined {
  const fields = usage as
    | {
        input_tokens?: unknown;
        output_tokens?: unknown;
        input_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
        output_tokens_details?: { reasoning_tokens?: unknown } | null;
      }
    | null
    | undefined;
  const inputTokens = count(fields?.input_tokens);
  const outputTokens = count(fields?.output_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return {
    inputTokens,
    outputTokens,
    ...details(
      fields?.input_tokens_details?.cached_tokens,
      fields?.input_tokens_details?.cache_write_tokens,
      fields?.output_tokens_details?.reasoning_tokens,
    ),
  };
}

/** `usage` of an OpenAI chat completion or usage chunk. */
export function chatUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

/** `usage` of an OpenAI Responses API response. */
export function responsesUsage(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: {
      cached_tokens: usage.cachedInputTokens ?? 0,
      cache_write_tokens: usage.cacheWriteInputTokens ?? 0,
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** `usage` of an Anthropic message (or the cumulative usage of a stream's final `message_delta`). */
export function anthropicUsage(usage: Usage | undefined): Record<string, number> {
  const cacheRead = usage?.cachedInputTokens ?? 0;
  const cacheCreation = usage?.cacheWriteInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.inputTokens ?? 0) - cacheRead - cacheCreation),
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage?.outputTokens ?? 0,
  };
}
