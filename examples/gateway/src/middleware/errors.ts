import { context as contextApi } from '@opentelemetry/api';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { anthropicErrorResponse } from '../protocol/anthropic.js';
import { ApiError } from '../protocol/openai-errors.js';
import { requestContext } from '../request/request-context.js';
import type { GatewayEnv, GatewayLogger } from '../server/gateway-env.js';
import type { AllowedMethods } from './allowed-methods.js';
import type { RouteTemplates } from './route-templates.js';

/** Longest path repeated in a 404 or 405 message. */
const MAX_PATH_IN_MESSAGE = 256;

/**
 * `ApiError`s answer in their own shape; anything else is logged (with the request's trace) and
 * answered 500. Both in OpenAI's error shape, except under `/v1/messages` (Anthropic's).
 */
export function handleErrors(log: GatewayLogger, routes: RouteTemplates<GatewayEnv>): ErrorHandler<GatewayEnv> {
  return (error, c) => {
    if (error instanceof ApiError) return errorResponse(c.req.path, error);
    contextApi.with(requestContext(c), () =>
      log.error('unhandled error', { route: routes.of(c.req.method, c.req.path), error: error.message }),
    );
    return errorResponse(c.req.path, new ApiError(500, 'Internal server error', 'server_error', 'internal_error'));
  };
}

/**
 * A JSON answer for a request no route answers: 405 with an `Allow` header when the path is served
 * under other methods, 404 otherwise. Both name the method and path asked for (the path cut at 256
 * characters), and nothing else. They are in OpenAI's error shape, except under `/v1/messages`,
 * where the client speaks Anthropic's API and its SDK reads Anthropic's shape.
 */
export function handleNotFound(allowed: AllowedMethods<GatewayEnv>): NotFoundHandler<GatewayEnv> {
  return (c: Context<GatewayEnv>) => {
    const method = c.req.method;
    const path = c.req.path.length > MAX_PATH_IN_MESSAGE ? `${c.req.path.slice(0, MAX_PATH_IN_MESSAGE)}…` : c.req.path;
    const methods = allowed.of(c.req.path);
    const answer = (error: ApiError): Response => errorResponse(c.req.path, error);
    if (methods.length === 0) {
      return answer(new ApiError(404, `Unknown route: ${method} ${path}`, 'invalid_request_error', 'not_found'));
    }
    return answer(
      new ApiError(
        405,
        `Method not allowed: ${method} ${path} (allowed: ${methods.join(', ')})`,
        'invalid_request_error',
        'method_not_allowed',
      ).withHeader('allow', methods.join(', ')),
    );
  };
}

/** Whether `path` is Anthropic's Messages API (`/v1/messages` and the paths under it). */
const isAnthropicPath = (path: string): boolean => path === '/v1/messages' || path.startsWith('/v1/messages/');

/** `error` answered in the shape the client of `path` reads: Anthropic's under `/v1/messages` (its SDK's), else OpenAI's. */
const errorResponse = (path: string, error: ApiError): Response =>
  isAnthropicPath(path) ? anthropicErrorResponse(error) : error.toResponse();
