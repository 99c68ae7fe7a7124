import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, sample, startCluster, work } from './fixtures/cluster-harness.js';

/** A scrape asking for gzip as Prometheus does: the answer's coding and its decoded body. */
function getGzipped(port: number, path: string): Promise<{ contentEncoding: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'accept-encoding': 'gzip' };
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const encoding = response.headers['content-encoding'];
        const bytes = Buffer.concat(chunks);
        resolve({
          contentEncoding: encoding,
          body: (encoding === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8'),
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('node:cluster: one port, the exact aggregate of every worker', () => {
  let port: number;
  let output = '';
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const started = await startCluster();
    port = started.port;
    stop = started.stop;
    started.child.stdout?.on('data', () => (output = started.output()));
    started.child.stderr?.on('data', () => (output = started.output()));
  }, 30_000);

  afterAll(async () => {
    await stop();
  });

  it('counts every request once, whichever worker served it or answers the scrape', async () => {
    const answeredBy = await work(port, 400);
    expect(answeredBy.size).toBe(2);
    for (let scrape = 0; scrape < 6; scrape++) {
      const text = (await get(port, '/metrics')).body;
      expect(sample(text, 'model_inference_requests_total')).toBe(400);
      expect(sample(text, 'model_inference_duration_seconds_count')).toBe(400);
      expect(sample(text, 'model_inference_duration_seconds_bucket', { le: '+Inf' })).toBe(400);
      expect(sample(text, 'gatewayz_cost_by_provider_total')).toBe(200);
      // One series per label set: no worker's copy is left beside the sum.
      expect(text.match(/^model_inference_requests_total\{/gm)).toHaveLength(2);
    }
    const models = (await get(port, '/prometheus/metrics/models')).body;
    expect(sample(models, 'model_inference_requests_total', { model: 'gpt-4o' })).toBe(134);
    const summary = JSON.parse((await get(port, '/prometheus/metrics/summary')).body) as {
      metrics: { providers: { avg_response_time_ms: number }; business: { total_tokens_used: number } };
    };
    expect(summary.metrics.business.total_tokens_used).toBe(4000);
    expect(summary.metrics.providers.avg_response_time_ms).toBe(250);
  });

  it('merges gauges by their catalog rule and keeps per-process metrics per worker', async () => {
    const text = (await get(port, '/metrics')).body;
    // Worker 1 closed, worker 2 open: the breaker gauge is max-merged, so both states show.
    expect(sample(text, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: 'open' })).toBe(1);
    expect(sample(text, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: 'closed' })).toBe(1);
    const workerLabels = new Set(
      [...text.matchAll(/^nodejs_eventloop[a-z_]*\{[^}]*worker="(\d+)"/gm)].map((m) => m[1]),
    );
    expect(workerLabels.size).toBe(2);
    expect(text).not.toMatch(/target_info\{[^}]*process_pid=/);
  });

  it("drops a worker's removed gauge series from the aggregate, and only them", async () => {
    const before = (await get(port, '/metrics')).body;
    expect(sample(before, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: 'open' })).toBe(1);
    const cost = sample(before, 'gatewayz_cost_by_provider_total');
    // Fresh connections until each worker has removed its series once.
    const removedBy = new Map<number, number>();
    for (let attempt = 0; attempt < 200 && removedBy.size < 2; attempt++) {
      const { worker, removed } = JSON.parse((await get(port, '/remove-breaker')).body) as {
        worker: number;
        removed: number;
      };
      if (!removedBy.has(worker)) removedBy.set(worker, removed);
    }
    expect([...removedBy.values()]).toEqual([3, 3]);
    // Whichever worker answers the scrape, the primary's aggregate has no openai state left.
    for (let scrape = 0; scrape < 6; scrape++) {
      const text = (await get(port, '/metrics')).body;
      expect(text).not.toMatch(/^gatewayz_circuit_breaker_state\{provider="openai"/m);
      expect(sample(text, 'gatewayz_cost_by_provider_total')).toBe(cost);
    }
    // Set again (by whichever worker), it is back.
    expect((await get(port, '/breaker-state?state=closed')).status).toBe(200);
    const after = (await get(port, '/metrics')).body;
    expect(after).toMatch(/^gatewayz_circuit_breaker_state\{provider="openai",state="closed"\} 1$/m);
  });

  it('shares one model-health store through the primary: its counts equal the requests served', async () => {
    await Promise.all([get(port, '/flush'), get(port, '/flush'), get(port, '/flush'), get(port, '/flush')]);
    let stats: { totalCalls: number; totalModels: number } = { totalCalls: 0, totalModels: 0 };
    for (let attempt = 0; attempt < 40 && stats.totalCalls < 400; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats = JSON.parse((await get(port, '/stats')).body) as typeof stats;
    }
    expect(stats).toMatchObject({ totalCalls: 400, totalModels: 2 });
  });

  it(
    'a worker that dies is replaced; the counts it had exported stay, and counters never go backwards',
    { timeout: 60_000 },
    async () => {
      const before = sample((await get(port, '/metrics')).body, 'model_inference_requests_total');
      expect(before).toBe(400);
      const crashed = (await get(port, '/crash')).body;
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 10_000;
        const poll = (): void => {
          get(port, '/work?model=after-crash')
            .then(({ body }) => {
              if (body !== crashed && body !== '' && Number(body) > 2) resolve();
              else if (Date.now() > deadline) reject(new Error(`no replacement worker:\n${output}`));
              else setTimeout(poll, 50);
            })
            .catch(() => setTimeout(poll, 50));
        };
        poll();
      });
      let previous = 0;
      for (let round = 0; round < 5; round++) {
        await work(port, 20, 4);
        const total = sample((await get(port, '/metrics')).body, 'model_inference_requests_total');
        expect(total).toBeGreaterThanOrEqual(previous);
        previous = total;
      }
      const text = (await get(port, '/metrics')).body;
      const afterCrash = sample(text, 'model_inference_requests_total', { model: 'after-crash' });
      expect(sample(text, 'model_inference_requests_total')).toBe(400 + afterCrash + 100);
    },
  );

  it('aggregates thousands of series per worker exactly, in parts both ways', { timeout: 60_000 }, async () => {
    // Until both workers hold the 1,500 label sets (three metrics: 4,500 series, several parts each
    // way; a worker keeps 2,000 series per metric): every series is then in two workers' collections.
    const served = new Set<string>();
    let calls = 0;
    while (served.size < 2 && calls < 20) {
      served.add((await get(port, '/many?n=1500')).body);
      calls++;
    }
    expect(served.size).toBe(2);
    for (let scrape = 0; scrape < 3; scrape++) {
      const text = (await get(port, '/metrics')).body;
      expect(text.match(/^tokens_used_total\{provider="bulk",/gm)).toHaveLength(1500);
      expect(sample(text, 'tokens_used_total', { provider: 'bulk' })).toBe(1500 * calls);
      expect(sample(text, 'tokens_used_total', { provider: 'bulk', model: 'bulk-1499' })).toBe(calls);
      expect(text.match(/^model_inference_duration_seconds_count\{provider="bulk",/gm)).toHaveLength(1500);
      expect(sample(text, 'model_inference_duration_seconds_bucket', { provider: 'bulk', le: '0.25' })).toBe(
        1500 * calls,
      );
    }
    // The aggregate, gzipped as Prometheus asks for it, on /metrics and on a category endpoint.
    for (const path of ['/metrics', '/prometheus/metrics/business']) {
      const gzipped = await getGzipped(port, path);
      expect(gzipped.contentEncoding).toBe('gzip');
      expect(gzipped.body.match(/^tokens_used_total\{provider="bulk",/gm)).toHaveLength(1500);
      expect(sample(gzipped.body, 'tokens_used_total', { provider: 'bulk' })).toBe(1500 * calls);
    }
  });

  it(
    'a worker draining off the channel before it exits still counts: no scrape dips while it shuts down',
    { timeout: 60_000 },
    async () => {
      const before = sample((await get(port, '/metrics')).body, 'model_inference_requests_total');
      expect(before).toBeGreaterThan(400);
      // The draining worker is off the IPC channel for 3 s before it exits: every scrape meanwhile
      // (answered by the other worker) must still count what it served.
      const drained = (await get(port, '/drain?ms=3000')).body;
      const deadline = Date.now() + 2500;
      let scrapes = 0;
      while (Date.now() < deadline) {
        const { body } = await get(port, '/metrics');
        expect(sample(body, 'model_inference_requests_total')).toBe(before);
        scrapes++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(scrapes).toBeGreaterThan(5);
      // Once it has exited (and been replaced), its counts are retired: still the same total.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = await work(port, 10, 2);
      expect(after.has(drained)).toBe(false);
      expect(sample((await get(port, '/metrics')).body, 'model_inference_requests_total')).toBe(before + 10);
    },
  );

  it(
    'a worker whose event loop is held: scrapes answer within the primary timeout with its previous counts',
    { timeout: 60_000 },
    async () => {
      const before = sample((await get(port, '/metrics')).body, 'model_inference_requests_total');
      await get(port, '/hang?ms=6000');
      // New connections alternate between the workers: of two scrapes, one reaches the live worker,
      // which the primary answers after its 2 s timeout with the held worker's last collection.
      const started = Date.now();
      const timed = (): Promise<{ ms: number; total: number }> =>
        get(port, '/metrics').then(({ body }) => ({
          ms: Date.now() - started,
          total: sample(body, 'model_inference_requests_total'),
        }));
      const scrapes = await Promise.all([timed(), timed()]);
      const fastest = Math.min(...scrapes.map((scrape) => scrape.ms));
      expect(fastest).toBeGreaterThanOrEqual(1900);
      expect(fastest).toBeLessThan(4000);
      expect(scrapes.map((scrape) => scrape.total)).toEqual([before, before]);
    },
  );
});

describe('node:cluster: a worker that has not started its telemetry yet', () => {
  it('is not waited for: scrapes answer at once, and it counts once it has started', { timeout: 60_000 }, async () => {
    const cluster = await startCluster({ LATE_WORKER_MS: '6000' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(cluster.output()).toContain('"late worker forked"');
      await work(cluster.port, 20, 2);
      // The primary's timeout is 2 s: a scrape that waited for the late worker would take that long.
      for (let scrape = 0; scrape < 3; scrape++) {
        const started = Date.now();
        const { body } = await get(cluster.port, '/metrics');
        expect(Date.now() - started).toBeLessThan(1000);
        expect(sample(body, 'model_inference_requests_total')).toBe(20);
      }
      // Once its telemetry runs and it serves, it is asked like the others.
      let answeredBy = new Set<string>();
      let served = 20;
      const deadline = Date.now() + 15_000;
      while (!answeredBy.has('3') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        answeredBy = await work(cluster.port, 12, 3);
        served += 12;
      }
      expect(answeredBy.has('3')).toBe(true);
      expect(sample((await get(cluster.port, '/metrics')).body, 'model_inference_requests_total')).toBe(served);
    } finally {
      await cluster.stop();
    }
  });
});
