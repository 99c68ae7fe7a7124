import { describe, expect, it } from 'vitest';
import {
  recordApiKeyAttemptWithoutUsage,
  recordApiKeyEstimatedSpend,
  recordApiKeyRequest,
  recordAttributedCost,
  setApiKeyBudget,
  setTelemetry,
  type GatewayTelemetry,
} from '../src/index.js';
import { telemetryPerTest } from './helpers.js';

const setup = telemetryPerTest();

function sumOf(points: Array<{ value: unknown }>): number {
  return points.reduce((total, point) => total + (point.value as number), 0);
}

describe('per-API-key attribution', () => {
  it('counts attempts by key name and status, refusing statuses outside the inference statuses', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordApiKeyRequest('team-a', 'success');
    telemetry.recordApiKeyRequest('team-a', 'success');
    telemetry.recordApiKeyRequest('team-a', 'rate_limited');
    telemetry.recordApiKeyRequest('team-b', 'error');
    telemetry.recordApiKeyRequest('team-b', 'exploded' as never);

    const collected = await collect();
    expect(collected.value('gatewayz_requests_by_api_key', { api_key_name: 'team-a', status: 'success' })).toBe(2);
    expect(collected.value('gatewayz_requests_by_api_key', { api_key_name: 'team-a', status: 'rate_limited' })).toBe(1);
    expect(collected.value('gatewayz_requests_by_api_key', { api_key_name: 'team-b', status: 'error' })).toBe(1);
    expect(collected.points('gatewayz_requests_by_api_key')).toHaveLength(3);
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'unknown_label_value',
        metric: 'gatewayz_requests_by_api_key',
      }),
    ).toBe(1);
  });

  it('adds the same cost to the provider and the key, so the two totals are equal to the last bit', async () => {
    const { telemetry, collect } = setup();
    // Dyadic amounts add without rounding in any order, so the per-key and per-provider groupings
    // of the same additions must give bit-identical sums; a lost or doubled addition shows at once.
    const costs = [0.5, 0.25, 2 ** -20, 3 * 2 ** -30, 1.125, 7 * 2 ** -12];
    for (const [index, usd] of costs.entries()) {
      expect(telemetry.recordAttributedCost(index % 2 === 0 ? 'openai' : 'anthropic', `key-${index % 3}`, usd)).toBe(
        true,
      );
    }
    expect(telemetry.recordAttributedCost('openai', 'key-0', -1)).toBe(false);
    expect(telemetry.recordAttributedCost('openai', 'key-0', Number.NaN)).toBe(false);
    expect(telemetry.recordAttributedCost('openai', '', 1)).toBe(false);

    const collected = await collect();
    const byProvider = collected.points('gatewayz_cost_by_provider');
    const byKey = collected.points('gatewayz_cost_by_api_key');
    expect(byKey).toHaveLength(3);
    expect(sumOf(byKey)).toBe(sumOf(byProvider));
    expect(collected.require('gatewayz_cost_by_api_key').descriptor.unit).toBe('USD');
    // The refused empty key name left the provider's total alone too.
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(0.5 + 2 ** -20 + 1.125);
  });

  it('records tokens by key and direction, dropping negative counts', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordApiKeyTokens('team-a', 'input', 120);
    telemetry.recordApiKeyTokens('team-a', 'output', 30);
    telemetry.recordApiKeyTokens('team-a', 'input', 80);
    telemetry.recordApiKeyTokens('team-a', 'output', -5);

    const collected = await collect();
    expect(collected.value('gatewayz_tokens_by_api_key', { api_key_name: 'team-a', token_type: 'input' })).toBe(200);
    expect(collected.value('gatewayz_tokens_by_api_key', { api_key_name: 'team-a', token_type: 'output' })).toBe(30);
  });

  it('sets the budget and what is left of it, never below zero', async () => {
    const { telemetry, collect } = setup();
    telemetry.setApiKeyBudget('team-a', 10, 2.5);
    telemetry.setApiKeyBudget('trial', 1, 1.2);

    const collected = await collect();
    expect(collected.value('gatewayz_api_key_budget_usd', { api_key_name: 'team-a' })).toBe(10);
    expect(collected.value('gatewayz_api_key_budget_remaining_usd', { api_key_name: 'team-a' })).toBe(7.5);
    expect(collected.value('gatewayz_api_key_budget_remaining_usd', { api_key_name: 'trial' })).toBe(0);
  });

  it('adds estimated spend by key apart from the cost counters, and counts attempts without usage', async () => {
    const { telemetry, collect } = setup();
    expect(telemetry.recordApiKeyEstimatedSpend('team-a', 0.25)).toBe(true);
    expect(telemetry.recordApiKeyEstimatedSpend('team-a', 2 ** -10)).toBe(true);
    expect(telemetry.recordApiKeyEstimatedSpend('team-a', -1)).toBe(false);
    expect(telemetry.recordApiKeyEstimatedSpend('team-a', Number.POSITIVE_INFINITY)).toBe(false);
    telemetry.recordApiKeyAttemptWithoutUsage('team-a');
    telemetry.recordApiKeyAttemptWithoutUsage('team-a');
    telemetry.recordApiKeyAttemptWithoutUsage('anonymous');

    const collected = await collect();
    expect(collected.value('gatewayz_api_key_estimated_spend_usd', { api_key_name: 'team-a' })).toBe(0.25 + 2 ** -10);
    expect(collected.require('gatewayz_api_key_estimated_spend_usd').descriptor.unit).toBe('USD');
    expect(collected.value('gatewayz_api_key_attempts_without_usage', { api_key_name: 'team-a' })).toBe(2);
    expect(collected.value('gatewayz_api_key_attempts_without_usage', { api_key_name: 'anonymous' })).toBe(1);
    // An estimate is not a provider's cost: the cost counters have nothing.
    expect(collected.points('gatewayz_cost_by_api_key')).toHaveLength(0);
    expect(collected.points('gatewayz_cost_by_provider')).toHaveLength(0);
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'out_of_range',
        metric: 'gatewayz_api_key_estimated_spend_usd',
      }),
    ).toBe(1);
  });

  it('caps api_key_name like every other label: past the limit, names fold into "other" and are counted', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 3 });
    let total = 0;
    for (let index = 0; index < 10; index++) {
      telemetry.recordAttributedCost('openai', `key-${index}`, index + 1);
      total += index + 1;
    }
    const collected = await collect();
    const byKey = collected.points('gatewayz_cost_by_api_key');
    expect(byKey).toHaveLength(4); // three names, then "other"
    expect(collected.value('gatewayz_cost_by_api_key', { api_key_name: 'other' })).toBe(total - 1 - 2 - 3);
    expect(sumOf(byKey)).toBe(total);
    expect(collected.value('gatewayz_telemetry_label_overflow', { metric: 'gatewayz_cost_by_api_key' })).toBe(7);
  });

  it('has module-level shortcuts on the shared instance', () => {
    const { telemetry } = setup();
    setTelemetry(telemetry as GatewayTelemetry);
    recordApiKeyRequest('team-a', 'timeout');
    recordAttributedCost('openai', 'team-a', 0.5);
    setApiKeyBudget('team-a', 2, 0.5);
    recordApiKeyEstimatedSpend('team-a', 0.125);
    recordApiKeyAttemptWithoutUsage('team-a');
    expect(telemetry.currentValue('apiKeyEstimatedSpend', { api_key_name: 'team-a' })).toBe(0.125);
    expect(telemetry.currentValue('apiKeyAttemptsWithoutUsage', { api_key_name: 'team-a' })).toBe(1);
    expect(telemetry.currentValue('requestsByApiKey', { api_key_name: 'team-a', status: 'timeout' })).toBe(1);
    expect(telemetry.currentValue('costByApiKey', { api_key_name: 'team-a' })).toBe(0.5);
    expect(telemetry.currentValue('apiKeyBudgetRemaining', { api_key_name: 'team-a' })).toBe(1.5);
  });
});
