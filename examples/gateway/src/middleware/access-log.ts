import { context as contextApi, type Context as OtelContext } from '@opentelemetry/api';
import type { GatewayLogger } from '../server/gateway-env.js';

/**
 * Write the access log line of a finished request at debug level (LOG_LEVEL=debug), correlated
 * with the request span. Call it only when `log.enabled('debug')`: nothing is built on the
 * request path when debug is off.
 */
export function logAccess(
  log: GatewayLogger,
  active: OtelContext,
  method: string,
  route: string,
  status: number,
  started: number,
): void {
  contextApi.with(active, () =>
    log.debug('request', {
      method,
      route,
      status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    }),
  );
}
