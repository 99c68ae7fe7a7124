import { trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { anthropicErrorResponse } from '../protocol/anthropic.js';
import { ApiError } from '../protocol/openai-errors.js';
import type { Context } from 'hono';
import { requestContext } from '../request/request-context.js';
import type { GatewayEnv } from '../server/gateway-env.js';
import { apiKeyAccountOf, withApiKeyAccount, withRequestBudget } from './api-key-context.js';
import type { ApiKeyAccount, ApiKeyRegistry } from './api-key-registry.js';
import { presentedKey } from './api-key-registry.js';
import type { CostBound, CostEstimator } from './cost-estimate.js';
import { RequestBudget } from './request-budget.js';

/** The request span's attribute naming the API key a request was served as (never the secret). */
export const ATTR_API_KEY_NAME = 'gatewayz.api_key.name';

const REFUSALS = {
  missing: ['Missing API key: send it as "Authorization: Bearer <key>"', 'missing_api_key'],
  malformed: ['The Authorization header must be "Bearer <key>"', 'invalid_authorization_header'],
  unknown: ['Invalid API key', 'invalid_api_key'],
} as const;

/**
 * Middleware of the inference endpoints: identifies the request's API key (`ApiKeyRegistry`),
 * answers 401 when keys are required and none known was presented, 429 `insufficient_quota` when
 * the key's spend has reached its budget, and otherwise names the key on the request span and
 * puts its account in the request's context for the attempts to record by. `style: 'anthropic'`
 * (`/v1/messages`) also accepts `x-api-key` and answers in Anthropic's error shape.
 */
export function authenticate(registry: ApiKeyRegistry, style: 'openai' | 'anthropic'): MiddlewareHandler<GatewayEnv> {
  const answer = (error: ApiError): Response =>
    style === 'anthropic' ? anthropicErrorResponse(error) : error.toResponse();
  return async (c, next) => {
    const presented = presentedKey(
      c.req.header('authorization'),
      style === 'anthropic' ? c.req.header('x-api-key') : undefined,
    );
    const identified = registry.identify(presented);
    if (identified.kind === 'refused') {
      const [message, code] = REFUSALS[identified.reason];
      const response = answer(new ApiError(401, message, 'invalid_request_error', code));
      response.headers.set('www-authenticate', 'Bearer');
      return response;
    }
    const { account } = identified;
    const context = requestContext(c);
    trace.getSpan(context)?.setAttribute(ATTR_API_KEY_NAME, account.name);
    registry.use(account);
    if (account.exhausted) {
      return answer(
        new ApiError(
          429,
          `The API key "${account.name}" has spent its budget of ${account.budgetUsd} USD`,
          'insufficient_quota',
          'insufficient_quota',
        ),
      );
    }
    c.set('otelContext', withApiKeyAccount(context, account));
    try {
      await next();
    } finally {
      // The route held part of the budget (`holdBudget`): whatever the request did not cost goes
      // back when it ends, with its body when that outlives the handler (a stream).
      const hold = c.get('budgetHold');
      if (hold !== undefined) {
        const bodyEnd = c.get('responseBodyEnd');
        if (bodyEnd === undefined) hold.release();
        else bodyEnd.whenEnded(() => hold.release());
      }
    }
  };
}

/**
 * The account of the request's API key when the key has a budget: a route then estimates what the
 * request may cost (`CostEstimator`) and passes it to `holdBudget`. Undefined for keys without
 * one, which need no estimate.
 */
export function budgetedAccount(c: Context<GatewayEnv>): ApiKeyAccount | undefined {
  const account = apiKeyAccountOf(requestContext(c));
  return account?.budgetUsd !== undefined ? account : undefined;
}

/**
 * Admit a request of `account` (from `budgetedAccount`) that can use up to `bound` (from the
 * `CostEstimator`): hold what that costs at the dearest provider serving the model until the
 * request ends (`authenticate` releases it; its attempts are covered by it and charge their cost
 * through it, see `RequestBudget`), or throw a 429 `insufficient_quota` `ApiError` when spend, the
 * holds of the key's other requests in progress and the hold do not fit in the budget. Call it
 * once per request, after validating it and before it reaches a provider.
 */
export async function holdBudget(
  c: Context<GatewayEnv>,
  services: { readonly apiKeys: ApiKeyRegistry; readonly costs: CostEstimator },
  account: ApiKeyAccount,
  bound: CostBound,
): Promise<void> {
  const registry = services.apiKeys;
  const usd = services.costs.maximum(bound);
  let hold = account.hold(usd);
  // In a cluster, the primary admits it too, against every worker's holds.
  if (hold !== undefined && registry.admission !== undefined) {
    const answer = await registry.admission.admit(account, usd);
    if (answer.admitted) hold.onRelease = answer.release;
    else {
      hold.release();
      hold = undefined;
    }
  }
  if (hold === undefined) throw budgetRefusal(account, usd);
  c.set('budgetHold', hold);
  c.set('otelContext', withRequestBudget(requestContext(c), new RequestBudget(hold, bound, services.costs, registry)));
}

/**
 * The 429 `insufficient_quota` of a request of `account` that may cost up to `usd` (at admission,
 * or before a further attempt after a failed one was charged) when that no longer fits in the budget.
 */
export function budgetRefusal(account: ApiKeyAccount, usd: number): ApiError {
  return new ApiError(
    429,
    usd === Infinity
      ? `The API key "${account.name}" has a budget of ${account.budgetUsd} USD, and this request's cost has no bound ` +
          '(its output limit times n is past what can be priced): set max_tokens or max_completion_tokens, and n, lower'
      : `The API key "${account.name}" has too little of its budget of ${account.budgetUsd} USD left for this request, ` +
          `which may cost up to ${Number(usd.toPrecision(6))} USD (its requests in progress hold part of the budget until they finish)`,
    'insufficient_quota',
    'insufficient_quota',
  );
}
