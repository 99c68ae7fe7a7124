import { requestParametersFromOpenAi, usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Handler } from 'hono';
import { budgetedAccount, holdBudget } from '../api-keys/authenticate.js';
import { inEncoding, validateEmbeddingsRequest } from '../protocol/embeddings.js';
import { ApiError } from '../protocol/openai-errors.js';
import { completeJson } from '../request/body-attempt.js';
import { readJsonObject } from '../request/read-json-object.js';
import { recordServerFailure } from '../request/server-request.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/**
 * `POST /v1/embeddings`: an OpenAI embeddings request (string or array `input`, `encoding_format`
 * `float` or `base64`), routed to the providers serving the model for embeddings and recorded
 * with the GenAI operation `embeddings`, its input tokens and their price.
 */
export function embeddingsRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    const body = await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming);
    const request = validateEmbeddingsRequest(body);
    if (!services.router.serves(request.model, 'embeddings')) {
      const notServed = new ApiError(
        404,
        `The model \`${request.model}\` does not make embeddings at any configured provider`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
      recordServerFailure(c, services, 'embeddings', request.model, notServed);
      throw notServed;
    }
    const account = budgetedAccount(c);
    if (account !== undefined)
      await holdBudget(c, services, account, services.costs.embeddingsBound(request.model, body['input']));
    // encoding_format and dimensions: gen_ai.request.encoding_formats, gen_ai.embeddings.dimension.count.
    const { encodingFormats, embeddingsDimensionCount } = requestParametersFromOpenAi(body);
    const parameters = Object.assign(
      {},
      encodingFormats !== undefined ? { encodingFormats } : {},
      embeddingsDimensionCount !== undefined ? { embeddingsDimensionCount } : {},
    );
    const answer = await completeJson(
      c,
      services,
      request.model,
      'embeddings',
      () => ({
        path: '/embeddings',
        body: request.body,
        answer: (result) => {
          const usage = usageFromOpenAi({ completion_tokens: 0, ...(result['usage'] as object | undefined) });
          return {
            value: inEncoding(result, request.encodingFormat),
            completion: {
              status: 'success',
              ...(usage !== undefined ? { usage } : {}),
              ...(typeof result['model'] === 'string' ? { responseModel: result['model'] } : {}),
            },
          };
        },
      }),
      parameters,
    );
    return c.json(answer);
  };
}
