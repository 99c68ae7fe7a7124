import type { Handler } from 'hono';
import { createDashboardHandler } from '../dashboard/index.js';
import type { GatewayEnv } from '../server/gateway-env.js';

/** `GET /dashboard`: the model-health dashboard page (see ../dashboard). */
export function dashboardRoute(): Handler<GatewayEnv> {
  const dashboard = createDashboardHandler();
  return (c) => dashboard(c.req.raw);
}
