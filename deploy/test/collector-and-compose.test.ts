import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../../packages/telemetry/src/version.js';
import {
  COLLECTOR_FILE,
  COMPOSE_FILE,
  DEPLOY_DIR,
  PROMETHEUS_CONFIG_FILE,
  componentType,
  readYaml,
} from './deploy-files.js';

interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}

interface CollectorConfig {
  receivers: Record<string, { protocols?: Record<string, { endpoint?: string }> } | null>;
  processors: Record<string, unknown>;
  exporters: Record<string, { endpoint?: string } | null>;
  extensions?: Record<string, unknown>;
  connectors?: Record<string, unknown>;
  service: { extensions?: string[]; pipelines: Record<string, Pipeline> };
}

interface ComposeService {
  image: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  extra_hosts?: string[];
  depends_on?: string[] | Record<string, unknown>;
}

const collector = readYaml<CollectorConfig>(COLLECTOR_FILE);
const compose = readYaml<{ services: Record<string, ComposeService>; volumes?: Record<string, unknown> }>(COMPOSE_FILE);
const pipelines = Object.entries(collector.service.pipelines);

function exportersOf(signal: string): Array<[string, { endpoint?: string } | null]> {
  return pipelines
    .filter(([name]) => componentType(name) === signal)
    .flatMap(([, pipeline]) =>
      (pipeline.exporters ?? []).map(
        (id) => [id, collector.exporters[id] ?? null] as [string, { endpoint?: string } | null],
      ),
    );
}

/** Scope of the host metrics `startTelemetry()` registers (`HostMetrics({ name })`). */
const HOST_METRICS_SCOPE = '@gatewayz/telemetry-node';

/**
 * Instrumentation scopes whose metrics a transform processor of the metrics pipeline gives an empty
 * unit (`set(unit, "") where instrumentation_scope.name == "..." or ...`, in the metric context);
 * `*` when a statement clears every unit.
 */
function scopesWithUnitCleared(): string[] {
  const metricsPipeline = pipelines.find(([name]) => componentType(name) === 'metrics')?.[1];
  const transforms = (metricsPipeline?.processors ?? []).filter((id) => componentType(id) === 'transform');
  const statements = transforms.flatMap((id) => {
    const config = collector.processors[id] as {
      metric_statements?: Array<{ context?: string; statements?: string[] }>;
    } | null;
    return (config?.metric_statements ?? [])
      .filter((group) => group.context === 'metric')
      .flatMap((group) => group.statements ?? []);
  });
  const scopes: string[] = [];
  for (const statement of statements) {
    const match = /^set\(unit, ""\)(?:\s+where\s+(.+))?$/.exec(statement.trim());
    if (match === null) continue;
    if (match[1] === undefined) return ['*'];
    const alternatives = match[1].split(/\s+or\s+/);
    for (const alternative of alternatives) {
      const scope = /^instrumentation_scope\.name\s*==\s*"([^"]+)"$/.exec(alternative.trim());
      if (scope !== null) scopes.push(scope[1] as string);
    }
  }
  return scopes;
}

describe('otel-collector.yaml', () => {
  it('has a traces, a metrics and a logs pipeline', () => {
    expect(pipelines.map(([name]) => componentType(name)).sort()).toEqual(['logs', 'metrics', 'traces']);
  });

  it.each(pipelines)('pipeline %s references only defined receivers, processors and exporters', (_name, pipeline) => {
    const connectors = Object.keys(collector.connectors ?? {});
    for (const id of pipeline.receivers ?? [])
      expect([...Object.keys(collector.receivers), ...connectors], `receiver ${id}`).toContain(id);
    for (const id of pipeline.processors ?? [])
      expect(Object.keys(collector.processors), `processor ${id}`).toContain(id);
    for (const id of pipeline.exporters ?? [])
      expect([...Object.keys(collector.exporters), ...connectors], `exporter ${id}`).toContain(id);
    expect(pipeline.receivers?.length ?? 0).toBeGreaterThan(0);
    expect(pipeline.exporters?.length ?? 0).toBeGreaterThan(0);
  });

  it.each(pipelines)('pipeline %s runs memory_limiter first and batches', (_name, pipeline) => {
    const processors = (pipeline.processors ?? []).map(componentType);
    expect(processors[0]).toBe('memory_limiter');
    expect(processors).toContain('batch');
    // Batching after the limiter: refused data never occupies a batch.
    expect(processors.indexOf('batch')).toBeGreaterThan(0);
  });

  it('uses only the extensions it defines', () => {
    for (const id of collector.service.extensions ?? []) expect(Object.keys(collector.extensions ?? {})).toContain(id);
  });

  it('receives OTLP on 4317 (gRPC) and 4318 (HTTP)', () => {
    const protocols = collector.receivers['otlp']?.protocols ?? {};
    expect(protocols['grpc']?.endpoint).toMatch(/:4317$/);
    expect(protocols['http']?.endpoint).toMatch(/:4318$/);
  });

  it('sends traces to Tempo through an OTLP exporter', () => {
    const exporters = exportersOf('traces');
    const tempo = exporters.filter(
      ([id, config]) => ['otlp', 'otlphttp'].includes(componentType(id)) && /tempo/.test(config?.endpoint ?? ''),
    );
    expect(tempo.length, JSON.stringify(exporters)).toBeGreaterThan(0);
  });

  it('sends logs to Loki', () => {
    const exporters = exportersOf('logs');
    const loki = exporters.filter(
      ([id, config]) =>
        componentType(id) === 'loki' ||
        (componentType(id) === 'otlphttp' && /loki.*\/otlp\/?$/.test(config?.endpoint ?? '')),
    );
    expect(loki.length, JSON.stringify(exporters)).toBeGreaterThan(0);
  });

  // With a unit the exporter appends it (gatewayz_cost_by_provider_USD_total, ..._seconds, gauges
  // of unit 1 get _ratio); without one it adds only _total to counters, the names the dashboards use.
  it("clears the unit of the gateway's metrics before the Prometheus exporter names them", () => {
    expect(scopesWithUnitCleared()).toEqual(expect.arrayContaining([PACKAGE_NAME, HOST_METRICS_SCOPE]));
    expect(scopesWithUnitCleared()).not.toContain('*');
  });

  it('exposes OTLP metrics for Prometheus on :8889', () => {
    const exporters = exportersOf('metrics');
    expect(
      exporters.some(([id, config]) => componentType(id) === 'prometheus' && /:8889$/.test(config?.endpoint ?? '')),
    ).toBe(true);
  });
});

