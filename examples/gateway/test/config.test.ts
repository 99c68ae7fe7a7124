import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providersConfigured, resolveProviders } from '../src/server/run-gateway.js';
import {
  GatewayConfigError,
  loadDemoRateLimitRpm,
  loadDemoSettings,
  loadGatewaySettings,
  loadHealthServiceIntervalMs,
  loadHealthServiceUrl,
  loadProvidersFile,
  loadWorkerCount,
  parseProviders,
  loadSupabaseSettings,
} from '../src/config.js';
import { loadWorkerKillTimeoutMs } from '../src/server/worker-kill-timeout.js';
import { startGatewayProcess } from './gateway-process.js';

describe('GATEWAY_WORKERS', () => {
  it('is one process by default, N workers when set, every core with auto', () => {
    expect(loadWorkerCount({}, 8)).toBe(1);
    expect(loadWorkerCount({ GATEWAY_WORKERS: ' 3 ' }, 8)).toBe(3);
    expect(loadWorkerCount({ GATEWAY_WORKERS: 'auto' }, 8)).toBe(8);
    expect(loadWorkerCount({ GATEWAY_WORKERS: 'AUTO' }, 2)).toBe(2);
  });

  // Number() reads hexadecimal and exponents too: 1e1 was 10 workers, 0x2 two.
  it.each(['0', '-1', '1.5', 'many', '257', '1e1', '0x2', '2.0', '+2'])(
    'rejects %s with a GatewayConfigError',
    (value) => {
      expect(() => loadWorkerCount({ GATEWAY_WORKERS: value }, 8)).toThrow(GatewayConfigError);
      expect(() => loadWorkerCount({ GATEWAY_WORKERS: value }, 8)).toThrow(/GATEWAY_WORKERS must be a whole number/);
    },
  );
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
        reportsCost: false,
      },
    ]);
  });

  it("takes OpenRouter's reported cost by default, and reportsCost as set", () => {
    const parse = (entry: Record<string, unknown>) =>
      parseProviders(JSON.stringify([{ name: 'p', models: ['m'], ...entry }]), 'providers.json', {})[0]?.reportsCost;
    expect(parse({ baseUrl: 'https://openrouter.ai/api/v1' })).toBe(true);
    expect(parse({ baseUrl: 'https://openrouter.ai/api/v1', reportsCost: false })).toBe(false);
    expect(parse({ baseUrl: 'https://api.openai.com/v1' })).toBe(false);
    expect(parse({ baseUrl: 'http://127.0.0.1:9/v1', reportsCost: true })).toBe(true);
    expect(() => parse({ baseUrl: 'http://127.0.0.1:9/v1', reportsCost: 1 })).toThrow(
      /provider 0: "reportsCost" must be true or false/,
    );
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

  it('reads "pricing" keyed by the models, image models and embedding models the provider serves', () => {
    const [provider] = parseProviders(
      JSON.stringify([
        {
          name: 'p',
          baseUrl: 'http://127.0.0.1:9/v1',
          models: ['chat-model'],
          imageModels: ['image-model'],
          embeddingModels: ['embedding-model'],
          pricing: {
            'chat-model': { inputPerMillionTokens: 2.5, cachedInputPerMillionTokens: 1.25, outputPerMillionTokens: 10 },
            'image-model': { perImage: 0.04, perRequest: 0 },
            'embedding-model': { inputPerMillionTokens: 0.02, cacheWritePerMillionTokens: 0 },
          },
        },
      ]),
      'providers.json',
      {},
    );
    expect(provider?.pricing).toEqual({
      'chat-model': { inputPerMillionTokens: 2.5, cachedInputPerMillionTokens: 1.25, outputPerMillionTokens: 10 },
      'image-model': { perImage: 0.04, perRequest: 0 },
      'embedding-model': { inputPerMillionTokens: 0.02, cacheWritePerMillionTokens: 0 },
    });
  });

  it('refuses a misspelt price field, a price that is not a number of USD ≥ 0, and a model the provider does not serve', () => {
    const entry = { name: 'up', baseUrl: 'http://127.0.0.1:9/v1', models: ['gpt-4o'], imageModels: ['gpt-image-1'] };
    const parse = (pricing: unknown) => () =>
      parseProviders(JSON.stringify([{ ...entry, pricing }]), 'GATEWAY_PROVIDERS_FILE providers.json', {});
    // A misspelt field priced the input at 0 without a word.
    expect(parse({ 'gpt-4o': { inputPerMilionTokens: 2.5, outputPerMillionTokens: 10 } })).toThrow(
      'GATEWAY_PROVIDERS_FILE providers.json, provider 0 (up): "pricing" of "gpt-4o": unknown field "inputPerMilionTokens" (known: inputPerMillionTokens, cachedInputPerMillionTokens, cacheWritePerMillionTokens, cacheWrite1hPerMillionTokens, audioInputPerMillionTokens, outputPerMillionTokens, audioOutputPerMillionTokens, perImage, perRequest)',
    );
    // A misspelt model left gpt-4o unpriced without a word.
    expect(parse({ gpt4o: { inputPerMillionTokens: 2.5, outputPerMillionTokens: 10 } })).toThrow(
      /provider 0 \(up\): "pricing" names the model "gpt4o", which the provider does not serve \(its models: gpt-4o, gpt-image-1\)/,
    );
    expect(parse({ 'gpt-4o': { outputPerMillionTokens: -10 } })).toThrow(
      /"pricing" of "gpt-4o": "outputPerMillionTokens" must be a number of USD ≥ 0, got -10/,
    );
    expect(parse({ 'gpt-4o': { inputPerMillionTokens: '2.5' } })).toThrow(
      /"pricing" of "gpt-4o": "inputPerMillionTokens" must be a number of USD ≥ 0, got "2.5"/,
    );
    expect(parse({ 'gpt-4o': 'cheap' })).toThrow(/"pricing" of "gpt-4o" must be an object of USD prices/);
    expect(parse(['gpt-4o'])).toThrow(/provider 0 \(up\): "pricing" must be an object of prices by model/);
    for (const pricing of [{ 'gpt-4o': { perImage: 1 } }, { 'gpt-4o': { outputPerMillionTokens: 1 } }]) {
      expect(() => parse(pricing)()).not.toThrow();
    }
    // 1e400 is Infinity once parsed.
    expect(() =>
      parseProviders(
        '[{"name":"up","baseUrl":"http://127.0.0.1:9/v1","models":["m"],"pricing":{"m":{"perRequest":1e400}}}]',
        'providers.json',
        {},
      ),
    ).toThrow(/"perRequest" must be a number of USD ≥ 0, got Infinity/);
  });
});

