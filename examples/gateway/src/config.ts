import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { ModelPrice } from '@gatewayz/telemetry/genai';
import { loadApiKeys, type ApiKeysConfig } from './api-keys/api-keys-file.js';
import { DEFAULT_BUDGET_HOLD_OUTPUT_TOKENS } from './api-keys/cost-estimate.js';
import { isObject } from './protocol/json.js';
import { MAX_TOKENS_PARAMETERS, type MaxTokensParameter } from './protocol/max-tokens-parameter.js';
import { GatewayConfigError } from './config-error.js';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './providers/provider-rate-limits.js';
import { isOpenRouter, parseProviderPricing, type ImagePriceTable } from './provider-pricing.js';

/** One upstream provider speaking the OpenAI-compatible API. */
export interface ProviderConfig {
  /** Label value used in metrics (`provider`), e.g. `openai`. */
  name: string;
  /** Base URL including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`. Never logged, never exported. */
  apiKey?: string;
  /** Models this provider serves, as clients name them. */
  models: string[];
  /** Prices per model, for cost metrics. */
  pricing?: Record<string, ModelPrice>;
  /**
   * Image models priced by the request's size and quality (a providers file's `perImage` given as
   * a table): their `pricing` has `perImage: 1`, and an answer's images are given to the pricing
   * table as their price from this table (see provider-pricing.ts, `pricedImages`).
   */
  imagePrices?: Record<string, ImagePriceTable>;
  /** Models that accept `/v1/images/generations`. */
  imageModels?: string[];
  /** Models that accept `/v1/embeddings`. */
  embeddingModels?: string[];
  /**
   * The provider serves OpenAI's Responses API (`POST {baseUrl}/responses`): `/v1/responses`
   * requests are passed to it as they are. Otherwise they are translated to chat completions.
   */
  responsesApi?: boolean;
  /**
   * The field the output limit of a request the gateway translates to a chat completion
   * (`/v1/messages`, `/v1/responses` without `responsesApi`) is sent in: `max_tokens` or
   * `max_completion_tokens` (OpenAI's reasoning models refuse `max_tokens`). Unset:
   * `max_completion_tokens` for `api.openai.com`, `max_tokens` for any other base URL (see
   * `maxTokensParameterOf`). `/v1/chat/completions` requests are passed on as the client sent them.
   */
  maxTokensParameter?: MaxTokensParameter;
  /**
   * The provider stops generating, and billing, when the connection of a stream closes (OpenAI,
   * Anthropic and Azure do; OpenRouter lists the providers that do not), and streams every output
   * token it bills (no hidden reasoning). A stream a client leaves before the provider's usage is
   * then charged to the key's budget as its prompt's bound plus the output received so far, one
   * token per UTF-8 byte; otherwise as its prompt's bound plus its whole output limit (see
   * api-keys/request-budget.ts). Default false.
   */
  cancelStopsBilling?: boolean;
  /**
   * The provider reports each answer's cost in its usage (OpenRouter's `usage.cost`, read as
   * `GenAiUsage.reportedCostUsd`): the cost counters, the key's spend and the span take that figure,
   * and `pricing` prices holds and answers without it. A providers file's default: true for `openrouter.ai`.
   */
  reportsCost?: boolean;
}

