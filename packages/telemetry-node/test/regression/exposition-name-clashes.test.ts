import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { GatewayTelemetry, peekTelemetry, setTelemetry } from '@gatewayz/telemetry';
import {
  createMetricsHandler,
  serializeOpenMetrics,
  serializePrometheus,
  type ExpositionDrop,
} from '../../src/index.js';
import { componentAvailable, promtoolCheckMetrics } from '../../../../test-support/prometheus.js';

/*
 * Names an application could break the scrape with through its own SDK instruments (the exposition
 * audit's "noticed and left alone"):
 * - a histogram attribute named `le`: a repeated `le` label, Prometheus refused the whole scrape;
 * - two instruments of different scopes with one sanitised name: the classic format wrote the family
 *   twice (invalid), OpenMetrics silently kept only the first scope's;
 * - a gauge `<counter>_created` beside a counter: two families writing one sample name in OpenMetrics.
 */

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function collect(record: (provider: MeterProvider) => void): Promise<ResourceMetrics> {
  const reader = new PullReader();
  const provider = new MeterProvider({
    readers: [reader],
    resource: resourceFromAttributes({ 'service.name': 'clashes' }),
  });
  record(provider);
  return (await reader.collect()).resourceMetrics;
}

const silentLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} };

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

async function expectPromtoolClean(text: string): Promise<void> {
  if (!componentAvailable('promtool')) return;
  const result = await promtoolCheckMetrics(text);
  expect(result.problems).toEqual([]);
  expect(result.exitCode).toBe(0);
}

describe('attributes named le or quantile (reserved label names)', () => {
  const record = (provider: MeterProvider): void => {
    const histogram = provider
      .getMeter('app')
      .createHistogram('app.wait', { advice: { explicitBucketBoundaries: [1, 5] } });
    histogram.record(0.5, { le: 'gold', route: '/a' });
    histogram.record(3, { le: 'gold', route: '/a' });
    // `_le` already taken by the application: both values, joined as colliding keys are.
    histogram.record(7, { le: 'x', _le: 'y' });
    provider.getMeter('app').createCounter('app.tiers').add(2, { le: 'gold' });
    provider.getMeter('app').createGauge('app.p99').record(0.25, { quantile: '0.99' });
  };

  it('are written as _le and _quantile, in both formats; promtool is clean', async () => {
    const resourceMetrics = await collect(record);
    const text = serializePrometheus(resourceMetrics);
    expect(lines(text, 'app_wait_bucket{_le="gold",route="/a"')).toEqual([
      'app_wait_bucket{_le="gold",route="/a",le="1"} 1',
      'app_wait_bucket{_le="gold",route="/a",le="5"} 2',
      'app_wait_bucket{_le="gold",route="/a",le="+Inf"} 2',
    ]);
    expect(lines(text, 'app_wait_count{_le="y;x"}')).toEqual(['app_wait_count{_le="y;x"} 1']);
    // promtool flags le and quantile on any other type too: one rule for every series.
    expect(lines(text, 'app_tiers_total')).toEqual(['app_tiers_total{_le="gold"} 2']);
    expect(lines(text, 'app_p99')).toEqual(['app_p99{_quantile="0.99"} 0.25']);
    await expectPromtoolClean(text);
    const openMetrics = serializeOpenMetrics(resourceMetrics);
    expect(lines(openMetrics, 'app_wait_bucket{_le="gold",route="/a",le="5.0"}')).toEqual([
      'app_wait_bucket{_le="gold",route="/a",le="5.0"} 2',
    ]);
    expect(openMetrics).not.toMatch(/[{,]le="[^"]*",.*[{,]le="/);
  });
});

