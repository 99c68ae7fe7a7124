import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, TraceFlags, context, metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  componentAvailable,
  startPrometheus,
  type PrometheusInstance,
  type PromSample,
} from '../../../test-support/prometheus.js';
import { startTelemetry, toNodeListener, type RunningTelemetry } from '../src/index.js';

/*
 * A real Prometheus scrapes one process twice: as OpenMetrics (the Accept header Prometheus sends)
 * and, through a path that rewrites that header, in the classic text format. Every value recorded
 * comes back exactly, in both, with label values that need escaping or are not ASCII, lone
 * surrogates, non-finite gauges, histogram buckets on and past their bounds, and resource attributes
 * whose keys are not label names.
 */

const PROVIDERS = {
  quoted: 'acme "quoted" \\ back\\slash',
  unicode: '模型/😀',
  surrogate: 'lone\uD800',
  surrogateToo: 'lone\uDC00',
} as const;
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

/** What Prometheus should hold for each series, by provider label value. */
const COST = {
  [PROVIDERS.quoted]: 0.1 + 0.2,
  [PROVIDERS.unicode]: 1e-9 + 2 ** -20,
  // Both lone surrogates are U+FFFD on the wire: one series, their sum.
  'lone\uFFFD': 5 + 7,
};
const RESPONSE_TIMES = [0.05, 0.05, 0.3, 7, 123.456];
/** Observed outside any span: with the always_on exemplar filter, an exemplar without a trace. */
const UNTRACED_RESPONSE_TIME = 0.2;

/** A number as Prometheus writes it (Go's `ParseFloat` spelling of the infinities). */
function promNumber(text: string): number {
  return text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
}

