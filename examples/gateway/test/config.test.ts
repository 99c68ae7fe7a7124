import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProviders } from '../src/server/run-gateway.js';
import {
  GatewayConfigError,
  loadDemoRateLimitRpm,
  loadDemoSettings,
  loadGatewaySettings,
  loadProvidersFile,
  loadWorkerCount,
  parseProviders,
  loadSupabaseSettings,
} from '../src/config.js';
import { loadWorkerKillTimeoutMs } from '../src/server/worker-kill-timeout.js';

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
          cancelStopsBilling: true,
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
        cancelStopsBilling: true,
      },
    ]);
  });

  it('names its source in errors', () => {
    expect(() => parseProviders('[{"name":"Bad Name"}]', 'GATEWAY_CLUSTER_PROVIDERS', {})).toThrow(
      /GATEWAY_CLUSTER_PROVIDERS, provider 0: "name" must be a lowercase identifier/,
    );
    expect(() => parseProviders('{', 'GATEWAY_CLUSTER_PROVIDERS', {})).toThrow(/is not readable JSON/);
    expect(() =>
      parseProviders(
        '[{"name":"p","baseUrl":"http://127.0.0.1:9/v1","models":[],"cancelStopsBilling":"yes"}]',
        'GATEWAY_CLUSTER_PROVIDERS',
        {},
      ),
    ).toThrow(/provider 0: "cancelStopsBilling" must be true or false/);
  });

  it('refuses entries that are not objects, unknown or misspelt fields, and a name given twice', () => {
    const entry = { name: 'p', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] };
    const parse = (entries: unknown[]) => () => parseProviders(JSON.stringify(entries), 'providers.json', {});
    expect(parse([null])).toThrow(/providers.json, provider 0: must be an object/);
    expect(parse([entry, 'p'])).toThrow(/providers.json, provider 1: must be an object/);
    // An API key in the file itself, and a typo of responsesApi: refused, not ignored.
    expect(parse([{ ...entry, apiKey: 'sk-secret' }])).toThrow(
      /provider 0: unknown field "apiKey" .*an API key goes in the variable named by "apiKeyEnv"/,
    );
    expect(parse([{ ...entry, responsesAPI: true }])).toThrow(/provider 0: unknown field "responsesAPI"/);
    expect(parse([{ ...entry, apiKeyEnv: 42 }])).toThrow(
      /provider 0: "apiKeyEnv" must be the name of an environment variable/,
    );
    // Two providers of one name would share every metric series, and one's prices would replace the other's.
    expect(parse([entry, { ...entry, models: ['m2'] }])).toThrow(
      /provider 1: "name" "p" is already the name of provider 0/,
    );
    expect(parse([entry, { ...entry, name: 'q' }])()).toHaveLength(2);
  });
});

describe('UPSTREAM_BASE_URL', () => {
  it('checks the name and the URL as a providers file entry is checked', async () => {
    const env = { UPSTREAM_BASE_URL: 'https://api.openai.com/v1', UPSTREAM_MODELS: 'gpt-4o-mini' };
    expect((await resolveProviders(env)).providers).toEqual([
      { name: 'upstream', baseUrl: 'https://api.openai.com/v1', models: ['gpt-4o-mini'] },
    ]);
    await expect(resolveProviders({ ...env, UPSTREAM_BASE_URL: 'api.openai.com/v1' })).rejects.toThrow(
      /UPSTREAM_BASE_URL must be an http\(s\) URL/,
    );
    await expect(resolveProviders({ ...env, UPSTREAM_NAME: 'My Provider!' })).rejects.toThrow(
      /UPSTREAM_NAME: "name" must be a lowercase identifier/,
    );
  });
});