export interface GatewayConfig {
  port: number;
  host: string;
  providers: ProviderConfig[];
  /** Deadline of one upstream attempt until response headers arrive. */
  attemptTimeoutMs: number;
  /** Longest silence allowed between streamed chunks, and while a non-streamed or error body arrives. */
  streamIdleTimeoutMs: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /**
   * Longest pause a provider's 429 `retry-after`/`retry-after-ms` imposes (`RETRY_AFTER_MAX_MS`);
   * unset: `DEFAULT_MAX_RETRY_AFTER_MS` (60 s). See `ProviderRateLimitsOptions`.
   */
  maxRetryAfterMs?: number;
  /** Provider health tracker interval. */
  healthTrackerIntervalMs: number;
  /** Model-health write-behind flush interval. */
  modelHealthFlushIntervalMs: number;
  /** Bearer token the model-health API requires (`METRICS_TOKEN`); undefined leaves it open. */
  apiToken?: string;
  /** Credits charged per USD of provider cost. */
  creditsPerUsd: number;
  /** Deadline for in-flight requests on shutdown. */
  shutdownTimeoutMs: number;
  /** The gateway's API keys (`GATEWAY_API_KEYS_FILE`, or the demo's) and whether they are required. */
  apiKeys?: ApiKeysConfig;
  /**
   * Output tokens a request that sets no output limit (`max_tokens`, `max_completion_tokens`,
   * `max_output_tokens`) is held for against its key's budget (`GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS`);
   * unset: `DEFAULT_BUDGET_HOLD_OUTPUT_TOKENS`. See api-keys/cost-estimate.ts.
   */
  budgetHoldOutputTokens?: number;
  breaker: {
    errorThresholdPercentage: number;
    resetTimeoutMs: number;
    volumeThreshold: number;
    rollingCountTimeoutMs: number;
  };
}

export { GatewayConfigError } from './config-error.js';

/**
 * Whether `text` is a whole number written in decimal digits: `Number()` also reads `0x1F90`,
 * `8e3` and `1e4`, which are not what the variables document.
 */
const DECIMAL_DIGITS = /^\d+$/;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!DECIMAL_DIGITS.test(raw.trim()) || value < min || value > max) {
    throw new GatewayConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new GatewayConfigError(`${name} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** Read providers from `GATEWAY_PROVIDERS_FILE` (JSON array); `apiKeyEnv` names a variable holding the key. */
export function loadProvidersFile(path: string, env: NodeJS.ProcessEnv): ProviderConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GatewayConfigError(`GATEWAY_PROVIDERS_FILE ${path} is not readable JSON: ${(error as Error).message}`);
  }
  // A leading byte order mark (a file saved by a Windows editor) is not JSON; skip it, as Node's own
  // JSON loading does (the keys file does the same).
  return parseProviders(text.replace(/^\uFEFF/, ''), `GATEWAY_PROVIDERS_FILE ${path}`, env);
}

/** Providers from the JSON text of a providers file (`source` names it in errors). */
export function parseProviders(text: string, source: string, env: NodeJS.ProcessEnv): ProviderConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GatewayConfigError(`${source} is not readable JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new GatewayConfigError(`${source} must hold a non-empty JSON array of providers`);
  }
  const names = new Map<string, number>();
  return parsed.map((entry: unknown, index) => {
    const where = `${source}, provider ${index}`;
    if (!isObject(entry)) {
      throw new GatewayConfigError(
        `${where}: must be an object such as { "name": "openai", "baseUrl": ..., "models": [...] }`,
      );
    }
    // A misspelt field (`responsesAPI`) or one the file does not take (`apiKey`: keys come from
    // the environment, `apiKeyEnv`) would otherwise be ignored without a word.
    for (const field of Object.keys(entry)) {
      if (!PROVIDER_FIELDS.has(field)) {
        throw new GatewayConfigError(
          `${where}: unknown field "${field}" (known: ${[...PROVIDER_FIELDS].join(', ')}; an API key goes in the variable named by "apiKeyEnv")`,
        );
      }
    }
    const name = checkProviderName(entry['name'], where);
    // Metrics, breakers and prices are per provider name: two providers of one name would share
    // every series, and the second one's prices would replace the first one's.
    const first = names.get(name);
    if (first !== undefined) {
      throw new GatewayConfigError(`${where}: "name" "${name}" is already the name of provider ${first}`);
    }
    names.set(name, index);
    checkBaseUrl(entry['baseUrl'], `${where}: "baseUrl"`);
    if (entry['apiKeyEnv'] !== undefined && (typeof entry['apiKeyEnv'] !== 'string' || entry['apiKeyEnv'] === '')) {
      throw new GatewayConfigError(`${where}: "apiKeyEnv" must be the name of an environment variable`);
    }
    if (!Array.isArray(entry['models']) || entry['models'].some((model) => typeof model !== 'string')) {
      throw new GatewayConfigError(`${where}: "models" must be an array of model names`);
    }
    const apiKeyEnv = entry['apiKeyEnv'];
    const apiKey = typeof apiKeyEnv === 'string' ? env[apiKeyEnv] : undefined;
    if (typeof apiKeyEnv === 'string' && (apiKey === undefined || apiKey === '')) {
      throw new GatewayConfigError(`${where}: the variable ${apiKeyEnv} named by "apiKeyEnv" is not set`);
    }
    for (const field of ['responsesApi', 'cancelStopsBilling', 'reportsCost']) {
      if (entry[field] !== undefined && typeof entry[field] !== 'boolean') {
        throw new GatewayConfigError(`${where}: "${field}" must be true or false`);
      }
    }
    const maxTokensParameter = entry['maxTokensParameter'];
    if (maxTokensParameter !== undefined && !MAX_TOKENS_PARAMETERS.includes(maxTokensParameter as MaxTokensParameter)) {
      throw new GatewayConfigError(`${where}: "maxTokensParameter" must be "max_tokens" or "max_completion_tokens"`);
    }
    for (const field of ['imageModels', 'embeddingModels']) {
      const models = entry[field];
      if (models !== undefined && (!Array.isArray(models) || models.some((model) => typeof model !== 'string'))) {
        throw new GatewayConfigError(`${where}: "${field}" must be an array of model names`);
      }
    }
    const models = entry['models'] as string[];
    const imageModels = (entry['imageModels'] as string[] | undefined) ?? [];
    const embeddingModels = (entry['embeddingModels'] as string[] | undefined) ?? [];
    const served = new Set([...models, ...imageModels, ...embeddingModels]);
    const { pricing, imagePrices } = parseProviderPricing(entry['pricing'], served, `${where} (${name})`);
    return {
      name,
      baseUrl: (entry['baseUrl'] as string).replace(/\/+$/, ''),
      ...(apiKey !== undefined ? { apiKey } : {}),
      models,
      pricing,
      ...(Object.keys(imagePrices).length > 0 ? { imagePrices } : {}),
      imageModels,
      embeddingModels,
      responsesApi: entry['responsesApi'] === true,
      cancelStopsBilling: entry['cancelStopsBilling'] === true,
      reportsCost: (entry['reportsCost'] as boolean | undefined) ?? isOpenRouter(entry['baseUrl'] as string),
      ...(maxTokensParameter !== undefined ? { maxTokensParameter: maxTokensParameter as MaxTokensParameter } : {}),
    };
  });
}

