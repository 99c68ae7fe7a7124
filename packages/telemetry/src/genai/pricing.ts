import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import { requireTelemetryOption } from '../option-checks.js';

/**
 * Prices of one model at one provider, in USD. A price left out counts as 0, except the two
 * cache prices, which default to `inputPerMillionTokens` (a provider without a cache discount).
 *
 * @example
 * ```ts
 * const claudeSonnet: ModelPrice = {
 *   inputPerMillionTokens: 3, cachedInputPerMillionTokens: 0.3, cacheWritePerMillionTokens: 3.75, outputPerMillionTokens: 15,
 * };
 * ```
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens not read from or written to the prompt cache. */
  inputPerMillionTokens?: number;
  /** USD per million input tokens read from the provider's prompt cache; default `inputPerMillionTokens`. */
  cachedInputPerMillionTokens?: number;
  /** USD per million input tokens written to the provider's prompt cache; default `inputPerMillionTokens`. */
  cacheWritePerMillionTokens?: number;
  /** USD per million output (completion) tokens. */
  outputPerMillionTokens?: number;
  /** USD per generated image. */
  perImage?: number;
  /** USD per request, on top of token prices. */
  perRequest?: number;
}

/**
 * Prices by provider, then by model.
 *
 * @example
 * ```ts
 * const prices: PricingTableInput = {
 *   openai: { 'gpt-4o-mini': { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 } },
 *   anthropic: { 'claude-3-5-sonnet-latest': { inputPerMillionTokens: 3, outputPerMillionTokens: 15 } },
 * };
 * ```
 */
export type PricingTableInput = Readonly<Record<string, Readonly<Record<string, ModelPrice>>>>;

/**
 * Usage of one call, as `PricingTable.cost()` prices it (a `GenAiUsage` from `usageFromOpenAi()` or
 * `usageFromAnthropic()` plus provider and model). Counts left out count as 0; a negative or
 * non-finite count, or cache counts above `inputTokens`, make `cost()` return `undefined`. Cache
 * counts above `inputTokens` (a provider reporting more cached than prompt tokens) are also counted
 * in `gatewayz_telemetry_dropped_total{reason="cache_exceeds_input",metric="gatewayz_cost_by_provider"}`.
 *
 * @example
 * ```ts
 * const usage: UsageForPricing = { provider: 'openai', model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 300 };
 * pricing.cost(usage); // ≈ 0.00036 USD at $0.15 / $0.60 per million tokens
 * ```
 */
export interface UsageForPricing {
  /** Provider key as in the pricing table (exact, case-sensitive match). */
  provider: string;
  /** Model key as in the pricing table (exact, case-sensitive match). */
  model: string;
  /** Input (prompt) tokens, cached ones included. */
  inputTokens?: number;
  /** Output (completion) tokens, reasoning ones included (priced as output). */
  outputTokens?: number;
  /** Of `inputTokens`, those read from the prompt cache: priced with `cachedInputPerMillionTokens`. */
  cacheReadInputTokens?: number;
  /** Of `inputTokens`, those written to the prompt cache: priced with `cacheWritePerMillionTokens`. */
  cacheCreationInputTokens?: number;
  /** Of `outputTokens`, those spent on reasoning; billed as output, accepted so a `GenAiUsage` can be passed as is. */
  reasoningOutputTokens?: number;
  /** Generated images, priced with `perImage`. */
  images?: number;
}

/**
 * Options of `new PricingTable()`.
 *
 * @example
 * ```ts
 * const pricing = new PricingTable(prices, { telemetry: new GatewayTelemetry({ meterProvider }) });
 * ```
 */
export interface PricingTableOptions {
  /** Where usage that cannot be priced is counted (`gatewayz_telemetry_dropped_total`); default the shared instance. */
  telemetry?: GatewayTelemetry;
}

/**
 * Turns token usage into USD from prices the application supplies. Prices are validated when the
 * table is built; `cost()` returns `undefined` for a model without a price so the caller can decide.
 *
 * @example
 * ```ts
 * const pricing = new PricingTable({ openai: { 'gpt-4o-mini': { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 } } });
 * const usd = pricing.cost({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 300 });
 * if (usd !== undefined) incrementCostByProvider('openai', usd);
 * ```
 */
