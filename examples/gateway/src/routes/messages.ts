import { requestParametersFromOpenAi, usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Handler } from 'hono';
import { budgetedAccount, holdBudget } from '../api-keys/authenticate.js';
import type { ProviderConfig } from '../config.js';
import { anthropicContent } from '../protocol/anthropic-content.js';
import { anthropicToOpenAi } from '../protocol/anthropic-request.js';
import { withMaxTokensParameter } from '../protocol/max-tokens-parameter.js';
import { anthropicStreamEncoder } from '../protocol/anthropic-stream.js';
import { anthropicErrorResponse, openAiToAnthropic, UntranslatableAnswer } from '../protocol/anthropic.js';
import { ApiError } from '../protocol/openai-errors.js';
import { chatCompletionOf, completeJson } from '../request/body-attempt.js';
import { UpstreamFailure } from '../providers/upstream.js';
import { readJsonObject } from '../request/read-json-object.js';
import { streamChat } from '../request/stream-attempt.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import { withFields } from '../with-fields.js';

/**
 * `POST /v1/messages`: an Anthropic Messages request, sent upstream as an OpenAI chat request and
 * answered in Anthropic's shape, errors included.
 */
export function messagesRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    try {
      const body = await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming);
      const { model, stream, openAi } = anthropicToOpenAi(body, c.req.header('anthropic-version'));
      // The attempt spans say what the providers are sent: the translated request, not the client's.
      // With content capture on, the client's own system prompt, turns and tools (see anthropicContent).
      const { collect } = services.otel.telemetry.genAiContent;
      const parameters = collect
        ? withFields(requestParametersFromOpenAi(openAi), anthropicContent(body))
        : requestParametersFromOpenAi(openAi);
      const account = budgetedAccount(c);
      if (account !== undefined) await holdBudget(c, services, account, services.costs.chatBound(model, openAi));
      // Each provider gets the output limit in the field it takes (see maxTokensParameterOf).
      const forProvider = (provider: ProviderConfig): Record<string, unknown> =>
        withMaxTokensParameter(openAi, provider);
      if (stream)
        return await streamChat(c, services, model, forProvider, () => anthropicStreamEncoder(model), parameters);
      return c.json(
        await completeJson(
          c,
          services,
          model,
          'chat',
          (provider) => ({
            path: '/chat/completions',
            body: withFields(forProvider(provider), { stream: false }),
            answer: (completion) => ({
              value: anthropicAnswer(completion, model),
              completion: chatCompletionOf(completion, collect),
            }),
          }),
          parameters,
        ),
      );
    } catch (error) {
      if (error instanceof ApiError) return anthropicErrorResponse(error);
      throw error;
    }
  };
}

/**
 * The Anthropic message of an upstream chat completion, made inside the attempt: an answer it
 * cannot carry (tool call arguments that are not JSON) fails the attempt as `invalid_response`,
 * as malformed JSON does, and the next provider is tried.
 */
function anthropicAnswer(completion: Record<string, unknown>, model: string): Record<string, unknown> {
  try {
    return openAiToAnthropic(completion, model);
  } catch (error) {
    // The provider made (and bills) the answer: its usage is recorded with the failed attempt.
    if (error instanceof UntranslatableAnswer) {
      const failure = new UpstreamFailure('error', 'invalid_response', error.message, true);
      failure.answered = true;
      throw failure.withUsage(usageFromOpenAi(completion['usage']));
    }
    throw error;
  }
}
