import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bindCircuitBreakerMetrics } from '@gatewayz/telemetry';
import CircuitBreaker from 'opossum';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import { componentAvailable, startPrometheus, type PrometheusInstance } from '../../../test-support/prometheus.js';
import { startTelemetry, toNodeListener, type RunningTelemetry } from '../src/index.js';

/*
 * A circuit breaker shut down while open: its `gatewayz_circuit_breaker_state` series leave the
 * exposition (a real Prometheus marks them stale, and the shipped GatewayzCircuitBreakerOpen alert
 * stops pending) and the OTLP push (cumulative and delta), while its counters stay.
 */

const ALERT_RULES = fileURLToPath(new URL('../../../deploy/prometheus/alerts.yml', import.meta.url));

let running: RunningTelemetry | undefined;
let server: Server | undefined;
let prometheus: PrometheusInstance | undefined;
let receiver: OtlpReceiver | undefined;
const breakers: CircuitBreaker[] = [];

afterEach(async () => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
  await prometheus?.stop();
  prometheus = undefined;
  if (server !== undefined) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  await running?.shutdown();
  running = undefined;
  await receiver?.close();
  receiver = undefined;
});

/** A breaker that never closes by itself during the test, bound to `provider`. */
function boundBreaker(telemetry: RunningTelemetry['telemetry'], provider: string): CircuitBreaker {
  const breaker = new CircuitBreaker(async () => 'ok', { resetTimeout: 600_000, timeout: false });
  breakers.push(breaker);
  bindCircuitBreakerMetrics(breaker, provider, telemetry);
  return breaker;
}

