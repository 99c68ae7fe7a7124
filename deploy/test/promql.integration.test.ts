/**
 * Every PromQL expression shipped in deploy/ (dashboard targets, dashboard variables, the Tempo
 * datasource's trace-to-metrics queries and every alert rule) runs against a REAL Prometheus that
 * scrapes the example gateway while it serves traffic, and must return at least one finite sample:
 * a renamed metric, a wrong label or a bad `by` clause cannot silently match nothing.
 *
 * Prometheus also loads deploy/prometheus/slo-rules.yml: the error-budget panels read its recording
 * rules, and every SLO recording rule and alert expression is run too.
 *
 * The scenario makes every alert's condition true, so the alert expressions are checked in full:
 * anthropic fails every call (error surge, unhealthy, breaker open), openai answers in 10.5 s
 * (p95 above 10 s), the health service starts failing (down, poll errors), a second replica target
 * is unreachable (target down), and invalid values are recorded (telemetry drops).
 *
 * Counters only show a rate once Prometheus has seen them before an increase, so the test creates
 * every series in a warm-up before the first scrape and sends the traffic after it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitGenAiOperationDetails } from '../../packages/telemetry/src/genai/index.js';
import { AnomalyDetector } from '../../packages/telemetry/src/provider-health/index.js';
import {
  startHealthServicePoller,
  type HealthServicePoller,
} from '../../packages/telemetry-node/src/health-service/index.js';
import { freePort } from '../../test-support/ports.js';
import {
  componentAvailable,
  startPrometheus,
  type PrometheusInstance,
  type PromSample,
} from '../../test-support/prometheus.js';
import { chatBody, startTestGateway, type TestGateway } from '../../examples/gateway/test/harness.js';
import {
  DATASOURCES_FILE,
  dashboardPromQueries,
  labelValuesQuery,
  loadAlertRules,
  loadDashboards,
  loadRecordingRules,
  SLO_RULES_FILE,
  metricNames,
  readYaml,
  substituteGrafanaVariables,
} from './deploy-files.js';

const available = componentAvailable('prometheus');
/** USD budget of the key the scenario spends 80 % or more of (each call costs well under 5 % of it). */
const BUDGET_NEARLY_SPENT = 0.003;

