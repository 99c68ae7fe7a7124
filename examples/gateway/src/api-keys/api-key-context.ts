import { createContextKey, type Context } from '@opentelemetry/api';
import type { ApiKeyAccount, BudgetHold } from './api-key-registry.js';

const API_KEY_ACCOUNT = createContextKey('gatewayz example gateway API key account');
const BUDGET_HOLD = createContextKey('gatewayz example gateway API key budget hold');

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

/** The request's context with its hold on its key's budget: attempts charge their cost through it. */
export function withBudgetHold(context: Context, hold: BudgetHold): Context {
  return context.setValue(BUDGET_HOLD, hold);
}

/** The budget hold of a request's (or attempt's) context; undefined when its key has no budget. */
export function budgetHoldOf(context: Context): BudgetHold | undefined {
  return context.getValue(BUDGET_HOLD) as BudgetHold | undefined;
}