export class PricingTable {
  private readonly prices = new Map<string, Map<string, Required<ModelPrice>>>();
  private readonly telemetry: GatewayTelemetry | undefined;

  /**
   * Validate and index `table`. Throws a `TelemetryConfigurationError` (option
   * `pricing.<provider>.<model>.<field>`) for a negative or non-finite price, or (option
   * `telemetry`) for a `telemetry` that is not a `GatewayTelemetry`.
   */
  constructor(table: PricingTableInput, options: PricingTableOptions = {}) {
    requireOptionsObject(table, 'pricing', 'an object of providers, each an object of model prices');
    requireOptionsObject(options, 'options', 'an object such as { telemetry }');
    requireTelemetryOption(options.telemetry, 'telemetry');
    this.telemetry = options.telemetry;
    for (const [provider, models] of Object.entries(table)) {
      requireOptionsObject(models, `pricing.${provider}`, 'an object of model prices keyed by model name');
      const byModel = new Map<string, Required<ModelPrice>>();
      for (const [model, price] of Object.entries(models)) {
        requireOptionsObject(
          price,
          `pricing.${provider}.${model}`,
          'a price such as { inputPerMillionTokens, outputPerMillionTokens }',
        );
        const input = checkPrice(provider, model, 'inputPerMillionTokens', price.inputPerMillionTokens);
        const checked: Required<ModelPrice> = {
          inputPerMillionTokens: input,
          cachedInputPerMillionTokens:
            price.cachedInputPerMillionTokens === undefined
              ? input
              : checkPrice(provider, model, 'cachedInputPerMillionTokens', price.cachedInputPerMillionTokens),
          cacheWritePerMillionTokens:
            price.cacheWritePerMillionTokens === undefined
              ? input
              : checkPrice(provider, model, 'cacheWritePerMillionTokens', price.cacheWritePerMillionTokens),
          outputPerMillionTokens: checkPrice(provider, model, 'outputPerMillionTokens', price.outputPerMillionTokens),
          perImage: checkPrice(provider, model, 'perImage', price.perImage),
          perRequest: checkPrice(provider, model, 'perRequest', price.perRequest),
        };
        byModel.set(model, checked);
      }
      this.prices.set(provider, byModel);
    }
  }

  /** Whether a price exists for the model at the provider. */
  has(provider: string, model: string): boolean {
    return this.prices.get(provider)?.has(model) ?? false;
  }

  /**
   * USD cost of one call, or `undefined` when the table has no price for it or the usage is invalid.
   * Input tokens read from or written to the prompt cache are priced at the cache prices, the rest
   * of the input at the input price. Cache counts above `inputTokens` are bad usage from the
   * provider: not priced, and dropped and counted (see `UsageForPricing`).
   */
  cost(usage: UsageForPricing): number | undefined {
    const price = this.prices.get(usage.provider)?.get(usage.model);
    if (price === undefined) return undefined;
    const input = usage.inputTokens ?? 0;
    const cacheRead = usage.cacheReadInputTokens ?? 0;
    const cacheWrite = usage.cacheCreationInputTokens ?? 0;
    const output = usage.outputTokens ?? 0;
    const images = usage.images ?? 0;
    if (![input, cacheRead, cacheWrite, output, images].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
    const uncached = input - cacheRead - cacheWrite;
    if (uncached < 0) {
      // No price would be right: the input price of what is not cached would be negative.
      const telemetry = this.telemetry ?? getTelemetry();
      telemetry.drop(
        telemetry.states.costByProvider,
        'cache_exceeds_input',
        `Usage of ${usage.provider}/${usage.model} reports ${cacheRead} cache-read and ${cacheWrite} cache-write input tokens, more than its ${input} input tokens (which include them); its cost is not recorded`,
      );
      return undefined;
    }
    return (
      (uncached * price.inputPerMillionTokens) / 1_000_000 +
      (cacheRead * price.cachedInputPerMillionTokens) / 1_000_000 +
      (cacheWrite * price.cacheWritePerMillionTokens) / 1_000_000 +
      (output * price.outputPerMillionTokens) / 1_000_000 +
      images * price.perImage +
      price.perRequest
    );
  }
}

function checkPrice(provider: string, model: string, field: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TelemetryConfigurationError(
      `pricing.${provider}.${model}.${field}`,
      `expected a non-negative number of USD, got ${String(value)}`,
    );
  }
  return value;
}