describe.skipIf(!componentAvailable('prometheus'))('a real Prometheus and a breaker shut down while open', () => {
  it(
    'sees its state series go stale and GatewayzCircuitBreakerOpen stop; counters and other breakers stay',
    { timeout: 90_000 },
    async () => {
      running = startTelemetry({
        traces: false,
        logs: false,
        logStream: null,
        runtimeMetrics: false,
        hostMetrics: false,
        env: {},
      });
      const openai = boundBreaker(running.telemetry, 'openai');
      boundBreaker(running.telemetry, 'anthropic');
      openai.open();
      const listener = toNodeListener(running.metricsHandler);
      server = createServer(listener);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      prometheus = await startPrometheus({ targets: [{ job: 'gatewayz', url }], ruleFiles: [ALERT_RULES] });

      await prometheus.waitForQuery(
        'gatewayz_circuit_breaker_state{provider="openai",state="open"} == 1',
        (samples) => samples.length === 1,
        30_000,
      );
      // The alert is pending (its `for: 1m` has not passed): it would fire a minute later.
      await prometheus.waitForQuery(
        'ALERTS{alertname="GatewayzCircuitBreakerOpen",provider="openai"}',
        (samples) => samples.length === 1 && samples[0]?.metric['alertstate'] === 'pending',
        30_000,
      );

      openai.shutdown();
      const text = await (await running.metricsHandler(new Request('http://localhost/metrics'))).text();
      expect(text).not.toMatch(/^gatewayz_circuit_breaker_state\{provider="openai"/m);

      // The next scrape lacks the series: Prometheus marks them stale, so they vanish from instant
      // queries at once (not after the 5-minute lookback), and the alert is gone with them.
      await prometheus.waitForQuery(
        'gatewayz_circuit_breaker_state{provider="openai"}',
        (samples) => samples.length === 0,
      );
      await prometheus.waitForQuery(
        'ALERTS{alertname="GatewayzCircuitBreakerOpen"}',
        (samples) => samples.length === 0,
      );
      // Stale, not merely unscraped: the target is up and the samples before the shutdown are kept.
      expect((await prometheus.query('up{job="gatewayz"}')).map((sample) => sample.value[1])).toEqual(['1']);
      const history = await prometheus.query(
        'count_over_time(gatewayz_circuit_breaker_state{provider="openai",state="open"}[5m])',
      );
      expect(Number(history[0]?.value[1])).toBeGreaterThan(0);
      const anthropic = await prometheus.query('gatewayz_circuit_breaker_state{provider="anthropic"} == 1');
      expect(anthropic.map((sample) => sample.metric['state'])).toEqual(['closed']);
      const transitions = await prometheus.query(
        'gatewayz_circuit_breaker_transitions_total{provider="openai",from_state="closed",to_state="open"}',
      );
      expect(transitions.map((sample) => Number(sample.value[1]))).toEqual([1]);
      const openSeconds = await prometheus.query('gatewayz_circuit_breaker_open_seconds_total{provider="openai"}');
      expect(openSeconds).toHaveLength(1);
      expect(Number(openSeconds[0]?.value[1])).toBeGreaterThan(0);
    },
  );
});

function breakerPoints(metrics: ReceivedMetric[], provider: string): Array<[unknown, number | undefined]> {
  return metrics
    .filter((metric) => metric.name === 'gatewayz_circuit_breaker_state')
    .flatMap((metric) => metric.dataPoints)
    .filter((point) => point.attributes['provider'] === provider)
    .map((point) => [point.attributes['state'], point.value]);
}

function pointsOf(metrics: ReceivedMetric[], name: string, provider: string): ReceivedMetric['dataPoints'] {
  return metrics
    .filter((metric) => metric.name === name)
    .flatMap((metric) => metric.dataPoints)
    .filter((point) => point.attributes['provider'] === provider);
}

describe('the OTLP push and a breaker shut down while open', () => {
  it.each(['cumulative', 'delta'] as const)(
    '%s temporality: its state series are no longer pushed; its counters are',
    async (temporality) => {
      receiver = await startOtlpReceiver();
      running = startTelemetry({
        traces: false,
        logs: false,
        logStream: null,
        runtimeMetrics: false,
        hostMetrics: false,
        env: {
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.metricsUrl,
          OTEL_METRIC_EXPORT_INTERVAL: '3600000',
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: temporality,
        },
      });
      const openai = boundBreaker(running.telemetry, 'openai');
      boundBreaker(running.telemetry, 'anthropic');
      openai.open();
      running.telemetry.setModelUptime24h('gpt-4o', 0.5);
      await running.forceFlush();
      expect(breakerPoints(receiver.metrics(), 'openai')).toEqual([
        ['closed', 0],
        ['open', 1],
        ['half_open', 0],
      ]);
      const firstTransitions = pointsOf(receiver.metrics(), 'gatewayz_circuit_breaker_transitions', 'openai');
      expect(firstTransitions.map((point) => point.value)).toEqual([1]);

      openai.shutdown();
      running.telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4o' });
      receiver.reset();
      await running.forceFlush();
      const pushed = receiver.metrics();
      expect(pushed.length).toBeGreaterThan(0);
      expect(breakerPoints(pushed, 'openai')).toEqual([]);
      expect(breakerPoints(pushed, 'anthropic')).toEqual([
        ['closed', 1],
        ['open', 0],
        ['half_open', 0],
      ]);
      expect(pushed.filter((metric) => metric.name === 'gatewayz_model_uptime_24h')).toEqual([]);
      const transitions = pointsOf(pushed, 'gatewayz_circuit_breaker_transitions', 'openai');
      const openSeconds = pointsOf(pushed, 'gatewayz_circuit_breaker_open_seconds', 'openai');
      if (temporality === 'cumulative') {
        // Still there, still counting from the start: no reset.
        expect(transitions.map((point) => point.value)).toEqual([1]);
        expect(openSeconds).toHaveLength(1);
        expect(openSeconds[0]?.startTimeUnixNano).toBe(firstTransitions[0]?.startTimeUnixNano);
      } else {
        // Delta: no new transition, nothing to send; the open time credited up to shutdown is.
        expect(transitions).toEqual([]);
        expect(openSeconds).toHaveLength(1);
        expect(openSeconds[0]?.value).toBeGreaterThan(0);
      }
      // Pushed again on the next interval too, without the removed series.
      receiver.reset();
      await running.forceFlush();
      expect(breakerPoints(receiver.metrics(), 'openai')).toEqual([]);
    },
  );
});
