/**
 * Many replicas, proven (issue 16, item 3): three example gateway processes share ONE model-health
 * store (real PostgreSQL + PostgREST) and are scraped by ONE real Prometheus, as
 * docs/deployment.md ("Many replicas") describes a production deployment.
 *
 * - Every request the clients sent is counted exactly once, per replica and in `sum(...)`.
 * - Prometheus sees three `up` targets under one job, with one `instance` per replica.
 * - Every replica's provider health tracker reads the shared store, so all three report the same
 *   `gatewayz_provider_health_score` per provider, including a provider only the store knows about
 *   (its calls are written straight into the database, as a fourth replica would).
 * - Every dashboard and alert expression shipped in deploy/ evaluates over the three replicas'
 *   series, dashboards aggregate the `instance` label away (unless they group by it), and every
 *   dashboard query that is one `sum` equals, at the same evaluation time, the sum of the same
 *   query taken per instance.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIGRATIONS, migrationPath } from '@gatewayz/telemetry-supabase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dashboardPromQueries,
  loadAlertRules,
  loadDashboards,
  metricNames,
  substituteGrafanaVariables,
} from '../../../deploy/test/deploy-files.js';
import { startSupabaseStack, supabaseStackAvailable, type SupabaseTestStack } from '../../../test-support/postgres.js';
import {
  componentAvailable,
  startPrometheus,
  type PrometheusInstance,
  type PromSample,
} from '../../../test-support/prometheus.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { chatBody, sampleSum } from './harness.js';

// Both checks run (no short-circuit): under CI=true either one throws when its component is missing.
const prometheusInstalled = componentAvailable('prometheus');
const stackInstalled = supabaseStackAvailable();

const REPLICAS = 3;
const JOB = 'gatewayz';
const TRACKER_INTERVAL_MS = 200;
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku', 'claude-3-5-sonnet', 'llama-3.1-8b-instruct'];

/**
 * A provider none of the replicas calls: its record is written into the shared store directly.
 * 20 calls, 2 successes, 9 s mean: availability 1, error rate 0.9, latency score (10 - 9) / 8,
 * so every replica must report 0.4 + 0.3 * 0.1 + 0.3 * 0.125 = 0.4675 (and alert on it: < 0.5).
 */
const STORE_ONLY = { provider: 'legacy-upstream', model: 'legacy-model', calls: 20, successes: 2, meanMs: 9_000 };
const STORE_ONLY_SCORE = 0.4675;

interface ClientRequest {
  replica: number;
  path: '/v1/chat/completions' | '/v1/messages';
  body: Record<string, unknown>;
}

