import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { serializeOpenMetrics, serializePrometheus } from '../../src/index.js';
import { componentAvailable, promtoolCheckMetrics } from '../../../../test-support/prometheus.js';

/*
 * Expositions that Prometheus or promtool refused, found by the exposition audit:
 * - resource attribute keys (OTEL_RESOURCE_ATTRIBUTES) that are legal attribute keys but not label
 *   names (`1zone`), or two keys that sanitise to one label name (`deployment.env`, `deployment_env`):
 *   `target_info` carried an invalid or repeated label name and every scrape of the endpoint failed;
 * - an endpoint with no metric (a category nothing was recorded in) ended without a line feed;
 * - an OpenMetrics `# HELP` with a double quote left it unescaped (the ABNF's escaped-string).
 */

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function collect(
  resource: Record<string, string>,
  record?: (provider: MeterProvider) => void,
): Promise<ResourceMetrics> {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader], resource: resourceFromAttributes(resource) });
  record?.(provider);
  return (await reader.collect()).resourceMetrics;
}

function targetInfoLine(text: string): string {
  return text.split('\n').find((line) => line.startsWith('target_info')) ?? '';
}

describe('target_info from resource attributes whose keys are not label names', () => {
  const resource = {
    'service.name': 'gateway',
    '1zone': 'eu-1',
    deployment_env: 'b',
    'deployment.env': 'a',
    '': 'empty key',
  };

  it('prefixes a leading digit and an empty key with _, and joins colliding keys with ; in key order', async () => {
    const line = targetInfoLine(serializePrometheus(await collect(resource)));
    expect(line).toBe('target_info{service_name="gateway",_1zone="eu-1",deployment_env="a;b",_="empty key"} 1');
    const openMetrics = targetInfoLine(serializeOpenMetrics(await collect(resource)));
    expect(openMetrics).toBe(line);
  });

  it.skipIf(!componentAvailable('promtool'))('passes promtool check metrics', async () => {
    const text = serializePrometheus(
      await collect(resource, (provider) => provider.getMeter('app').createCounter('jobs').add(1, { '2nd': 'x' })),
    );
    expect(text).toContain('jobs_total{_2nd="x"} 1');
    const result = await promtoolCheckMetrics(text);
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
  });
});

describe('endings', () => {
  it.skipIf(!componentAvailable('promtool'))(
    'an exposition without metrics ends its last line with a line feed and passes promtool',
    async () => {
      const text = serializePrometheus(await collect({ 'service.name': 'gateway' }), { filter: () => false });
      expect(text.endsWith('# no registered metrics\n')).toBe(true);
      const result = await promtoolCheckMetrics(text);
      expect(result.problems).toEqual([]);
      expect(result.exitCode).toBe(0);
    },
  );

  it('escapes a double quote in an OpenMetrics # HELP, not in the classic one', async () => {
    const resourceMetrics = await collect({ 'service.name': 'gateway' }, (provider) =>
      provider.getMeter('app').createCounter('jobs', { description: 'Jobs "done" \\ failed\nretried' }).add(1),
    );
    expect(serializeOpenMetrics(resourceMetrics)).toContain('# HELP jobs Jobs \\"done\\" \\\\ failed\\nretried\n');
    expect(serializePrometheus(resourceMetrics)).toContain('# HELP jobs_total Jobs "done" \\\\ failed\\nretried\n');
  });
});
