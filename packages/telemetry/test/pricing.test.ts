import { afterEach, describe, expect, it } from 'vitest';
import { TelemetryConfigurationError, TelemetryInputError } from '../src/index.js';
import { PricingTable, usageFromOpenAi, type ModelPrice } from '../src/genai/index.js';
import { CollectingDiagLogger, telemetryPerTest } from './helpers.js';

const newTelemetry = telemetryPerTest();

const table = new PricingTable({
  openai: {
    'gpt-4o-mini': { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 },
    'gpt-image-1': { perImage: 0.04, perRequest: 0.001 },
    'input-only': { inputPerMillionTokens: 2 },
  },
  anthropic: {
    'claude-3-5-sonnet': { inputPerMillionTokens: 3, outputPerMillionTokens: 15, perRequest: 0.0005 },
  },
});

describe('PricingTable', () => {
  it('turns token usage into USD from per-million prices', () => {
    // 1200 * 0.15 / 1e6 + 300 * 0.6 / 1e6 = 0.00018 + 0.00018
    expect(table.cost({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 300 })).toBeCloseTo(
      0.00036,
      15,
    );
    expect(
      table.cost({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 1_000_000, outputTokens: 1_000_000 }),
    ).toBeCloseTo(0.75, 12);
    expect(
      table.cost({ provider: 'anthropic', model: 'claude-3-5-sonnet', inputTokens: 2000, outputTokens: 500 }),
    ).toBeCloseTo(0.006 + 0.0075 + 0.0005, 15);
  });

  it('adds per-image and per-request prices', () => {
    expect(table.cost({ provider: 'openai', model: 'gpt-image-1', images: 2 })).toBeCloseTo(0.081, 15);
    expect(table.cost({ provider: 'openai', model: 'gpt-image-1' })).toBe(0.001);
  });

  it('treats missing usage and missing prices as zero', () => {
    expect(table.cost({ provider: 'openai', model: 'gpt-4o-mini' })).toBe(0);
    expect(table.cost({ provider: 'openai', model: 'input-only', inputTokens: 500_000, outputTokens: 1_000_000 })).toBe(
      1,
    );
  });

  it('returns undefined for an unknown model or provider', () => {
    expect(table.cost({ provider: 'openai', model: 'gpt-5-unknown', inputTokens: 10 })).toBeUndefined();
    expect(table.cost({ provider: 'groq', model: 'gpt-4o-mini', inputTokens: 10 })).toBeUndefined();
    expect(table.has('openai', 'gpt-4o-mini')).toBe(true);
    expect(table.has('openai', 'gpt-5-unknown')).toBe(false);
    expect(table.has('groq', 'gpt-4o-mini')).toBe(false);
  });

  it.each([-1, Number.NaN, Infinity])('returns undefined for invalid usage (%s tokens)', (tokens) => {
    expect(table.cost({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: tokens })).toBeUndefined();
    expect(table.cost({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: tokens })).toBeUndefined();
    expect(table.cost({ provider: 'openai', model: 'gpt-image-1', images: tokens })).toBeUndefined();
  });

  describe('cache counts above the input', () => {
    const prices = { openai: { 'gpt-4o': { inputPerMillionTokens: 2.5, cachedInputPerMillionTokens: 1.25 } } };

    afterEach(() => CollectingDiagLogger.uninstall());

    it('leaves the cost unpriced and drops and counts it, with one warning', async () => {
      const logger = new CollectingDiagLogger().install();
      const { telemetry, collect } = newTelemetry();
      const pricing = new PricingTable(prices, { telemetry });
      // A provider reporting more cached prompt tokens than prompt tokens.
      const usage = usageFromOpenAi({
        prompt_tokens: 100,
        completion_tokens: 20,
        prompt_tokens_details: { cached_tokens: 150 },
      });
      expect(pricing.cost({ provider: 'openai', model: 'gpt-4o', ...usage })).toBeUndefined();
      expect(
        pricing.cost({ provider: 'openai', model: 'gpt-4o', inputTokens: 10, cacheCreationInputTokens: 11 }),
      ).toBeUndefined();
      expect(
        pricing.cost({
          provider: 'openai',
          model: 'gpt-4o',
          inputTokens: 10,
          cacheReadInputTokens: 6,
          cacheCreationInputTokens: 5,
        }),
      ).toBeUndefined();
      const dropped = { reason: 'cache_exceeds_input', metric: 'gatewayz_cost_by_provider' };
      expect((await collect()).value('gatewayz_telemetry_dropped', dropped)).toBe(3);
      expect(logger.ownWarnings).toHaveLength(1);
      expect(logger.ownWarnings[0]).toContain('openai/gpt-4o reports 150 cache-read and 0 cache-write input tokens');

      // Usage within the input is priced and counts nothing; an unpriced model is not bad usage.
      expect(
        pricing.cost({ provider: 'openai', model: 'gpt-4o', inputTokens: 150, cacheReadInputTokens: 150 }),
      ).toBeCloseTo((150 * 1.25) / 1e6, 15);
      expect(
        pricing.cost({ provider: 'openai', model: 'other', inputTokens: 1, cacheReadInputTokens: 2 }),
      ).toBeUndefined();
      expect((await collect()).value('gatewayz_telemetry_dropped', dropped)).toBe(3);
    });

    it('throws a TelemetryInputError instead with onInvalidInput: "throw"', () => {
      const { telemetry } = newTelemetry({ onInvalidInput: 'throw' });
      const pricing = new PricingTable(prices, { telemetry });
      expect(() =>
        pricing.cost({ provider: 'openai', model: 'gpt-4o', inputTokens: 1, cacheReadInputTokens: 2 }),
      ).toThrow(TelemetryInputError);
    });

    it('rejects a telemetry option that is not a GatewayTelemetry', () => {
      expect(() => new PricingTable(prices, { telemetry: {} as never })).toThrow(TelemetryConfigurationError);
      expect(() => new PricingTable(prices, null as never)).toThrow(TelemetryConfigurationError);
    });
  });

  it('accepts an empty table and zero prices', () => {
    expect(new PricingTable({}).cost({ provider: 'openai', model: 'x', inputTokens: 1 })).toBeUndefined();
    const free = new PricingTable({ local: { llama: { inputPerMillionTokens: 0, outputPerMillionTokens: 0 } } });
    expect(free.cost({ provider: 'local', model: 'llama', inputTokens: 1e9, outputTokens: 1e9 })).toBe(0);
  });

  it.each<[keyof ModelPrice, unknown]>([
    ['inputPerMillionTokens', -0.15],
    ['outputPerMillionTokens', -1],
    ['perImage', Number.NaN],
    ['perRequest', Infinity],
    ['inputPerMillionTokens', '0.15'],
  ])('throws a TelemetryConfigurationError for %s = %s', (field, value) => {
    let thrown: unknown;
    try {
      new PricingTable({ openai: { 'gpt-4o-mini': { [field]: value as number } } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
    expect((thrown as TelemetryConfigurationError).option).toBe(`pricing.openai.gpt-4o-mini.${field}`);
    expect((thrown as TelemetryConfigurationError).message).toContain('non-negative');
  });
});
