import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startCluster, work } from './fixtures/cluster-harness.js';

// On Kubernetes the pod's name is commonly the service.instance.id (OTEL_RESOURCE_ATTRIBUTES), and
// every forked worker inherits it.
describe('node:cluster workers pushing OTLP with a service.instance.id from OTEL_RESOURCE_ATTRIBUTES', () => {
  let receiver: OtlpReceiver;
  let cluster: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    cluster = await startCluster({
      TELEMETRY_FROM_ENV: '1',
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.metricsUrl,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=gateway-7f9c,deployment.environment=prod',
    });
  }, 30_000);

  afterAll(async () => {
    await cluster.stop();
    await receiver.close();
  });

  it(
    'push each under an identity of its own, the configured id with -worker-<id> appended',
    { timeout: 30_000 },
    async () => {
      await work(cluster.port, 20, 4);
      const pushed = await receiver.waitForMetrics(
        (metrics) => new Set(metrics.map((metric) => metric.resource['process.pid'])).size >= 2,
        15_000,
      );
      const instanceOf = new Map<unknown, Set<unknown>>();
      for (const { resource } of pushed) {
        const ids = instanceOf.get(resource['process.pid']) ?? new Set();
        instanceOf.set(resource['process.pid'], ids.add(resource['service.instance.id']));
        expect(resource['deployment.environment']).toBe('prod');
      }
      // One identity per worker, and no two workers share one.
      const identities = [...instanceOf.values()].map((ids) => [...ids]);
      expect(identities.every((ids) => ids.length === 1)).toBe(true);
      expect(identities.flat().sort()).toEqual(['gateway-7f9c-worker-1', 'gateway-7f9c-worker-2']);
    },
  );
});
