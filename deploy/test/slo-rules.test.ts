/**
 * The SLO rules (deploy/prometheus/slo-rules.yml): multi-window, multi-burn-rate alerts on a
 * per-provider availability SLO and a per-model latency SLO, their recording rules, and their
 * promtool unit tests (deploy/prometheus/slo-rules.test.yml).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentAvailable, runPromtool } from '../../test-support/prometheus.js';
import {
  PROMETHEUS_CONFIG_FILE,
  alertTestGaps,
  PROMETHEUS_DIR,
  SLO_RULES_FILE,
  SLO_RULES_TEST_FILE,
  exposedMetricNames,
  loadAlertRules,
  loadRecordingRules,
  metricNames,
  readYaml,
  type AlertUnitTests,
} from './deploy-files.js';

const promtool = (...args: string[]): Promise<{ code: number; output: string }> => runPromtool(args, 120_000);

const alerts = loadAlertRules(SLO_RULES_FILE);
const recordings = loadRecordingRules();
const BURNS = [
  { suffix: 'Fast', long: '1h', short: '5m', factor: '14.4', severity: 'critical' },
  { suffix: 'Medium', long: '6h', short: '30m', factor: '6', severity: 'critical' },
  { suffix: 'Slow', long: '3d', short: '6h', factor: '1', severity: 'warning' },
] as const;

describe('SLO rules', () => {
  it('has three burn-rate alerts for each SLO: page fast (1h/5m, 14.4x), page (6h/30m, 6x), ticket (3d/6h, 1x)', () => {
    const byName = Object.fromEntries(alerts.map((rule) => [rule.alert, rule]));
    for (const [prefix, record, objective] of [
      [
        'GatewayzProviderAvailabilityBurn',
        'provider:gatewayz_slo_availability_errors:ratio_rate',
        'gatewayz:slo_availability_objective:ratio',
      ],
      [
        'GatewayzModelLatencyBurn',
        'model:gatewayz_slo_latency_slow:ratio_rate',
        'gatewayz:slo_latency_objective:ratio',
      ],
    ] as const) {
      for (const burn of BURNS) {
        const rule = byName[`${prefix}${burn.suffix}`];
        expect(rule, `${prefix}${burn.suffix}`).toBeDefined();
        const threshold = `(${burn.factor} * scalar(1 - ${objective}))`;
        expect(rule?.expr.trim()).toBe(
          `${record}${burn.long} > ${threshold}\nand\n${record}${burn.short} > ${threshold}`,
        );
        expect(rule?.labels).toMatchObject({
          severity: burn.severity,
          long_window: burn.long,
          short_window: burn.short,
        });
        expect(rule?.annotations?.['summary']?.trim()).toBeTruthy();
        expect(rule?.annotations?.['description']?.trim()).toBeTruthy();
      }
    }
    expect(alerts).toHaveLength(6);
  });

  it('writes each objective once, as a recording rule every alert derives its thresholds from', () => {
    const objectives = recordings.filter((rule) => rule.record.endsWith('_objective:ratio'));
    expect(objectives).toEqual([
      { record: 'gatewayz:slo_availability_objective:ratio', expr: 'vector(0.995)' },
      { record: 'gatewayz:slo_latency_objective:ratio', expr: 'vector(0.99)' },
    ]);
    // No alert carries a literal objective.
    for (const rule of alerts) expect(rule.expr).not.toMatch(/0\.99/);
  });

  it('records every window the alerts read, for both SLIs, and the remaining error budget', () => {
    const recorded = new Set(recordings.map((rule) => rule.record));
    for (const rule of alerts) {
      for (const name of rule.expr.match(/[a-z_]+:[a-z_]+:[a-z_0-9]+/g) ?? []) {
        expect(recorded.has(name), `${rule.alert} reads ${name}`).toBe(true);
      }
    }
    expect(recorded.has('provider:gatewayz_slo_availability_error_budget_remaining:ratio')).toBe(true);
  });

  it('selects only metrics the catalog exposes', () => {
    const exposed = exposedMetricNames();
    for (const rule of recordings) {
      for (const name of metricNames(rule.expr).filter((candidate) => !candidate.includes(':'))) {
        expect(exposed.has(name), `${rule.record} uses ${name}`).toBe(true);
      }
    }
  });

  it('every SLO alert has a promtool unit test where it fires and one where it stays quiet', () => {
    const unitTests = readYaml<AlertUnitTests>(SLO_RULES_TEST_FILE);
    expect(unitTests.rule_files).toEqual(['slo-rules.yml']);
    const gaps = alertTestGaps(
      unitTests,
      alerts.map((rule) => rule.alert),
    );
    expect(gaps.neverFiring, 'SLO alerts never expected to fire').toEqual([]);
    expect(gaps.neverQuiet, 'SLO alerts never expected to stay quiet').toEqual([]);
    expect(gaps.unknown).toEqual([]);
  });

  it('is loaded by the compose Prometheus from the directory compose mounts', () => {
    const config = readYaml<{ rule_files: string[] }>(PROMETHEUS_CONFIG_FILE);
    expect(config.rule_files).toContain('slo-rules.yml');
    for (const file of config.rule_files) expect(existsSync(join(PROMETHEUS_DIR, file)), file).toBe(true);
  });
});

describe.skipIf(!componentAvailable('promtool'))('promtool and the SLO rules', () => {
  it('check rules accepts slo-rules.yml', async () => {
    const result = await promtool('check', 'rules', SLO_RULES_FILE);
    expect(result.output).toContain(`SUCCESS: ${alerts.length + recordings.length} rules found`);
    expect(result.code, result.output).toBe(0);
  });

  it('test rules passes every unit test in slo-rules.test.yml', async () => {
    const result = await promtool('test', 'rules', SLO_RULES_TEST_FILE);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});
