import { requestParametersFromAnthropic } from '@gatewayz/telemetry/genai';
import type { Handler } from 'hono';
import {
  anthropicErrorResponse,
  anthropicStreamEncoder,
  anthropicToOpenAi,
  openAiToAnthropic,
} from '../protocol/anthropic.js';
import { ApiError } from '../protocol/openai-errors.js';
import { completeChat } from '../request/body-attempt.js';
import { readJsonObject } from '../request/read-json-object.js';
import { streamChat } from '../request/stream-attempt.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/**
 * `POST /v1/messages`: an Anthropic Messages request, sent upstream as an OpenAI chat request and
 * answered in Anthropic's shape, errors included.
 */
export function messagesRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    try {
      const body = await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming);
      const { model, stream, openAi } = anthropicToOpenAi(body);
      // The span says what the client asked for, in its own terms (top_k has no OpenAI equivalent).
      const parameters = requestParametersFromAnthropic(body);
      if (stream) return await streamChat(c, services, model, openAi, () => anthropicStreamEncoder(model), parameters);
      return c.json(openAiToAnthropic(await completeChat(c, services, model, openAi, parameters), model));
    } catch (error) {
      if (error instanceof ApiError) return anthropicErrorResponse(error);
      throw error;
    }
  };
}
