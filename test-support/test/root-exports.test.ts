/**
 * The root entry point of `@gatewayz/telemetry` is a decision, not a side effect: it carries what
 * an application records with (fewer than 60 runtime values); catalog internals, the model-health
 * contract, GenAI spans and pricing live on their subpaths.
 */
import { describe, expect, it } from 'vitest';

describe('@gatewayz/telemetry root entry point', () => {
  it('exports fewer than 60 runtime values, none of them internal', async () => {
    const root = await import('../../packages/telemetry/src/index.js');
    const names = Object.keys(root);
    expect(names.length).toBeLessThan(60);
    for (const internal of [
      'foldModelCall',
      'validateModelCall',
      'exemplarsFor',
      'SeriesStore',
      'METRIC_CATALOG',
      'MemoryModelHealthStore',
      'startHealthServicePoller',
    ]) {
      expect(names).not.toContain(internal);
    }
    expect(names).toEqual(expect.arrayContaining(['recordProviderResponseTime', 'GatewayTelemetry', 'TelemetryError']));
  });

  it('keeps every subpath entry point loadable', async () => {
    const subpaths = await Promise.all([
      import('../../packages/telemetry/src/metrics/index.js'),
      import('../../packages/telemetry/src/model-health/index.js'),
      import('../../packages/telemetry/src/provider-health/index.js'),
      import('../../packages/telemetry/src/genai/index.js'),
      import('../../packages/telemetry/src/scheduling/index.js'),
      import('../../packages/telemetry/src/rate-limits/index.js'),
    ]);
    expect(subpaths.map((module) => Object.keys(module).length > 0)).toEqual([true, true, true, true, true, true]);
  });
});
