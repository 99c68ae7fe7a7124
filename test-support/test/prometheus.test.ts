import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  componentAvailable,
  promtoolCheckMetrics,
  requireComponent,
  startPrometheus,
  type PrometheusInstance,
} from '../prometheus.js';

const EXPOSITION = [
  '# HELP demo_requests_total Requests handled by the demo server.',
  '# TYPE demo_requests_total counter',
  'demo_requests_total{route="/chat"} 42',
  'demo_requests_total{route="/embed"} 7',
  '',
].join('\n');

describe('requireComponent policy', () => {
  it('returns true when found, false when missing outside CI, throws under CI=true', () => {
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      expect(requireComponent('thing', '/usr/bin/thing')).toBe(true);
      expect(requireComponent('thing', undefined)).toBe(false);
      process.env.CI = 'true';
      expect(requireComponent('thing', '/usr/bin/thing')).toBe(true);
      expect(() => requireComponent('prometheus', undefined)).toThrow(/apt-get install -y prometheus/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});

describe.skipIf(!componentAvailable('promtool'))('promtoolCheckMetrics', () => {
  it('accepts valid exposition text', async () => {
    const result = await promtoolCheckMetrics(EXPOSITION);
    expect(result).toEqual({ ok: true, problems: [], exitCode: 0 });
  });

  it('reports a counter without the _total suffix (exit code 3)', async () => {
    const result = await promtoolCheckMetrics(
      '# HELP demo_requests Requests.\n# TYPE demo_requests counter\ndemo_requests 1\n',
    );
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(3);
    expect(result.problems).toContainEqual(
      expect.stringMatching(/demo_requests counter metrics should have "_total" suffix/),
    );
  });

  it('reports a parse error (exit code 1)', async () => {
    const result = await promtoolCheckMetrics('demo_requests_total{route="/chat" 1\n');
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.problems.join('\n')).toMatch(/parsing error/);
  });
});

describe.skipIf(!componentAvailable('prometheus'))('startPrometheus', () => {
  let server: Server;
  let targetUrl: string;
  let prom: PrometheusInstance | undefined;
  const seenAuth: Array<string | undefined> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/metrics') {
        seenAuth.push(req.headers.authorization);
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(EXPOSITION);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('scrapes a loopback target and answers PromQL', async () => {
    prom = await startPrometheus({
      targets: [{ job: 'demo', url: targetUrl, bearerToken: 's3cret' }],
    });
    const result = await prom.waitForQuery(
      'demo_requests_total{route="/chat"}',
      (r) => r.length === 1 && r[0]?.value[1] === '42',
      20_000,
    );
    expect(result[0]?.metric).toMatchObject({ __name__: 'demo_requests_total', job: 'demo', route: '/chat' });
    expect(seenAuth).toContain('Bearer s3cret');

    const sum = await prom.query('sum(demo_requests_total)');
    expect(sum[0]?.value[1]).toBe('49');
    const scalar = await prom.query('scalar(sum(demo_requests_total))');
    expect(scalar).toEqual([{ metric: {}, value: [expect.any(Number), '49'] }]);

    const targets = await prom.targets();
    expect(targets.activeTargets).toHaveLength(1);
    expect(targets.activeTargets[0]).toMatchObject({ health: 'up', scrapeUrl: targetUrl, lastError: '' });
  });

  it('waitForQuery times out with target diagnostics', async () => {
    expect(prom).toBeDefined();
    await expect(prom!.waitForQuery('demo_requests_total', (r) => r.length > 99, 600)).rejects.toThrow(
      /timed out[\s\S]*last result:[\s\S]*job=demo url=.*health=up/,
    );
  });

  it('waitForQuery fails fast on a PromQL syntax error', async () => {
    await expect(prom!.waitForQuery('sum(', () => true, 10_000)).rejects.toThrow(/bad_data/);
  });

  it('reports the scrape error of an unreachable target', async () => {
    const broken = await startPrometheus({
      targets: [{ job: 'nowhere', url: 'http://127.0.0.1:9/metrics' }],
      waitForTargets: true,
    });
    try {
      const err = await broken
        .waitForQuery('up{job="nowhere"} == 1', (r) => r.length > 0, 3_000)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/job=nowhere .*health=down .*lastError=".*connection refused/);
      const up = await broken.query('up{job="nowhere"}');
      expect(up[0]?.value[1]).toBe('0');
    } finally {
      await broken.stop();
    }
  });
});
