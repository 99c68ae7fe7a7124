import { requestParametersFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Handler } from 'hono';
import { budgetedAccount, holdBudget } from '../api-keys/authenticate.js';
import { chatContent } from '../protocol/chat-content.js';
import { validateChatRequest } from '../protocol/chat-request.js';
import { openAiStreamEncoder } from '../protocol/stream-encoder.js';
import { completeChat } from '../request/body-attempt.js';
import { readJsonObject } from '../request/read-json-object.js';
import { streamChat } from '../request/stream-attempt.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import { withFields } from '../with-fields.js';

/** `POST /v1/chat/completions`: an OpenAI chat request, answered as JSON or, with `stream: true`, as SSE. */
export function chatCompletionsRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    const body = await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming);
    const { model, stream, includeUsage } = validateChatRequest(body);
    // The messages and tools go on the attempt spans or events only when content capture is on.
    const parameters = services.otel.telemetry.genAiContent.collect
      ? withFields(requestParametersFromOpenAi(body), chatContent(body))
      : requestParametersFromOpenAi(body);
    const account = budgetedAccount(c);
    if (account !== undefined) await holdBudget(c, services, account, services.costs.chatBound(model, body));
    if (stream) return streamChat(c, services, model, body, () => openAiStreamEncoder(includeUsage), parameters);
    return c.json(await completeChat(c, services, model, body, parameters));
  };
}
