import type { ModelCallStatus, TokenType } from '../metrics/metric-definition.js';
import { defineHelpers } from '../metrics/metric-recorder.js';

/**
 * Per-API-key attribution of a `GatewayTelemetry`: requests, tokens and cost by the name of the
 * gateway API key a request came with, and key budgets. Key names are labels; secrets never are.
 */
export const attributionMetrics = defineHelpers({
  /** Count one provider attempt made for a key: `gatewayz_requests_by_api_key_total{api_key_name,status}`. */
  recordApiKeyRequest(apiKeyName: string, status: ModelCallStatus): void {
    const state = this.states.requestsByApiKey;
    const cell = this.cellFor(state, state.store.lookup(apiKeyName, status));
    if (cell !== undefined) cell.value += 1;
  },

  /** Add tokens of one direction to `gatewayz_tokens_by_api_key_total{api_key_name,token_type}`. */
  recordApiKeyTokens(apiKeyName: string, tokenType: TokenType, tokens: number): void {
    const state = this.states.tokensByApiKey;
    if (!this.acceptValue(state, tokens)) return;
    const cell = this.cellFor(state, state.store.lookup(apiKeyName, tokenType));
    if (cell !== undefined) cell.value += tokens;
  },

  /**
   * Add one call's cost, in USD, to both `gatewayz_cost_by_provider_total{provider}` and
   * `gatewayz_cost_by_api_key_total{api_key_name}`: one validation, the same number added to both,
   * so the per-key costs sum to the per-provider costs exactly. Returns whether it was recorded.
   */
  recordAttributedCost(provider: string, apiKeyName: string, usd: number): boolean {
    const byProvider = this.states.costByProvider;
    const byKey = this.states.costByApiKey;
    if (!this.acceptValue(byProvider, usd)) return false;
    // Both cells before either addition: a refused label leaves neither total changed.
    const providerCell = this.cellFor(byProvider, byProvider.store.lookup(provider));
    if (providerCell === undefined) return false;
    const keyCell = this.cellFor(byKey, byKey.store.lookup(apiKeyName));
    if (keyCell === undefined) return false;
    providerCell.value += usd;
    keyCell.value += usd;
    return true;
  },

  /**
   * Add a charge a key's budget took by estimate, in USD, to
   * `gatewayz_api_key_estimated_spend_usd_total{api_key_name}`: an attempt the provider may bill
   * ended without a usage report, so its cost is not in the cost counters. Returns whether it was
   * recorded (a negative or non-finite amount is dropped and counted).
   */
  recordApiKeyEstimatedSpend(apiKeyName: string, usd: number): boolean {
    const state = this.states.apiKeyEstimatedSpend;
    if (!this.acceptValue(state, usd)) return false;
    const cell = this.cellFor(state, state.store.lookup(apiKeyName));
    if (cell === undefined) return false;
    cell.value += usd;
    return true;
  },

  /**
   * Count one provider attempt for a key that ended without a usage report although the provider
   * may bill it: `gatewayz_api_key_attempts_without_usage_total{api_key_name}`.
   */
  recordApiKeyAttemptWithoutUsage(apiKeyName: string): void {
    const state = this.states.apiKeyAttemptsWithoutUsage;
    const cell = this.cellFor(state, state.store.lookup(apiKeyName));
    if (cell !== undefined) cell.value += 1;
  },

  /**
   * Set a key's budget and what is left of it: `gatewayz_api_key_budget_usd{api_key_name}` and
   * `gatewayz_api_key_budget_remaining_usd{api_key_name}` (the budget minus `spentUsd`, never below 0).
   */
  setApiKeyBudget(apiKeyName: string, budgetUsd: number, spentUsd: number): void {
    const budget = this.states.apiKeyBudget;
    const remaining = this.states.apiKeyBudgetRemaining;
    if (!this.acceptValue(budget, budgetUsd) || !this.acceptValue(budget, spentUsd)) return;
    const budgetCell = this.cellFor(budget, budget.store.lookup(apiKeyName));
    if (budgetCell === undefined) return;
    const remainingCell = this.cellFor(remaining, remaining.store.lookup(apiKeyName));
    if (remainingCell === undefined) return;
    budgetCell.value = budgetUsd;
    remainingCell.value = Math.max(0, budgetUsd - spentUsd);
  },
});

/** The attribution helpers of a `GatewayTelemetry`. */
export type AttributionMetrics = typeof attributionMetrics;