describe('UPSTREAM_BASE_URL', () => {
  it('checks the name and the URL as a providers file entry is checked', async () => {
    const env = { UPSTREAM_BASE_URL: 'https://api.openai.com/v1', UPSTREAM_MODELS: 'gpt-4o-mini' };
    expect((await resolveProviders(env)).providers).toEqual([
      { name: 'openai', baseUrl: 'https://api.openai.com/v1', models: ['gpt-4o-mini'] },
    ]);
    await expect(resolveProviders({ ...env, UPSTREAM_BASE_URL: 'api.openai.com/v1' })).rejects.toThrow(
      /UPSTREAM_BASE_URL must be an http\(s\) URL/,
    );
    await expect(resolveProviders({ ...env, UPSTREAM_NAME: 'My Provider!' })).rejects.toThrow(
      /UPSTREAM_NAME: "name" must be a lowercase identifier/,
    );
  });

  it("takes OpenRouter's reported cost, as a providers file entry does by default", async () => {
    const env = { UPSTREAM_BASE_URL: 'https://openrouter.ai/api/v1', UPSTREAM_MODELS: 'openai/gpt-4o-mini' };
    expect((await resolveProviders(env)).providers[0]?.reportsCost).toBe(true);
  });

  it('takes an empty UPSTREAM_NAME as unset, as every other variable', async () => {
    const env = { UPSTREAM_BASE_URL: 'https://api.openai.com/v1', UPSTREAM_MODELS: 'gpt-4o-mini' };
    for (const name of ['', '  ']) {
      expect((await resolveProviders({ ...env, UPSTREAM_NAME: name })).providers[0]?.name).toBe('openai');
    }
    expect((await resolveProviders({ ...env, UPSTREAM_NAME: ' azure ' })).providers[0]?.name).toBe('azure');
  });

  it("names an unnamed provider as the GenAI conventions name its host's API, else upstream", async () => {
    const nameOf = async (url: string): Promise<string | undefined> =>
      (await resolveProviders({ UPSTREAM_BASE_URL: url, UPSTREAM_MODELS: 'm' })).providers[0]?.name;
    for (const [url, name] of [
      ['https://api.openai.com/v1', 'openai'],
      ['https://API.OpenAI.com:443/v1/', 'openai'],
      ['https://my-resource.openai.azure.com/openai/v1', 'azure.ai.openai'],
      ['https://my-resource.services.ai.azure.com/models', 'azure.ai.inference'],
      ['https://models.inference.ai.azure.com', 'azure.ai.inference'],
      ['https://api.anthropic.com/v1', 'anthropic'],
      ['https://generativelanguage.googleapis.com/v1beta/openai', 'gcp.gemini'],
      ['https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/l/endpoints/openapi', 'gcp.vertex_ai'],
      ['https://aiplatform.googleapis.com/v1', 'gcp.vertex_ai'],
      ['https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1', 'aws.bedrock'],
      ['https://api.mistral.ai/v1', 'mistral_ai'],
      ['https://api.x.ai/v1', 'x_ai'],
      ['https://api.deepseek.com', 'deepseek'],
      ['https://api.groq.com/openai/v1', 'groq'],
      ['https://api.perplexity.ai', 'perplexity'],
      ['https://api.cohere.ai/compatibility/v1', 'cohere'],
      ['https://openrouter.ai/api/v1', 'openrouter'],
      // Look-alikes and self-hosted servers are not named for a provider they are not.
      ['https://api.openai.com.example.net/v1', 'upstream'],
      ['https://notapi.openai.com/v1', 'upstream'],
      ['https://evil-openai.azure.com/v1', 'upstream'],
      ['http://127.0.0.1:8000/v1', 'upstream'],
    ] as const) {
      expect(await nameOf(url), url).toBe(name);
    }
  });

  it('refuses UPSTREAM_* without UPSTREAM_BASE_URL, which used to run the simulated providers instead', async () => {
    for (const [set, names] of [
      [{ UPSTREAM_MODELS: 'gpt-4o-mini' }, 'UPSTREAM_MODELS is set'],
      [{ UPSTREAM_API_KEY: 'sk-x', UPSTREAM_MODELS: 'gpt-4o-mini' }, 'UPSTREAM_MODELS, UPSTREAM_API_KEY are set'],
      [{ UPSTREAM_BASE_URL: ' ', UPSTREAM_API_KEY: 'sk-x' }, 'UPSTREAM_API_KEY is set'],
    ] as const) {
      expect(providersConfigured(set)).toBe(true);
      await expect(resolveProviders(set)).rejects.toThrow(GatewayConfigError);
      await expect(resolveProviders(set)).rejects.toThrow(
        `${names} but UPSTREAM_BASE_URL is not: set UPSTREAM_BASE_URL to the provider's URL`,
      );
    }
    expect(providersConfigured({ UPSTREAM_MODELS: '', UPSTREAM_NAME: ' ' })).toBe(false);
  });

  it('refuses GATEWAY_PROVIDERS_FILE and UPSTREAM_BASE_URL together rather than ignoring one', async () => {
    const env = {
      GATEWAY_PROVIDERS_FILE: '/nonexistent/providers.json',
      UPSTREAM_BASE_URL: 'https://api.openai.com/v1',
      UPSTREAM_MODELS: 'gpt-4o-mini',
    };
    await expect(resolveProviders(env)).rejects.toThrow(
      'GATEWAY_PROVIDERS_FILE and UPSTREAM_BASE_URL, UPSTREAM_MODELS are both set, and the gateway takes its providers from one or the other',
    );
  });
});

