import { afterEach, describe, expect, it } from 'vitest';
import { TelemetryConfigurationError } from '../src/index.js';
import { PricingTable, usageFromAnthropic, usageFromOpenAi, type UsageForPricing } from '../src/genai/index.js';
import { CollectingDiagLogger, telemetryPerTest } from './helpers.js';

const newTelemetry = telemetryPerTest();

const PRICES = {
  xai: { 'grok-3-mini': { inputPerMillionTokens: 0.3, outputPerMillionTokens: 0.5 } },
  anthropic: {
    'claude-sonnet-4': {
      inputPerMillionTokens: 3,
      cachedInputPerMillionTokens: 0.3,
      cacheWritePerMillionTokens: 3.75,
      cacheWrite1hPerMillionTokens: 6,
      outputPerMillionTokens: 15,
    },
    'one-write-price': { inputPerMillionTokens: 3, cacheWritePerMillionTokens: 3.75, outputPerMillionTokens: 15 },
  },
  openai: {
    'gpt-4o-audio-preview': {
      inputPerMillionTokens: 2.5,
      audioInputPerMillionTokens: 40,
      outputPerMillionTokens: 10,
      audioOutputPerMillionTokens: 80,
    },
    'no-audio-prices': { inputPerMillionTokens: 2.5, outputPerMillionTokens: 10 },
    'gpt-realtime': {
      inputPerMillionTokens: 4,
      cachedInputPerMillionTokens: 0.4,
      audioInputPerMillionTokens: 32,
      outputPerMillionTokens: 16,
      audioOutputPerMillionTokens: 64,
    },
  },
  deepseek: {
    'deepseek-chat': { inputPerMillionTokens: 0.27, cachedInputPerMillionTokens: 0.07, outputPerMillionTokens: 1.1 },
  },
};

/** USD of `usage` at `provider`/`model`, from a table counting into its own telemetry. */
function costOf(provider: string, model: string, usage: Omit<UsageForPricing, 'provider' | 'model'> | undefined) {
  const { telemetry } = newTelemetry();
  return new PricingTable(PRICES, { telemetry }).cost({ provider, model, ...usage });
}

describe('reasoning tokens reported beside the output total', () => {
  it('adds them to the output when total_tokens is prompt + completion + reasoning (xAI)', () => {
    const usage = usageFromOpenAi({
      prompt_tokens: 10,
      completion_tokens: 50,
      total_tokens: 360,
      completion_tokens_details: { reasoning_tokens: 300 },
    });
    expect(usage).toEqual({ inputTokens: 10, outputTokens: 350, reasoningOutputTokens: 300 });
    expect(costOf('xai', 'grok-3-mini', usage)).toBeCloseTo((10 * 0.3 + 350 * 0.5) / 1e6, 15);
    // The Responses API shape follows the same rule.
    expect(
      usageFromOpenAi({
        input_tokens: 10,
        output_tokens: 50,
        total_tokens: 360,
        output_tokens_details: { reasoning_tokens: 300 },
      }),
    ).toEqual({ inputTokens: 10, outputTokens: 350, reasoningOutputTokens: 300 });
  });

  it('adds them without a usable total only when they outnumber the completion tokens', () => {
    const beside = { prompt_tokens: 10, completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 50 } };
    expect(usageFromOpenAi(beside)?.outputTokens).toBe(55);
    expect(usageFromOpenAi({ ...beside, total_tokens: null })?.outputTokens).toBe(55);
    // A total matching neither sum says nothing: fewer reasoning than completion tokens fit inside it.
    const inside = { prompt_tokens: 10, completion_tokens: 50, completion_tokens_details: { reasoning_tokens: 30 } };
    expect(usageFromOpenAi(inside)?.outputTokens).toBe(50);
    expect(usageFromOpenAi({ ...inside, total_tokens: 1000 })?.outputTokens).toBe(50);
  });

  it("leaves OpenAI's usage (reasoning inside completion_tokens) as reported", () => {
    const openAi = {
      prompt_tokens: 10,
      completion_tokens: 300,
      total_tokens: 310,
      completion_tokens_details: { reasoning_tokens: 300 },
    };
    expect(usageFromOpenAi(openAi)).toEqual({ inputTokens: 10, outputTokens: 300, reasoningOutputTokens: 300 });
    // The total is prompt + completion: it wins even over reasoning the completion cannot hold.
    expect(usageFromOpenAi({ ...openAi, completion_tokens: 5, total_tokens: 15 })?.outputTokens).toBe(5);
    expect(usageFromOpenAi({ ...openAi, completion_tokens_details: { reasoning_tokens: 0 } })?.outputTokens).toBe(300);
  });

  it('does not bill a total above prompt + completion that no reported count explains', () => {
    // Google's totalTokenCount adds tool-use prompt (input) and thought (output) tokens: no one price.
    expect(usageFromOpenAi({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 103 })).toEqual({
      inputTokens: 9,
      outputTokens: 1,
    });
  });
});

