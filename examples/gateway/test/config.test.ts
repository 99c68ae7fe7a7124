import { describe, expect, it } from 'vitest';
import {
  GatewayConfigError,
  loadDemoRateLimitRpm,
  loadDemoSettings,
  loadWorkerCount,
  parseProviders,
} from '../src/config.js';

describe('GATEWAY_WORKERS', () => {
  it('is one process by default, N workers when set, every core with auto', () => {
    expect(loadWorkerCount({}, 8)).toBe(1);
    expect(loadWorkerCount({ GATEWAY_WORKERS: ' 3 ' }, 8)).toBe(3);
    expect(loadWorkerCount({ GATEWAY_WORKERS: 'auto' }, 8)).toBe(8);
    expect(loadWorkerCount({ GATEWAY_WORKERS: 'AUTO' }, 2)).toBe(2);
  });

  it.each(['0', '-1', '1.5', 'many', '257'])('rejects %s with a GatewayConfigError', (value) => {
    expect(() => loadWorkerCount({ GATEWAY_WORKERS: value }, 8)).toThrow(GatewayConfigError);
    expect(() => loadWorkerCount({ GATEWAY_WORKERS: value }, 8)).toThrow(/GATEWAY_WORKERS must be a whole number/);
  });
});

describe('parseProviders', () => {
  it('reads the providers a cluster primary hands its workers', () => {
    const providers = parseProviders(
      JSON.stringify([
        {
          name: 'openai',
          baseUrl: 'http://127.0.0.1:9/v1/',
          models: ['gpt-4o-mini'],
          embeddingModels: ['text-embedding-3-small'],
          responsesApi: true,
        },
      ]),
      'GATEWAY_CLUSTER_PROVIDERS',
      {},
    );
    expect(providers).toEqual([
      {
        name: 'openai',
        baseUrl: 'http://127.0.0.1:9/v1',
        models: ['gpt-4o-mini'],
        pricing: {},
        imageModels: [],
        embeddingModels: ['text-embedding-3-small'],
        responsesApi: true,
      },
    ]);
  });

  it('names its source in errors', () => {
    expect(() => parseProviders('[{"name":"Bad Name"}]', 'GATEWAY_CLUSTER_PROVIDERS', {})).toThrow(
      /GATEWAY_CLUSTER_PROVIDERS, provider 0: "name" must be a lowercase identifier/,
    );
    expect(() => parseProviders('{', 'GATEWAY_CLUSTER_PROVIDERS', {})).toThrow(/is not readable JSON/);
  });
});

describe('DEMO_RATE_LIMIT_RPM', () => {
  it('is no limit when unset or empty, N requests per minute when set', () => {
    expect(loadDemoRateLimitRpm({})).toBeUndefined();
    expect(loadDemoRateLimitRpm({ DEMO_RATE_LIMIT_RPM: '  ' })).toBeUndefined();
    expect(loadDemoRateLimitRpm({ DEMO_RATE_LIMIT_RPM: '6' })).toBe(6);
    expect(loadDemoSettings({ DEMO_RATE_LIMIT_RPM: '120' }).rateLimitRpm).toBe(120);
  });

  it.each(['0', '-5', '1.5', 'ten', '1e3', '1000001'])('rejects %s with a clear GatewayConfigError', (value) => {
    expect(() => loadDemoRateLimitRpm({ DEMO_RATE_LIMIT_RPM: value })).toThrow(GatewayConfigError);
    expect(() => loadDemoRateLimitRpm({ DEMO_RATE_LIMIT_RPM: value })).toThrow(
      `DEMO_RATE_LIMIT_RPM must be a whole number of requests per minute from 1 to 1000000 (unset it for no limit), got "${value}"`,
    );
  });
});
