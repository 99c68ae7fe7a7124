import type { GenAiContentCapture } from '@gatewayz/telemetry/genai';
import { requestParametersFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Context, Handler } from 'hono';
import { budgetedAccount, holdBudget } from '../api-keys/authenticate.js';
import type { ProviderConfig } from '../config.js';
import { withMaxTokensParameter } from '../protocol/max-tokens-parameter.js';
import { ApiError } from '../protocol/openai-errors.js';
import { nativeResponseCompletion } from '../protocol/responses-outcome.js';
import { responsesContent, responsesOutputMessages, StreamedResponsesOutput } from '../protocol/responses-content.js';
import { validateResponsesRequest, type ResponsesRequest } from '../protocol/responses-request.js';
import { chatToResponse } from '../protocol/responses-response.js';
import {
  parseResponsesEvent,
  responsesPassthroughEncoder,
  responsesStreamEncoder,
} from '../protocol/responses-stream.js';
import { chatCompletionOf, completeJson, type JsonPlan } from '../request/body-attempt.js';
import { withProviderFilter, type ProviderFilter } from '../request/provider-chain.js';
import { readJsonObject } from '../request/read-json-object.js';
import { requestContext } from '../request/request-context.js';
import { streamModel, type StreamPlan } from '../request/stream-attempt.js';
import { StreamedChatOutput } from '../request/streamed-chat-output.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import { withFields } from '../with-fields.js';

/**
 * `POST /v1/responses`: an OpenAI Responses API request, answered as a Response object or, with
 * `stream: true`, as typed SSE events. Routed, failed over, priced and recorded like a chat
 * completion (GenAI operation `chat`). A provider whose config says `responsesApi: true` gets the
 * request as it is (with `store: false`); any other gets it as a chat completion, translated back,
 * tool calls included. A request chat cannot carry (a built-in tool) goes only to the providers
 * with the Responses API, and is answered 400 when its model has none (see `translatedBody`).
 */
export function responsesRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    const body = await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming);
    const request = validateResponsesRequest(body);
    const chatBody = translatedBody(c, services, request);
    // With content capture on, `instructions` and `input` go on the attempt spans or events (see responsesContent).
    const content = services.otel.telemetry.genAiContent;
    const parameters = content.collect
      ? withFields(requestParametersFromOpenAi(body), responsesContent(body))
      : requestParametersFromOpenAi(body);
    const account = budgetedAccount(c);
    if (account !== undefined)
      await holdBudget(
        c,
        services,
        account,
        services.costs.chatBound(request.model, budgetBody(body, chatBody), body['tools']),
      );
    if (request.stream)
      return streamModel(
        c,
        services,
        request.model,
        (provider) => streamPlan(provider, request, chatBody, content),
        parameters,
      );
    return c.json(
      await completeJson(
        c,
        services,
        request.model,
        'chat',
        (provider) => jsonPlan(provider, request, chatBody, content.collect),
        parameters,
      ),
    );
  };
}

/**
 * The request as a chat request, for the providers of its model without the Responses API; or,
 * when it uses what chat cannot carry (a built-in tool, say), `undefined`: the request then goes
 * only to the providers with the Responses API, the others left out of its chain (a translation
 * leaving out a tool would answer another question than the one asked), and is answered the 400
 * that names what cannot be translated when its model has no provider with the Responses API.
 */
function translatedBody(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  request: ResponsesRequest,
): Record<string, unknown> | undefined {
  if ('body' in request.chat) return request.chat.body;
  const candidates = services.router.candidates(request.model, 'chat');
  const translating = candidates.filter((provider) => provider.responsesApi !== true).map((provider) => provider.name);
  if (translating.length === 0) return undefined;
  const { refusal } = request.chat;
  const names = translating.join(', ');
  const untranslated = new ApiError(
    refusal.status,
    `${refusal.message} (\`${request.model}\` is served by ${names}, which ${translating.length === 1 ? 'has' : 'have'} no Responses API: use a model with a provider that has it)`,
    refusal.type,
    refusal.code,
    refusal.param,
  );
  if (translating.length === candidates.length) throw untranslated;
  const filter: ProviderFilter = {
    admits: (provider) => provider.responsesApi === true,
    refusal: untranslated,
    requirement: `with the Responses API${refusal.param === null ? '' : `, needed for \`${refusal.param}\``}`,
  };
  c.set('otelContext', withProviderFilter(requestContext(c), filter));
  return undefined;
}

/** What the budget hold bounds: the chat request, or, untranslated, the native request's prompt and output limit. */
function budgetBody(body: Record<string, unknown>, chatBody: Record<string, unknown> | undefined) {
  return chatBody ?? { messages: [body['instructions'], body['input']], max_tokens: body['max_output_tokens'] };
}

function jsonPlan(
  provider: ProviderConfig,
  request: ResponsesRequest,
  chatBody: Record<string, unknown> | undefined,
  captureContent: boolean,
): JsonPlan<Record<string, unknown>> {
  if (provider.responsesApi || chatBody === undefined) {
    return {
      path: '/responses',
      body: withFields(request.nativeBody, { stream: false }),
      answer: (response) => ({
        value: response,
        completion: withFields(
          nativeResponseCompletion(response),
          captureContent ? { outputMessages: responsesOutputMessages(response) } : {},
        ),
      }),
    };
  }
  return {
    path: '/chat/completions',
    body: withFields(withMaxTokensParameter(chatBody, provider), { stream: false }),
    answer: (completion) => ({
      value: chatToResponse(completion, request.model, request.echo),
      completion: chatCompletionOf(completion, captureContent),
    }),
  };
}

function streamPlan(
  provider: ProviderConfig,
  request: ResponsesRequest,
  chatBody: Record<string, unknown> | undefined,
  content: GenAiContentCapture,
): StreamPlan {
  if (provider.responsesApi || chatBody === undefined) {
    return {
      path: '/responses',
      body: withFields(request.nativeBody, { stream: true }),
      encoder: responsesPassthroughEncoder(),
      parse: parseResponsesEvent,
      ...(content.collect ? { output: new StreamedResponsesOutput(content.maxLength) } : {}),
    };
  }
  return {
    path: '/chat/completions',
    body: withFields(withMaxTokensParameter(chatBody, provider), {
      stream: true,
      stream_options: { include_usage: true },
    }),
    encoder: responsesStreamEncoder(request.model, request.echo),
    ...(content.collect ? { output: new StreamedChatOutput(content.maxLength) } : {}),
  };
}
