import type { Attributes } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry, type GaugeMetricKey } from '../src/index.js';
import { CollectingDiagLogger, retainedHeapBytes } from './helpers.js';

/**
 * Removal is read through `exportableMetrics()`, what the metric producer of `startTelemetry()`
 * (Prometheus exposition, OTLP push, cluster snapshots) collects.
 */
function exported(telemetry: GatewayTelemetry, name: string): Array<[Attributes, number]> {
  const metric = telemetry.exportableMetrics().find((entry) => entry.name === name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return metric.cells.map((cell) => [cell.attributes, cell.value]);
}

const UPTIME = 'gatewayz_model_uptime_24h';
const BREAKER = 'gatewayz_circuit_breaker_state';
const EFFICIENCY = 'gatewayz_token_efficiency';

let logger: CollectingDiagLogger;
beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});
afterEach(() => {
  CollectingDiagLogger.uninstall();
});

describe('removeGaugeSeries', () => {
  it('removes the one series named by every label, and only it', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.setModelUptime24h('gpt-4o', 0.5);
    telemetry.setModelUptime24h('claude', 0.9);
    expect(telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4o' })).toBe(1);
    expect(exported(telemetry, UPTIME)).toEqual([[{ model: 'claude' }, 0.9]]);
    expect(telemetry.seriesCount('modelUptime24h')).toBe(1);
    expect(telemetry.currentValue('modelUptime24h', { model: 'gpt-4o' })).toBeUndefined();
    // Already gone: nothing more to remove.
    expect(telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4o' })).toBe(0);
  });

  it('lets the same labels be recorded again afterwards, as a new series (the record path cache is cleared)', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.setModelUptime24h('gpt-4o', 0.5);
    telemetry.setModelUptime24h('gpt-4o', 0.5); // now served from the raw-value cache
    const before = telemetry.exportableMetrics().find((entry) => entry.name === UPTIME)?.cells[0];
    telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4o' });
    expect(before?.removed).toBe(true);
    telemetry.setModelUptime24h('gpt-4o', 0.75);
    expect(exported(telemetry, UPTIME)).toEqual([[{ model: 'gpt-4o' }, 0.75]]);
    expect(before?.value).toBe(0.5); // the removed cell was not written to
  });

  it('matches a subset of the labels: the three state series of one breaker', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.setCircuitBreakerState('openai', 'open');
    telemetry.setCircuitBreakerState('anthropic', 'closed');
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { provider: 'openai' })).toBe(3);
    expect(exported(telemetry, BREAKER)).toEqual([
      [{ provider: 'anthropic', state: 'closed' }, 1],
      [{ provider: 'anthropic', state: 'open' }, 0],
      [{ provider: 'anthropic', state: 'half_open' }, 0],
    ]);
    // Setting the state again brings all three back, exactly one of them 1.
    telemetry.setCircuitBreakerState('openai', 'half_open');
    expect(exported(telemetry, BREAKER).filter(([attributes]) => attributes.provider === 'openai')).toEqual([
      [{ provider: 'openai', state: 'closed' }, 0],
      [{ provider: 'openai', state: 'open' }, 0],
      [{ provider: 'openai', state: 'half_open' }, 1],
    ]);
    // One state series across providers.
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { state: 'half_open' })).toBe(2);
    expect(exported(telemetry, BREAKER).map(([attributes]) => attributes.state)).toEqual([
      'closed',
      'open',
      'closed',
      'open',
    ]);
  });

  it('removes every series of the gauge with no labels given, and a gauge without labels', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.setModelUptime24h('a', 1);
    telemetry.setModelUptime24h('b', 1);
    telemetry.set('trialActive', 4, {});
    expect(telemetry.removeGaugeSeries('modelUptime24h')).toBe(2);
    expect(exported(telemetry, UPTIME)).toEqual([]);
    expect(telemetry.removeGaugeSeries('trialActive', {})).toBe(1);
    expect(exported(telemetry, 'trial_active')).toEqual([]);
    telemetry.set('trialActive', 2, {});
    expect(exported(telemetry, 'trial_active')).toEqual([[{}, 2]]);
  });

  it('compares label values as recording normalises them; values recording refuses match nothing', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.setProviderHealthScore(' openai\n', 0.9); // recorded as "openai"
    telemetry.setProviderHealthScore('anthropic', 0.8);
    expect(telemetry.removeGaugeSeries('providerHealthScore', { provider: '' })).toBe(0);
    expect(telemetry.removeGaugeSeries('providerHealthScore', { provider: 42 as never })).toBe(0);
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { state: 'broken' })).toBe(0);
    expect(telemetry.removeGaugeSeries('providerHealthScore', { provider: 'openai ' })).toBe(1);
    expect(exported(telemetry, 'gatewayz_provider_health_score')).toEqual([[{ provider: 'anthropic' }, 0.8]]);
  });

  it('never removes a counter or histogram series, nor anything for a key outside the catalog; warns once per key', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.incrementCostByProvider('openai', 0.5);
    telemetry.recordProviderResponseTime('openai', 0.2);
    const remove = telemetry.removeGaugeSeries as (key: string, labels?: object) => number;
    expect(remove.call(telemetry, 'costByProvider', { provider: 'openai' })).toBe(0);
    expect(remove.call(telemetry, 'costByProvider', {})).toBe(0);
    expect(remove.call(telemetry, 'providerResponseTime', {})).toBe(0);
    expect(remove.call(telemetry, 'noSuchMetric', {})).toBe(0);
    expect(telemetry.currentValue('costByProvider', { provider: 'openai' })).toBe(0.5);
    expect(telemetry.seriesCount('providerResponseTime')).toBe(1);
    expect(logger.ownWarnings).toHaveLength(3);
    expect(logger.ownWarnings[0]).toContain('gatewayz_cost_by_provider is a counter, not a gauge');
    expect(logger.ownWarnings[2]).toContain('"noSuchMetric" is not a metric of the catalog');
  });

  it('frees room under maxSeriesPerMetric: a new label value gets its own series again', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 2 });
    telemetry.setModelUptime24h('a', 0.1);
    telemetry.setModelUptime24h('b', 0.2);
    telemetry.setModelUptime24h('c', 0.3); // folded into "other"
    expect(exported(telemetry, UPTIME).map(([attributes]) => attributes.model)).toEqual(['a', 'b', 'other']);
    telemetry.removeGaugeSeries('modelUptime24h', { model: 'a' });
    telemetry.removeGaugeSeries('modelUptime24h', { model: 'other' });
    telemetry.setModelUptime24h('d', 0.4);
    expect(exported(telemetry, UPTIME)).toEqual([
      [{ model: 'b' }, 0.2],
      [{ model: 'd' }, 0.4],
    ]);
  });

  it('removes nothing for a label the gauge does not have, and warns once naming it', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    for (const provider of ['openai', 'anthropic', 'groq']) telemetry.setCircuitBreakerState(provider, 'open');
    // A typo: left out, the label would match any value and take all nine series.
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { providers: 'groq' } as never)).toBe(0);
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { provider: 'groq', model: 'gpt-4o' } as never)).toBe(0);
    expect(exported(telemetry, BREAKER)).toHaveLength(9);
    expect(logger.ownWarnings).toHaveLength(1);
    expect(logger.ownWarnings[0]).toContain('gatewayz_circuit_breaker_state has no label "providers"');
    expect(telemetry.removeGaugeSeriesByLabel('providers' as never, 'groq')).toBe(0);
    expect(logger.ownWarnings[1]).toContain('no gauge has the label "providers"');
    expect(telemetry.removeGaugeSeries('circuitBreakerState', { provider: 'groq' })).toBe(3);
    expect(exported(telemetry, BREAKER)).toHaveLength(6);
  });

  it('starts the token-efficiency ratio afresh once its series was removed, by either call', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.recordTokenUsage('openai', 'gpt-4o', 1000, 100);
    expect(exported(telemetry, EFFICIENCY)).toEqual([[{ model: 'gpt-4o' }, 0.1]]);
    expect(telemetry.removeGaugeSeries('tokenEfficiency', { model: 'gpt-4o' })).toBe(1);
    expect(exported(telemetry, EFFICIENCY)).toEqual([]);
    telemetry.recordTokenUsage('openai', 'gpt-4o', 100, 100);
    expect(exported(telemetry, EFFICIENCY)).toEqual([[{ model: 'gpt-4o' }, 1]]); // this call alone
    expect(telemetry.removeGaugeSeriesByLabel('model', 'gpt-4o')).toBe(1);
    telemetry.recordTokenUsage('openai', 'gpt-4o', 10, 30);
    expect(exported(telemetry, EFFICIENCY)).toEqual([[{ model: 'gpt-4o' }, 3]]);
    // The token counters are totals: never removed, never restarted.
    expect(telemetry.currentValue('tokensUsed', { provider: 'openai', model: 'gpt-4o', token_type: 'input' })).toBe(
      1110,
    );
  });

  it('keeps no token totals of removed models', async () => {
    // A small limit, reached first, so the token counters (never removed) hold no new series.
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 10 });
    for (let index = 0; index < 10; index++) telemetry.recordTokenUsage('openai', `warm-up-${index}`, 1, 1);
    telemetry.removeGaugeSeries('tokenEfficiency');
    const retained = await retainedHeapBytes(() => {
      for (let index = 0; index < 20_000; index++) {
        telemetry.recordTokenUsage('openai', `fine-tune-${index}`, 100, 10);
        telemetry.removeGaugeSeries('tokenEfficiency', { model: `fine-tune-${index}` });
      }
    });
    // Totals kept per model name held about 2.5 MB here.
    expect(retained).toBeLessThan(1_000_000);
    expect(telemetry.seriesCount('tokenEfficiency')).toBe(0);
  });

  it('keeps up with many removals and re-creations (indexes stay consistent)', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 100 });
    for (let round = 0; round < 5; round++) {
      for (let model = 0; model < 100; model++) telemetry.setModelUptime24h(`m${model}`, round / 10);
      for (let model = 0; model < 100; model += 2)
        expect(telemetry.removeGaugeSeries('modelUptime24h', { model: `m${model}` })).toBe(1);
      expect(telemetry.seriesCount('modelUptime24h')).toBe(50);
    }
    const models = exported(telemetry, UPTIME).map(([attributes]) => attributes.model);
    expect(new Set(models).size).toBe(50);
    expect(models.every((model) => Number(String(model).slice(1)) % 2 === 1)).toBe(true);
    expect(models).not.toContain('other');
  });
});

