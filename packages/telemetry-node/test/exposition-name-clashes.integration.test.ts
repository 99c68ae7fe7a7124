import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentAvailable, startPrometheus, type PrometheusInstance } from '../../../test-support/prometheus.js';
import { startTelemetry, toNodeListener, type RunningTelemetry } from '../src/index.js';

/*
 * A real Prometheus scrapes, in both formats, an application whose own instruments used to break the
 * scrape or lose data silently: a histogram attribute `le`, one sanitised name in two scopes (same
 * type: merged; same series: one kept; other type: one kept), a gauge `<counter>_created`, a gauge
 * `<histogram>_count`. Both targets are up, every value kept is exact, and each instrument left out
 * is counted once in gatewayz_telemetry_dropped_total.
 */

describe.skipIf(!componentAvailable('prometheus'))('a real Prometheus scraping clashing application names', () => {
  let otel: RunningTelemetry;
  let server: Server;
  let prometheus: PrometheusInstance;

  beforeAll(async () => {
    otel = startTelemetry({
      serviceName: 'name-clashes',
      traces: false,
      logs: false,
      logStream: null,
      runtimeMetrics: false,
      hostMetrics: false,
      env: {},
    });
    const libA = metrics.getMeter('lib-a', '1.0.0');
    const libB = metrics.getMeter('lib-b');
    const wait = libA.createHistogram('app.wait', { advice: { explicitBucketBoundaries: [1, 5] } });
    wait.record(0.5, { le: 'gold' });
    wait.record(3, { le: 'gold' });
    libA.createCounter('app.jobs').add(3, { kind: 'a' });
    libB.createCounter('app_jobs').add(4, { kind: 'b' });
    libA.createCounter('app.runs').add(1, { kind: 'same' });
    libB.createCounter('app_runs').add(10, { kind: 'same' });
    libA.createHistogram('app.size').record(2);
    libB.createGauge('app_size').record(9);
    libA.createCounter('queue').add(5);
    libA.createGauge('queue_created').record(1_700_000_000);
    libA.createHistogram('lag', { advice: { explicitBucketBoundaries: [1] } }).record(0.5);
    libB.createGauge('lag_count').record(42);

    const listener = toNodeListener(otel.metricsHandler);
    server = createServer((request, response) => {
      if (request.url?.startsWith('/as-text/') === true) {
        request.url = request.url.slice('/as-text'.length);
        request.headers.accept = 'text/plain;version=0.0.4';
      }
      listener(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    prometheus = await startPrometheus({
      targets: [
        { job: 'om', url: `${base}/metrics` },
        { job: 'text', url: `${base}/as-text/metrics` },
      ],
    });
    await prometheus.waitForQuery('up == 1', (samples) => samples.length === 2, 30_000);
    // Drops are counted while a scrape is written, so the count shows from the next scrape on.
    await prometheus.waitForQuery(
      'sum(gatewayz_telemetry_dropped_total{job="om"})',
      (samples) => Number(samples[0]?.value[1] ?? 0) >= 7,
      30_000,
    );
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => server?.close(resolve));
    await otel?.shutdown();
  });

  async function values(promql: string): Promise<Record<string, number>> {
    const samples = await prometheus.query(promql);
    return Object.fromEntries(
      samples.map((sample) => [
        Object.entries(sample.metric)
          .filter(([name]) => !['job', 'instance', '__name__'].includes(name))
          .map(([name, value]) => `${name}=${value}`)
          .join(','),
        Number(sample.value[1]),
      ]),
    );
  }

  it.each(['om', 'text'])('scrapes the %s target without errors', async (job) => {
    const target = (await prometheus.targets()).activeTargets.find((candidate) => candidate.scrapePool === job);
    expect(target?.health).toBe('up');
    expect(target?.lastError).toBe('');
  });

  it.each(['om', 'text'])('%s: a histogram attribute le is kept as _le, buckets exact', async (job) => {
    expect(await values(`app_wait_count{job="${job}"}`)).toEqual({ '_le=gold': 2 });
    expect(await values(`app_wait_sum{job="${job}"}`)).toEqual({ '_le=gold': 3.5 });
    const buckets = await values(`app_wait_bucket{job="${job}"}`);
    expect(Object.values(buckets).sort()).toEqual([1, 2, 2]);
  });

  it.each(['om', 'text'])('%s: one name in two scopes is one family with every series', async (job) => {
    expect(await values(`app_jobs_total{job="${job}"}`)).toEqual({ 'kind=a': 3, 'kind=b': 4 });
    // The same series from two scopes: the first kept, the second counted below.
    expect(await values(`app_runs_total{job="${job}"}`)).toEqual({ 'kind=same': 1 });
    // A histogram and a gauge of one name: the first (the histogram) kept.
    expect(await values(`app_size_count{job="${job}"}`)).toEqual({ '': 1 });
    expect(await values(`app_size{job="${job}"}`)).toEqual({});
    expect(await values(`queue_total{job="${job}"}`)).toEqual({ '': 5 });
    expect(await values(`lag_count{job="${job}"}`)).toEqual({ '': 1 });
  });

  it('keeps a gauge <counter>_created in the classic format, where nothing else writes that name', async () => {
    expect(await values('queue_created{job="text"}')).toEqual({ '': 1_700_000_000 });
  });

  it('counts each instrument left out once per format in gatewayz_telemetry_dropped_total', async () => {
    const dropped = await values('gatewayz_telemetry_dropped_total{job="om"}');
    expect(dropped).toEqual({
      // app_size in both formats; queue_created (OpenMetrics only); lag_count in both.
      'metric=app_size,reason=exposition_name_conflict': 2,
      'metric=queue_created,reason=exposition_name_conflict': 1,
      'metric=lag_count,reason=exposition_name_conflict': 2,
      'metric=app_runs,reason=exposition_duplicate_series': 1,
      'metric=app_runs_total,reason=exposition_duplicate_series': 1,
    });
  });
});
