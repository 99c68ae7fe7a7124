import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';
import type { DropReason } from '../metrics/recorder-types.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import { wholeNumberProblem } from '../metrics/value-problem.js';
import { requireTelemetryOption } from '../option-checks.js';

/**
 * Prices of one model at one provider, in USD. A price left out counts as 0, except those of a kind
 * of token, which default to the price the token would otherwise be billed at: the cache prices and
 * the audio input price to `inputPerMillionTokens` (a provider without a cache discount), the
 * one-hour cache-write price to `cacheWritePerMillionTokens` (a provider with one write price), the
 * audio output price to `outputPerMillionTokens`.
 *
 * @example
 * ```ts
 * const claudeSonnet: ModelPrice = {
 *   inputPerMillionTokens: 3, cachedInputPerMillionTokens: 0.3, cacheWritePerMillionTokens: 3.75,
 *   cacheWrite1hPerMillionTokens: 6, outputPerMillionTokens: 15,
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
  /**
   * USD per million input tokens written to the prompt cache for one hour (Anthropic's `ttl: "1h"`,
   * 2× the input price where a five-minute write is 1.25×); default `cacheWritePerMillionTokens`.
   */
  cacheWrite1hPerMillionTokens?: number;
  /** USD per million audio input tokens not read from or written to the prompt cache; default `inputPerMillionTokens`. */
  audioInputPerMillionTokens?: number;
  /** USD per million output (completion) tokens. */
  outputPerMillionTokens?: number;
  /** USD per million audio output tokens; default `outputPerMillionTokens`. */
  audioOutputPerMillionTokens?: number;
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
 * `usageFromAnthropic()` plus provider and model). Counts left out count as 0. Usage no price would
 * be right for makes `cost()` return `undefined`, and is dropped and counted in
 * `gatewayz_telemetry_dropped_total{reason,metric="gatewayz_cost_by_provider"}`: a count that is not
 * a number from 0 to `Number.MAX_SAFE_INTEGER` (`not_a_number`, `not_finite`, `out_of_range`), cache
 * counts above `inputTokens` (`cache_exceeds_input`: a provider reporting more cached than prompt
 * tokens), or a subset above its total (`out_of_range`: one-hour cache writes above
 * `cacheCreationInputTokens`, audio tokens above `inputTokens` or `outputTokens`).
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
  /** Input (prompt) tokens, cached and audio ones included. */
  inputTokens?: number;
  /** Output (completion) tokens, reasoning and audio ones included. */
  outputTokens?: number;
  /** Of `inputTokens`, those read from the prompt cache: priced with `cachedInputPerMillionTokens`. */
  cacheReadInputTokens?: number;
  /** Of `inputTokens`, those written to the prompt cache: priced with `cacheWritePerMillionTokens`. */
  cacheCreationInputTokens?: number;
  /** Of `cacheCreationInputTokens`, those written for one hour: priced with `cacheWrite1hPerMillionTokens`. */
  cacheCreation1hInputTokens?: number;
  /**
   * Of `inputTokens`, those of audio: priced with `audioInputPerMillionTokens` when not read from or
   * written to the cache (those are priced at the cache prices, see `PricingTable.cost()`).
   */
  audioInputTokens?: number;
  /** Of `outputTokens`, those spent on reasoning; billed as output, accepted so a `GenAiUsage` can be passed as is. */
  reasoningOutputTokens?: number;
  /** Of `outputTokens`, those of audio: priced with `audioOutputPerMillionTokens`. */
  audioOutputTokens?: number;
  /** Generated images, priced with `perImage`. */
  images?: number;
  /** The cost the provider reported (`GenAiUsage.reportedCostUsd`): read by `reportedCost()`, not by `cost()`. */
  reportedCostUsd?: number;
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
        const check = (name: keyof ModelPrice, fallback = 0): number =>
          price[name] === undefined ? fallback : checkPrice(provider, model, name, price[name]);
        const input = check('inputPerMillionTokens');
        const output = check('outputPerMillionTokens');
        const cacheWrite = check('cacheWritePerMillionTokens', input);
        const checked: Required<ModelPrice> = {
          inputPerMillionTokens: input,
          cachedInputPerMillionTokens: check('cachedInputPerMillionTokens', input),
          cacheWritePerMillionTokens: cacheWrite,
          cacheWrite1hPerMillionTokens: check('cacheWrite1hPerMillionTokens', cacheWrite),
          audioInputPerMillionTokens: check('audioInputPerMillionTokens', input),
          outputPerMillionTokens: output,
          audioOutputPerMillionTokens: check('audioOutputPerMillionTokens', output),
          perImage: check('perImage'),
          perRequest: check('perRequest'),
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
   * USD cost of one call, or `undefined` when the table has no price for it or the usage is invalid
   * (dropped and counted, see `UsageForPricing`). Input tokens read from or written to the prompt
   * cache are priced at the cache prices (one-hour writes at `cacheWrite1hPerMillionTokens`), audio
   * input tokens outside them at the audio input price, the rest of the input at the input price;
   * audio output tokens at the audio output price, the rest of the output (reasoning included) at
   * the output price. Audio tokens are placed outside the cache unless the counts leave no room
   * (audio and cache counts above `inputTokens`): cached audio is then priced at the cache prices,
   * as OpenAI prices its cached audio input at the cached text price.
   */
  cost(usage: UsageForPricing): number | undefined {
    const price = this.prices.get(usage.provider)?.get(usage.model);
    if (price === undefined) return undefined;
    const input = usage.inputTokens ?? 0;
    const cacheRead = usage.cacheReadInputTokens ?? 0;
    const cacheWrite = usage.cacheCreationInputTokens ?? 0;
    const cacheWrite1h = usage.cacheCreation1hInputTokens ?? 0;
    const audioInput = usage.audioInputTokens ?? 0;
    const output = usage.outputTokens ?? 0;
    const audioOutput = usage.audioOutputTokens ?? 0;
    const images = usage.images ?? 0;
    for (const name of COUNTS) {
      const value = usage[name] ?? 0;
      const problem = amountProblem(value, Number.MAX_SAFE_INTEGER);
      if (problem !== undefined) {
        return this.refuse(
          usage,
          problem,
          `${name} ${String(value)}, not a number from 0 to ${Number.MAX_SAFE_INTEGER}`,
        );
      }
    }
    const uncached = input - cacheRead - cacheWrite;
    if (uncached < 0) {
      // No price would be right: the input price of what is not cached would be negative.
      return this.refuse(
        usage,
        'cache_exceeds_input',
        `${cacheRead} cache-read and ${cacheWrite} cache-write input tokens, more than its ${input} input tokens (which include them)`,
      );
    }
    const aboveTotal =
      cacheWrite1h > cacheWrite
        ? `${cacheWrite1h} one-hour cache-write input tokens, more than its ${cacheWrite} cache-write ones`
        : audioInput > input
          ? `${audioInput} audio input tokens, more than its ${input} input tokens`
          : audioOutput > output
            ? `${audioOutput} audio output tokens, more than its ${output} output tokens`
            : undefined;
    if (aboveTotal !== undefined) return this.refuse(usage, 'out_of_range', `${aboveTotal} (which include them)`);
    const uncachedAudio = Math.min(audioInput, uncached);
    // Term by term, each new kind of token 0 unless reported, so usage without them costs what it did.
    return (
      ((uncached - uncachedAudio) * price.inputPerMillionTokens) / 1_000_000 +
      (uncachedAudio * price.audioInputPerMillionTokens) / 1_000_000 +
      (cacheRead * price.cachedInputPerMillionTokens) / 1_000_000 +
      ((cacheWrite - cacheWrite1h) * price.cacheWritePerMillionTokens) / 1_000_000 +
      (cacheWrite1h * price.cacheWrite1hPerMillionTokens) / 1_000_000 +
      ((output - audioOutput) * price.outputPerMillionTokens) / 1_000_000 +
      (audioOutput * price.audioOutputPerMillionTokens) / 1_000_000 +
      images * price.perImage +
      price.perRequest
    );
  }

  /**
   * The cost the provider reported with the usage (`reportedCostUsd`: OpenRouter's `usage.cost`),
   * when there is one and it is plausible, else `undefined`, so a caller that trusts the provider's
   * figure writes `pricing.reportedCost(usage) ?? pricing.cost(usage)`. Plausible: a number of USD
   * from 0 to 1 USD (per-request fees, a few images) plus 1,000 USD per million of its input and
   * output tokens (above any price providers list). Any other figure (a broken provider's
   * `cost: 1e308` would fill the cost counters and exhaust every budget) is dropped and counted in
   * `gatewayz_telemetry_dropped_total{metric="gatewayz_cost_by_provider"}`. The table's prices play no part.
   */
  reportedCost(usage: UsageForPricing): number | undefined {
    const reported = usage.reportedCostUsd;
    if (reported === undefined) return undefined;
    const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    const most =
      REPORTED_COST_BASE_USD + (Number.isFinite(tokens) ? (tokens * REPORTED_COST_PER_MILLION_TOKENS) / 1_000_000 : 0);
    const problem = amountProblem(reported, most);
    if (problem === undefined) return reported;
    return this.refuse(
      usage,
      problem,
      `a cost of ${String(reported)} USD, not a number from 0 to the ${most} USD its ${tokens} tokens can cost`,
      'the cost is not taken from it',
    );
  }

  /** Drop and count usage `cost()` cannot price (`reports` says what is wrong with it); undefined. */
  private refuse(
    usage: UsageForPricing,
    reason: DropReason,
    reports: string,
    outcome = 'its cost is not recorded',
  ): undefined {
    const telemetry = this.telemetry ?? getTelemetry();
    telemetry.drop(
      telemetry.states.costByProvider,
      reason,
      `Usage of ${usage.provider}/${usage.model} reports ${reports}; ${outcome}`,
    );
    return undefined;
  }
}

/** The most a reported cost may be per call, beside its tokens' share (see `PricingTable.reportedCost`). */
const REPORTED_COST_BASE_USD = 1;
/** The most a reported cost may be per million input and output tokens: above any listed price. */
const REPORTED_COST_PER_MILLION_TOKENS = 1_000;

/** The counts of a `UsageForPricing` that `cost()` prices (reasoning is priced as part of the output). */
const COUNTS = [
  'inputTokens',
  'cacheReadInputTokens',
  'cacheCreationInputTokens',
  'cacheCreation1hInputTokens',
  'audioInputTokens',
  'outputTokens',
  'audioOutputTokens',
  'images',
] as const satisfies readonly (keyof UsageForPricing)[];

/**
 * Why `value` is not a number from 0 to `max`, fractions included (a caller may price part of a
 * token; a cost is in fractions of a USD), or undefined.
 */
function amountProblem(value: unknown, max: number): DropReason | undefined {
  const problem = wholeNumberProblem(value, 0, max);
  return problem === 'not_an_integer' ? undefined : problem;
}

function checkPrice(provider: string, model: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TelemetryConfigurationError(
      `pricing.${provider}.${model}.${field}`,
      `expected a non-negative number of USD, got ${String(value)}`,
    );
  }
  return value;
}