/** The fields a providers file entry takes. */
const PROVIDER_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'baseUrl',
  'apiKeyEnv',
  'models',
  'imageModels',
  'embeddingModels',
  'responsesApi',
  'maxTokensParameter',
  'cancelStopsBilling',
  'reportsCost',
  'pricing',
]);

/**
 * A provider's name, the `provider` label of its metrics: a lowercase identifier such as `openai`.
 * Throws a `GatewayConfigError` (prefixed with `where`) otherwise.
 */
export function checkProviderName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) {
    throw new GatewayConfigError(`${where}: "name" must be a lowercase identifier such as "openai"`);
  }
  return name;
}

/** A provider's base URL: http(s). Throws a `GatewayConfigError` naming `what` otherwise. */
export function checkBaseUrl(url: unknown, what: string): string {
  if (typeof url !== 'string' || !/^https?:\/\/[^/\s]/.test(url)) {
    throw new GatewayConfigError(`${what} must be an http(s) URL such as "https://api.openai.com/v1"`);
  }
  return url;
}

/**
 * Worker processes of `GATEWAY_WORKERS`: a whole number of at least 1, or `auto` for every core
 * the process may use. Default 1 (no cluster).
 */
export function loadWorkerCount(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  const raw = env['GATEWAY_WORKERS']?.trim();
  if (raw === undefined || raw === '') return 1;
  if (raw.toLowerCase() === 'auto') return Math.max(1, cores);
  const count = Number(raw);
  if (!DECIMAL_DIGITS.test(raw) || count < 1 || count > 256)
    throw new GatewayConfigError(`GATEWAY_WORKERS must be a whole number from 1 to 256 or "auto", got "${raw}"`);
  return count;
}