describe('one-hour cache writes', () => {
  const oneHour = {
    input_tokens: 50,
    cache_creation_input_tokens: 10_000,
    cache_read_input_tokens: 0,
    output_tokens: 100,
    cache_creation: { ephemeral_5m_input_tokens: 4000, ephemeral_1h_input_tokens: 6000 },
  };

  it('reads cache_creation.ephemeral_1h_input_tokens and prices them at cacheWrite1hPerMillionTokens', () => {
    const usage = usageFromAnthropic(oneHour);
    expect(usage).toEqual({
      inputTokens: 10_050,
      outputTokens: 100,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 10_000,
      cacheCreation1hInputTokens: 6000,
    });
    expect(costOf('anthropic', 'claude-sonnet-4', usage)).toBeCloseTo(
      (50 * 3 + 4000 * 3.75 + 6000 * 6 + 100 * 15) / 1e6,
      15,
    );
    // Without a one-hour price, every write costs the cache-write price, as before.
    expect(costOf('anthropic', 'one-write-price', usage)).toBeCloseTo((50 * 3 + 10_000 * 3.75 + 100 * 15) / 1e6, 15);
  });

  it("takes the split from a stream's message_start, and sums it when the aggregate is missing", () => {
    expect(usageFromAnthropic({ output_tokens: 100 }, oneHour)?.cacheCreation1hInputTokens).toBe(6000);
    const { cache_creation_input_tokens: _aggregate, ...splitOnly } = oneHour;
    expect(usageFromAnthropic(splitOnly)).toMatchObject({
      inputTokens: 10_050,
      cacheCreationInputTokens: 10_000,
      cacheCreation1hInputTokens: 6000,
    });
  });
});

describe('audio tokens', () => {
  const audio = {
    prompt_tokens: 1000,
    completion_tokens: 500,
    total_tokens: 1500,
    prompt_tokens_details: { audio_tokens: 900, cached_tokens: 0 },
    completion_tokens_details: { audio_tokens: 400, reasoning_tokens: 0 },
  };

  it('prices audio at the audio prices, and not also at the text prices', () => {
    const usage = usageFromOpenAi(audio);
    expect(usage).toMatchObject({
      inputTokens: 1000,
      outputTokens: 500,
      audioInputTokens: 900,
      audioOutputTokens: 400,
    });
    expect(costOf('openai', 'gpt-4o-audio-preview', usage)).toBeCloseTo(
      (100 * 2.5 + 900 * 40 + 100 * 10 + 400 * 80) / 1e6,
      15,
    );
  });

  it('prices audio at the text prices when the model has no audio prices', () => {
    expect(costOf('openai', 'no-audio-prices', usageFromOpenAi(audio))).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 15);
  });

  it('prices cached audio at the cache price when the counts leave no room for it outside the cache', () => {
    const usage = usageFromOpenAi({
      prompt_tokens: 1000,
      completion_tokens: 0,
      prompt_tokens_details: { cached_tokens: 800, audio_tokens: 600 },
    });
    // 200 uncached tokens, all audio; 800 cached, 400 of them audio, at the cached price.
    expect(costOf('openai', 'gpt-realtime', usage)).toBeCloseTo((200 * 32 + 800 * 0.4) / 1e6, 15);
  });
});

describe("DeepSeek's prompt_cache_hit_tokens", () => {
  it('is the cache read when prompt_tokens_details.cached_tokens is absent', () => {
    const deepSeek = { prompt_tokens: 10_000, completion_tokens: 100, total_tokens: 10_100 };
    const usage = usageFromOpenAi({ ...deepSeek, prompt_cache_hit_tokens: 9000, prompt_cache_miss_tokens: 1000 });
    expect(usage).toEqual({ inputTokens: 10_000, outputTokens: 100, cacheReadInputTokens: 9000 });
    expect(costOf('deepseek', 'deepseek-chat', usage)).toBeCloseTo((1000 * 0.27 + 9000 * 0.07 + 100 * 1.1) / 1e6, 15);
    const both = { ...deepSeek, prompt_cache_hit_tokens: 9000, prompt_tokens_details: { cached_tokens: 8000 } };
    expect(usageFromOpenAi(both)?.cacheReadInputTokens).toBe(8000);
  });
});

