/*
 * Costs, usage readings and budgets a user sees that no other test pinned: usage on the edges of
 * what `PricingTable.cost()` prices or refuses, reasoning tokens equal to the output total, and
 * budget spend the gauges refuse.
 */
import { describe, expect, it } from 'vitest';
import { PricingTable, usageFromOpenAi } from '../src/genai/index.js';
import { telemetryPerTest } from './helpers.js';

const newTelemetry = telemetryPerTest();

describe('PricingTable.cost() on the edges of what it prices', () => {
  it('prices usage whose cache writes are all one-hour ones, and drops nothing', async () => {
    const { telemetry, collect } = newTelemetry();
    const pricing = new PricingTable(
      {
        anthropic: {
          sonnet: { inputPerMillionTokens: 3, cacheWritePerMillionTokens: 3.75, cacheWrite1hPerMillionTokens: 6 },
        },
      },
      { telemetry },
    );
    const cost = pricing.cost({
      provider: 'anthropic',
      model: 'sonnet',
      inputTokens: 2000,
      cacheCreationInputTokens: 1000,
      cacheCreation1hInputTokens: 1000,
    });
    // 1000 uncached input tokens at $3/M, no five-minute writes, 1000 one-hour writes at $6/M.
    expect(cost).toBeCloseTo((1000 * 3) / 1e6 + (1000 * 6) / 1e6, 15);
    expect((await collect()).points('gatewayz_telemetry_dropped')).toEqual([]);
  });

  it('prices a fractional token count (1500.5 input tokens), and drops nothing', async () => {
    const { telemetry, collect } = newTelemetry();
    const pricing = new PricingTable(
      { p: { m: { inputPerMillionTokens: 2, outputPerMillionTokens: 8 } } },
      { telemetry },
    );
    const cost = pricing.cost({ provider: 'p', model: 'm', inputTokens: 1500.5, outputTokens: 10 });
    expect(cost).toBeCloseTo((1500.5 * 2) / 1e6 + (10 * 8) / 1e6, 15);
    expect((await collect()).points('gatewayz_telemetry_dropped')).toEqual([]);
  });

  it('refuses cache reads with no input tokens at all, counted as cache_exceeds_input (no negative cost)', async () => {
    const { telemetry, collect } = newTelemetry();
    const pricing = new PricingTable(
      { p: { m: { inputPerMillionTokens: 3, cachedInputPerMillionTokens: 0.3 } } },
      { telemetry },
    );
    expect(pricing.cost({ provider: 'p', model: 'm', inputTokens: 0, cacheReadInputTokens: 1000 })).toBeUndefined();
    const collected = await collect();
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'cache_exceeds_input',
        metric: 'gatewayz_cost_by_provider',
      }),
    ).toBe(1);
    expect(collected.total('gatewayz_telemetry_dropped')).toBe(1);
  });
});

describe('usageFromOpenAi() with as many reasoning tokens as completion tokens', () => {
  it('reads the reasoning inside completion_tokens (no total_tokens to say otherwise): 100 output tokens', () => {
    // Only reasoning above the output total can be beside it; equal counts fit inside it, as OpenAI counts.
    expect(
      usageFromOpenAi({
        prompt_tokens: 10,
        completion_tokens: 100,
        completion_tokens_details: { reasoning_tokens: 100 },
      }),
    ).toEqual({ inputTokens: 10, outputTokens: 100, reasoningOutputTokens: 100 });
  });
});

describe('setApiKeyBudget() with a spend the gauges refuse', () => {
  it('sets neither gauge for a negative or NaN spend, and counts each drop', async () => {
    const { telemetry, collect } = newTelemetry();
    telemetry.setApiKeyBudget('team-a', 50, -10);
    telemetry.setApiKeyBudget('team-b', 50, Number.NaN);

    const collected = await collect();
    expect(collected.points('gatewayz_api_key_budget_usd')).toEqual([]);
    expect(collected.points('gatewayz_api_key_budget_remaining_usd')).toEqual([]);
    const metric = 'gatewayz_api_key_budget_usd';
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'out_of_range', metric })).toBe(1);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_a_number', metric })).toBe(1);
  });
});