describe('removeGaugeSeriesByLabel', () => {
  it('removes every gauge series of a provider and keeps its counters and histograms', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    for (const provider of ['acme', 'openai']) {
      telemetry.setProviderHealthScore(provider, 0.9);
      telemetry.setProviderAvailability(provider, true);
      telemetry.setProviderErrorRate(provider, 0.1);
      telemetry.setCircuitBreakerState(provider, 'closed');
      telemetry.recordRateLimits(provider, {
        requests: { remaining: 10, limit: 100, resetSeconds: 30 },
        malformed: [],
      });
      telemetry.incrementCostByProvider(provider, 1.25);
      telemetry.recordProviderResponseTime(provider, 0.3);
    }
    expect(telemetry.removeGaugeSeriesByLabel('provider', 'acme')).toBe(3 + 3 + 2);
    const gauges: GaugeMetricKey[] = [
      'providerHealthScore',
      'providerAvailability',
      'providerErrorRate',
      'circuitBreakerState',
      'providerRateLimitRemaining',
      'providerRateLimitResetSeconds',
    ];
    for (const { name, definition, cells } of telemetry.exportableMetrics()) {
      const providers = new Set(cells.map((cell) => cell.attributes.provider));
      if (gauges.some((key) => telemetry.metricName(key) === name)) {
        expect(providers, name).toEqual(new Set(['openai']));
      } else if (definition.labels.includes('provider' as never) && cells.length > 0) {
        expect(providers.has('acme'), name).toBe(true);
      }
    }
    expect(telemetry.currentValue('costByProvider', { provider: 'acme' })).toBe(1.25);
    expect(telemetry.removeGaugeSeriesByLabel('provider', 'acme')).toBe(0);
    expect(telemetry.removeGaugeSeriesByLabel('provider', undefined as never)).toBe(0);
  });

  it('a removed rate-limit budget is not counted down or refilled back to life, and comes back with the next headers', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.recordRateLimits('acme', { requests: { remaining: 0, limit: 100, resetSeconds: 0 }, malformed: [] });
    expect(exported(telemetry, 'gatewayz_provider_ratelimit_remaining')).toEqual([
      [{ provider: 'acme', limit_type: 'requests' }, 100], // refilled: the reset has passed
    ]);
    telemetry.removeGaugeSeriesByLabel('provider', 'acme');
    expect(exported(telemetry, 'gatewayz_provider_ratelimit_remaining')).toEqual([]);
    expect(exported(telemetry, 'gatewayz_provider_ratelimit_reset_seconds')).toEqual([]);
    telemetry.recordRateLimits('acme', { requests: { remaining: 7, resetSeconds: 60 }, malformed: [] });
    expect(exported(telemetry, 'gatewayz_provider_ratelimit_remaining')).toEqual([
      [{ provider: 'acme', limit_type: 'requests' }, 7],
    ]);
  });
});
