import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GatewayTelemetry, PACKAGE_NAME, PACKAGE_VERSION } from '../src/index.js';
import { TestMetricReader } from './helpers.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};

describe('package version', () => {
  it('PACKAGE_VERSION and PACKAGE_NAME match package.json', () => {
    expect(PACKAGE_VERSION).toBe(packageJson.version);
    expect(PACKAGE_NAME).toBe(packageJson.name);
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it('reports metrics under the package name and version as instrumentation scope', async () => {
    const reader = new TestMetricReader();
    const provider = new MeterProvider({ readers: [reader] });
    try {
      new GatewayTelemetry({ meterProvider: provider }).recordCacheHit();
      const { resourceMetrics } = await reader.collect();
      expect(resourceMetrics.scopeMetrics).toHaveLength(1);
      expect(resourceMetrics.scopeMetrics[0]?.scope).toMatchObject({ name: PACKAGE_NAME, version: PACKAGE_VERSION });
    } finally {
      await provider.shutdown();
    }
  });
});
