import type { ProviderConfig } from '../config.js';
import { startSimulatedProvider, type SimulatedProvider } from './simulated-provider.js';
import type { RateLimitHeaderStyle } from './simulated-rate-limit.js';

/**
 * USD per million tokens, roughly the public list prices of the models the demo simulates: cached
 * input at OpenAI's and Anthropic's cache-read discounts, cache writes at Anthropic's premium.
 */
export const DEMO_PRICES = {
  'gpt-4o-mini': { inputPerMillionTokens: 0.15, cachedInputPerMillionTokens: 0.075, outputPerMillionTokens: 0.6 },
  'gpt-4o': { inputPerMillionTokens: 2.5, cachedInputPerMillionTokens: 1.25, outputPerMillionTokens: 10 },
  'o4-mini': { inputPerMillionTokens: 1.1, cachedInputPerMillionTokens: 0.275, outputPerMillionTokens: 4.4 },
  'claude-3-5-haiku': {
    inputPerMillionTokens: 0.8,
    cachedInputPerMillionTokens: 0.08,
    cacheWritePerMillionTokens: 1,
    outputPerMillionTokens: 4,
  },
  'claude-3-5-sonnet': {
    inputPerMillionTokens: 3,
    cachedInputPerMillionTokens: 0.3,
    cacheWritePerMillionTokens: 3.75,
    outputPerMillionTokens: 15,
  },
  'llama-3.1-8b-instruct': { inputPerMillionTokens: 0.05, outputPerMillionTokens: 0.08 },
  'gpt-image-1': { perImage: 0.04 },
  'text-embedding-3-small': { inputPerMillionTokens: 0.02 },
} as const;

interface DemoProviderSpec {
  name: string;
  models: string[];
  imageModels: string[];
  embeddingModels: string[];
  /** Serves `/v1/responses` itself (see `ProviderConfig.responsesApi`). */
  responsesApi: boolean;
  /** Multiplier of DEMO_LATENCY_MS. */
  latencyFactor: number;
  /** Whether DEMO_ERROR_RATE applies (the flaky provider). */
  flaky: boolean;
  /** The rate-limit headers it sends (with DEMO_RATE_LIMIT_RPM): its real counterpart's. */
  rateLimitHeaders: RateLimitHeaderStyle;
}

/** The demo's reasoning models: their answers carry reasoning tokens. */
export const DEMO_REASONING_MODELS = ['o4-mini'] as const;
/** The demo's models that write long prompts to the prompt cache (and report it), whoever serves them. */
export const DEMO_CACHE_WRITE_MODELS = ['claude-3-5-haiku', 'claude-3-5-sonnet'] as const;

/**
 * Three providers with overlapping models; `openrouter` is the flaky one. `openai` speaks the
 * Responses API itself; the others get `/v1/responses` translated to chat completions.
 */
export const DEMO_PROVIDERS: readonly DemoProviderSpec[] = [
  {
    name: 'openai',
    models: ['gpt-4o-mini', 'gpt-4o', 'o4-mini'],
    imageModels: ['gpt-image-1'],
    embeddingModels: ['text-embedding-3-small'],
    responsesApi: true,
    latencyFactor: 1,
    flaky: false,
    rateLimitHeaders: 'openai',
  },
  {
    name: 'anthropic',
    models: ['claude-3-5-haiku', 'claude-3-5-sonnet'],
    imageModels: [],
    embeddingModels: [],
    responsesApi: false,
    latencyFactor: 1.3,
    flaky: false,
    rateLimitHeaders: 'anthropic',
  },
  {
    name: 'openrouter',
    models: ['gpt-4o-mini', 'o4-mini', 'claude-3-5-haiku', 'llama-3.1-8b-instruct'],
    imageModels: ['gpt-image-1'],
    embeddingModels: ['text-embedding-3-small'],
    responsesApi: false,
    latencyFactor: 0.8,
    flaky: true,
    rateLimitHeaders: 'openai',
  },
];

export interface DemoProviders {
  simulated: SimulatedProvider[];
  providers: ProviderConfig[];
  close(): Promise<void>;
}

/**
 * Start the demo's simulated upstreams on loopback. `latencyMs` and `errorRate` come from
 * `DEMO_LATENCY_MS` and `DEMO_ERROR_RATE`; 0 and 0 give a fast, error-free run. `rateLimitRpm`
 * (`DEMO_RATE_LIMIT_RPM`) limits each provider to that many requests per minute, announced in
 * OpenAI-style headers (openai, openrouter) or Anthropic-style ones (anthropic).
 */
export async function startDemoProviders(settings: {
  latencyMs: number;
  errorRate: number;
  rateLimitRpm?: number | undefined;
}): Promise<DemoProviders> {
  const simulated = await Promise.all(
    DEMO_PROVIDERS.map((spec) =>
      startSimulatedProvider({
        name: spec.name,
        models: [...spec.models, ...spec.imageModels, ...spec.embeddingModels],
        responsesApi: spec.responsesApi,
        latencyMs: Math.round(settings.latencyMs * spec.latencyFactor),
        errorRate: spec.flaky ? settings.errorRate : 0,
        chunkDelayMs: Math.round(settings.latencyMs / 20),
        reasoningModels: DEMO_REASONING_MODELS,
        cacheWriteModels: DEMO_CACHE_WRITE_MODELS,
        rateLimitRpm: settings.rateLimitRpm ?? 0,
        rateLimitHeaders: spec.rateLimitHeaders,
      }),
    ),
  );
  const providers: ProviderConfig[] = DEMO_PROVIDERS.map((spec, index) => ({
    name: spec.name,
    baseUrl: (simulated[index] as SimulatedProvider).baseUrl,
    models: spec.models,
    imageModels: spec.imageModels,
    embeddingModels: spec.embeddingModels,
    responsesApi: spec.responsesApi,
    pricing: Object.fromEntries(
      [...spec.models, ...spec.imageModels, ...spec.embeddingModels].map((model) => [
        model,
        DEMO_PRICES[model as keyof typeof DEMO_PRICES],
      ]),
    ),
  }));
  return {
    simulated,
    providers,
    close: async () => {
      await Promise.all(simulated.map((provider) => provider.close()));
    },
  };
}
