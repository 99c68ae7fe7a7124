/**
 * Readers for the files under deploy/ (alert rules, their unit tests, Grafana dashboards and
 * provisioning, the compose file) and for the root otel-collector.yaml, plus the PromQL helpers
 * the deploy tests share: Grafana variable substitution and metric-name extraction.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { catalogEntries, prometheusName } from '../../packages/telemetry/src/metrics/index.js';

export const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(DEPLOY_DIR, '..');

export const PROMETHEUS_DIR = join(DEPLOY_DIR, 'prometheus');
export const ALERTS_FILE = join(PROMETHEUS_DIR, 'alerts.yml');
export const ALERTS_TEST_FILE = join(PROMETHEUS_DIR, 'alerts.test.yml');
export const PROMETHEUS_CONFIG_FILE = join(PROMETHEUS_DIR, 'prometheus.yml');
export const SLO_RULES_FILE = join(PROMETHEUS_DIR, 'slo-rules.yml');
export const SLO_RULES_TEST_FILE = join(PROMETHEUS_DIR, 'slo-rules.test.yml');
export const DASHBOARDS_DIR = join(DEPLOY_DIR, 'grafana', 'dashboards');
export const DATASOURCES_FILE = join(DEPLOY_DIR, 'grafana', 'provisioning', 'datasources', 'datasources.yml');
export const DASHBOARD_PROVIDERS_FILE = join(DEPLOY_DIR, 'grafana', 'provisioning', 'dashboards', 'dashboards.yml');
export const COMPOSE_FILE = join(DEPLOY_DIR, 'docker-compose.yml');
export const COLLECTOR_FILE = join(REPO_ROOT, 'otel-collector.yaml');

export function readYaml<T = unknown>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

// --- alert rules -------------------------------------------------------------------------------

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Array<AlertRule | { record: string; expr: string }>;
}

export function loadAlertRules(path: string = ALERTS_FILE): AlertRule[] {
  const file = readYaml<{ groups: RuleGroup[] }>(path);
  return file.groups.flatMap((group) => group.rules.filter((rule): rule is AlertRule => 'alert' in rule));
}

/** The recording rules of a rules file (`slo-rules.yml` by default). */
export function loadRecordingRules(path: string = SLO_RULES_FILE): Array<{ record: string; expr: string }> {
  const file = readYaml<{ groups: RuleGroup[] }>(path);
  return file.groups.flatMap((group) =>
    group.rules.filter((rule): rule is { record: string; expr: string } => 'record' in rule),
  );
}

export interface AlertUnitTests {
  rule_files: string[];
  tests: Array<{
    name?: string;
    alert_rule_test?: Array<{
      eval_time: string;
      alertname: string;
      exp_alerts?: Array<{ exp_labels?: Record<string, string> }> | null;
    }>;
  }>;
}

export function loadAlertUnitTests(): AlertUnitTests {
  return readYaml<AlertUnitTests>(ALERTS_TEST_FILE);
}

/**
 * What a promtool unit-test file covers, against the alert names of its rule file: alerts no case
 * expects to fire, alerts no case expects to stay quiet, and cases naming an alert that does not
 * exist (which would pass vacuously). All three are empty for a complete file.
 */
export function alertTestGaps(
  unitTests: AlertUnitTests,
  alertNames: readonly string[],
): { neverFiring: string[]; neverQuiet: string[]; unknown: string[] } {
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const test of unitTests.tests) {
    for (const check of test.alert_rule_test ?? []) {
      if ((check.exp_alerts ?? []).length > 0) firing.add(check.alertname);
      else quiet.add(check.alertname);
    }
  }
  return {
    neverFiring: alertNames.filter((name) => !firing.has(name)),
    neverQuiet: alertNames.filter((name) => !quiet.has(name)),
    unknown: [...new Set([...firing, ...quiet])].filter((name) => !alertNames.includes(name)),
  };
}

// --- Grafana dashboards ------------------------------------------------------------------------

export interface GrafanaTarget {
  refId: string;
  datasource?: { type?: string; uid?: string };
  expr?: string;
  query?: string;
  exemplar?: boolean;
  [key: string]: unknown;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

export interface LoadedDashboard {
  file: string;
  dashboard: GrafanaDashboard;
}

export function loadDashboards(): LoadedDashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as GrafanaDashboard,
    }));
}

/** Every panel, rows' nested panels included, without the rows themselves. */
export function dataPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const visit = (panels: GrafanaPanel[]): void => {
    for (const panel of panels) {
      if (panel.type === 'row') visit(panel.panels ?? []);
      else out.push(panel);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** The datasource type a target queries: its own, else its panel's. */
export function targetDatasourceType(panel: GrafanaPanel, target: GrafanaTarget): string | undefined {
  return target.datasource?.type ?? panel.datasource?.type;
}

export interface DashboardQuery {
  file: string;
  panel: string;
  refId: string;
  expr: string;
  exemplar: boolean;
}

export function dashboardPromQueries(): DashboardQuery[] {
  return loadDashboards().flatMap(({ file, dashboard }) =>
    dataPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? [])
        .filter((target) => targetDatasourceType(panel, target) === 'prometheus')
        .map((target) => ({
          file,
          panel: panel.title,
          refId: target.refId,
          expr: target.expr ?? '',
          exemplar: target.exemplar === true,
        })),
    ),
  );
}

/** Series of every catalog histogram measured in seconds (`_bucket`, `_sum`, `_count`). */
export function latencyHistogramSeries(): Set<string> {
  const names = new Set<string>();
  for (const [, definition] of catalogEntries()) {
    if (definition.kind !== 'histogram' || definition.unit !== 's') continue;
    for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${prometheusName(definition)}${suffix}`);
  }
  return names;
}

/** A panel showing latency: one of its PromQL targets reads a histogram measured in seconds. */
export function isLatencyPanel(panel: GrafanaPanel): boolean {
  const latency = latencyHistogramSeries();
  return (panel.targets ?? []).some((target) => metricNames(target.expr ?? '').some((name) => latency.has(name)));
}

/** `label_values(metric, label)` of a query variable, or undefined for other kinds of variable. */
export function labelValuesQuery(variable: GrafanaVariable): { metric: string; label: string } | undefined {
  const definition =
    variable.definition ??
    (typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string })?.query);
  const match = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(
    definition ?? '',
  );
  return match === null ? undefined : { metric: match[1] as string, label: match[2] as string };
}

// --- PromQL helpers ----------------------------------------------------------------------------

/**
 * Replace Grafana's variables with what a real query would use over a short test run: every
 * template variable matches everything, `$__rate_interval` is one minute, `$__range` five.
 */
export function substituteGrafanaVariables(expr: string, variables: readonly string[] = []): string {
  let out = expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('${__rate_interval}', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('${__interval}', '15s')
    .replaceAll('$__range', '5m')
    .replaceAll('${__range}', '5m');
  for (const name of variables) out = out.replaceAll(`\${${name}}`, '.*').replaceAll(`$${name}`, '.*');
  return out;
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names a PromQL expression selects (identifiers that are not functions, keywords or labels). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const rest = stripped.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(rest)) continue;
    if (PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every series name the catalog exposes in Prometheus (histograms with their suffixes), plus `up`. */
export function exposedMetricNames(): Set<string> {
  const names = new Set<string>(['up']);
  for (const [, definition] of catalogEntries()) {
    const name = prometheusName(definition);
    if (definition.kind === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    } else {
      names.add(name);
    }
  }
  return names;
}

/** Split `type/name` component ids of the Collector config. */
export function componentType(id: string): string {
  return id.split('/')[0] as string;
}