describe('prometheus.yml', () => {
  it("keeps the job and instance the Collector's exporter sets from service.name and service.instance.id", () => {
    const config = readYaml<{
      scrape_configs: Array<{
        job_name: string;
        honor_labels?: boolean;
        static_configs?: Array<{ targets: string[] }>;
      }>;
    }>(PROMETHEUS_CONFIG_FILE);
    const collectorJobs = config.scrape_configs.filter((job) =>
      (job.static_configs ?? []).some((group) => group.targets.some((target) => /^otel-collector:8889$/.test(target))),
    );
    expect(collectorJobs.length).toBe(1);
    expect(collectorJobs[0]?.honor_labels).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('starts the Collector, Prometheus, Tempo, Loki and Grafana', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['otel-collector', 'prometheus', 'tempo', 'loki', 'grafana']),
    );
    for (const [name, service] of Object.entries(services)) {
      // Pinned images: a stack that changes under you is not reproducible.
      expect(service.image, name).toMatch(/:[0-9v][\w.-]*$/);
    }
    expect(services['otel-collector']?.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
  });

  it('mounts files that exist, the root otel-collector.yaml included', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (!source.startsWith('.')) {
          expect(Object.keys(compose.volumes ?? {}), `${name}: named volume ${source}`).toContain(source);
          continue;
        }
        expect(existsSync(resolve(DEPLOY_DIR, source)), `${name} mounts ${source}`).toBe(true);
      }
    }
    expect(services['otel-collector']?.volumes).toContain('../otel-collector.yaml:/etc/otelcol-contrib/config.yaml:ro');
    expect(services['grafana']?.volumes).toEqual(
      expect.arrayContaining([
        './grafana/provisioning:/etc/grafana/provisioning:ro',
        './grafana/dashboards:/etc/grafana/dashboards:ro',
      ]),
    );
    expect(services['prometheus']?.volumes).toContain('./prometheus:/etc/prometheus:ro');
  });

  it('lets Prometheus reach the gateway on the host and store exemplars', () => {
    const prometheus = services['prometheus'];
    expect(prometheus?.extra_hosts).toContain('host.docker.internal:host-gateway');
    expect(prometheus?.command).toEqual(
      expect.arrayContaining(['--config.file=/etc/prometheus/prometheus.yml', '--enable-feature=exemplar-storage']),
    );
  });

  it('publishes the Collector ports the gateway and Prometheus use', () => {
    expect(services['otel-collector']?.ports).toEqual(expect.arrayContaining(['4317:4317', '4318:4318', '8889:8889']));
  });

  it('names its services and ports as the Collector exporters address them', () => {
    const tempoEndpoint = exportersOf('traces')[0]?.[1]?.endpoint ?? '';
    const [tempoHost, tempoPort] = tempoEndpoint.split(':');
    expect(tempoHost).toBe('tempo');
    const tempo = readYaml<{
      server: { http_listen_port: number };
      distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } };
    }>(resolve(DEPLOY_DIR, 'tempo', 'tempo.yaml'));
    expect(tempo.distributor.receivers.otlp.protocols.grpc.endpoint).toBe(`0.0.0.0:${tempoPort}`);
    expect(services['tempo']?.ports).toContain(`${tempo.server.http_listen_port}:${tempo.server.http_listen_port}`);

    const lokiEndpoint = new URL(exportersOf('logs')[0]?.[1]?.endpoint ?? '');
    expect(lokiEndpoint.hostname).toBe('loki');
    const loki = readYaml<{
      server: { http_listen_port: number };
      limits_config: { allow_structured_metadata: boolean };
    }>(resolve(DEPLOY_DIR, 'loki', 'loki.yaml'));
    expect(lokiEndpoint.port).toBe(String(loki.server.http_listen_port));
    // OTLP ingestion into Loki needs structured metadata.
    expect(loki.limits_config.allow_structured_metadata).toBe(true);
  });
});
