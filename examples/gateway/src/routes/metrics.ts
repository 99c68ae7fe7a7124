import type { Handler } from 'hono';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';

/** `/metrics` and `/prometheus/metrics/:category`: the metrics endpoints of @gatewayz/telemetry-node. */
export function metricsRoute(services: GatewayServices): Handler<GatewayEnv> {
  const { otel } = services;
  return (c) => otel.metricsHandler(c.req.raw);
}