/** How the gateway's OpenTelemetry context follows requests (`TELEMETRY_CONTEXT_MANAGER`). */
export type ContextManagerChoice = 'synchronous' | 'async-local-storage';

/**
 * `TELEMETRY_CONTEXT_MANAGER`: `synchronous` (default) or `async-local-storage`. The gateway passes
 * each request's context explicitly, so it traces fully with either; `synchronous` spares every
 * promise in the process the async-hook cost of AsyncLocalStorage on Node.js 20 and 22 (Node.js 24
 * builds AsyncLocalStorage without async hooks, and it costs little there). Choose
 * `async-local-storage` when you add instrumentation that needs the active span across `await`s.
 */
export function loadContextManagerChoice(env: NodeJS.ProcessEnv = process.env): ContextManagerChoice {
  const raw = env['TELEMETRY_CONTEXT_MANAGER']?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'synchronous') return 'synchronous';
  if (raw === 'async-local-storage') return raw;
  throw new GatewayConfigError(
    `TELEMETRY_CONTEXT_MANAGER must be synchronous or async-local-storage, got "${env['TELEMETRY_CONTEXT_MANAGER']}"`,
  );
}

/**
 * A host name as DNS writes it (RFC 1123): labels of letters, digits and inner hyphens, up to 63
 * characters each and 253 in all, an optional final dot.
 */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * `HOST`, the address to listen on, without the whitespace around it: an IP address or a host
 * name. Unset or empty: 127.0.0.1. Anything else stops the start here, where Node.js would
 * otherwise fail the listen with a bare `getaddrinfo ENOTFOUND`.
 */
export function loadHost(env: NodeJS.ProcessEnv = process.env): string {
  const host = env['HOST']?.trim();
  if (host === undefined || host === '') return '127.0.0.1';
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw new GatewayConfigError(
      `HOST must be an IP address (127.0.0.1, 0.0.0.0 for every IPv4 interface, :: for every interface) or a host name such as localhost, got "${env['HOST']}"`,
    );
  }
  return host;
}

/** Gateway settings from the environment (providers are added by the caller). */
export function loadGatewaySettings(env: NodeJS.ProcessEnv = process.env): Omit<GatewayConfig, 'providers'> {
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: loadHost(env),
    attemptTimeoutMs: integer(env, 'ATTEMPT_TIMEOUT_MS', 30_000, 10, 600_000),
    streamIdleTimeoutMs: integer(env, 'STREAM_IDLE_TIMEOUT_MS', 30_000, 10, 600_000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    maxRetryAfterMs: integer(env, 'RETRY_AFTER_MAX_MS', DEFAULT_MAX_RETRY_AFTER_MS, 100, 86_400_000),
    healthTrackerIntervalMs: integer(env, 'HEALTH_TRACKER_INTERVAL_MS', 30_000, 100, 3_600_000),
    modelHealthFlushIntervalMs: integer(env, 'MODEL_HEALTH_FLUSH_INTERVAL_MS', 1000, 10, 600_000),
    ...(env['METRICS_TOKEN'] ? { apiToken: env['METRICS_TOKEN'] } : {}),
    creditsPerUsd: number(env, 'CREDITS_PER_USD', 1, 0, 1_000_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    apiKeys: loadApiKeys(env),
    budgetHoldOutputTokens: integer(
      env,
      'GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS',
      DEFAULT_BUDGET_HOLD_OUTPUT_TOKENS,
      0,
      10_000_000,
    ),
    breaker: {
      errorThresholdPercentage: number(env, 'BREAKER_ERROR_THRESHOLD_PERCENT', 50, 1, 100),
      resetTimeoutMs: integer(env, 'BREAKER_RESET_TIMEOUT_MS', 10_000, 10, 3_600_000),
      volumeThreshold: integer(env, 'BREAKER_VOLUME_THRESHOLD', 5, 1, 100_000),
      rollingCountTimeoutMs: integer(env, 'BREAKER_WINDOW_MS', 10_000, 100, 3_600_000),
    },
  };
}

/** Demo settings for the simulated providers. */
export function loadDemoSettings(env: NodeJS.ProcessEnv = process.env): {
  latencyMs: number;
  errorRate: number;
  trafficPerSecond: number;
  /** Requests per minute each simulated provider accepts (`DEMO_RATE_LIMIT_RPM`); undefined: no limit. */
  rateLimitRpm: number | undefined;
} {
  return {
    latencyMs: integer(env, 'DEMO_LATENCY_MS', 150, 0, 60_000),
    errorRate: number(env, 'DEMO_ERROR_RATE', 0.2, 0, 1),
    trafficPerSecond: number(env, 'DEMO_TRAFFIC_RPS', 2, 0, 1000),
    rateLimitRpm: loadDemoRateLimitRpm(env),
  };
}

/**
 * `DEMO_RATE_LIMIT_RPM`: requests per minute each simulated provider accepts before answering 429
 * (a whole number from 1 to 1,000,000). Unset or empty: no limit.
 */
export function loadDemoRateLimitRpm(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['DEMO_RATE_LIMIT_RPM']?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!DECIMAL_DIGITS.test(raw) || value < 1 || value > 1_000_000) {
    throw new GatewayConfigError(
      `DEMO_RATE_LIMIT_RPM must be a whole number of requests per minute from 1 to 1000000 (unset it for no limit), got "${env['DEMO_RATE_LIMIT_RPM']}"`,
    );
  }
  return value;
}

