import { context as contextApi } from '@opentelemetry/api';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { ApiError } from '../protocol/openai-errors.js';
import { requestContext } from '../request/request-context.js';
import type { GatewayEnv, GatewayLogger } from '../server/gateway-env.js';
import { UNMATCHED_ROUTE, type RouteTemplates } from './route-templates.js';

/** `ApiError`s answer in their own shape; anything else is logged (with the request's trace) and answered 500. */
export function handleErrors(log: GatewayLogger, routes: RouteTemplates<GatewayEnv>): ErrorHandler<GatewayEnv> {
  return (error, c) => {
    if (error instanceof ApiError) return error.toResponse();
    contextApi.with(requestContext(c), () =>
      log.error('unhandled error', { route: routes.of(c.req.method, c.req.path), error: error.message }),
    );
    return new ApiError(500, 'Internal server error', 'server_error', 'internal_error').toResponse();
  };
}

/** A JSON 404 that names the path only when it is one the gateway knows (another method, a trailing slash). */
export function handleNotFound(routes: RouteTemplates<GatewayEnv>): NotFoundHandler<GatewayEnv> {
  return (c: Context<GatewayEnv>) =>
    new ApiError(
      404,
      `Unknown route ${c.req.method} ${routes.of(c.req.method, c.req.path) === UNMATCHED_ROUTE ? 'path' : c.req.path}`,
      'invalid_request_error',
      'not_found',
    ).toResponse();
}