describe('instruments of different scopes with one sanitised name', () => {
  const record = (provider: MeterProvider): void => {
    provider.getMeter('lib-a', '1.0.0').createCounter('app.jobs', { description: 'Jobs (a)' }).add(3, { kind: 'a' });
    provider.getMeter('lib-b').createCounter('app_jobs', { description: 'Jobs (b)' }).add(4, { kind: 'b' });
    // Same label set in both scopes: one series can be written once; the second is reported.
    provider.getMeter('lib-a', '1.0.0').createCounter('app.runs').add(1, { kind: 'same' });
    provider.getMeter('lib-b').createCounter('app_runs').add(10, { kind: 'same' });
    // Same name, other type: the first family is kept, the other reported.
    provider.getMeter('lib-a', '1.0.0').createHistogram('app.size').record(2);
    provider.getMeter('lib-b').createGauge('app_size').record(9);
  };

  it('are one family when their types agree: one # TYPE, every series (classic and OpenMetrics)', async () => {
    const resourceMetrics = await collect(record);
    const drops: ExpositionDrop[] = [];
    const text = serializePrometheus(resourceMetrics, { onDrop: (drop) => drops.push(drop) });
    expect(lines(text, '# TYPE app_jobs_total')).toEqual(['# TYPE app_jobs_total counter']);
    expect(lines(text, '# HELP app_jobs_total')).toEqual(['# HELP app_jobs_total Jobs (a)']);
    expect(lines(text, 'app_jobs_total{')).toEqual(['app_jobs_total{kind="a"} 3', 'app_jobs_total{kind="b"} 4']);
    expect(lines(text, 'app_runs_total{')).toEqual(['app_runs_total{kind="same"} 1']);
    expect(lines(text, '# TYPE app_size')).toEqual(['# TYPE app_size histogram']);
    expect(lines(text, 'app_size ')).toEqual([]);
    await expectPromtoolClean(text);
    expect(drops).toEqual([
      { reason: 'name_conflict', family: 'app_size', instrument: 'app_size', scope: 'lib-b', format: 'prometheus' },
      {
        reason: 'duplicate_series',
        family: 'app_runs_total',
        instrument: 'app_runs',
        scope: 'lib-b',
        format: 'prometheus',
      },
    ]);

    const openMetricsDrops: ExpositionDrop[] = [];
    const openMetrics = serializeOpenMetrics(resourceMetrics, { onDrop: (drop) => openMetricsDrops.push(drop) });
    expect(lines(openMetrics, '# TYPE app_jobs ')).toEqual(['# TYPE app_jobs counter']);
    expect(lines(openMetrics, 'app_jobs_total{')).toEqual(['app_jobs_total{kind="a"} 3', 'app_jobs_total{kind="b"} 4']);
    expect(openMetricsDrops.map((drop) => `${drop.reason} ${drop.family} ${drop.scope}`)).toEqual([
      'name_conflict app_size lib-b',
      'duplicate_series app_runs lib-b',
    ]);
  });

  it('with scope labels, keeps both series of one label set apart', async () => {
    const resourceMetrics = await collect(record);
    const drops: ExpositionDrop[] = [];
    const text = serializePrometheus(resourceMetrics, { withScopeInfo: true, onDrop: (drop) => drops.push(drop) });
    expect(lines(text, 'app_runs_total{')).toEqual([
      'app_runs_total{kind="same",otel_scope_name="lib-a",otel_scope_version="1.0.0"} 1',
      'app_runs_total{kind="same",otel_scope_name="lib-b"} 10',
    ]);
    expect(drops.map((drop) => drop.reason)).toEqual(['name_conflict']);
    await expectPromtoolClean(text);
  });
});

describe('point attributes named like the scope labels (withScopeInfo)', () => {
  const record = (provider: MeterProvider): void => {
    const meter = provider.getMeter('app', '2.0', { schemaUrl: 'https://example.com/schema' });
    meter.createCounter('hits').add(1, { 'otel.scope.name': 'mine', route: '/a' });
    // Colliding keys of the point are joined first (in key order); `exported_…` taken by the application: prefixed again.
    meter.createCounter('visits').add(2, {
      otel_scope_version: 'x',
      'otel.scope.version': 'y',
      exported_otel_scope_version: 'z',
    });
    // The scope has no such label: nothing to give way to.
    provider.getMeter('plain').createCounter('plain').add(3, { otel_scope_version: '9' });
  };

  it('give way to the scope labels as exported_<name>, in both formats; promtool is clean', async () => {
    const resourceMetrics = await collect(record);
    const text = serializePrometheus(resourceMetrics, { withScopeInfo: true });
    expect(lines(text, 'hits_total{')).toEqual([
      'hits_total{exported_otel_scope_name="mine",route="/a",otel_scope_name="app",otel_scope_schema_url="https://example.com/schema",otel_scope_version="2.0"} 1',
    ]);
    expect(lines(text, 'visits_total{')).toEqual([
      'visits_total{exported_exported_otel_scope_version="y;x",exported_otel_scope_version="z",otel_scope_name="app",otel_scope_schema_url="https://example.com/schema",otel_scope_version="2.0"} 2',
    ]);
    expect(lines(text, 'plain_total{')).toEqual(['plain_total{otel_scope_version="9",otel_scope_name="plain"} 3']);
    await expectPromtoolClean(text);

    const openMetrics = serializeOpenMetrics(resourceMetrics, { withScopeInfo: true });
    expect(lines(openMetrics, 'hits_total{')).toEqual([
      'hits_total{exported_otel_scope_name="mine",route="/a",otel_scope_name="app",otel_scope_version="2.0"} 1',
    ]);
    // OpenMetrics writes no schema URL label: the point keeps nothing it would clash with but the version.
    expect(lines(openMetrics, 'visits_total{')).toEqual([
      'visits_total{exported_exported_otel_scope_version="y;x",exported_otel_scope_version="z",otel_scope_name="app",otel_scope_version="2.0"} 2',
    ]);
    // Without scope labels the attributes are written as they always were.
    expect(lines(serializePrometheus(resourceMetrics), 'hits_total{')).toEqual([
      'hits_total{otel_scope_name="mine",route="/a"} 1',
    ]);
  });
});

