import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_PROVIDERS_FILE,
  DATASOURCES_FILE,
  dashboardPromQueries,
  dataPanels,
  exposedMetricNames,
  loadRecordingRules,
  isLatencyPanel,
  labelValuesQuery,
  loadDashboards,
  metricNames,
  readYaml,
  substituteGrafanaVariables,
  targetDatasourceType,
} from './deploy-files.js';

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: Record<string, unknown>;
}

const dashboards = loadDashboards();
const datasources = readYaml<{ datasources: Datasource[] }>(DATASOURCES_FILE).datasources;
const uidByType = Object.fromEntries(datasources.map((datasource) => [datasource.type, datasource.uid]));

/** What seed 002 lists for each dashboard, as exposed metric names. */
const SEED_METRICS: Record<string, string[]> = {
  'provider-health.json': [
    'provider_availability',
    'provider_error_rate',
    'provider_response_time_seconds_bucket',
    'gatewayz_provider_health_score',
    'gatewayz_circuit_breaker_state',
    'gatewayz_detected_anomalies_total',
    // seed 004: the health-service family
    'gatewayz_health_service_up',
    'gatewayz_health_monitoring_active',
    'gatewayz_health_tracked_models',
    'gatewayz_health_tracked_providers',
    'gatewayz_health_tracked_gateways',
    'gatewayz_health_active_incidents',
    'gatewayz_health_status_distribution',
    'gatewayz_health_cache_available',
    'gatewayz_health_service_scrape_errors_total',
    'gatewayz_health_service_last_successful_scrape',
  ],
  'cost.json': [
    'gatewayz_cost_by_provider_total',
    'tokens_used_total',
    'credits_used_total',
    'model_inference_requests_total',
  ],
  'model-performance.json': [
    'model_inference_requests_total',
    'model_inference_duration_seconds_bucket',
    'tokens_used_total',
    'gatewayz_token_efficiency',
  ],
  'business.json': ['active_api_keys', 'subscription_count', 'trial_active', 'tokens_used_total'],
  'performance.json': [
    'fastapi_requests_duration_seconds_bucket',
    'fastapi_requests_total',
    'model_inference_duration_seconds_bucket',
    'database_query_duration_seconds_bucket',
    'cache_hits_total',
    'cache_misses_total',
  ],
};

