import type { MiddlewareHandler } from 'hono';
import { ClientGone } from '../request/request-context.js';
import type { GatewayEnv } from './gateway-env.js';
import type { InFlightWork } from './in-flight-work.js';

/**
 * Middleware of the model routes: their `clientGone` (see request-context.ts) is aborted when the
 * client goes away and also when shutdown's drain deadline passes with the request still running
 * (`InFlightWork.markCut`), then saying it was cut (`ClientGone.cut`). The request then gives up
 * its upstream call while its connection is still open, a body still arriving included (which a
 * client leaving would have read on for its usage), so its client gets the answer of a cut
 * request (503 `server_shutdown`, see route-upstream.ts) before http-server.ts closes the
 * connections; by the close alone, that answer had no connection left to go out on. A stream cut
 * midway whose body ended without its response ending (nothing will be written to it any more) is
 * dropped at once rather than at the end of the cut requests' grace.
 */
export function cutOnShutdown(inFlight: InFlightWork): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const outgoing = c.env?.outgoing;
    if (outgoing === undefined) return next();
    c.set('clientGone', new ClientGone(outgoing, undefined, (cut) => inFlight.whenCut(cut)));
    await next();
    c.get('responseBodyEnd')?.whenEnded(() => {
      if (inFlight.cut && !outgoing.writableEnded) outgoing.destroy();
    });
  };
}
