import { define, nonNegative, MODEL_CALL_STATUSES, TOKEN_TYPES } from './metric-definition.js';

/**
 * Catalog entries of per-API-key attribution: requests, cost and tokens by the gateway's own API
 * key (its configured name, never the secret), and the budget of each key that has one. The
 * `api_key_name` label is bounded by the series limit like every other label: past it, new names
 * fold into `other` and are counted in `gatewayz_telemetry_label_overflow_total`.
 */
export const ATTRIBUTION_METRICS = {
  requestsByApiKey: define({
    name: 'requests_by_api_key',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description:
      'Provider attempts made for a gateway API key, by key name and outcome (the status values of model_inference_requests_total)',
    labels: ['api_key_name', 'status'],
    labelValues: { status: MODEL_CALL_STATUSES },
    categories: ['business'],
    range: nonNegative,
    integer: true,
  }),
  costByApiKey: define({
    name: 'cost_by_api_key',
    prefixed: true,
    kind: 'counter',
    unit: 'USD',
    description: 'Cost of provider calls in USD, by gateway API key name (sums to gatewayz_cost_by_provider_total)',
    labels: ['api_key_name'],
    categories: ['business'],
    range: nonNegative,
  }),
  tokensByApiKey: define({
    name: 'tokens_by_api_key',
    prefixed: true,
    kind: 'counter',
    unit: '{token}',
    description:
      'Tokens used, by gateway API key name and token type (input/output, and the cache_read, cache_write and reasoning subsets of them)',
    labels: ['api_key_name', 'token_type'],
    labelValues: { token_type: TOKEN_TYPES },
    categories: ['business'],
    range: nonNegative,
    integer: true,
  }),
  apiKeyBudget: define({
    name: 'api_key_budget_usd',
    prefixed: true,
    kind: 'gauge',
    unit: 'USD',
    description: 'Spending budget of a gateway API key in USD (keys without a budget have no series)',
    labels: ['api_key_name'],
    categories: ['business'],
    range: nonNegative,
    clusterMerge: 'max',
  }),
  apiKeyBudgetRemaining: define({
    name: 'api_key_budget_remaining_usd',
    prefixed: true,
    kind: 'gauge',
    unit: 'USD',
    description: 'Budget left to a gateway API key in USD (0 once its spend reaches the budget)',
    labels: ['api_key_name'],
    categories: ['business'],
    range: nonNegative,
    clusterMerge: 'min',
  }),
  apiKeyEstimatedSpend: define({
    name: 'api_key_estimated_spend_usd',
    prefixed: true,
    kind: 'counter',
    unit: 'USD',
    description:
      'Spend in USD charged to the budget of a gateway API key by estimate, for provider attempts that ended without usage it could price (a cancelled stream or request, an answer without usage or with usage no price fits): an upper bound of what they cost, kept out of the cost counters, so cost by key plus this is what the key spent',
    labels: ['api_key_name'],
    categories: ['business'],
    range: nonNegative,
  }),
  apiKeyAttemptsWithoutUsage: define({
    name: 'api_key_attempts_without_usage',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description:
      'Provider attempts for a gateway API key that the provider may bill but that ended without a usage report (the client went away, shutdown cut them, or the provider reported none), by key name',
    labels: ['api_key_name'],
    categories: ['business'],
    range: nonNegative,
    integer: true,
  }),
} as const;
