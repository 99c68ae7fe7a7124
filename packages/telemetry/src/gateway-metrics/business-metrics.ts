import type { TokenType } from '../metrics/metric-definition.js';
import { defineHelpers } from '../metrics/metric-recorder.js';

/**
 * The tokens summed behind one `gatewayz_token_efficiency` series, kept on the series (its
 * `helperState`): models folded into `other` share one sum, and a removed series takes its sum
 * away, so recording the model again starts afresh.
 */
interface TokenTotals {
  readonly kind: 'tokenTotals';
  input: number;
  output: number;
}

/** Business metrics of a `GatewayTelemetry`: cost, tokens, credits, trials, API keys and subscriptions. */
export const businessMetrics = defineHelpers({
  /** Add USD to `gatewayz_cost_by_provider_total`. */
  incrementCostByProvider(provider: string, usd: number): void {
    this.addCounter1(this.states.costByProvider, provider, usd);
  },

  /** Add tokens to `tokens_used_total{provider,model,token_type}`. */
  recordTokensUsed(provider: string, model: string, tokenType: TokenType, tokens: number): void {
    const state = this.states.tokensUsed;
    if (!this.acceptValue(state, tokens)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model, tokenType));
    if (cell !== undefined) cell.value += tokens;
  },

  /**
   * Record one call's token usage: adds both directions to `tokens_used_total` and updates
   * `gatewayz_token_efficiency{model}` to the model's output/input ratio over all calls so far
   * (since its series was last removed, if it was).
   */
  recordTokenUsage(provider: string, model: string, inputTokens: number, outputTokens: number): void {
    const tokens = this.states.tokensUsed;
    if (!this.acceptValue(tokens, inputTokens) || !this.acceptValue(tokens, outputTokens)) return;
    const inputCell = this.cellFor(tokens, tokens.store.lookup(provider, model, 'input'));
    const outputCell = this.cellFor(tokens, tokens.store.lookup(provider, model, 'output'));
    if (inputCell === undefined || outputCell === undefined) return;
    inputCell.value += inputTokens;
    outputCell.value += outputTokens;
    const efficiency = this.states.tokenEfficiency;
    const efficiencyCell = this.cellFor(efficiency, efficiency.store.lookup(model));
    if (efficiencyCell === undefined) return;
    let totals = efficiencyCell.helperState as TokenTotals | undefined;
    if (totals?.kind !== 'tokenTotals') {
      totals = { kind: 'tokenTotals', input: 0, output: 0 };
      efficiencyCell.helperState = totals;
    }
    totals.input += inputTokens;
    totals.output += outputTokens;
    if (totals.input > 0) efficiencyCell.value = totals.output / totals.input;
  },

  /** Add credits to `credits_used_total{provider,model}`. */
  recordCreditsUsed(provider: string, model: string, credits: number): void {
    const state = this.states.creditsUsed;
    if (!this.acceptValue(state, credits)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model));
    if (cell !== undefined) cell.value += credits;
  },

  /** Set `trial_active`. */
  setTrialActiveCount(count: number): void {
    this.setGauge0(this.states.trialActive, count);
  },

  /** Set `active_api_keys`. */
  setActiveApiKeys(count: number): void {
    this.setGauge0(this.states.activeApiKeys, count);
  },

  /** Set `subscription_count`. */
  setSubscriptionCount(count: number): void {
    this.setGauge0(this.states.subscriptionCount, count);
  },
});

/** The business helpers of a `GatewayTelemetry`. */
export type BusinessMetrics = typeof businessMetrics;
