import type { ProviderConfig } from '../config.js';
import { withFields } from '../with-fields.js';

/** The chat-completions field a provider takes the output limit of a translated request in. */
export type MaxTokensParameter = 'max_tokens' | 'max_completion_tokens';

/** Values of `ProviderConfig.maxTokensParameter` (the providers file's `"maxTokensParameter"`). */
export const MAX_TOKENS_PARAMETERS: readonly MaxTokensParameter[] = ['max_tokens', 'max_completion_tokens'];

/**
 * The field `provider` is sent the output limit of a request the gateway translated to a chat
 * completion (`/v1/messages`' `max_tokens`, `/v1/responses`' `max_output_tokens`): its
 * `maxTokensParameter`, else `max_completion_tokens` for OpenAI itself (`api.openai.com`, where
 * `max_tokens` is deprecated and refused by the reasoning models: o-series, gpt-5), else
 * `max_tokens`, the field every OpenAI-compatible server knows (some know no other).
 *
 * @example
 * maxTokensParameterOf({ baseUrl: 'https://api.openai.com/v1' }); // 'max_completion_tokens'
 * maxTokensParameterOf({ baseUrl: 'http://vllm:8000/v1' }); // 'max_tokens'
 */
export function maxTokensParameterOf(
  provider: Pick<ProviderConfig, 'baseUrl' | 'maxTokensParameter'>,
): MaxTokensParameter {
  if (provider.maxTokensParameter !== undefined) return provider.maxTokensParameter;
  let host: string;
  try {
    host = new URL(provider.baseUrl).hostname;
  } catch {
    return 'max_tokens';
  }
  return host === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens';
}

/**
 * `body` (a translated chat request carrying its limit in `max_tokens`) as `provider` takes it:
 * the same object when the provider takes `max_tokens` or there is no limit, else a copy with the
 * limit moved to `max_completion_tokens`.
 */
export function withMaxTokensParameter(
  body: Record<string, unknown>,
  provider: Pick<ProviderConfig, 'baseUrl' | 'maxTokensParameter'>,
): Record<string, unknown> {
  if (body['max_tokens'] === undefined || maxTokensParameterOf(provider) === 'max_tokens') return body;
  const { max_tokens: limit, ...rest } = body;
  return withFields(rest, { max_completion_tokens: limit });
}
