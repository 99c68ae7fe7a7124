import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import { acceptsOpenMetrics, createMetricsHandler } from '../../src/index.js';

/*
 * The format used to be OpenMetrics whenever the Accept header named it, whatever its weight: a
 * `q=0` on OpenMetrics, or a Prometheus whose `scrape_protocols` put the classic text format first,
 * still got OpenMetrics.
 */

/** The Accept header Prometheus 2.49+ builds from `scrape_protocols`, in that order of preference. */
const PROMETHEUS_TEXT_FIRST =
  'text/plain;version=0.0.4;q=0.3,application/openmetrics-text;version=1.0.0;q=0.2,*/*;q=0.1';
/** Prometheus 3's default header (`escaping=` parameters). */
const PROMETHEUS_3_DEFAULT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
/** Prometheus 2.x's header. */
const PROMETHEUS_2_DEFAULT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('acceptsOpenMetrics', () => {
  it('follows the weights of the Accept header', () => {
    expect(acceptsOpenMetrics(PROMETHEUS_2_DEFAULT)).toBe(true);
    expect(acceptsOpenMetrics(PROMETHEUS_3_DEFAULT)).toBe(true);
    expect(acceptsOpenMetrics(PROMETHEUS_TEXT_FIRST)).toBe(false);
    expect(acceptsOpenMetrics('application/openmetrics-text;q=0, text/plain')).toBe(false);
    expect(acceptsOpenMetrics('application/openmetrics-text; q=0')).toBe(false);
    expect(acceptsOpenMetrics('application/openmetrics-text, text/plain')).toBe(true);
    expect(acceptsOpenMetrics('text/plain;q=0.9, application/openmetrics-text;q=0.9')).toBe(true);
    expect(acceptsOpenMetrics('Application/OpenMetrics-Text; Version="1.0.0"')).toBe(true);
  });

  it('needs OpenMetrics named in a version it writes, not reached through a wildcard', () => {
    expect(acceptsOpenMetrics('*/*')).toBe(false);
    expect(acceptsOpenMetrics('application/*')).toBe(false);
    expect(acceptsOpenMetrics('application/openmetrics-text;version=2.0.0,text/plain;q=0.1')).toBe(false);
    expect(acceptsOpenMetrics('application/openmetrics-text;version=0.0.1')).toBe(true);
    expect(acceptsOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(acceptsOpenMetrics('')).toBe(false);
    expect(acceptsOpenMetrics(null)).toBe(false);
  });
});

describe('metrics handler content negotiation', () => {
  class PullReader extends MetricReader {
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
  }

  it('serves the classic format to a Prometheus that prefers it', async () => {
    const reader = new PullReader();
    new GatewayTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }) }).incrementCostByProvider(
      'openai',
      0.25,
    );
    const handler = createMetricsHandler({ source: reader });
    const get = (accept: string): Promise<Response> =>
      handler(new Request('http://gateway.test/metrics', { headers: { accept } }));

    const classic = await get(PROMETHEUS_TEXT_FIRST);
    expect(classic.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await classic.text()).not.toContain('# EOF');

    const openMetrics = await get(PROMETHEUS_3_DEFAULT);
    expect(openMetrics.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(await openMetrics.text()).toMatch(/# EOF\n$/);
  });
});
