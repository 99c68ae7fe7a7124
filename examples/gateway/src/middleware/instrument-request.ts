import { SpanKind, SpanStatusCode, context as contextApi, propagation, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import type { RunningTelemetry } from '@gatewayz/telemetry-node';
import type { GatewayEnv, GatewayLogger } from '../server/gateway-env.js';
import { logAccess } from './access-log.js';
import type { RouteTemplates } from './route-templates.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The gateway's first middleware: the request's SERVER span (continuing the caller's
 * `traceparent`), the in-flight gauge, the HTTP request metrics and the access log, all labelled
 * with the route template. The span's context is kept in `c.var.otelContext` for the handlers.
 */
export function instrumentRequest(
  otel: RunningTelemetry,
  log: GatewayLogger,
  routes: RouteTemplates<GatewayEnv>,
): MiddlewareHandler<GatewayEnv> {
  const telemetry = otel.telemetry;
  return async (c, next) => {
    const started = performance.now();
    const requestMethod = c.req.method;
    const method = METHODS.has(requestMethod) ? requestMethod : 'other';
    const route = routes.of(requestMethod, c.req.path);
    const carrier: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      carrier[key] = value;
    });
    const parent = propagation.extract(contextApi.active(), carrier);
    const span = otel.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
      parent,
    );
    telemetry.trackHttpRequestInProgress(method, route, 1);
    const active = trace.setSpan(parent, span);
    c.set('otelContext', active);
    c.set('requestStartedAt', started);
    try {
      await contextApi.with(active, next);
    } finally {
      const status = c.res.status;
      if (log.enabled('debug')) logAccess(log, active, method, route, status, started);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      telemetry.trackHttpRequestInProgress(method, route, -1);
      telemetry.recordHttpRequest(method, route, status, (performance.now() - started) / 1000);
    }
  };
}