describe('API key budgets on configured providers', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'budgets-priced-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const keysFile = (keys: unknown[]): string => {
    const path = join(directory, `keys-${keys.length}-${Math.random()}.json`);
    writeFileSync(path, JSON.stringify(keys));
    return path;
  };
  const budgeted = (): string =>
    keysFile([
      { name: 'team-a', key: 'gwz-aaaaaaaaaaaa', plan: 'paid' },
      { name: 'tiny', key: 'gwz-tiny-000000', plan: 'trial', budget_usd: 0.000001 },
    ]);

  it('refuses UPSTREAM_* (which carries no prices) when a key of GATEWAY_API_KEYS_FILE has a budget', async () => {
    const env = {
      UPSTREAM_BASE_URL: 'http://127.0.0.1:9/v1',
      UPSTREAM_MODELS: 'gpt-4o,llama',
      GATEWAY_API_KEYS_FILE: budgeted(),
    };
    await expect(resolveProviders(env)).rejects.toThrow(GatewayConfigError);
    await expect(resolveProviders(env)).rejects.toThrow(
      /GATEWAY_API_KEYS_FILE gives tiny a budget \(budget_usd\), but these models have no price.*: upstream\/gpt-4o \(no price\), upstream\/llama \(no price\)\. UPSTREAM_BASE_URL and UPSTREAM_MODELS cannot carry prices: describe the provider in a GATEWAY_PROVIDERS_FILE instead/,
    );
    // Keys without a budget, and the demo's optional keys, have no budget to keep.
    const unbudgeted = keysFile([{ name: 'team-a', key: 'gwz-aaaaaaaaaaaa', plan: 'paid' }]);
    await expect(resolveProviders({ ...env, GATEWAY_API_KEYS_FILE: unbudgeted })).resolves.toBeDefined();
    await expect(resolveProviders({ ...env, GATEWAY_API_KEYS_FILE: '' })).resolves.toBeDefined();
  });

  it('refuses a providers file whose model has no price for an operation it serves, and takes an explicit 0', async () => {
    const provider = {
      name: 'real',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: ['gpt-4o', 'llama'],
      imageModels: ['gpt-image-1'],
      embeddingModels: ['text-embedding-3-small'],
      pricing: {
        'gpt-4o': { inputPerMillionTokens: 2.5, outputPerMillionTokens: 10 },
        'gpt-image-1': { perRequest: 0.01 },
        'text-embedding-3-small': { inputPerMillionTokens: 0.02 },
      } as Record<string, Record<string, number>>,
    };
    const providersFile = join(directory, 'providers.json');
    writeFileSync(providersFile, JSON.stringify([provider]));
    const env = { GATEWAY_PROVIDERS_FILE: providersFile, GATEWAY_API_KEYS_FILE: budgeted() };
    await expect(resolveProviders(env)).rejects.toThrow(
      /: real\/llama \(no price\), real\/gpt-image-1 \(no perImage for images\)\. Add each model to its provider's "pricing" in GATEWAY_PROVIDERS_FILE/,
    );
    // A free self-hosted model is priced at 0, explicitly.
    provider.pricing['llama'] = { inputPerMillionTokens: 0, outputPerMillionTokens: 0 };
    provider.pricing['gpt-image-1'] = { perImage: 0.04 };
    writeFileSync(providersFile, JSON.stringify([provider]));
    expect((await resolveProviders(env)).providers[0]?.pricing?.['llama']).toEqual({
      inputPerMillionTokens: 0,
      outputPerMillionTokens: 0,
    });
  });

  it("starts the demo's simulated providers, every model priced, for budgeted keys of the file as for the demo keys", async () => {
    for (const keys of [budgeted(), '']) {
      const { providers, demo } = await resolveProviders({ GATEWAY_API_KEYS_FILE: keys, DEMO_LATENCY_MS: '0' });
      try {
        expect(providers.map((provider) => provider.name)).toEqual(['openai', 'anthropic', 'openrouter']);
      } finally {
        await demo?.close();
      }
    }
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

describe('HOST', () => {
  it('is 127.0.0.1 when unset or empty, and an address or host name without the whitespace around it', () => {
    expect(loadGatewaySettings({}).host).toBe('127.0.0.1');
    expect(loadGatewaySettings({ HOST: '  ' }).host).toBe('127.0.0.1');
    // ' 0.0.0.0 ' failed the listen.
    expect(loadGatewaySettings({ HOST: ' 0.0.0.0 ' }).host).toBe('0.0.0.0');
    for (const host of ['::', '::1', '10.0.0.7', 'localhost', 'gateway-1.internal', 'gateway.example.com.']) {
      expect(loadGatewaySettings({ HOST: host }).host).toBe(host);
    }
  });

  it.each(['not a host!', 'http://0.0.0.0', '0.0.0.0:8080', '[::1]', '-gateway', 'a..b', `${'a'.repeat(64)}.com`])(
    'refuses %j at start-up, naming HOST, rather than with a bare getaddrinfo ENOTFOUND',
    (host) => {
      expect(() => loadGatewaySettings({ HOST: host })).toThrow(GatewayConfigError);
      expect(() => loadGatewaySettings({ HOST: host })).toThrow(
        `HOST must be an IP address (127.0.0.1, 0.0.0.0 for every IPv4 interface, :: for every interface) or a host name such as localhost, got "${host}"`,
      );
    },
  );
});

describe('HEALTH_SERVICE_URL and SUPABASE_URL', () => {
  it('take http(s) URLs without the whitespace around them; empty is unset', () => {
    expect(loadHealthServiceUrl({})).toBeUndefined();
    expect(loadHealthServiceUrl({ HEALTH_SERVICE_URL: ' ' })).toBeUndefined();
    expect(loadHealthServiceUrl({ HEALTH_SERVICE_URL: ' http://health-service:8000 ' })).toBe(
      'http://health-service:8000',
    );
    expect(loadHealthServiceUrl({ HEALTH_SERVICE_URL: 'https://health.example.com/api/' })).toBe(
      'https://health.example.com/api/',
    );
    expect(
      loadSupabaseSettings({ SUPABASE_URL: 'http://127.0.0.1:54321', SUPABASE_SERVICE_ROLE_KEY: 'jwt' })?.url,
    ).toBe('http://127.0.0.1:54321');
  });

  // Each stopped the start with the library's `TelemetryConfigurationError: Invalid option "url"`.
  it.each(['not-a-url', 'health-service:8000', 'ftp://health-service', 'http://'])(
    'refuses HEALTH_SERVICE_URL=%s naming the variable',
    (url) => {
      expect(() => loadHealthServiceUrl({ HEALTH_SERVICE_URL: url })).toThrow(GatewayConfigError);
      expect(() => loadHealthServiceUrl({ HEALTH_SERVICE_URL: url })).toThrow(
        `HEALTH_SERVICE_URL must be an http(s) URL such as http://health-service:8000, got "${url}"`,
      );
    },
  );

  it('refuses a HEALTH_SERVICE_URL with a query or fragment, which the poller would refuse', () => {
    expect(() => loadHealthServiceUrl({ HEALTH_SERVICE_URL: 'http://health-service:8000/?token=x' })).toThrow(
      /HEALTH_SERVICE_URL must be the health service's base URL without a query or fragment/,
    );
  });

  it.each(['notaurl', 'abcd.supabase.co', 'postgres://db:5432'])(
    'refuses SUPABASE_URL=%s naming the variable',
    (url) => {
      const env = { SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: 'jwt' };
      expect(() => loadSupabaseSettings(env)).toThrow(GatewayConfigError);
      expect(() => loadSupabaseSettings(env)).toThrow(
        `SUPABASE_URL must be an http(s) URL such as https://<project>.supabase.co, got "${url}"`,
      );
    },
  );
});

describe('whole-number variables', () => {
  it('take decimal digits, with the whitespace around them', () => {
    expect(loadGatewaySettings({ PORT: ' 8081 ' }).port).toBe(8081);
    expect(loadGatewaySettings({ ATTEMPT_TIMEOUT_MS: '10000' }).attemptTimeoutMs).toBe(10_000);
    expect(loadHealthServiceIntervalMs({ HEALTH_SERVICE_INTERVAL_MS: '5000' })).toBe(5000);
  });

  // Number() read them: PORT=0x1F90 listened on 8080, PORT=8e3 on 8000.
  it.each([
    ['PORT', '0x1F90'],
    ['PORT', '8e3'],
    ['PORT', '8080.0'],
    ['ATTEMPT_TIMEOUT_MS', '1e4'],
    ['STREAM_IDLE_TIMEOUT_MS', '0x100'],
    ['MAX_BODY_BYTES', '1e6'],
    ['SHUTDOWN_TIMEOUT_MS', '+5000'],
    ['GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS', '4e3'],
    ['BREAKER_VOLUME_THRESHOLD', '0b101'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadGatewaySettings({ [name]: value })).toThrow(GatewayConfigError);
    expect(() => loadGatewaySettings({ [name]: value })).toThrow(
      new RegExp(`^${name} must be an integer between \\d+ and \\d+, got "${value.replace(/[.+]/g, '\\$&')}"$`),
    );
  });

  it('refuses them in the demo and health-service settings too', () => {
    expect(() => loadDemoSettings({ DEMO_LATENCY_MS: '1e3' })).toThrow(/DEMO_LATENCY_MS must be an integer/);
    expect(() => loadHealthServiceIntervalMs({ HEALTH_SERVICE_INTERVAL_MS: '3e4' })).toThrow(
      /HEALTH_SERVICE_INTERVAL_MS must be an integer/,
    );
  });
});

describe('the gateway process (dist/main.js) at start-up', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-start-config-'));
    writeFileSync(
      join(directory, 'keys.json'),
      JSON.stringify([{ name: 'tiny', key: 'gwz-tiny-000000', plan: 'trial', budget_usd: 1 }]),
    );
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it.each<[string, Record<string, string>, string]>([
    ['an invalid HOST', { HOST: 'not a host!' }, 'GatewayConfigError: HOST must be an IP address'],
    [
      'HEALTH_SERVICE_URL=not-a-url',
      { HEALTH_SERVICE_URL: 'not-a-url' },
      'GatewayConfigError: HEALTH_SERVICE_URL must be an http(s) URL',
    ],
    [
      'SUPABASE_URL=notaurl',
      { SUPABASE_URL: 'notaurl', SUPABASE_SERVICE_ROLE_KEY: 'jwt' },
      'GatewayConfigError: SUPABASE_URL must be an http(s) URL',
    ],
    [
      'ATTEMPT_TIMEOUT_MS=1e4',
      { ATTEMPT_TIMEOUT_MS: '1e4' },
      'GatewayConfigError: ATTEMPT_TIMEOUT_MS must be an integer',
    ],
    ['UPSTREAM_MODELS without UPSTREAM_BASE_URL', { UPSTREAM_MODELS: 'gpt-4o' }, 'but UPSTREAM_BASE_URL is not'],
    [
      'a budgeted key on UPSTREAM_* models',
      { UPSTREAM_BASE_URL: 'http://127.0.0.1:9/v1', UPSTREAM_MODELS: 'gpt-4o', GATEWAY_API_KEYS_FILE: 'keys.json' },
      'GatewayConfigError: GATEWAY_API_KEYS_FILE gives tiny a budget',
    ],
  ])('stops with a GatewayConfigError on %s', async (_, env, message) => {
    const keys = env['GATEWAY_API_KEYS_FILE'];
    const failure = startGatewayProcess({
      OTEL_SDK_DISABLED: 'true',
      ...env,
      ...(keys !== undefined ? { GATEWAY_API_KEYS_FILE: join(directory, keys) } : {}),
    });
    const output = String((await failure.catch((error: unknown) => error)) as Error);
    expect(output).toMatch(/gateway exited with 1/);
    expect(output).toContain(message);
  });

  it("listens on HOST=' 0.0.0.0 ' without the spaces", async () => {
    const gateway = await startGatewayProcess({ OTEL_SDK_DISABLED: 'true', HOST: ' 0.0.0.0 ' });
    try {
      expect(gateway.output()).toContain('"url":"http://0.0.0.0:');
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      expect(await gateway.terminate()).toBe(0);
    }
  });
});
