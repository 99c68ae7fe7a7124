import { createContextKey, type Context } from '@opentelemetry/api';
import type { ApiKeyAccount } from './api-key-registry.js';

const API_KEY_ACCOUNT = createContextKey('gatewayz example gateway API key account');

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
