import {
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  propagation,
  trace,
  type Context as OtelContext,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import type { RunningTelemetry } from '@gatewayz/telemetry-node';
import type { GatewayEnv, GatewayLogger } from '../server/gateway-env.js';
import type { InFlightWork } from '../server/in-flight-work.js';
import { logAccess } from './access-log.js';
import type { RouteTemplates } from './route-templates.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Reads propagation headers from Node's `IncomingMessage.rawHeaders` (`[name, value, name, value,
 * ...]` as received), without building a headers object. Names match case-insensitively; a field
 * sent more than once reads as its values joined with ", ", as a Fetch `Headers` object reads it.
 */
export const rawHeadersGetter: TextMapGetter<readonly string[]> = {
  keys(raw) {
    const names = new Set<string>();
    for (let index = 0; index < raw.length; index += 2) names.add(raw[index]!.toLowerCase());
    return [...names];
  },
  get(raw, key) {
    const wanted = key.toLowerCase();
    let value: string | undefined;
    for (let index = 0; index < raw.length; index += 2) {
      const name = raw[index]!;
      if (name.length !== wanted.length || name.toLowerCase() !== wanted) continue;
      value = value === undefined ? raw[index + 1]! : `${value}, ${raw[index + 1]!}`;
    }
    return value;
  },
};

/** Reads propagation headers from a Fetch `Headers` object. */
const fetchHeadersGetter: TextMapGetter<Headers> = {
  keys(headers) {
    const names: string[] = [];
    headers.forEach((_value, name) => names.push(name));
    return names;
  },
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * The end of a response whose body outlives its handler (a relayed stream). A handler that returns
 * such a body sets one in `c.var.responseBodyEnd` and calls `end()` once the body has been sent in
 * full or abandoned; the request's SERVER span, duration and in-progress count end then, as the
 * HTTP conventions measure a request: until its response is complete. Either order works: `end()`
 * before the middleware has seen the handler return finishes the request when it does.
 */
export class ResponseBodyEnd {
  private ended = false;
  private readonly onEnd: Array<() => void> = [];

  /** The body has been sent in full, or the client went away; idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const finishes = this.onEnd.splice(0);
    // Every one runs, even when one throws; the first error is rethrown after the others.
    let failure: { error: unknown } | undefined;
    for (const finish of finishes) {
      try {
        finish();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /** Run `finish` once the body has ended (at once when it already has); in the order given. */
  whenEnded(finish: () => void): void {
    if (this.ended) finish();
    else this.onEnd.push(finish);
  }
}

/**
 * The gateway's first middleware: the request's SERVER span (continuing the caller's
 * `traceparent`), the in-flight gauge, the HTTP request metrics and the access log, all labelled
 * with the route template. The span's context is kept in `c.var.otelContext` for the handlers.
 * The request counts in `inFlight` until it is finished, so shutdown waits for its recording. A
 * request is finished when its handler is done or, for a streamed body (`c.var.responseBodyEnd`),
 * when the body has ended.
 */
export function instrumentRequest(
  otel: RunningTelemetry,
  log: GatewayLogger,
  routes: RouteTemplates<GatewayEnv>,
  inFlight: InFlightWork,
): MiddlewareHandler<GatewayEnv> {
  const telemetry = otel.telemetry;
  return async (c, next) => {
    const done = inFlight.begin();
    const started = performance.now();
    const requestMethod = c.req.method;
    const method = METHODS.has(requestMethod) ? requestMethod : 'other';
    const route = routes.of(requestMethod, c.req.path);
    // The caller's trace context, read where the headers already are: Node's raw header list when
    // served by @hono/node-server, else the Fetch Request (app.fetch); nothing is copied.
    const incoming = c.env?.incoming;
    const parent =
      incoming !== undefined
        ? propagation.extract(contextApi.active(), incoming.rawHeaders, rawHeadersGetter)
        : propagation.extract(contextApi.active(), c.req.raw.headers, fetchHeadersGetter);
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
      const bodyEnd = c.get('responseBodyEnd');
      if (bodyEnd === undefined) finishRequest(otel, log, active, span, method, route, status, started, done);
      else bodyEnd.whenEnded(() => finishRequest(otel, log, active, span, method, route, status, started, done));
    }
  };
}

function finishRequest(
  otel: RunningTelemetry,
  log: GatewayLogger,
  active: OtelContext,
  span: Span,
  method: string,
  route: string,
  status: number,
  started: number,
  done: () => void,
): void {
  try {
    if (log.enabled('debug')) logAccess(log, active, method, route, status, started);
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    otel.telemetry.trackHttpRequestInProgress(method, route, -1);
    otel.telemetry.recordHttpRequest(method, route, status, (performance.now() - started) / 1000);
  } finally {
    done();
  }
}
