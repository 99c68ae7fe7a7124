/**
 * The tracer `startTelemetry()` returns names the semantic-conventions release its GenAI spans
 * follow: its instrumentation scope carries `GEN_AI_SEMCONV_SCHEMA_URL`, which exporters send as the
 * scope's schema URL.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { semconv } from '@gatewayz/telemetry/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('the tracer of startTelemetry()', () => {
  it('has the schema URL of the pinned GenAI conventions on its scope', async () => {
    const exporter = new InMemorySpanExporter();
    running = startTelemetry({
      traces: { spanProcessors: [new SimpleSpanProcessor(exporter)] },
      hostMetrics: false,
      runtimeMetrics: false,
      env: {},
    });
    running.tracer.startSpan('chat gpt-4o-mini').end();
    await running.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.instrumentationScope).toEqual({
      name: '@gatewayz/telemetry-node',
      version: expect.any(String),
      schemaUrl: 'https://opentelemetry.io/schemas/1.41.0',
    });
    expect(span?.instrumentationScope.schemaUrl).toBe(semconv.GEN_AI_SEMCONV_SCHEMA_URL);
  });
});
