import type { Handler } from 'hono';
import { budgetedAccount, holdBudget } from '../api-keys/authenticate.js';
import { validateImagesRequest } from '../protocol/images.js';
import { ApiError } from '../protocol/openai-errors.js';
import { generateImages } from '../request/body-attempt.js';
import { readJsonObject } from '../request/read-json-object.js';
import { recordServerFailure } from '../request/server-request.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/** `POST /v1/images/generations`: an OpenAI image request, passed to a provider serving the model for images. */
export function imagesRoute(services: GatewayServices): Handler<GatewayEnv> {
  return async (c) => {
    const { model, n, body } = validateImagesRequest(
      await readJsonObject(c.req.raw, services.config.maxBodyBytes, c.env?.incoming),
    );
    if (!services.router.serves(model, 'image_generation')) {
      const notServed = new ApiError(
        404,
        `The model \`${model}\` does not generate images at any configured provider`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
      recordServerFailure(c, services, 'image_generation', model, notServed);
      throw notServed;
    }
    const account = budgetedAccount(c);
    if (account !== undefined) await holdBudget(c, services, account, services.costs.imagesBound(model, n, body));
    return c.json(await generateImages(c, services, model, body));
  };
}
