import { usageFromOpenAi, type GenAiUsage } from '@gatewayz/telemetry/genai';
import type { Usage } from '../request/attempt.js';

/*
 * Token usage in the three wire shapes the gateway speaks. OpenAI counts cached tokens inside the
 * input (`prompt_tokens` / `input_tokens`); Anthropic counts them beside it, so its
 * `input_tokens` is the uncached part.
 */

/** The gateway's `Usage` of a usage object the core read (`usageFromOpenAi`, `usageFromAnthropic`). */
function fromGenAi(usage: GenAiUsage | undefined): Usage | undefined {
  if (usage === undefined) return undefined;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    ...(usage.cacheReadInputTokens !== undefined ? { cachedInputTokens: usage.cacheReadInputTokens } : {}),
    ...(usage.cacheCreationInputTokens !== undefined ? { cacheWriteInputTokens: usage.cacheCreationInputTokens } : {}),
    ...(usage.reasoningOutputTokens !== undefined ? { reasoningTokens: usage.reasoningOutputTokens } : {}),
  };
}

/**
 * Usage of an OpenAI chat completion or chunk (`usage.prompt_tokens`, `prompt_tokens_details.cached_tokens`,
 * `completion_tokens_details.reasoning_tokens`, OpenRouter's `prompt_tokens_details.cache_write_tokens`);
 * `undefined` when absent.
 */
export function chatUsageOf(usage: unknown): Usage | undefined {
  return fromGenAi(usageFromOpenAi(usage));
}

/** Usage of an OpenAI Responses API response (`usage.input_tokens`, `input_tokens_details`, ...); `undefined` when absent. */
export function responsesUsageOf(usage: unknown): Usage | undefined {
  return fromGenAi(usageFromOpenAi(usage));
}

/** `usage` of an OpenAI chat completion or usage chunk. */
export function chatUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cachedInputTokens ?? 0,
      // OpenRouter's field for prompt-cache writes (Anthropic models); absent when there were none.
      ...(usage.cacheWriteInputTokens ? { cache_write_tokens: usage.cacheWriteInputTokens } : {}),
    },
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