describe('GATEWAY_PROVIDERS_FILE', () => {
  it('reads a file saved with a UTF-8 byte order mark (Windows editors) like one without', () => {
    const directory = mkdtempSync(join(tmpdir(), 'providers-file-'));
    try {
      const path = join(directory, 'providers.json');
      const providers = [{ name: 'openai', baseUrl: 'https://api.openai.com/v1', models: ['gpt-4o-mini'] }];
      writeFileSync(path, JSON.stringify(providers));
      const withoutMark = loadProvidersFile(path, {});
      writeFileSync(path, `\uFEFF${JSON.stringify(providers)}`);
      expect(loadProvidersFile(path, {})).toEqual(withoutMark);
      expect(withoutMark.map((provider) => provider.name)).toEqual(['openai']);
      // Only a leading mark is skipped: one anywhere else is still not JSON.
      writeFileSync(path, `[\uFEFF${JSON.stringify(providers[0])}]`);
      expect(() => loadProvidersFile(path, {})).toThrow(/is not readable JSON/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('RETRY_AFTER_MAX_MS', () => {
  it('caps retry-after at 60 s unless set', () => {
    expect(loadGatewaySettings({}).maxRetryAfterMs).toBe(60_000);
    expect(loadGatewaySettings({ RETRY_AFTER_MAX_MS: '' }).maxRetryAfterMs).toBe(60_000);
    expect(loadGatewaySettings({ RETRY_AFTER_MAX_MS: ' 300000 ' }).maxRetryAfterMs).toBe(300_000);
  });

  it.each(['0', '99', '1.5', 'one minute', '86400001'])('rejects %s with a GatewayConfigError', (value) => {
    expect(() => loadGatewaySettings({ RETRY_AFTER_MAX_MS: value })).toThrow(GatewayConfigError);
    expect(() => loadGatewaySettings({ RETRY_AFTER_MAX_MS: value })).toThrow(
      /RETRY_AFTER_MAX_MS must be an integer between 100 and 86400000/,
    );
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

describe('WORKER_KILL_TIMEOUT_MS', () => {
  it('is derived from the shutdown budget: 2 × SHUTDOWN_TIMEOUT_MS + 2 s + the largest OTLP timeout + 5 s', () => {
    expect(loadWorkerKillTimeoutMs({}, 10_000)).toBe(37_000);
    expect(loadWorkerKillTimeoutMs({}, 30_000)).toBe(77_000);
    expect(loadWorkerKillTimeoutMs({ OTEL_EXPORTER_OTLP_TIMEOUT: '20000' }, 10_000)).toBe(47_000);
    expect(loadWorkerKillTimeoutMs({ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '25000' }, 10_000)).toBe(52_000);
    // 0 is "no limit": the batch processors' 30 s export timeout bounds the flush.
    expect(loadWorkerKillTimeoutMs({ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 10_000)).toBe(57_000);
    // Values the exporters ignore are ignored here too.
    expect(loadWorkerKillTimeoutMs({ OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }, 10_000)).toBe(37_000);
  });

  it('is never derived below 20 s', () => {
    expect(loadWorkerKillTimeoutMs({}, 0)).toBe(20_000);
    expect(loadWorkerKillTimeoutMs({ OTEL_EXPORTER_OTLP_TIMEOUT: '1000' }, 1000)).toBe(20_000);
  });

  it('takes an explicit value, and refuses one that is not whole milliseconds from 1000 to 3600000', () => {
    expect(loadWorkerKillTimeoutMs({ WORKER_KILL_TIMEOUT_MS: ' 90000 ' }, 10_000)).toBe(90_000);
    expect(loadWorkerKillTimeoutMs({ WORKER_KILL_TIMEOUT_MS: '1000' }, 10_000)).toBe(1000);
    expect(loadWorkerKillTimeoutMs({ WORKER_KILL_TIMEOUT_MS: '' }, 10_000)).toBe(37_000);
    for (const raw of ['999', '3600001', '1.5e4', '-5000', 'ten']) {
      expect(() => loadWorkerKillTimeoutMs({ WORKER_KILL_TIMEOUT_MS: raw }, 10_000)).toThrow(GatewayConfigError);
    }
  });
});

describe('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY', () => {
  it('keeps model health in memory when both are unset or empty (as a compose file passes them)', () => {
    expect(loadSupabaseSettings({})).toBeUndefined();
    expect(loadSupabaseSettings({ SUPABASE_URL: '', SUPABASE_SERVICE_ROLE_KEY: '' })).toBeUndefined();
    expect(loadSupabaseSettings({ SUPABASE_URL: '  ', SUPABASE_SERVICE_ROLE_KEY: undefined })).toBeUndefined();
  });

  it('uses Supabase when both are set, without the whitespace around them', () => {
    expect(
      loadSupabaseSettings({
        SUPABASE_URL: 'https://abcd.supabase.co',
        SUPABASE_SERVICE_ROLE_KEY: 'service-role-jwt\n',
      }),
    ).toEqual({ url: 'https://abcd.supabase.co', serviceRoleKey: 'service-role-jwt' });
  });

  it.each([
    [{ SUPABASE_URL: 'https://abcd.supabase.co' }, 'SUPABASE_SERVICE_ROLE_KEY'],
    [{ SUPABASE_URL: 'https://abcd.supabase.co', SUPABASE_SERVICE_ROLE_KEY: '' }, 'SUPABASE_SERVICE_ROLE_KEY'],
    [{ SUPABASE_URL: '', SUPABASE_SERVICE_ROLE_KEY: 'service-role-jwt' }, 'SUPABASE_URL'],
  ])('refuses one without the other: %o', (env, missing) => {
    expect(() => loadSupabaseSettings(env)).toThrow(
      `set both SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY to use Supabase, or neither to keep model health in memory (${missing} is unset or empty)`,
    );
  });
});