/** The value of variable `name` without the whitespace around it; unset or empty (as everywhere here): undefined. */
export function givenVariable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The http(s) URL of variable `name`, without the whitespace around it; unset or empty: undefined.
 * Checked here so the start stops with the variable named, not with the library's option name.
 */
function httpUrl(env: NodeJS.ProcessEnv, name: string, example: string): string | undefined {
  const raw = env[name];
  const text = givenVariable(env, name);
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new GatewayConfigError(`${name} must be an http(s) URL such as ${example}, got "${raw}"`);
  }
  return text;
}

/**
 * `HEALTH_SERVICE_URL`: the base URL of the external health service to poll (http(s), without a
 * query or fragment); unset or empty: none.
 */
export function loadHealthServiceUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = httpUrl(env, 'HEALTH_SERVICE_URL', 'http://health-service:8000');
  const parsed = url === undefined ? undefined : new URL(url);
  if (parsed !== undefined && (parsed.search !== '' || parsed.hash !== '')) {
    throw new GatewayConfigError(
      `HEALTH_SERVICE_URL must be the health service's base URL without a query or fragment, such as http://health-service:8000, got "${env['HEALTH_SERVICE_URL']}"`,
    );
  }
  return url;
}

/** Poll interval of the external health service (`HEALTH_SERVICE_INTERVAL_MS`, default 30 s). */
export function loadHealthServiceIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  return integer(env, 'HEALTH_SERVICE_INTERVAL_MS', 30_000, 100, 3_600_000);
}

/**
 * `SUPABASE_URL` and `SUPABASE_SERVICE_ROLE_KEY`: both set, model health is kept in Supabase and
 * shared by every replica; both unset, in memory. An empty value counts as unset, as for every
 * other variable here (a compose file's `SUPABASE_URL: ${SUPABASE_URL:-}` passes one). One without
 * the other is a configuration error.
 */
export function loadSupabaseSettings(
  env: NodeJS.ProcessEnv = process.env,
): { url: string; serviceRoleKey: string } | undefined {
  const url = givenVariable(env, 'SUPABASE_URL');
  const serviceRoleKey = givenVariable(env, 'SUPABASE_SERVICE_ROLE_KEY');
  if (url === undefined && serviceRoleKey === undefined) return undefined;
  if (url === undefined || serviceRoleKey === undefined) {
    throw new GatewayConfigError(
      `set both SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY to use Supabase, or neither to keep model health in memory (${url === undefined ? 'SUPABASE_URL' : 'SUPABASE_SERVICE_ROLE_KEY'} is unset or empty)`,
    );
  }
  return { url: httpUrl(env, 'SUPABASE_URL', 'https://<project>.supabase.co') as string, serviceRoleKey };
}
