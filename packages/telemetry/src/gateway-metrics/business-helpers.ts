import type { TokenType } from '../metrics/metric-definition.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';

// The business helpers on the shared instance (see getTelemetry()), for applications that use one.

/**
 * Add the cost of provider calls, in USD, to `gatewayz_cost_by_provider_total{provider}` on the
 * shared instance. Negative or non-finite amounts are dropped and counted in
 * `gatewayz_telemetry_dropped_total`; `PricingTable` turns token usage into USD.
 *
 * @example
 * ```ts
 * incrementCostByProvider('openai', 0.00036); // USD
 * ```
 *
 * @see GatewayTelemetry.incrementCostByProvider
 */
export function incrementCostByProvider(provider: string, usd: number): void {
  getTelemetry().incrementCostByProvider(provider, usd);
}

/**
 * Add tokens of one direction (`input` or `output`) to `tokens_used_total{provider,model,token_type}`
 * on the shared instance. Another token type, or a negative or non-finite count, is dropped and
 * counted in `gatewayz_telemetry_dropped_total`. Unlike `recordTokenUsage()`, it leaves
 * `gatewayz_token_efficiency` alone.
 *
 * @example
 * ```ts
 * recordTokensUsed('openai', 'gpt-4o-mini', 'output', 128);
 * ```
 *
 * @see GatewayTelemetry.recordTokensUsed
 */
export function recordTokensUsed(provider: string, model: string, tokenType: TokenType, tokens: number): void {
  getTelemetry().recordTokensUsed(provider, model, tokenType, tokens);
}

/**
 * Record one call's token usage on the shared instance: adds both directions to `tokens_used_total`
 * and sets `gatewayz_token_efficiency{model}` to the model's output/input ratio over all calls so
 * far (across providers). If either count is negative or non-finite, nothing is recorded and the
 * drop is counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordTokenUsage('anthropic', 'claude-3-5-haiku-latest', 1024, 256); // efficiency 0.25 after this first call
 * ```
 *
 * @see GatewayTelemetry.recordTokenUsage
 */
export function recordTokenUsage(provider: string, model: string, inputTokens: number, outputTokens: number): void {
  getTelemetry().recordTokenUsage(provider, model, inputTokens, outputTokens);
}

/**
 * Add the credits charged to a user for a call to `credits_used_total{provider,model}` on the shared
 * instance. Negative or non-finite amounts are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * recordCreditsUsed('openai', 'gpt-4o-mini', 0.25);
 * ```
 *
 * @see GatewayTelemetry.recordCreditsUsed
 */
export function recordCreditsUsed(provider: string, model: string, credits: number): void {
  getTelemetry().recordCreditsUsed(provider, model, credits);
}

/**
 * Set the `trial_active` gauge of the shared instance to the number of active trials. Negative or
 * non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setTrialActiveCount(42);
 * ```
 *
 * @see GatewayTelemetry.setTrialActiveCount
 */
export function setTrialActiveCount(count: number): void {
  getTelemetry().setTrialActiveCount(count);
}

/**
 * Set the `active_api_keys` gauge of the shared instance to the number of active API keys. Negative
 * or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setActiveApiKeys(1318);
 * ```
 *
 * @see GatewayTelemetry.setActiveApiKeys
 */
export function setActiveApiKeys(count: number): void {
  getTelemetry().setActiveApiKeys(count);
}

/**
 * Set the `subscription_count` gauge of the shared instance to the number of active subscriptions.
 * Negative or non-finite values are dropped and counted in `gatewayz_telemetry_dropped_total`.
 *
 * @example
 * ```ts
 * setSubscriptionCount(270);
 * ```
 *
 * @see GatewayTelemetry.setSubscriptionCount
 */
export function setSubscriptionCount(count: number): void {
  getTelemetry().setSubscriptionCount(count);
}
