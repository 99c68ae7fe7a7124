import type { Usage } from '../request/attempt.js';

/*
 * Token usage in the three wire shapes the gateway speaks. OpenAI counts cached tokens inside the
 * input (`prompt_tokens` / `input_tokens`); Anthropic counts them beside it, so its
 * `input_tokens` is the uncached part.
 */

/** `usage` of an OpenAI chat completion or usage chunk. */
export function chatUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cacheReadInputTokens ?? 0,
      // OpenRouter's field for prompt-cache writes (Anthropic models); absent when there were none.
      ...(usage.cacheCreationInputTokens ? { cache_write_tokens: usage.cacheCreationInputTokens } : {}),
    },
    completion_tokens_details: { reasoning_tokens: usage.reasoningOutputTokens ?? 0 },
  };
}

/** `usage` of an OpenAI Responses API response. */
export function responsesUsage(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: {
      cached_tokens: usage.cacheReadInputTokens ?? 0,
      cache_write_tokens: usage.cacheCreationInputTokens ?? 0,
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningOutputTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** `usage` of an Anthropic message (or the cumulative usage of a stream's final `message_delta`). */
export function anthropicUsage(usage: Usage | undefined): Record<string, number> {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const cacheCreation = usage?.cacheCreationInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.inputTokens ?? 0) - cacheRead - cacheCreation),
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage?.outputTokens ?? 0,
  };
}
