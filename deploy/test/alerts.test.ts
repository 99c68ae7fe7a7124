import { describe, expect, it } from 'vitest';
import { componentAvailable, runPromtool } from '../../test-support/prometheus.js';
import {
  ALERTS_FILE,
  alertTestGaps,
  ALERTS_TEST_FILE,
  PROMETHEUS_CONFIG_FILE,
  exposedMetricNames,
  loadAlertRules,
  loadAlertUnitTests,
  metricNames,
  readYaml,
} from './deploy-files.js';

const SEVERITIES = ['critical', 'warning', 'info'];

const promtool = (...args: string[]): Promise<{ code: number; output: string }> => runPromtool(args, 60_000);

describe('alert rules', () => {
  const rules = loadAlertRules();

  it('has the alerts the operators asked for', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'GatewayzProviderUnhealthy',
        'GatewayzProviderErrorSurge',
        'GatewayzProviderLatencyHigh',
        'GatewayzCircuitBreakerOpen',
        'GatewayzHealthServiceDown',
        'GatewayzHealthServiceScrapeErrors',
        'GatewayzTelemetryDropped',
      ]),
    );
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s has a severity, a summary and a description',
    (_name, rule) => {
      expect(SEVERITIES).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary']?.trim()).toBeTruthy();
      expect(rule.annotations?.['description']?.trim()).toBeTruthy();
      expect(rule.expr.trim()).not.toBe('');
    },
  );

  it('selects only metrics the catalog exposes', () => {
    const exposed = exposedMetricNames();
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, `${rule.alert} selects no metric`).toBeGreaterThan(0);
      for (const name of names)
        expect(exposed.has(name), `${rule.alert} uses ${name}, which the catalog does not expose`).toBe(true);
    }
  });

  it('pins the thresholds of the brief', () => {
    const byName = Object.fromEntries(rules.map((rule) => [rule.alert, rule]));
    expect(byName['GatewayzProviderUnhealthy']).toMatchObject({
      expr: 'gatewayz_provider_health_score < 0.5',
      for: '5m',
    });
    expect(byName['GatewayzProviderErrorSurge']?.expr).toMatch(/provider_error_rate\) > 0\.25/);
    expect(byName['GatewayzProviderErrorSurge']?.expr).toMatch(
      /model_inference_requests_total\{status!="success"\}\[5m\]/,
    );
    expect(byName['GatewayzProviderLatencyHigh']?.expr).toMatch(
      /^histogram_quantile\(0\.95, .*provider_response_time_seconds_bucket\[5m\].*\) > 10$/,
    );
    expect(byName['GatewayzCircuitBreakerOpen']).toMatchObject({
      expr: 'gatewayz_circuit_breaker_state{state="open"} == 1',
      for: '1m',
    });
    expect(byName['GatewayzHealthServiceDown']).toMatchObject({ expr: 'gatewayz_health_service_up == 0', for: '2m' });
    expect(byName['GatewayzHealthServiceScrapeErrors']?.expr).toBe(
      'increase(gatewayz_health_service_scrape_errors_total[10m]) > 3',
    ); // API key budgets: 80 % (warning, until spent) and 100 % (critical) of budget_usd.
    expect(byName['GatewayzApiKeyBudgetNearlySpent']?.expr).toMatch(
      /^\(1 - gatewayz_api_key_budget_remaining_usd \/ gatewayz_api_key_budget_usd\) >= 0\.8 - 1e-9\s+and\s+gatewayz_api_key_budget_remaining_usd > 0\s*$/,
    );
    expect(byName['GatewayzApiKeyBudgetNearlySpent']?.labels?.['severity']).toBe('warning');
    expect(byName['GatewayzApiKeyBudgetSpent']).toMatchObject({
      expr: 'gatewayz_api_key_budget_remaining_usd <= 0 and gatewayz_api_key_budget_usd > 0',
      labels: { severity: 'critical' },
    });
  });

  it('every alert has a promtool unit test where it fires and one where it stays quiet', () => {
    const unitTests = loadAlertUnitTests();
    expect(unitTests.rule_files).toEqual(['alerts.yml']);
    const gaps = alertTestGaps(
      unitTests,
      rules.map((rule) => rule.alert),
    );
    expect(gaps.neverFiring, 'alerts never expected to fire in alerts.test.yml').toEqual([]);
    expect(gaps.neverQuiet, 'alerts never expected to stay quiet in alerts.test.yml').toEqual([]);
    // A test of an alert that does not exist would pass vacuously.
    expect(gaps.unknown).toEqual([]);
  });

  it('is loaded by the compose Prometheus, which scrapes the gateway and the Collector', () => {
    const config = readYaml<{
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    }>(PROMETHEUS_CONFIG_FILE);
    expect(config.rule_files).toEqual(['alerts.yml', 'slo-rules.yml']);
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((entry) => entry.targets)]),
    );
    // GatewayzTargetDown selects job="gatewayz".
    expect(targets['gatewayz']).toEqual(['host.docker.internal:8080']);
    expect(targets['otel-collector']).toEqual(['otel-collector:8889']);
  });
});

describe.skipIf(!componentAvailable('promtool'))('promtool', () => {
  it('check rules accepts alerts.yml', async () => {
    const result = await promtool('check', 'rules', ALERTS_FILE);
    expect(result.output).toContain(`SUCCESS: ${loadAlertRules().length} rules found`);
    expect(result.code, result.output).toBe(0);
  });

  it('test rules passes every unit test in alerts.test.yml', async () => {
    const result = await promtool('test', 'rules', ALERTS_TEST_FILE);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('check config accepts prometheus.yml', async () => {
    const result = await promtool('check', 'config', PROMETHEUS_CONFIG_FILE);
    expect(result.code, result.output).toBe(0);
  });
});