describe.skipIf(!componentAvailable('prometheus'))('a real Prometheus scraping both exposition formats', () => {
  let otel: RunningTelemetry;
  let server: Server;
  let prometheus: PrometheusInstance;
  const scrapedWith: Record<string, string[]> = { om: [], text: [] };
  /** Per job, each scrape's `Accept-Encoding` and the coding of the answer. */
  const codings: Record<string, string[]> = { om: [], text: [] };
  beforeAll(async () => {
    otel = startTelemetry({
      serviceName: 'exposition-audit',
      traces: false,
      logs: false,
      logStream: null,
      runtimeMetrics: false,
      hostMetrics: false,
      env: {
        OTEL_RESOURCE_ATTRIBUTES: '1zone=eu-1,deployment.env=a,deployment_env=b',
        // Exemplars with and without a trace: both OpenMetrics forms go through Prometheus.
        OTEL_METRICS_EXEMPLAR_FILTER: 'always_on',
      },
    });
    const { telemetry } = otel;
    telemetry.incrementCostByProvider(PROVIDERS.quoted, 0.1);
    telemetry.incrementCostByProvider(PROVIDERS.quoted, 0.2);
    telemetry.incrementCostByProvider(PROVIDERS.unicode, 1e-9);
    telemetry.incrementCostByProvider(PROVIDERS.unicode, 2 ** -20);
    telemetry.incrementCostByProvider(PROVIDERS.surrogate, 5);
    telemetry.incrementCostByProvider(PROVIDERS.surrogateToo, 7);
    telemetry.setProviderHealthScore(PROVIDERS.quoted, 1 / 3);
    const spanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: false };
    context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => {
      for (const seconds of RESPONSE_TIMES) telemetry.recordProviderResponseTime(PROVIDERS.unicode, seconds);
    });
    telemetry.recordProviderResponseTime(PROVIDERS.quoted, UNTRACED_RESPONSE_TIME);
    metrics
      .getMeter('exposition-audit')
      .createObservableGauge('audit.non_finite')
      .addCallback((result) => {
        result.observe(Number.NaN, { kind: 'nan' });
        result.observe(Number.POSITIVE_INFINITY, { kind: 'plus_inf' });
        result.observe(Number.NEGATIVE_INFINITY, { kind: 'minus_inf' });
      });

    const listener = toNodeListener(otel.metricsHandler);
    server = createServer((request, response) => {
      if (request.url?.startsWith('/as-text/') === true) {
        request.url = request.url.slice('/as-text'.length);
        request.headers.accept = 'text/plain;version=0.0.4';
      }
      const job = request.url === '/metrics' && request.headers.accept?.includes('openmetrics') ? 'om' : 'text';
      scrapedWith[job]!.push(request.headers.accept ?? '');
      // writeHead's headers are not readable back through getHeader(): look at them on the way out.
      const writeHead = response.writeHead.bind(response) as (status: number, headers: object) => typeof response;
      response.writeHead = ((status: number, headers: Record<string, string>) => {
        codings[job]!.push(
          `${request.headers['accept-encoding'] ?? ''} → ${headers['content-encoding'] ?? 'identity'}`,
        );
        return writeHead(status, headers);
      }) as typeof response.writeHead;
      listener(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    prometheus = await startPrometheus({
      targets: [
        { job: 'om', url: `${base}/metrics` },
        { job: 'text', url: `${base}/as-text/metrics` },
      ],
      extraArgs: ['--enable-feature=exemplar-storage'],
    });
    await prometheus.waitForQuery('up == 1', (samples) => samples.length === 2, 30_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => server?.close(resolve));
    await otel?.shutdown();
  });

  /** The samples of `metric` scraped by `job` (of one provider, if given), keyed by a label, as numbers. */
  async function byLabel(metric: string, job: string, label: string, provider?: string): Promise<Map<string, number>> {
    const samples: PromSample[] = await prometheus.query(`${metric}{job="${job}"}`);
    return new Map(
      samples
        .filter((sample) => provider === undefined || sample.metric['provider'] === provider)
        .map((sample) => [sample.metric[label] ?? '', promNumber(sample.value[1])]),
    );
  }

  it.each(['om', 'text'])('scrapes the %s target without errors', async (job) => {
    const target = (await prometheus.targets()).activeTargets.find((candidate) => candidate.scrapePool === job);
    expect(target?.health).toBe('up');
    expect(target?.lastError).toBe('');
    expect(scrapedWith[job]!.length).toBeGreaterThan(0);
    // Prometheus asks for gzip and gets it: every value below was read from a gzipped body.
    expect(new Set(codings[job])).toEqual(new Set(['gzip → gzip']));
  });

  it.each(['om', 'text'])(
    '%s: counters and gauges hold exactly what was recorded, label values intact',
    async (job) => {
      const cost = await byLabel('gatewayz_cost_by_provider_total', job, 'provider');
      expect(Object.fromEntries(cost)).toEqual(COST);
      const score = await byLabel('gatewayz_provider_health_score', job, 'provider');
      expect(Object.fromEntries(score)).toEqual({ [PROVIDERS.quoted]: 1 / 3 });
      const nonFinite = await byLabel('audit_non_finite', job, 'kind');
      expect(Number.isNaN(nonFinite.get('nan'))).toBe(true);
      expect(nonFinite.get('plus_inf')).toBe(Number.POSITIVE_INFINITY);
      expect(nonFinite.get('minus_inf')).toBe(Number.NEGATIVE_INFINITY);
    },
  );

  it.each(['om', 'text'])('%s: histogram buckets are cumulative, +Inf equals _count, _sum exact', async (job) => {
    const buckets = await byLabel('provider_response_time_seconds_bucket', job, 'le', PROVIDERS.unicode);
    expect(buckets.size).toBeGreaterThan(5);
    for (const [le, cumulative] of buckets) {
      expect(cumulative).toBe(RESPONSE_TIMES.filter((seconds) => seconds <= promNumber(le)).length);
    }
    expect(buckets.get('+Inf')).toBe(RESPONSE_TIMES.length);
    const count = await byLabel('provider_response_time_seconds_count', job, 'provider');
    expect(count.get(PROVIDERS.unicode)).toBe(RESPONSE_TIMES.length);
    const sum = await byLabel('provider_response_time_seconds_sum', job, 'provider');
    expect(sum.get(PROVIDERS.unicode)).toBe(RESPONSE_TIMES.reduce((total, seconds) => total + seconds, 0));
  });

  it('keeps exemplars from the OpenMetrics scrape only, with the trace (or none, outside a span) and a value inside its bucket', async () => {
    const now = Date.now() / 1000;
    const exemplarsOf = async (
      job: string,
    ): Promise<Array<{ provider: string; le: string; labels: Record<string, string>; value: number }>> => {
      const response = await fetch(
        `${prometheus.url}/api/v1/query_exemplars?query=${encodeURIComponent(`provider_response_time_seconds_bucket{job="${job}"}`)}&start=${now - 600}&end=${now + 60}`,
      );
      const body = (await response.json()) as {
        data: Array<{
          seriesLabels: Record<string, string>;
          exemplars: Array<{ labels: Record<string, string>; value: string }>;
        }>;
      };
      return body.data.flatMap((series) =>
        series.exemplars.map((exemplar) => ({
          provider: series.seriesLabels['provider'] ?? '',
          le: series.seriesLabels['le'] ?? '',
          labels: exemplar.labels,
          value: Number(exemplar.value),
        })),
      );
    };
    const all = await exemplarsOf('om');
    // The observation made outside any span: its bucket's exemplar has an empty label set.
    expect(all.filter((exemplar) => exemplar.provider === PROVIDERS.quoted)).toEqual([
      { provider: PROVIDERS.quoted, le: '0.25', labels: {}, value: UNTRACED_RESPONSE_TIME },
    ]);
    const found = all.filter((exemplar) => exemplar.provider === PROVIDERS.unicode);
    const bounds = [...(await byLabel('provider_response_time_seconds_bucket', 'om', 'le', PROVIDERS.unicode)).keys()]
      .map(promNumber)
      .sort((left, right) => left - right);
    // One per bucket that had an observation: 0.05 (twice, newest wins), 0.3, 7 and 123.456.
    expect(found).toHaveLength(4);
    for (const exemplar of found) {
      expect(exemplar.labels).toEqual({ trace_id: TRACE_ID, span_id: SPAN_ID });
      expect(RESPONSE_TIMES).toContain(exemplar.value);
      const upper = promNumber(exemplar.le);
      const lower = bounds.filter((bound) => bound < upper).at(-1) ?? -Infinity;
      expect(exemplar.value).toBeLessThanOrEqual(upper);
      expect(exemplar.value).toBeGreaterThan(lower);
    }
    expect(await exemplarsOf('text')).toEqual([]);
  });

  it.each(['om', 'text'])('%s: target_info carries resource attributes under valid label names', async (job) => {
    const [info] = await prometheus.query(`target_info{job="${job}"}`);
    expect(info?.metric).toMatchObject({ _1zone: 'eu-1', deployment_env: 'a;b', service_name: 'exposition-audit' });
  });
});
