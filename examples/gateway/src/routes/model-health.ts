import type { Handler } from 'hono';
import { createModelHealthHandler } from '@gatewayz/telemetry-node';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/**
 * The routes the model-health API answers below `/v1/model-health/*`, for route labels only: it is
 * mounted as one catch-all, because Hono's RegExpRouter cannot hold a parameter and the static
 * `provider` segment side by side and the app would fall back to the slower TrieRouter for every
 * route. The last one stands for any other path below the API, which it answers itself (a model
 * name may contain `/`); its `provider` may be empty and, like `.` in a JavaScript regular
 * expression, never spans a line break (a decoded `%0A`), so such paths keep the label `other`.
 */
export const MODEL_HEALTH_ROUTES: readonly string[] = [
  '/v1/model-health/:query{unhealthy|stats|providers}',
  '/v1/model-health/provider/:provider/summary',
  '/v1/model-health/:provider{[^/\\n\\r\\u2028\\u2029]*}/:model{.+}?',
];

/** `/v1/model-health` and below: the model-health REST API of @gatewayz/telemetry-node over the gateway's store. */
export function modelHealthRoute(services: GatewayServices): Handler<GatewayEnv> {
  const modelHealth = createModelHealthHandler({
    store: services.store,
    ...(services.config.apiToken !== undefined ? { token: services.config.apiToken } : {}),
  });
  return (c) => modelHealth(c.req.raw);
}
