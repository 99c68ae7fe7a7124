import { Hono } from 'hono';
import { authenticate } from '../api-keys/authenticate.js';
import { AllowedMethods } from '../middleware/allowed-methods.js';
import { handleErrors, handleNotFound } from '../middleware/errors.js';
import { instrumentRequest } from '../middleware/instrument-request.js';
import { RouteTemplates } from '../middleware/route-templates.js';
import { chatCompletionsRoute } from '../routes/chat-completions.js';
import { dashboardRoute } from '../routes/dashboard.js';
import { embeddingsRoute } from '../routes/embeddings.js';
import { healthRoute, modelsRoute } from '../routes/health.js';
import { imagesRoute } from '../routes/images.js';
import { messagesRoute } from '../routes/messages.js';
import { metricsRoute } from '../routes/metrics.js';
import { MODEL_HEALTH_ROUTES, modelHealthRoute } from '../routes/model-health.js';
import { responsesRoute } from '../routes/responses.js';
import type { GatewayEnv, GatewayServices } from './gateway-env.js';
import { cutOnShutdown } from './shutdown-cut.js';

/**
 * The gateway's Hono app: the instrumentation middleware first, then every route. A route's path
 * is also its label in HTTP metrics and span names (see RouteTemplates), so it is registered as
 * the template it should be reported as.
 */
export function createApp(services: GatewayServices): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const routes = new RouteTemplates<GatewayEnv>(app);
  app.use('*', instrumentRequest(services.otel, services.log, routes, services.inFlight));
  app.onError(handleErrors(services.log, routes));
  const allowedMethods = new AllowedMethods<GatewayEnv>(app);
  app.notFound(handleNotFound(allowedMethods));

  app.get('/health', healthRoute(services));
  app.get('/v1/models', modelsRoute(services));
  const modelHealth = modelHealthRoute(services);
  app.all('/v1/model-health', modelHealth);
  app.all('/v1/model-health/*', modelHealth);
  app.get('/dashboard', dashboardRoute());
  const metrics = metricsRoute(services);
  app.all('/metrics', metrics);
  app.all('/prometheus/metrics/:category{[a-z_]+}', metrics);
  // Any other category: the metrics handler answers it (404) under the label `other`.
  app.all('/prometheus/metrics/*', metrics);
  // Every endpoint that spends money at a provider is served as one of the gateway's API keys, and
  // answers at once when the shutdown drain deadline cuts it.
  const apiKey = authenticate(services.apiKeys, 'openai');
  const cut = cutOnShutdown(services.inFlight);
  app.post('/v1/chat/completions', cut, apiKey, chatCompletionsRoute(services));
  app.post('/v1/messages', cut, authenticate(services.apiKeys, 'anthropic'), messagesRoute(services));
  app.post('/v1/responses', cut, apiKey, responsesRoute(services));
  app.post('/v1/embeddings', cut, apiKey, embeddingsRoute(services));
  app.post('/v1/images/generations', cut, apiKey, imagesRoute(services));

  routes.learn(MODEL_HEALTH_ROUTES);
  allowedMethods.learn();
  return app;
}
