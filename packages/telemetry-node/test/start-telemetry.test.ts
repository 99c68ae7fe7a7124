import { ROOT_CONTEXT, context, createContextKey, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  TelemetryConfigurationError,
  getTelemetry,
  incrementCostByProvider,
  recordProviderResponseTime,
  setCircuitBreakerState,
} from '@gatewayz/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { SynchronousContextManager, startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

const scrape = async (otel: RunningTelemetry, path = '/metrics'): Promise<string> =>
  (await otel.metricsHandler(new Request(`http://localhost${path}`))).text();

describe('startTelemetry', () => {
  it('binds the module-level helpers to the SDK and serves them with runtime metrics', async () => {
    running = startTelemetry({ serviceName: 'start-test', traces: false, env: {} });
    expect(getTelemetry()).toBe(running.telemetry);
    recordProviderResponseTime('openai', 0.25);
    incrementCostByProvider('openai', 0.5);
    incrementCostByProvider('openai', 0.25);
    setCircuitBreakerState('openai', 'open');
    const text = await scrape(running);
    expect(text).toContain('target_info{service_name="start-test"');
    expect(text).toContain('provider_response_time_seconds_count{provider="openai"} 1');
    expect(text).toContain('gatewayz_cost_by_provider_total{provider="openai"} 0.75');
    expect(text).toContain('gatewayz_circuit_breaker_state{provider="openai",state="open"} 1');
    // The command line can carry secrets, so the process detector's attributes are not exported.
    expect(text).not.toContain('process_command_args');
    const system = await scrape(running, '/prometheus/metrics/system');
    expect(system).toMatch(/nodejs_eventloop|v8js_memory/);
    expect(system).toContain('process_memory_usage');
    expect(system).not.toContain('gatewayz_cost_by_provider_total');
  });

  it('lets the helpers, not the SDK, bound cardinality; histogram buckets stay those of the catalog', async () => {
    running = startTelemetry({ traces: false, hostMetrics: false, env: {}, telemetry: { maxSeriesPerMetric: 3000 } });
    for (let index = 0; index < 2600; index++) {
      running.telemetry.recordTokensUsed('openai', `model-${index}`, 'input', 1);
      running.telemetry.recordProviderResponseTime(`provider-${index}`, 0.3);
    }
    const text = await scrape(running);
    expect(text).not.toContain('otel_metric_overflow');
    expect(text.match(/^tokens_used_total\{/gm)).toHaveLength(2600);
    expect(text.match(/^provider_response_time_seconds_count\{/gm)).toHaveLength(2600);
    expect(text).toContain('provider_response_time_seconds_bucket{provider="provider-0",le="0.25"} 0');
    expect(text).toContain('provider_response_time_seconds_bucket{provider="provider-0",le="0.5"} 1');
  });

  it('keeps what helpers recorded before the SDK started (imported and used first)', async () => {
    incrementCostByProvider('early', 0.25);
    setCircuitBreakerState('early', 'half_open');
    running = startTelemetry({ traces: false, hostMetrics: false, env: {} });
    incrementCostByProvider('early', 0.5);
    recordProviderResponseTime('early', 0.3);
    const text = await scrape(running);
    expect(text).toContain('gatewayz_cost_by_provider_total{provider="early"} 0.75');
    expect(text).toContain('gatewayz_circuit_breaker_state{provider="early",state="half_open"} 1');
    expect(text).toContain('provider_response_time_seconds_count{provider="early"} 1');
    await running.shutdown();
    running = startTelemetry({ traces: false, hostMetrics: false, env: {} });
    expect(await scrape(running)).not.toContain('provider="early"');
  });

  it('exports spans through the given exporter and flushes them on shutdown', async () => {
    const exporter = new InMemorySpanExporter();
    running = startTelemetry({
      traces: { spanProcessors: [new SimpleSpanProcessor(exporter)] },
      hostMetrics: false,
      env: {},
    });
    expect(running.tracesEnabled).toBe(true);
    running.tracer.startSpan('work').end();
    await running.forceFlush();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['work']);
  });

  describe('contextManager', () => {
    const KEY = createContextKey('request');
    const requestContext = ROOT_CONTEXT.setValue(KEY, 'r1');
    /** The value of KEY synchronously inside context.with(), and after an await inside it. */
    const probe = async (): Promise<{ inside: unknown; afterAwait: unknown }> =>
      context.with(requestContext, async () => {
        const inside = context.active().getValue(KEY);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { inside, afterAwait: context.active().getValue(KEY) };
      });

    it('defaults to AsyncLocalStorage: the context survives an await', async () => {
      running = startTelemetry({ traces: false, hostMetrics: false, runtimeMetrics: false, env: {} });
      expect(await probe()).toEqual({ inside: 'r1', afterAwait: 'r1' });
    });

    it("'synchronous' keeps the context for the synchronous run only; spans still nest with an explicit parent", async () => {
      const exporter = new InMemorySpanExporter();
      running = startTelemetry({
        contextManager: 'synchronous',
        traces: { spanProcessors: [new SimpleSpanProcessor(exporter)] },
        hostMetrics: false,
        runtimeMetrics: false,
        env: {},
      });
      expect(await probe()).toEqual({ inside: 'r1', afterAwait: undefined });
      const parent = running.tracer.startSpan('request');
      const parentContext = trace.setSpan(context.active(), parent);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running.tracer.startSpan('attempt', {}, parentContext).end();
      parent.end();
      const [attempt, request] = exporter.getFinishedSpans();
      expect(attempt?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    });

    it('takes a ContextManager instance, and a later start can install another after shutdown', async () => {
      running = startTelemetry({
        contextManager: new SynchronousContextManager(),
        traces: false,
        hostMetrics: false,
        env: {},
      });
      expect((await probe()).afterAwait).toBeUndefined();
      await running.shutdown();
      running = startTelemetry({ traces: false, hostMetrics: false, runtimeMetrics: false, env: {} });
      expect((await probe()).afterAwait).toBe('r1');
    });

    it('rejects an unknown value with a TelemetryConfigurationError', () => {
      expect(() =>
        startTelemetry({ contextManager: 'zone' as unknown as 'synchronous', traces: false, env: {} }),
      ).toThrow(TelemetryConfigurationError);
    });
  });

  it('does not export traces unless an OTLP endpoint is configured', () => {
    running = startTelemetry({ hostMetrics: false, env: {} });
    expect(running.tracesEnabled).toBe(false);
  });

  it('runs shutdown tasks before the SDK shuts down, once', async () => {
    running = startTelemetry({ traces: false, hostMetrics: false, env: {} });
    const order: string[] = [];
    running.onShutdown(async () => {
      order.push('task');
    });
    const first = running.shutdown();
    const second = running.shutdown();
    await Promise.all([first, second]);
    expect(order).toEqual(['task']);
    // After shutdown the global tracer provider is released.
    expect(trace.getTracerProvider().getTracer('x').startSpan('y').isRecording()).toBe(false);
  });

  it('turns everything off with OTEL_SDK_DISABLED=true; endpoints answer 503', async () => {
    running = startTelemetry({ env: { OTEL_SDK_DISABLED: 'true' } });
    expect(running.disabled).toBe(true);
    const response = await running.metricsHandler(new Request('http://localhost/metrics'));
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe('telemetry_disabled');
  });

  it('reads METRICS_TOKEN and rejects tokens too short to be safe', async () => {
    running = startTelemetry({ traces: false, hostMetrics: false, env: { METRICS_TOKEN: 'a-long-enough-token-123' } });
    expect(running.metricsAuthEnabled).toBe(true);
    expect((await running.metricsHandler(new Request('http://localhost/metrics'))).status).toBe(401);
    await running.shutdown();
    running = undefined;
    expect(() => startTelemetry({ env: { METRICS_TOKEN: 'short' } })).toThrow(TelemetryConfigurationError);
  });
});
