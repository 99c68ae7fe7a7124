import type { Handler } from 'hono';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/** `GET /health`: liveness, with the provider health snapshot and each provider's breaker state. */
export function healthRoute(services: GatewayServices): Handler<GatewayEnv> {
  return (c) =>
    c.json({ status: 'ok', providers: services.tracker.snapshot(), circuit_breakers: services.router.breakerStates() });
}

/** `GET /v1/models`: every model some provider serves (OpenAI list shape, plus the providers serving it). */
export function modelsRoute(services: GatewayServices): Handler<GatewayEnv> {
  return (c) =>
    c.json({
      object: 'list',
      data: services.router.models().map((model) => ({
        id: model.id,
        object: 'model',
        created: 0,
        owned_by: 'gatewayz',
        providers: model.providers,
      })),
    });
}
