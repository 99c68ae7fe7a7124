/**
 * The example gateway creates every provider × model × status series of
 * `model_inference_requests_total` at 0 when it starts, so a real Prometheus scraping it counts a
 * provider's first error in `increase()` (and so in the SLO burn rates and
 * GatewayzProviderErrorSurge). A series born at its first call, as any counter without that
 * initialisation, is shown beside it: its first value is not an increase Prometheus sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentAvailable, startPrometheus, type PrometheusInstance } from '../../test-support/prometheus.js';
import { chatBody, startTestGateway, type TestGateway } from '../../examples/gateway/test/harness.js';

const available = componentAvailable('prometheus');
const ERRORS = 'model_inference_requests_total{status="error",model="gpt-4o"}';
const errorsOf = (provider: string): string =>
  `model_inference_requests_total{provider="${provider}",status="error",model="gpt-4o"}`;

describe.skipIf(!available)('counters born at their first event, against a real Prometheus', () => {
  let gw: TestGateway;
  let prometheus: PrometheusInstance;

  beforeAll(async () => {
    gw = await startTestGateway();
    prometheus = await startPrometheus({ targets: [{ job: 'gatewayz', url: `${gw.url}/metrics` }] });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gw?.close();
  });

  it('counts the first error of a provider that never failed', async () => {
    // Two scrapes before any request: they hold openai's error series at 0.
    await prometheus.waitForQuery(
      'count_over_time(up{job="gatewayz"}[1m]) >= 2',
      (result) => result.length === 1,
      30_000,
    );
    expect((await prometheus.query(errorsOf('openai'))).map((sample) => sample.value[1])).toEqual(['0']);
    // Only openai serves gpt-4o: its first failure, and the same first error recorded under a
    // provider the gateway does not know (no series before it).
    gw.provider('openai').configure({ errorRate: 1, failureMode: 'error' });
    const response = await gw.post('/v1/chat/completions', chatBody('gpt-4o'));
    expect(response.status).toBe(502);
    await response.text();
    gw.otel.telemetry.add('modelInferenceRequests', 1, { provider: 'unknown', model: 'gpt-4o', status: 'error' });
    // Both scraped at 1, the new series twice (increase() reads nothing of a single sample).
    await prometheus.waitForQuery(`${ERRORS} == 1`, (result) => result.length === 2, 30_000);
    await prometheus.waitForQuery(
      `count_over_time(${errorsOf('unknown')}[1m]) >= 2`,
      (result) => result.length === 1,
      30_000,
    );
    const increases = Object.fromEntries(
      (await prometheus.query(`increase(${ERRORS}[1m])`)).map((sample) => [
        sample.metric['provider'],
        Number(sample.value[1]),
      ]),
    );
    expect(increases['openai']).toBeGreaterThanOrEqual(1);
    expect(increases['unknown']).toBe(0);
  }, 60_000);
});
