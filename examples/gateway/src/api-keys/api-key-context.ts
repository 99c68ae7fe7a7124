import { createContextKey, type Context } from '@opentelemetry/api';
import type { ApiKeyAccount } from './api-key-registry.js';
import type { RequestBudget } from './request-budget.js';

const API_KEY_ACCOUNT = createContextKey('gatewayz example gateway API key account');
const REQUEST_BUDGET = createContextKey('gatewayz example gateway request budget');

/**
 * The request's context with the account of its API key: the attempts of the request (children
 * of this context) find it there when they record cost, tokens and outcome by key. It travels
 * with the request's context rather than in a process-wide map.
 */
export function withApiKeyAccount(context: Context, account: ApiKeyAccount): Context {
  return context.setValue(API_KEY_ACCOUNT, account);
}

/** The API key account of a request's (or attempt's) context; undefined when the request was not authenticated. */
export function apiKeyAccountOf(context: Context): ApiKeyAccount | undefined {
  return context.getValue(API_KEY_ACCOUNT) as ApiKeyAccount | undefined;
}

/**
 * The request's context with its budget (its hold on its key's budget and the bound of what it can
 * use): each attempt is covered by it before it is sent and charges its cost through it.
 */
export function withRequestBudget(context: Context, budget: RequestBudget): Context {
  return context.setValue(REQUEST_BUDGET, budget);
}

/** The budget of a request's (or attempt's) context; undefined when its key has no budget. */
export function requestBudgetOf(context: Context): RequestBudget | undefined {
  return context.getValue(REQUEST_BUDGET) as RequestBudget | undefined;
}