describe('counts no call can have', () => {
  afterEach(() => CollectingDiagLogger.uninstall());

  it.each([1e20, Number.MAX_SAFE_INTEGER + 1, 1e300])('leaves usage of %s tokens unread', (tokens) => {
    expect(usageFromOpenAi({ prompt_tokens: tokens, completion_tokens: 5 })).toBeUndefined();
    expect(usageFromOpenAi({ input_tokens: 5, output_tokens: tokens })).toBeUndefined();
    expect(usageFromAnthropic({ input_tokens: tokens, output_tokens: 5 })).toBeUndefined();
    expect(usageFromAnthropic({ input_tokens: 5, output_tokens: 5, cache_read_input_tokens: tokens })).toBeUndefined();
  });

  it('still reads the largest safe count', () => {
    const most = Number.MAX_SAFE_INTEGER;
    expect(usageFromOpenAi({ prompt_tokens: most, completion_tokens: 0 })).toEqual({
      inputTokens: most,
      outputTokens: 0,
    });
  });

  it('leaves out of range counts unpriced, dropped and counted', async () => {
    new CollectingDiagLogger().install();
    const { telemetry, collect } = newTelemetry();
    const pricing = new PricingTable(PRICES, { telemetry });
    const grok = { provider: 'xai', model: 'grok-3-mini' };
    expect(pricing.cost({ ...grok, inputTokens: 1e20, outputTokens: 5 })).toBeUndefined();
    expect(pricing.cost({ ...grok, inputTokens: 5, outputTokens: -1 })).toBeUndefined();
    expect(pricing.cost({ ...grok, inputTokens: Number.NaN })).toBeUndefined();
    const audio = { provider: 'openai', model: 'gpt-4o-audio-preview' };
    expect(pricing.cost({ ...audio, inputTokens: 10, audioInputTokens: 11 })).toBeUndefined();
    expect(pricing.cost({ ...audio, outputTokens: 10, audioOutputTokens: 11 })).toBeUndefined();
    const claude = { provider: 'anthropic', model: 'claude-sonnet-4' };
    expect(pricing.cost({ ...claude, inputTokens: 10, cacheCreation1hInputTokens: 1 })).toBeUndefined();
    const collected = await collect();
    const dropped = (reason: string) =>
      collected.value('gatewayz_telemetry_dropped', { reason, metric: 'gatewayz_cost_by_provider' });
    expect(dropped('out_of_range')).toBe(5);
    expect(dropped('not_a_number')).toBe(1);
  });
});

describe('ModelPrice', () => {
  it.each(['cacheWrite1hPerMillionTokens', 'audioInputPerMillionTokens', 'audioOutputPerMillionTokens'])(
    'checks %s like every price',
    (field) => {
      expect(() => new PricingTable({ openai: { m: { [field]: -1 } } })).toThrow(TelemetryConfigurationError);
      expect(() => new PricingTable({ openai: { m: { [field]: 0 } } })).not.toThrow();
    },
  );
});

describe("OpenRouter's reported cost", () => {
  const usage = { prompt_tokens: 194, completion_tokens: 2, total_tokens: 196 };

  it('reads usage.cost as reportedCostUsd, and PricingTable.cost() does not use it', () => {
    const read = usageFromOpenAi({ ...usage, cost: 0.00095, cost_details: { upstream_inference_cost: 0.00095 } });
    expect(read).toEqual({ inputTokens: 194, outputTokens: 2, reportedCostUsd: 0.00095 });
    expect(costOf('xai', 'grok-3-mini', read)).toBeCloseTo((194 * 0.3 + 2 * 0.5) / 1e6, 15);
    // The Responses API shape carries it too.
    expect(usageFromOpenAi({ input_tokens: 5, output_tokens: 1, cost: 0 })).toEqual({
      inputTokens: 5,
      outputTokens: 1,
      reportedCostUsd: 0,
    });
  });

  it('adds the upstream cost of a call made with its own provider key (is_byok), which OpenRouter did not charge', () => {
    const byok = { ...usage, is_byok: true, cost: 0.25, cost_details: { upstream_inference_cost: 5 } };
    expect(usageFromOpenAi(byok)?.reportedCostUsd).toBe(5.25);
    // Without the upstream figure the call's cost is not known.
    expect(usageFromOpenAi({ ...byok, cost_details: { upstream_inference_cost: null } })).not.toHaveProperty(
      'reportedCostUsd',
    );
  });

  it('is taken by PricingTable.reportedCost() when plausible; a larger figure is dropped and counted', async () => {
    new CollectingDiagLogger().install();
    const { telemetry, collect } = newTelemetry();
    const pricing = new PricingTable(PRICES, { telemetry });
    const call = { provider: 'openrouter', model: 'any/model', inputTokens: 194, outputTokens: 2 };
    expect(pricing.reportedCost({ ...call, reportedCostUsd: 0.00095 })).toBe(0.00095);
    expect(pricing.reportedCost(call)).toBeUndefined();
    // 1 USD plus 1,000 USD per million tokens: 1.196 USD for 196 tokens.
    expect(pricing.reportedCost({ ...call, reportedCostUsd: 1.196 })).toBe(1.196);
    expect(pricing.reportedCost({ ...call, reportedCostUsd: 1.2 })).toBeUndefined();
    expect(pricing.reportedCost({ ...call, reportedCostUsd: 1e308 })).toBeUndefined();
    expect(pricing.reportedCost({ ...call, reportedCostUsd: Number.NaN })).toBeUndefined();
    const collected = await collect();
    const dropped = (reason: string) =>
      collected.value('gatewayz_telemetry_dropped', { reason, metric: 'gatewayz_cost_by_provider' });
    expect([dropped('out_of_range'), dropped('not_a_number')]).toEqual([2, 1]);
  });

  it('leaves out a cost that is not an amount', () => {
    for (const cost of [-0.1, Number.NaN, '0.5', null, Infinity])
      expect(usageFromOpenAi({ ...usage, cost })).toEqual({ inputTokens: 194, outputTokens: 2 });
  });
});