describe('a gauge named <counter>_created beside the counter', () => {
  const record = (provider: MeterProvider): void => {
    const meter = provider.getMeter('app');
    meter.createCounter('queue').add(5);
    meter.createGauge('queue_created').record(1700000000);
    meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } }).record(0.5);
    meter.createGauge('wait_count').record(42);
  };

  it('is left out of OpenMetrics only (where the counter writes queue_created), and reported', async () => {
    const resourceMetrics = await collect(record);
    const drops: ExpositionDrop[] = [];
    const openMetrics = serializeOpenMetrics(resourceMetrics, { onDrop: (drop) => drops.push(drop) });
    expect(lines(openMetrics, 'queue_created')).toHaveLength(1);
    expect(lines(openMetrics, '# TYPE queue_created')).toEqual([]);
    expect(lines(openMetrics, 'wait_count')).toEqual(['wait_count 1']);
    expect(drops.map((drop) => `${drop.reason} ${drop.family}`)).toEqual([
      'name_conflict queue_created',
      'name_conflict wait_count',
    ]);

    // The classic format has no _created samples: the gauge is kept there. A histogram's _count is.
    const classicDrops: ExpositionDrop[] = [];
    const text = serializePrometheus(resourceMetrics, { onDrop: (drop) => classicDrops.push(drop) });
    expect(lines(text, 'queue_created')).toEqual(['queue_created 1700000000']);
    expect(lines(text, 'wait_count')).toEqual(['wait_count 1']);
    expect(classicDrops.map((drop) => `${drop.reason} ${drop.family}`)).toEqual(['name_conflict wait_count']);
    await expectPromtoolClean(text);
  });
});

describe('an instrument named like the target info', () => {
  it('is left out and reported: target_info in both formats, target in OpenMetrics (the info family)', async () => {
    const resourceMetrics = await collect((provider) => {
      provider.getMeter('app').createGauge('target_info').record(2);
      provider.getMeter('app').createGauge('target').record(3);
    });
    const drops: ExpositionDrop[] = [];
    const text = serializePrometheus(resourceMetrics, { onDrop: (drop) => drops.push(drop) });
    expect(lines(text, 'target_info')).toEqual(['target_info{service_name="clashes"} 1']);
    expect(lines(text, 'target ')).toEqual(['target 3']);
    await expectPromtoolClean(text);
    const openMetrics = serializeOpenMetrics(resourceMetrics, { onDrop: (drop) => drops.push(drop) });
    expect(lines(openMetrics, 'target')).toEqual(['target_info{service_name="clashes"} 1']);
    expect(drops.map((drop) => `${drop.format} ${drop.family}`)).toEqual([
      'prometheus target_info',
      'openmetrics target_info',
      'openmetrics target',
    ]);
    // Without the target info, the names are free.
    expect(lines(serializePrometheus(resourceMetrics, { withoutTargetInfo: true }), 'target_info')).toEqual([
      'target_info 2',
    ]);
  });
});

describe('the metrics handler reporting what an exposition left out', () => {
  it('warns once per instrument and format and counts it once in telemetry_dropped, however many scrapes', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider: provider });
    const previous = peekTelemetry();
    setTelemetry(telemetry);
    const warnings: string[] = [];
    diag.setLogger(
      { ...silentLogger, warn: (message: string) => void warnings.push(message) } as DiagLogger,
      DiagLogLevel.WARN,
    );
    try {
      provider.getMeter('lib-a').createHistogram('app.size').record(2);
      provider.getMeter('lib-b').createGauge('app_size').record(9);
      const handler = createMetricsHandler({ source: reader });
      for (let scrape = 0; scrape < 3; scrape++) {
        for (const accept of ['text/plain', 'application/openmetrics-text;version=1.0.0']) {
          const response = await handler(new Request('http://gateway.test/metrics', { headers: { accept } }));
          expect(response.status).toBe(200);
          await response.text();
        }
      }
      const conflicts = warnings.filter((message) => message.includes('"app_size" of scope "lib-b"'));
      expect(conflicts).toHaveLength(2);
      expect(conflicts[0]).toContain('left out of the Prometheus text exposition');
      expect(conflicts[1]).toContain('left out of the OpenMetrics exposition');
      const text = await (await handler(new Request('http://gateway.test/metrics'))).text();
      expect(lines(text, 'gatewayz_telemetry_dropped_total{')).toEqual([
        'gatewayz_telemetry_dropped_total{reason="exposition_name_conflict",metric="app_size"} 2',
      ]);
    } finally {
      diag.disable();
      setTelemetry(previous);
    }
  });
});