/** A stand-in for the external health service of seed 004; `failing` switches it to HTTP 500. */
async function startHealthService(): Promise<{ url: string; fail(): void; close(): Promise<void> }> {
  let failing = false;
  const bodies: Record<string, unknown> = {
    '/health': { status: 'healthy', monitoring_active: true },
    '/status': {
      tracked_models: 50,
      tracked_providers: 16,
      tracked_gateways: 8,
      active_incidents: 2,
      status_distribution: { healthy: 14, degraded: 1, down: 1 },
    },
    '/metrics': { total_checks: 1200 },
    '/cache/stats': { redis: { available: true }, system_health: { available: true } },
  };
  const server: Server = createServer((request, response) => {
    const body = bodies[new URL(request.url ?? '/', 'http://localhost').pathname];
    const status = failing ? 500 : body === undefined ? 404 : 200;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(status === 200 ? body : { error: 'unavailable' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: () => {
      failing = true;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A hand-driven clock for the anomaly detector: minutes of simulated traffic take no time. */
class SimulatedClock {
  time = Date.now();
  now(): number {
    return this.time;
  }
}

/** One latency spike with an error surge: 6 normal minutes, then 2 bad ones, then 10 quiet ones. */
function anomalyEpisode(detector: AnomalyDetector, clock: SimulatedClock): void {
  const call = (latencySeconds: number, success: boolean): void => {
    clock.time += 5_000;
    detector.observe({ provider: 'openai', latencySeconds, success });
  };
  for (let index = 0; index < 72; index++) call(1, true);
  for (let index = 0; index < 24; index++) call(6, index % 2 === 0);
  for (let index = 0; index < 120; index++) call(1, true);
}

const finite = (samples: PromSample[]): PromSample[] =>
  samples.filter((sample) => Number.isFinite(Number(sample.value[1])));

describe.skipIf(!available)('deploy/ PromQL against a real Prometheus scraping the example gateway', () => {
  let gw: TestGateway;
  let prometheus: PrometheusInstance;
  let healthService: Awaited<ReturnType<typeof startHealthService>>;
  let poller: HealthServicePoller;
  const spans = new InMemorySpanExporter();

  beforeAll(async () => {
    healthService = await startHealthService();
    gw = await startTestGateway({
      // The breaker opens only after the first scrapes, so failures keep reaching anthropic for a while.
      env: { BREAKER_VOLUME_THRESHOLD: '6', ATTEMPT_TIMEOUT_MS: '30000', MODEL_HEALTH_FLUSH_INTERVAL_MS: '200' },
      spanProcessors: [new SimpleSpanProcessor(spans)],
      // Keys optional (the traffic below is anonymous), two of them with budgets to spend.
      apiKeys: {
        keys: [
          { name: 'team-nearly-spent', key: 'key-nearly-spent', plan: 'paid', budgetUsd: BUDGET_NEARLY_SPENT },
          { name: 'trial-spent', key: 'key-spent', plan: 'trial', budgetUsd: 0.08 },
        ],
        required: false,
      },
    });
    const app = gw.otel.telemetry;
    poller = startHealthServicePoller({ url: healthService.url, intervalMs: 200, timeoutMs: 1_000, telemetry: app });
    const anomalyClock = new SimulatedClock();
    const detector = new AnomalyDetector({
      telemetry: app,
      clock: anomalyClock,
      windowMs: 60_000,
      baselineWindowMs: 300_000,
      latency: { minSamples: 5, minBaselineSamples: 10 },
      errors: { minSamples: 10, minBaselineSamples: 10 },
    });
    gw.provider('anthropic').configure({ errorRate: 1, failureMode: 'error' });
    // Rate-limit headers on every answer (a limit the traffic never reaches), for the headroom panels.
    for (const name of ['openai', 'openrouter']) gw.provider(name).configure({ rateLimitRpm: 100_000 });

    const post = async (
      model: string,
      extra: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ): Promise<number> => {
      const response = await gw.post('/v1/chat/completions', chatBody(model, extra), headers);
      await response.text();
      return response.status;
    };
    let cacheNames = 0;
    /**
     * What the example gateway does not emit itself (it has no response cache or SQL store):
     * recorded here as the embedding application would. The business gauges come from the
     * gateway's API keys.
     */
    const applicationSignals = (): void => {
      app.recordCacheHit('responses');
      app.recordCacheHit('responses');
      app.recordCacheMiss('responses');
      app.recordDatabaseQuery('record_model_calls', 0.004);
      app.recordDatabaseQuery('get_all_model_health', 0.012);
      // Invalid input a buggy caller might send: dropped and counted, never thrown.
      app.recordProviderResponseTime('openai', Number.NaN);
      gw.gateway.recorder.recordModelCall({ provider: '', model: 'gpt-4o', responseTimeMs: 1, status: 'success' });
      // GenAI content the helpers cannot record (not an array): left out, counted.
      emitGenAiOperationDetails(
        { emit: () => {} },
        { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o', inputMessages: 'hi' as never },
      );
      // Unbounded label values run into the series limit and fold into "other".
      const names = cacheNames === 0 ? app.maxSeriesPerMetric + 5 : 5;
      for (let index = 0; index < names; index++) app.recordCacheHit(`tenant-cache-${cacheNames++}`);
    };
    let longPrompts = 0;
    const gatewayTraffic = async (): Promise<void> => {
      await Promise.all([
        // A new long prompt each time: a prompt-cache write (claude models), priced at the write price.
        post('claude-3-5-haiku', {
          messages: [
            { role: 'system', content: `Runbook ${longPrompts++}: ${'check the provider health first. '.repeat(140)}` },
            { role: 'user', content: 'What next?' },
          ],
        }),
        post('claude-3-5-haiku'), // anthropic fails, openrouter answers (openrouter first once anthropic's score drops)
        post('claude-3-5-sonnet'), // only anthropic serves it: 502, then 503 once its breaker is open
        post('claude-3-5-sonnet'),
        post('claude-3-5-sonnet'),
        post('llama-3.1-8b-instruct', { stream: true, stream_options: { include_usage: true } }),
        post('llama-3.1-8b-instruct'),
      ]);
      await gw.gateway.recorder.flush();
      await gw.gateway.tracker.tick();
    };

    // 1. Warm-up: every series exists before Prometheus first scrapes.
    expect(await post('gpt-4o')).toBe(200);
    // One key spends 80 % or more of its budget but not all of it, another all of it (budget alerts).
    const [nearly, spent] = gw.gateway.apiKeys.accounts();
    // A stream its client leaves midway: charged the most it can have cost, as estimated spend.
    gw.provider('openai').configure({ chunkDelayMs: 200 });
    const leaving = new AbortController();
    const leftStream = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer key-nearly-spent' },
      body: JSON.stringify(chatBody('gpt-4o', { stream: true, max_tokens: 16 })),
      signal: leaving.signal,
    });
    await leftStream.body?.getReader().read();
    leaving.abort();
    for (let wait = 0; wait < 100 && (nearly?.holdCount ?? 0) > 0; wait++) await sleep(20);
    expect(nearly?.spentUsd).toBeGreaterThan(0);
    gw.provider('openai').configure({ chunkDelayMs: 0 });
    // Requests hold what they may cost (their max_tokens) against the budget until they finish.
    while ((nearly?.spentUsd ?? 1) < 0.8 * BUDGET_NEARLY_SPENT)
      expect(await post('gpt-4o', { max_tokens: 16 }, { authorization: 'Bearer key-nearly-spent' })).toBe(200);
    expect(nearly?.exhausted).toBe(false);
    // Two images of 0.04 USD spend 0.08 USD exactly (a request that would not fit is refused, so a
    // budget is spent to its last cent only by requests whose cost is known in advance).
    for (let image = 0; image < 2; image++) {
      const response = await gw.post(
        '/v1/images/generations',
        { model: 'gpt-image-1', prompt: 'a lighthouse' },
        { authorization: 'Bearer key-spent' },
      );
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(spent?.exhausted).toBe(true);
    expect(await post('gpt-4o-mini', {}, { authorization: 'Bearer key-spent' })).toBe(429);
    // A reasoning model: reasoning tokens (openai answers at once during the warm-up).
    expect(await post('o4-mini')).toBe(200);
    await gatewayTraffic();
    applicationSignals();
    anomalyEpisode(detector, anomalyClock);
    for (let attempt = 0; attempt < 50 && poller.lastPoll()?.ok !== true; attempt++) await sleep(50);
    expect(poller.lastPoll()?.ok).toBe(true);

    const deadPort = await freePort();
    prometheus = await startPrometheus({
      targets: [
        { job: 'gatewayz', url: `${gw.url}/metrics` },
        // A second gateway replica that is down; labelled like the first, as in prometheus.yml.
        { job: 'gatewayz-replica-2', url: `http://127.0.0.1:${deadPort}/metrics`, labels: { job: 'gatewayz' } },
      ],
      scrapeIntervalSeconds: 1,
      extraArgs: ['--enable-feature=exemplar-storage'],
      // The SLO recording rules feed the error-budget panels; their alerts are checked below too.
      ruleFiles: [SLO_RULES_FILE],
    });
    await prometheus.waitForQuery('up{job="gatewayz"} == 1', (result) => result.length === 1, 30_000);
    await prometheus.waitForQuery('gatewayz_circuit_breaker_state', (result) => result.length > 0, 10_000);

    // 2. Traffic after the first scrape.
    gw.provider('openai').configure({ latencyMs: 10_500 });
    const slowCalls = Promise.all([post('gpt-4o'), post('gpt-4o'), post('gpt-4o')]);
    for (let wave = 0; wave < 4; wave++) {
      await gatewayTraffic();
      applicationSignals();
      if (wave === 0) healthService.fail();
      if (wave === 1) anomalyEpisode(detector, anomalyClock);
      await sleep(1_200);
    }
    expect(await slowCalls).toEqual([200, 200, 200]);
    gw.provider('openai').configure({ latencyMs: 0 });
    await gatewayTraffic();
    applicationSignals();
    await prometheus.waitForQuery(
      'histogram_quantile(0.95, sum by (provider, le) (rate(provider_response_time_seconds_bucket{provider="openai"}[1m]))) > 10',
      (result) => result.length === 1,
      15_000,
    );
    // anthropic's failures after the first scrape are in Prometheus (the SLO and Tempo error-rate
    // queries need an increase; on a loaded machine a scrape can time out and come later).
    await prometheus.waitForQuery(
      'sum(increase(model_inference_requests_total{provider="anthropic"}[5m])) > 0',
      (result) => result.length === 1,
      30_000,
    );
    await prometheus.waitForQuery(
      'increase(gatewayz_health_service_scrape_errors_total[1m]) > 3',
      (result) => result.length === 1,
      15_000,
    );
  }, 120_000);

  afterAll(async () => {
    await poller?.stop();
    await prometheus?.stop();
    await gw?.close();
    await healthService?.close();
  });

  /** Query until the expression returns a finite sample (scrapes arrive every second). */
  const expectData = async (expr: string, where: string): Promise<PromSample[]> => {
    try {
      return await prometheus.waitForQuery(expr, (result) => finite(result).length > 0, 5_000);
    } catch (error) {
      throw new Error(
        `${where}: ${expr}\nreturned no finite sample.\n${(error as Error).message.split('\n').slice(0, 3).join('\n')}`,
      );
    }
  };

  it('scrapes the gateway, and sees the unreachable replica as down', async () => {
    const up = await prometheus.query('up{job="gatewayz"}');
    expect(up.map((sample) => Number(sample.value[1])).sort()).toEqual([0, 1]);
  });

  it('sees every token type the cost and model panels break out', async () => {
    for (const tokenType of ['input', 'output', 'cache_read', 'cache_write', 'reasoning']) {
      await expectData(`sum(tokens_used_total{token_type="${tokenType}"}) > 0`, `token_type=${tokenType}`);
    }
  });

  const queries = dashboardPromQueries();
  const variablesByFile = Object.fromEntries(
    loadDashboards().map(({ file, dashboard }) => [file, dashboard.templating.list.map((variable) => variable.name)]),
  );

  it.each(queries.map((query) => [`${query.file} / ${query.panel} / ${query.refId}`, query] as const))(
    'dashboard query %s returns data',
    async (where, query) => {
      await expectData(substituteGrafanaVariables(query.expr, variablesByFile[query.file]), where);
    },
  );

  it.each(
    loadDashboards().flatMap(({ file, dashboard }) =>
      dashboard.templating.list.flatMap((variable) => {
        const labelValues = labelValuesQuery(variable);
        return labelValues === undefined ? [] : [[`${file} $${variable.name}`, labelValues] as const];
      }),
    ),
  )('dashboard variable %s has values', async (where, { metric, label }) => {
    const result = await expectData(`group by (${label}) (${metric})`, where);
    expect(result.every((sample) => (sample.metric[label] ?? '') !== '')).toBe(true);
  });

  it.each(loadAlertRules().map((rule) => [rule.alert, rule.expr] as const))(
    'alert %s: its expression matches the live series',
    async (name, expr) => {
      // The scenario makes every alert condition true, so the full expression (threshold included) returns data.
      await expectData(expr, `alert ${name}`);
    },
  );

  it.each(loadRecordingRules().map((rule) => [rule.record, rule.expr] as const))(
    'SLO recording rule %s records live series',
    async (record) => {
      await expectData(record, `recording rule ${record}`);
    },
  );

  it.each(loadAlertRules(SLO_RULES_FILE).map((rule) => [rule.alert, rule.expr] as const))(
    'SLO alert %s: its expression matches the live series',
    async (name, expr) => {
      // anthropic fails every call and gpt-4o answers in 10.5 s: every burn rate is far above its threshold.
      await expectData(expr, `alert ${name}`);
    },
  );

  it('runs the Tempo datasource trace-to-metrics queries', async () => {
    const datasources = readYaml<{
      datasources: Array<{
        uid: string;
        jsonData?: { tracesToMetrics?: { queries: Array<{ name: string; query: string }> } };
      }>;
    }>(DATASOURCES_FILE).datasources;
    const traceQueries =
      datasources.find((datasource) => datasource.uid === 'tempo')?.jsonData?.tracesToMetrics?.queries ?? [];
    expect(traceQueries.length).toBeGreaterThan(0);
    for (const { name, query } of traceQueries) {
      // Grafana replaces $__tags with the span's mapped attributes (gen_ai.provider.name -> provider).
      await expectData(
        query.replaceAll('$$__tags', 'provider="anthropic"').replaceAll('$__tags', 'provider="anthropic"'),
        `Tempo query ${name}`,
      );
    }
  });

  it('finds every metric name the dashboards and alerts use among the scraped series', async () => {
    const names = new Set<string>();
    for (const query of queries)
      for (const name of metricNames(substituteGrafanaVariables(query.expr, variablesByFile[query.file])))
        names.add(name);
    for (const rule of loadAlertRules()) for (const name of metricNames(rule.expr)) names.add(name);
    const result = await prometheus.query(`count by (__name__) ({__name__=~"${[...names].join('|')}"})`);
    const present = new Set(result.map((sample) => sample.metric['__name__']));
    expect(
      [...names]
        .filter((name) => !present.has(name))
        .sort()
        .join(', '),
      'metric names without series',
    ).toBe('');
  });

  it('stores trace exemplars behind the latency panels, pointing at exported spans', async () => {
    const traceIds = new Set(spans.getFinishedSpans().map((span) => span.spanContext().traceId));
    const latencyQuery = queries.find((query) => query.file === 'provider-health.json' && query.exemplar);
    expect(latencyQuery).toBeDefined();
    const expr = substituteGrafanaVariables(latencyQuery?.expr ?? '', variablesByFile['provider-health.json']);
    const end = Date.now() / 1000;
    const response = await fetch(
      `${prometheus.url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${end - 300}&end=${end}`,
    );
    const body = (await response.json()) as {
      status: string;
      data: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string> }> }>;
    };
    expect(body.status).toBe('success');
    const exemplars = body.data.flatMap((series) => series.exemplars);
    expect(exemplars.length).toBeGreaterThan(0);
    const linked = exemplars.filter((exemplar) => traceIds.has(exemplar.labels['trace_id'] ?? ''));
    expect(linked.length, 'exemplar trace ids should be ids of spans the gateway exported').toBeGreaterThan(0);
  });
});
