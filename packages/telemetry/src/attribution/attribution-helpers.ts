import type { ModelCallStatus, TokenType } from '../metrics/metric-definition.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';

// The attribution helpers on the shared instance (see getTelemetry()), for applications that use one.

/**
 * Count one provider attempt made for a gateway API key in
 * `gatewayz_requests_by_api_key_total{api_key_name,status}` on the shared instance. Pass the key's
 * configured name, never the secret. A status outside `MODEL_CALL_STATUSES` is dropped and counted.
 *
 * @example
 * ```ts
 * recordApiKeyRequest('team-search', 'success');
 * ```
 *
 * @see GatewayTelemetry.recordApiKeyRequest
 */
export function recordApiKeyRequest(apiKeyName: string, status: ModelCallStatus): void {
  getTelemetry().recordApiKeyRequest(apiKeyName, status);
}

/**
 * Add tokens of one direction (`input` or `output`) to
 * `gatewayz_tokens_by_api_key_total{api_key_name,token_type}` on the shared instance. A negative or
 * non-finite count, or another token type, is dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordApiKeyTokens('team-search', 'input', 1200);
 * recordApiKeyTokens('team-search', 'output', 300);
 * ```
 *
 * @see GatewayTelemetry.recordApiKeyTokens
 */
export function recordApiKeyTokens(apiKeyName: string, tokenType: TokenType, tokens: number): void {
  getTelemetry().recordApiKeyTokens(apiKeyName, tokenType, tokens);
}

/**
 * Add one call's cost in USD to `gatewayz_cost_by_provider_total{provider}` and
 * `gatewayz_cost_by_api_key_total{api_key_name}` on the shared instance, from the same number, so
 * cost by key sums to cost by provider exactly. Use it instead of `incrementCostByProvider()` when
 * calls are attributed to keys. Returns false when the amount (negative, non-finite) or a label was
 * refused: then neither total changed, and the drop is counted.
 *
 * @example
 * ```ts
 * recordAttributedCost('openai', 'team-search', 0.00036);
 * ```
 *
 * @see GatewayTelemetry.recordAttributedCost
 */
export function recordAttributedCost(provider: string, apiKeyName: string, usd: number): boolean {
  return getTelemetry().recordAttributedCost(provider, apiKeyName, usd);
}

/**
 * Add a charge a key's budget took by estimate (USD) to
 * `gatewayz_api_key_estimated_spend_usd_total{api_key_name}` on the shared instance: for a provider
 * attempt that ended without a usage report (a cancelled stream), whose cost the cost counters do
 * not have. Cost by key plus estimated spend is then what the key spent. Returns false when the
 * amount (negative, non-finite) or the label was refused; the drop is counted.
 *
 * @example
 * ```ts
 * recordApiKeyEstimatedSpend('team-search', 0.0021);
 * ```
 *
 * @see GatewayTelemetry.recordApiKeyEstimatedSpend
 */
export function recordApiKeyEstimatedSpend(apiKeyName: string, usd: number): boolean {
  return getTelemetry().recordApiKeyEstimatedSpend(apiKeyName, usd);
}

/**
 * Count one provider attempt for a gateway API key that ended without a usage report although the
 * provider may bill it (the client went away, or shutdown cut it) in
 * `gatewayz_api_key_attempts_without_usage_total{api_key_name}` on the shared instance.
 *
 * @example
 * ```ts
 * recordApiKeyAttemptWithoutUsage('team-search');
 * ```
 *
 * @see GatewayTelemetry.recordApiKeyAttemptWithoutUsage
 */
export function recordApiKeyAttemptWithoutUsage(apiKeyName: string): void {
  getTelemetry().recordApiKeyAttemptWithoutUsage(apiKeyName);
}

/**
 * Set `gatewayz_api_key_budget_usd{api_key_name}` to a key's budget and
 * `gatewayz_api_key_budget_remaining_usd{api_key_name}` to what is left of it (never below 0) on
 * the shared instance. Alert rules compare the two (80 % and 100 % of a budget).
 *
 * @example
 * ```ts
 * setApiKeyBudget('team-search', 50, 41.2); // remaining 8.8 USD
 * ```
 *
 * @see GatewayTelemetry.setApiKeyBudget
 */
export function setApiKeyBudget(apiKeyName: string, budgetUsd: number, spentUsd: number): void {
  getTelemetry().setApiKeyBudget(apiKeyName, budgetUsd, spentUsd);
}
