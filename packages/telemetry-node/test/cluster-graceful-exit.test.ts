import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, sample, startCluster, work } from './fixtures/cluster-harness.js';

/** Resolves once the fixture has said `"cluster listening"` `times` times (every worker listening again). */
async function listeningAgain(output: () => string, times: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (output().split('"cluster listening"').length - 1 < times) {
    if (Date.now() > deadline) throw new Error(`no replacement worker:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('node:cluster: a worker that exits', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    cluster = await startCluster();
  }, 30_000);

  afterAll(async () => {
    await cluster.stop();
  });

  it(
    'gracefully leaves in the aggregate what it recorded while draining, after the last scrape',
    { timeout: 60_000 },
    async () => {
      const { port, output } = cluster;
      await work(port, 20, 4);
      // The primary now holds both workers' counts as of this scrape.
      expect(sample((await get(port, '/metrics')).body, 'model_inference_requests_total')).toBe(20);
      // SIGTERM reaches a worker serving a request; it records 25 calls as it drains, shuts its
      // telemetry down and stays 1.5 s before it exits. No scrape happens in between.
      const drained = await get(port, '/term-while-serving?ms=300&n=25&linger=1500');
      expect(drained.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Before it exits: its final snapshot counts, and it is not waited for (its metrics source
      // has stopped; the primary's timeout is 2 s).
      for (let scrape = 0; scrape < 3; scrape++) {
        const started = Date.now();
        const { body } = await get(port, '/metrics');
        expect(sample(body, 'model_inference_requests_total', { model: 'drained' })).toBe(25);
        expect(sample(body, 'model_inference_requests_total')).toBe(45);
        expect(Date.now() - started).toBeLessThan(1000);
      }
      // Once it has exited and been replaced, its final counts are retired, not those of the last scrape.
      await listeningAgain(output, 2);
      for (let scrape = 0; scrape < 4; scrape++) {
        const { body } = await get(port, '/metrics');
        expect(sample(body, 'model_inference_requests_total', { model: 'drained' })).toBe(25);
        expect(sample(body, 'model_inference_requests_total')).toBe(45);
      }
      const answeredBy = await work(port, 10, 2);
      expect(answeredBy.has(drained.body)).toBe(false);
      expect(sample((await get(port, '/metrics')).body, 'model_inference_requests_total')).toBe(55);
    },
  );

  it(
    'killed, loses only what it recorded after the last scrape, as before: the total never dips',
    { timeout: 60_000 },
    async () => {
      const { port, output } = cluster;
      const before = sample((await get(port, '/metrics')).body, 'model_inference_requests_total');
      expect(before).toBe(55);
      // Recorded after the last scrape, then SIGKILL: no shutdown, no final snapshot.
      await get(port, '/record-then-die?n=7');
      await listeningAgain(output, 3);
      for (let scrape = 0; scrape < 4; scrape++) {
        const { body } = await get(port, '/metrics');
        expect(sample(body, 'model_inference_requests_total', { model: 'killed' })).toBe(0);
        expect(sample(body, 'model_inference_requests_total')).toBe(before);
      }
    },
  );
});
