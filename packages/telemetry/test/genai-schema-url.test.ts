/**
 * The instrumentation scope of this package's meter carries the schema URL of the semantic
 * conventions release its names follow (`GEN_AI_SEMCONV_SCHEMA_URL`), so a backend can tell which
 * release the `gen_ai.*` metrics are.
 */
import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../src/index.js';
import { semconv } from '../src/genai/index.js';
import { telemetryPerTest } from './helpers.js';

const makeTelemetry = telemetryPerTest();

describe('the schema URL of the meter scope', () => {
  it('is the schema URL of the pinned release, on the scope of every metric the package exports', async () => {
    expect(semconv.GEN_AI_SEMCONV_SCHEMA_URL).toBe(
      `https://opentelemetry.io/schemas/${semconv.GEN_AI_SEMCONV_VERSION}`,
    );
    const { telemetry, harness } = makeTelemetry();
    telemetry.recordGenAiOperation({
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'gpt-4o-mini',
      durationSeconds: 0.5,
    });
    telemetry.recordProviderResponseTime('openai', 0.5);
    const { resourceMetrics } = await harness.reader.collect();
    const ours = resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === PACKAGE_NAME);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.scope.schemaUrl).toBe('https://opentelemetry.io/schemas/1.41.0');
    const names = ours[0]!.metrics.map((metric) => metric.descriptor.name);
    expect(names).toEqual(
      expect.arrayContaining(['gen_ai.client.operation.duration', 'provider_response_time_seconds']),
    );
  });
});