/** `count` requests spread round-robin over the replicas: every model, a quarter streamed, some Anthropic-shaped. */
function requestPlan(count: number, offset = 0): ClientRequest[] {
  return Array.from({ length: count }, (_, index) => {
    const n = index + offset;
    const model = MODELS[n % MODELS.length] as string;
    const stream = n % 4 === 1;
    if (n % 7 === 3 && model.startsWith('claude')) {
      return {
        replica: n % REPLICAS,
        path: '/v1/messages',
        body: { model, max_tokens: 64, stream, messages: [{ role: 'user', content: 'hi' }] },
      };
    }
    return {
      replica: n % REPLICAS,
      path: '/v1/chat/completions',
      body: chatBody(model, stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  });
}

/** Send the plan, six at a time; resolves with the number of 200 answers. */
async function send(replicas: readonly GatewayProcess[], plan: readonly ClientRequest[]): Promise<number> {
  let ok = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < plan.length) {
        const request = plan[next++] as ClientRequest;
        const response = await fetch(`${(replicas[request.replica] as GatewayProcess).url}${request.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request.body),
        });
        await response.text();
        if (response.status === 200) ok++;
      }
    }),
  );
  return ok;
}

/** Provider attempts one replica counted in its own `/metrics`. */
async function attemptsOf(replica: GatewayProcess): Promise<{ all: number; success: number }> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  return {
    all: sampleSum(text, 'model_inference_requests_total'),
    success: sampleSum(text, 'model_inference_requests_total', { status: 'success' }),
  };
}

/** Poll `read` until two reads 300 ms apart agree (streams record their attempt when they end). */
async function settled<T>(read: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(await read());
  for (;;) {
    await sleep(300);
    const value = await read();
    const text = JSON.stringify(value);
    if (text === last) return value;
    if (Date.now() > deadline) throw new Error(`value did not settle within ${timeoutMs} ms: ${text}`);
    last = text;
  }
}

const INNER_AGGREGATION =
  /\b(?:sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/;

const num = (sample: PromSample | undefined): number => Number(sample?.value[1]);
const closeTo = (actual: number, expected: number): boolean =>
  Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));

/**
 * A dashboard query that is one `sum` (optionally `by (...)`, optionally times a constant), split
 * into its grouping labels, its argument and the constant; undefined for anything else.
 */
function singleSum(expr: string): { by: string[]; inner: string; factor: string } | undefined {
  const head = /^sum\s*(?:by\s*\(([^)]*)\)\s*)?\(/.exec(expr.trim());
  if (head === null) return undefined;
  const text = expr.trim();
  let depth = 0;
  for (let index = head[0].length - 1; index < text.length; index++) {
    if (text[index] === '(') depth++;
    else if (text[index] === ')' && --depth === 0) {
      const factor = text.slice(index + 1).trim();
      if (factor !== '' && !/^\*\s*[0-9.e+]+$/.test(factor)) return undefined;
      return {
        by: (head[1] ?? '')
          .split(',')
          .map((label) => label.trim())
          .filter(Boolean),
        inner: text.slice(head[0].length, index),
        factor,
      };
    }
  }
  return undefined;
}

describe.skipIf(!prometheusInstalled || !stackInstalled)(
  `${REPLICAS} gateway replicas, one shared model-health store, one Prometheus`,
  () => {
    let stack: SupabaseTestStack;
    const replicas: GatewayProcess[] = [];
    let prometheus: PrometheusInstance;
    let clientRequests = 0;
    let clientSuccesses = 0;
    let perReplica: Array<{ all: number; success: number }> = [];
    let attempts = 0;
    /** One evaluation time for every query of the assertions, after the last relevant scrape. */
    let evalTime = 0;

    /** Instant query at `evalTime` (the harness' `query` evaluates at "now"). */
    const at = async (promql: string): Promise<PromSample[]> => {
      const response = await fetch(
        `${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}&time=${evalTime}`,
        { signal: AbortSignal.timeout(10_000) },
      );
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: unknown };
      };
      if (body.status !== 'success' || body.data === undefined)
        throw new Error(`${promql}: ${body.error ?? response.status}`);
      if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
      return body.data.result as PromSample[];
    };

    const storedCalls = async (): Promise<number> =>
      Number(
        await stack.postgres.psql(
          `select coalesce(sum(call_count), 0) from public.model_health_tracking where provider <> '${STORE_ONLY.provider}'`,
        ),
      );

    beforeAll(async () => {
      const started = Date.now();
      stack = await startSupabaseStack({ migrations: MIGRATIONS.map((name) => migrationPath(name)) });
      const env: Record<string, string> = {
        SUPABASE_URL: stack.url,
        SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
        MODEL_HEALTH_FLUSH_INTERVAL_MS: '100',
        HEALTH_TRACKER_INTERVAL_MS: String(TRACKER_INTERVAL_MS),
        DEMO_LATENCY_MS: '0',
        DEMO_ERROR_RATE: '0',
        DEMO_TRAFFIC_RPS: '0',
      };
      replicas.push(...(await Promise.all(Array.from({ length: REPLICAS }, () => startGatewayProcess(env)))));
      for (const replica of replicas) expect(replica.output()).toContain('"model_health_store":"supabase"');

      // Warm-up before the first scrape: every counter series exists, so rates see the later traffic.
      const warmUp = requestPlan(MODELS.length * REPLICAS * 2);
      clientRequests += warmUp.length;
      clientSuccesses += await send(replicas, warmUp);

      prometheus = await startPrometheus({
        targets: replicas.map((replica, index) => ({
          job: `${JOB}-replica-${index + 1}`,
          url: `${replica.url}/metrics`,
          // One job for all replicas, as deploy/prometheus/prometheus.yml lists them; instance differs.
          labels: { job: JOB },
        })),
        scrapeIntervalSeconds: 1,
      });

      // The store-only provider, written as one batch through the same SQL function the replicas use.
      const entry = {
        provider: STORE_ONLY.provider,
        model: STORE_ONLY.model,
        calls: STORE_ONLY.calls,
        successes: STORE_ONLY.successes,
        errors: STORE_ONLY.calls - STORE_ONLY.successes,
        total_response_time_ms: STORE_ONLY.meanMs * STORE_ONLY.calls,
        last_response_time_ms: STORE_ONLY.meanMs,
        last_status: 'error',
        last_error_message: 'upstream 503',
        last_called_at: new Date().toISOString(),
      };
      await stack.postgres.psql(
        `select public.record_model_calls('${randomUUID()}', '${JSON.stringify([entry])}'::jsonb)`,
      );

      await prometheus.waitForQuery(`count(up{job="${JOB}"} == 1)`, (result) => num(result[0]) === REPLICAS, 20_000);

      // Traffic after the first scrapes, in two waves a scrape apart.
      for (const wave of [0, 1]) {
        const plan = requestPlan(60, 1000 * (wave + 1));
        clientRequests += plan.length;
        clientSuccesses += await send(replicas, plan);
        if (wave === 0) await sleep(1_100);
      }

      // Every attempt the replicas made, from their own /metrics once streams have finished.
      perReplica = await settled(() => Promise.all(replicas.map(attemptsOf)));
      attempts = perReplica.reduce((sum, replica) => sum + replica.all, 0);
      // Every attempt in the shared store (write-behind flushes every 100 ms).
      const deadline = Date.now() + 15_000;
      while ((await storedCalls()) < attempts && Date.now() < deadline) await sleep(100);
      // Two tracker intervals later every replica has ticked over the complete store.
      await sleep(2 * TRACKER_INTERVAL_MS + 200);
      const quiet = Date.now() / 1000;
      // A scrape of every replica that started after all of that.
      await prometheus.waitForQuery(
        `min(timestamp(up{job="${JOB}"})) > ${quiet}`,
        (result) => result.length === 1,
        10_000,
      );
      evalTime = Date.now() / 1000;
      console.info(
        `multi-replica: ${clientRequests} requests, ${attempts} attempts, set-up ${Date.now() - started} ms`,
      );
    }, 90_000);

    afterAll(async () => {
      const codes = await Promise.all(replicas.map((replica) => replica.terminate()));
      await prometheus?.stop();
      await stack?.stop();
      expect(codes).toEqual(replicas.map(() => 0));
    }, 30_000);

    it('counts every request exactly once across the replicas', async () => {
      // Error rate 0: no failed attempt, so no failover, so one attempt per client request.
      expect(clientSuccesses).toBe(clientRequests);
      expect(perReplica.reduce((sum, replica) => sum + replica.success, 0)).toBe(clientRequests);
      expect(attempts).toBe(clientRequests);
      for (const replica of perReplica) expect(replica.all).toBe(clientRequests / REPLICAS);

      expect(num((await at('sum(model_inference_requests_total)'))[0])).toBe(attempts);
      expect(num((await at('sum(model_inference_requests_total{status="success"})'))[0])).toBe(clientRequests);
      // Per instance: what each replica's own /metrics says.
      const byInstance = await at('sum by (instance) (model_inference_requests_total)');
      expect(Object.fromEntries(byInstance.map((sample) => [sample.metric['instance'], num(sample)]))).toEqual(
        Object.fromEntries(replicas.map((replica, index) => [new URL(replica.url).host, perReplica[index]?.all])),
      );
    });

    it('scrapes three targets under one job, one instance label per replica', async () => {
      expect(num((await at(`count(up{job="${JOB}"} == 1)`))[0])).toBe(REPLICAS);
      const series = await at('count by (instance) (model_inference_requests_total)');
      expect(series.map((sample) => sample.metric['instance']).sort()).toEqual(
        replicas.map((replica) => new URL(replica.url).host).sort(),
      );
      // Every replica served every model.
      for (const sample of series) expect(num(sample)).toBeGreaterThanOrEqual(MODELS.length);
      const targets = (await prometheus.targets()).activeTargets;
      expect(targets.map((target) => [target.labels['job'], target.health, target.lastError])).toEqual(
        replicas.map(() => [JOB, 'up', '']),
      );
    });

    it('stores every call once in the shared store, and every replica serves the same totals', async () => {
      expect(await storedCalls()).toBe(clientRequests);
      const [calls, successes] = (
        await stack.postgres.psql('select sum(call_count), sum(success_count) from public.model_health_tracking')
      )
        .split('|')
        .map(Number);
      expect(calls).toBe(clientRequests + STORE_ONLY.calls);
      expect(successes).toBe(clientRequests + STORE_ONLY.successes);
      for (const replica of replicas) {
        const stats = (await (await fetch(`${replica.url}/v1/model-health/stats`)).json()) as Record<string, unknown>;
        expect(stats).toMatchObject({
          total_calls: clientRequests + STORE_ONLY.calls,
          total_successes: clientRequests + STORE_ONLY.successes,
          total_errors: STORE_ONLY.calls - STORE_ONLY.successes,
          total_providers: 4,
        });
      }
    });

    it('reports the same provider health scores on every replica, from the shared store', async () => {
      const perInstance = await at('count by (provider) (gatewayz_provider_health_score)');
      expect(Object.fromEntries(perInstance.map((sample) => [sample.metric['provider'], num(sample)]))).toEqual({
        openai: REPLICAS,
        anthropic: REPLICAS,
        openrouter: REPLICAS,
        [STORE_ONLY.provider]: REPLICAS,
      });
      const spread = await at(
        'max by (provider) (gatewayz_provider_health_score) - min by (provider) (gatewayz_provider_health_score)',
      );
      expect(spread).toHaveLength(4);
      for (const sample of spread) expect(num(sample), sample.metric['provider']).toBe(0);
      // Error rate 0: the replicas' own providers are perfectly healthy.
      for (const provider of ['openai', 'anthropic', 'openrouter']) {
        const scores = await at(`gatewayz_provider_health_score{provider="${provider}"}`);
        expect(scores.map(num)).toEqual([1, 1, 1]);
      }
      // The provider no replica called: every replica computed its score from the store's rows.
      const storeOnly = await at(`gatewayz_provider_health_score{provider="${STORE_ONLY.provider}"}`);
      expect(storeOnly).toHaveLength(REPLICAS);
      for (const sample of storeOnly) expect(num(sample)).toBeCloseTo(STORE_ONLY_SCORE, 12);
      const errorRates = await at(`provider_error_rate{provider="${STORE_ONLY.provider}"}`);
      expect(errorRates.map(num)).toEqual([0.9, 0.9, 0.9]);
      // ... and the unhealthy-provider alert's condition holds on each of them.
      const unhealthy = loadAlertRules().find((rule) => rule.alert === 'GatewayzProviderUnhealthy');
      const firing = await at(unhealthy?.expr ?? 'missing rule');
      expect(firing.map((sample) => sample.metric['provider'])).toEqual(replicas.map(() => STORE_ONLY.provider));
    });

    const variablesByFile = Object.fromEntries(
      loadDashboards().map(({ file, dashboard }) => [file, dashboard.templating.list.map((variable) => variable.name)]),
    );
    const dashboardQueries = dashboardPromQueries().map((query) => ({
      ...query,
      where: `${query.file} / ${query.panel} / ${query.refId}`,
      promql: substituteGrafanaVariables(query.expr, variablesByFile[query.file]),
    }));

    it('evaluates every alert expression over the three replicas', async () => {
      const rules = loadAlertRules();
      expect(rules.length).toBeGreaterThan(5);
      for (const rule of rules) await expect(at(rule.expr), rule.alert).resolves.toBeInstanceOf(Array);
    });

    it('evaluates every dashboard query, aggregating the instance label away', async () => {
      expect(dashboardQueries.length).toBeGreaterThan(20);
      let withData = 0;
      for (const query of dashboardQueries) {
        const result = await at(query.promql);
        if (result.length > 0) withData++;
        // A panel that forgets to aggregate would draw one line per replica.
        if (!/\binstance\b/.test(query.promql)) {
          const leaked = result.filter((sample) => 'instance' in sample.metric);
          expect(leaked, `${query.where} keeps the instance label`).toEqual([]);
        }
      }
      // Health service, anomalies, cache and business gauges are not fed here; the rest is.
      expect(withData).toBeGreaterThan(dashboardQueries.length / 2);
    });

    it("sums to the per-instance values: every dashboard's single-sum query", async () => {
      const counters = new Set([
        'model_inference_requests_total',
        'gatewayz_cost_by_provider_total',
        'tokens_used_total',
        'credits_used_total',
      ]);
      let compared = 0;
      for (const query of dashboardQueries) {
        const parts = singleSum(query.promql);
        // Only a sum straight over the replicas' series: not one already grouped by instance, nor a
        // sum of an inner aggregation (e.g. `sum(max by (provider) (...))`), which has no instance left.
        if (parts === undefined || parts.by.includes('instance') || INNER_AGGREGATION.test(parts.inner)) continue;
        const perInstancePromql = `sum by (${[...parts.by, 'instance'].join(', ')}) (${parts.inner}) ${parts.factor}`;
        const [total, perInstance] = await Promise.all([at(query.promql), at(perInstancePromql)]);
        const key = (sample: PromSample): string => JSON.stringify(parts.by.map((label) => sample.metric[label] ?? ''));
        const summed = new Map<string, number>();
        for (const sample of perInstance) summed.set(key(sample), (summed.get(key(sample)) ?? 0) + num(sample));
        expect([...summed.keys()].sort(), query.where).toEqual(total.map(key).sort());
        for (const sample of total) {
          const expected = summed.get(key(sample)) as number;
          expect(closeTo(num(sample), expected), `${query.where} ${key(sample)}: ${num(sample)} vs ${expected}`).toBe(
            true,
          );
        }
        // The counters every replica increments: data from all three instances.
        if (metricNames(parts.inner).some((name) => counters.has(name))) {
          expect(total.length, `${query.where} has no data`).toBeGreaterThan(0);
          expect(new Set(perInstance.map((sample) => sample.metric['instance'])).size, query.where).toBe(REPLICAS);
          compared++;
        }
      }
      expect(compared).toBeGreaterThanOrEqual(8);

      // And the raw counters themselves: what the three replicas' /metrics say, summed.
      const texts = await Promise.all(replicas.map(async (replica) => (await fetch(`${replica.url}/metrics`)).text()));
      const cost = await at('sum by (provider) (gatewayz_cost_by_provider_total)');
      expect(cost).toHaveLength(3);
      for (const sample of cost) {
        const provider = sample.metric['provider'] as string;
        const expected = texts.reduce(
          (sum, text) => sum + sampleSum(text, 'gatewayz_cost_by_provider_total', { provider }),
          0,
        );
        expect(expected).toBeGreaterThan(0);
        expect(closeTo(num(sample), expected), `cost of ${provider}: ${num(sample)} vs ${expected}`).toBe(true);
      }
      const tokens = num((await at('sum(tokens_used_total)'))[0]);
      expect(tokens).toBe(texts.reduce((sum, text) => sum + sampleSum(text, 'tokens_used_total'), 0));
    });
  },
);
