import { ROOT_CONTEXT, type Context as OtelContext } from '@opentelemetry/api';
import type { Context } from 'hono';
import type { GatewayEnv } from '../server/gateway-env.js';

/**
 * The request's OpenTelemetry context (its server span). It travels with the Hono context, not
 * with the active context: that works with either context manager, including 'synchronous'.
 */
export function requestContext(c: Context<GatewayEnv>): OtelContext {
  return c.get('otelContext') ?? ROOT_CONTEXT;
}

/**
 * Aborts when the client goes away before the answer is complete. From Node's response when
 * served by @hono/node-server: `c.req.raw.signal` would build a WHATWG Request (see
 * `readJsonObject`).
 */
export function clientGone(c: Context<GatewayEnv>): AbortSignal {
  const made = c.get('clientGone');
  if (made !== undefined) return made;
  const outgoing = c.env?.outgoing;
  if (outgoing === undefined) return c.req.raw.signal;
  const controller = new AbortController();
  c.set('clientGone', controller.signal);
  if (outgoing.destroyed && !outgoing.writableFinished) controller.abort();
  else
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) controller.abort();
    });
  return controller.signal;
}