describe('Grafana dashboards', () => {
  it('ships the five dashboards of seed 002 with unique uids and titles', () => {
    expect(dashboards.map(({ file }) => file)).toEqual(Object.keys(SEED_METRICS).sort());
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    const titles = dashboards.map(({ dashboard }) => dashboard.title);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
    for (const uid of uids) expect(uid).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  describe.each(dashboards.map(({ file, dashboard }) => [file, dashboard] as const))('%s', (file, dashboard) => {
    const panels = dataPanels(dashboard);

    it('is valid dashboard JSON with unique panel ids inside a 24-column grid', () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(panels.length).toBeGreaterThan(3);
      const ids = [...dashboard.panels, ...dashboard.panels.flatMap((panel) => panel.panels ?? [])].map(
        (panel) => panel.id,
      );
      expect(new Set(ids).size, 'panel ids repeat').toBe(ids.length);
      for (const panel of dashboard.panels) {
        expect(Number.isInteger(panel.id)).toBe(true);
        expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
        expect(panel.gridPos.h).toBeGreaterThan(0);
      }
    });

    it('gives every panel a title and at least one target on a provisioned datasource', () => {
      for (const panel of panels) {
        expect(panel.title.trim()).not.toBe('');
        expect(panel.targets?.length ?? 0, `panel "${panel.title}" has no targets`).toBeGreaterThan(0);
        const refIds = (panel.targets ?? []).map((target) => target.refId);
        expect(new Set(refIds).size, `panel "${panel.title}" repeats a refId`).toBe(refIds.length);
        for (const target of panel.targets ?? []) {
          const type = targetDatasourceType(panel, target);
          expect(['prometheus', 'tempo', 'loki'], `panel "${panel.title}"`).toContain(type);
          const uid = target.datasource?.uid ?? panel.datasource?.uid;
          if (type === 'prometheus') {
            // Through the datasource variable (portable), which defaults to the provisioned uid.
            expect(uid).toBe('${datasource}');
            expect(target.expr?.trim(), `panel "${panel.title}" ${target.refId} has no expression`).toBeTruthy();
          } else {
            expect(uid).toBe(uidByType[type as string]);
            expect(String(target['query'] ?? target.expr ?? '').trim()).not.toBe('');
          }
        }
      }
    });

    it('enables exemplars on every latency panel', () => {
      const latencyPanels = panels.filter(isLatencyPanel);
      if (file !== 'cost.json' && file !== 'business.json') expect(latencyPanels.length).toBeGreaterThan(0);
      for (const panel of latencyPanels) {
        for (const target of (panel.targets ?? []).filter(
          (candidate) => targetDatasourceType(panel, candidate) === 'prometheus',
        )) {
          expect(target.exemplar, `latency panel "${panel.title}" ${target.refId} has exemplars off`).toBe(true);
        }
      }
    });

    it('queries only metrics the catalog exposes (or the SLO rules record), including the ones seed 002 lists for it', () => {
      const exposed = new Set([...exposedMetricNames(), ...loadRecordingRules().map((rule) => rule.record)]);
      const used = new Set<string>();
      for (const query of dashboardPromQueries().filter((candidate) => candidate.file === file)) {
        const names = metricNames(
          substituteGrafanaVariables(
            query.expr,
            dashboard.templating.list.map((variable) => variable.name),
          ),
        );
        expect(names.length, `"${query.panel}" ${query.refId} selects no metric`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exposed.has(name), `"${query.panel}" uses ${name}, which the catalog does not expose`).toBe(true);
          used.add(name);
        }
      }
      for (const variable of dashboard.templating.list) {
        const labelValues = labelValuesQuery(variable);
        if (labelValues !== undefined) expect(exposed.has(labelValues.metric), `variable ${variable.name}`).toBe(true);
      }
      expect([...(SEED_METRICS[file] ?? [])].filter((name) => !used.has(name))).toEqual([]);
    });

    it('defines every variable its queries use', () => {
      const defined = new Set(dashboard.templating.list.map((variable) => variable.name));
      expect(defined.has('datasource')).toBe(true);
      for (const query of dashboardPromQueries().filter((candidate) => candidate.file === file)) {
        for (const match of query.expr.matchAll(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
          const name = match[1] as string;
          if (name.startsWith('__')) continue;
          expect(defined.has(name), `"${query.panel}" uses undefined variable $${name}`).toBe(true);
        }
      }
      for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
        expect(labelValuesQuery(variable), `variable ${variable.name}`).toBeDefined();
      }
    });
  });
});

describe('Business dashboard', () => {
  it('shows requests, cost, tokens and budgets by API key', () => {
    const used = new Set(
      dashboardPromQueries()
        .filter((query) => query.file === 'business.json')
        .flatMap((query) => metricNames(query.expr)),
    );
    for (const name of [
      'gatewayz_requests_by_api_key_total',
      'gatewayz_cost_by_api_key_total',
      'gatewayz_tokens_by_api_key_total',
      'gatewayz_api_key_budget_remaining_usd',
      'gatewayz_api_key_budget_usd',
    ])
      expect(used, name).toContain(name);
  });
});

describe('Grafana provisioning', () => {
  it('provisions Prometheus, Tempo and Loki with the uids the dashboards use, wired to each other', () => {
    const byUid = Object.fromEntries(datasources.map((datasource) => [datasource.uid, datasource]));
    expect(byUid['prometheus']).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(byUid['tempo']).toMatchObject({ type: 'tempo', url: 'http://tempo:3200' });
    expect(byUid['loki']).toMatchObject({ type: 'loki', url: 'http://loki:3100' });
    // Exemplars carry trace_id (the gateway's OpenMetrics exposition): they open traces in Tempo.
    expect(byUid['prometheus']?.jsonData?.['exemplarTraceIdDestinations']).toEqual([
      { name: 'trace_id', datasourceUid: 'tempo' },
    ]);
    expect(byUid['tempo']?.jsonData?.['tracesToLogsV2']).toMatchObject({ datasourceUid: 'loki' });
    expect(byUid['tempo']?.jsonData?.['tracesToMetrics']).toMatchObject({ datasourceUid: 'prometheus' });
    expect(byUid['loki']?.jsonData?.['derivedFields']).toEqual([expect.objectContaining({ datasourceUid: 'tempo' })]);
    expect(datasources.filter((datasource) => (datasource as { isDefault?: boolean }).isDefault)).toHaveLength(1);
  });

  it('loads the dashboards from the directory the compose file mounts', () => {
    const providers = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>(
      DASHBOARD_PROVIDERS_FILE,
    ).providers;
    expect(providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/etc/grafana/dashboards' }) }),
    ]);
  });
});
