import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simulatedEmbeddings } from './simulated-embeddings.js';
import { SimulatedRateLimit, type RateLimitHeaderStyle } from './simulated-rate-limit.js';

/** Prompts the simulated prompt cache keeps, the most recently used. */
export const SIMULATED_PROMPT_CACHE_ENTRIES = 1000;
import {
  cutStream,
  responsesPromptCharacters,
  simulatedResponse,
  writeSimulatedResponseStream,
  type SimulatedCompletion,
} from './simulated-responses.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * How a simulated provider fails. `hang` never answers; `reset` drops the connection; `cut`
 * answers a stream and drops the connection after its first words (like `reset` without a stream).
 */
export type SimulatedFailureMode = 'error' | 'rate_limit' | 'hang' | 'reset' | 'cut';

export interface SimulatedProviderBehaviour {
  /** Added latency per request, in milliseconds. */
  latencyMs: number;
  /** Share of requests that fail (0-1). */
  errorRate: number;
  /** How a failing request fails. Default `error` (HTTP 500). */
  failureMode: SimulatedFailureMode;
  /** Delay between streamed chunks, in milliseconds. */
  chunkDelayMs: number;
  /** Chat streams carry `usage` in every chunk (as some OpenAI-compatible servers do), not only in the last. */
  usageInEveryChunk: boolean;
  /** Requests per minute this provider accepts (more get 429 with `retry-after`); 0 for no limit. */
  rateLimitRpm: number;
}

export interface SimulatedProviderOptions extends Partial<SimulatedProviderBehaviour> {
  name: string;
  models: readonly string[];
  /** Random source in [0, 1); default Math.random. */
  random?: () => number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Serve OpenAI's Responses API (`/v1/responses`) too. */
  responsesApi?: boolean;
  /**
   * Reasoning models (e.g. `o4-mini`): their answers spend `REASONING_TOKENS` output tokens on
   * reasoning before the visible text, reported in `completion_tokens_details.reasoning_tokens`.
   */
  reasoningModels?: readonly string[];
  /**
   * Models that write their prompts to the cache explicitly (Anthropic's): the first sighting of a
   * prompt of at least `CACHE_WRITE_MIN_TOKENS` reports half of it as written
   * (`prompt_tokens_details.cache_write_tokens`, as OpenRouter reports Anthropic's cache writes;
   * Anthropic caches prompts from 1024 tokens).
   */
  cacheWriteModels?: readonly string[];
  /** Rate-limit headers sent while `rateLimitRpm` is set: OpenAI's `x-ratelimit-*` (default) or Anthropic's. */
  rateLimitHeaders?: RateLimitHeaderStyle;
}

/** Shortest prompt, in tokens, whose first sighting a `cacheWriteModels` model reports as a cache write. */
export const CACHE_WRITE_MIN_TOKENS = 1024;

/** Output tokens a simulated reasoning model spends on reasoning per answer. */
export const REASONING_TOKENS = 48;

export interface SimulatedProvider {
  readonly name: string;
  readonly models: readonly string[];
  /** Base URL of its OpenAI-compatible API, e.g. `http://127.0.0.1:41234/v1`. */
  readonly baseUrl: string;
  /** Requests received, by path. */
  readonly requestCounts: Map<string, number>;
  /** Answers per model: completed successfully, or failed on purpose (error rate). */
  readonly outcomes: Map<string, { succeeded: number; failed: number }>;
  /** Requests answered 429 because `rateLimitRpm` was used up. */
  rateLimitedCount(): number;
  /** Headers of the most recent request (to check `traceparent` propagation). */
  lastHeaders(): IncomingMessage['headers'] | undefined;
  /** Change behaviour at run time (tests, demos). */
  configure(behaviour: Partial<SimulatedProviderBehaviour>): void;
  behaviour(): SimulatedProviderBehaviour;
  close(): Promise<void>;
}

const WORDS = 'the gateway routes each request to the healthiest provider and records latency cost and errors'.split(
  ' ',
);

function completionText(seed: number, words: number): string {
  const out: string[] = [];
  for (let index = 0; index < words; index++) out.push(WORDS[(seed + index * 7) % WORDS.length] as string);
  return out.join(' ');
}

/** Rough token count of a chat request: ~4 characters per token, at least 1. */
function countPromptTokens(body: unknown): number {
  const messages = (body as { messages?: Array<{ content?: unknown }> }).messages ?? [];
  let characters = 0;
  for (const message of messages) {
    const content = message.content;
    if (typeof content === 'string') characters += content.length;
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ text?: unknown } | null>) {
        if (typeof part?.text === 'string') characters += part.text.length;
      }
    }
  }
  return Math.max(1, Math.ceil(characters / 4));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * An OpenAI-compatible upstream served in-process on loopback: `/v1/chat/completions` (JSON and
 * SSE streaming with a final usage chunk), `/v1/embeddings` (deterministic vectors),
 * `/v1/images/generations`, `/v1/models`, and with `responsesApi` `/v1/responses`, with
 * configurable latency, error rate and failure mode, and with `rateLimitRpm` a requests-per-minute
 * limit announced in OpenAI- or Anthropic-style rate-limit headers. A repeated prompt is reported
 * as read from the prompt cache (half its tokens, `cached_tokens`); for `cacheWriteModels`, a long
 * prompt's first sighting reports the same half as written to the cache. Reasoning models report
 * reasoning tokens. Streams carry usage in a final `choices: []` chunk when the request asks with
 * `stream_options.include_usage`. The demo and the tests route real HTTP traffic through it.
 */
export async function startSimulatedProvider(options: SimulatedProviderOptions): Promise<SimulatedProvider> {
  const behaviour: SimulatedProviderBehaviour = {
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    failureMode: options.failureMode ?? 'error',
    chunkDelayMs: options.chunkDelayMs ?? 0,
    usageInEveryChunk: options.usageInEveryChunk ?? false,
    rateLimitRpm: options.rateLimitRpm ?? 0,
  };
  const rateLimit = new SimulatedRateLimit(options.rateLimitHeaders ?? 'openai');
  let rateLimited = 0;
  const routes = new Set(['/v1/chat/completions', '/v1/images/generations', '/v1/embeddings']);
  if (options.responsesApi) routes.add('/v1/responses');
  /**
   * Prompts answered before, by model: a repeat is reported as read from the prompt cache. The most
   * recently used `SIMULATED_PROMPT_CACHE_ENTRIES` (clients choose prompts: unbounded, it would grow
   * with every distinct one, as a provider's cache does not).
   */
  const promptCache = new Set<string>();
  const random = options.random ?? Math.random;
  const requestCounts = new Map<string, number>();
  const outcomes = new Map<string, { succeeded: number; failed: number }>();
  const outcome = (model: string, kind: 'succeeded' | 'failed'): void => {
    const entry = outcomes.get(model) ?? { succeeded: 0, failed: 0 };
    entry[kind]++;
    outcomes.set(model, entry);
  };
  let lastHeaders: IncomingMessage['headers'] | undefined;
  let sequence = 0;
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: { message: String(error), type: 'server_error' } });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requestCounts.set(path, (requestCounts.get(path) ?? 0) + 1);
    lastHeaders = request.headers;
    if (request.method === 'GET' && path === '/v1/models') {
      sendJson(response, 200, {
        object: 'list',
        data: options.models.map((id) => ({ id, object: 'model', owned_by: options.name })),
      });
      return;
    }
    if (options.apiKey !== undefined && request.headers['authorization'] !== `Bearer ${options.apiKey}`) {
      sendJson(response, 401, { error: { message: 'Invalid API key', type: 'authentication_error' } });
      return;
    }
    if (request.method !== 'POST' || !routes.has(path)) {
      sendJson(response, 404, {
        error: { message: `No route ${request.method} ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = (await readJson(request)) as Record<string, unknown>;
    } catch {
      sendJson(response, 400, { error: { message: 'Invalid JSON', type: 'invalid_request_error' } });
      return;
    }
    const model = typeof body['model'] === 'string' ? body['model'] : '';
    if (!options.models.includes(model)) {
      sendJson(response, 404, {
        error: {
          message: `Model ${model} not served by ${options.name}`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      });
      return;
    }
    if (behaviour.rateLimitRpm > 0) {
      const tokens = Math.max(1, Math.ceil(JSON.stringify(body).length / 4));
      if (!rateLimit.admit(response, behaviour.rateLimitRpm, tokens)) {
        rateLimited++;
        sendJson(response, 429, { error: { message: 'Rate limit exceeded', type: 'rate_limit_error' } });
        return;
      }
    }
    if (behaviour.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, behaviour.latencyMs));
    const failing = behaviour.errorRate > 0 && random() < behaviour.errorRate;
    if (failing) {
      outcome(model, 'failed');
      switch (behaviour.failureMode) {
        case 'hang':
          hanging.add(response);
          response.on('close', () => hanging.delete(response));
          return;
        case 'reset':
          request.socket.destroy();
          return;
        case 'cut':
          if (body['stream'] !== true) {
            request.socket.destroy();
            return;
          }
          break;
        case 'rate_limit':
          response.setHeader('retry-after', '1');
          sendJson(response, 429, { error: { message: 'Rate limit exceeded', type: 'rate_limit_error' } });
          return;
        default:
          sendJson(response, 500, { error: { message: 'Simulated upstream failure', type: 'server_error' } });
          return;
      }
    }
    const cutAfter = behaviour.failureMode === 'cut' && failing ? 2 : undefined;
    sequence += 1;
    if (cutAfter === undefined) outcome(model, 'succeeded');
    const id = `${options.name}-${sequence}`;
    const created = Math.floor(Date.now() / 1000);
    if (path === '/v1/images/generations') {
      const count = Math.min(Math.max(Number(body['n'] ?? 1) || 1, 1), 4);
      sendJson(response, 200, {
        created,
        data: Array.from({ length: count }, (_, index) => ({
          url: `https://images.example.invalid/${id}-${index}.png`,
        })),
      });
      return;
    }
    if (path === '/v1/embeddings') {
      sendJson(response, 200, simulatedEmbeddings(body, model));
      return;
    }
    const responses = path === '/v1/responses';
    const promptKey = JSON.stringify([
      model,
      ...(responses ? [body['instructions'], body['input']] : [body['messages']]),
    ]);
    const promptTokens = responses
      ? Math.max(1, Math.ceil(responsesPromptCharacters(body) / 4))
      : countPromptTokens(body);
    const seen = promptCache.has(promptKey);
    const cachedTokens = seen ? Math.floor(promptTokens / 2) : 0;
    const cacheWriteTokens =
      !seen && options.cacheWriteModels?.includes(model) === true && promptTokens >= CACHE_WRITE_MIN_TOKENS
        ? Math.floor(promptTokens / 2)
        : 0;
    promptCache.delete(promptKey);
    promptCache.add(promptKey);
    if (promptCache.size > SIMULATED_PROMPT_CACHE_ENTRIES)
      promptCache.delete(promptCache.values().next().value as string);
    const maxTokens =
      Number(body[responses ? 'max_output_tokens' : 'max_tokens'] ?? body['max_completion_tokens'] ?? 16) || 16;
    const visibleTokens = Math.max(1, Math.min(maxTokens, 12));
    const reasoningTokens = options.reasoningModels?.includes(model) ? REASONING_TOKENS : 0;
    const completionTokens = visibleTokens + reasoningTokens;
    const completion: SimulatedCompletion = {
      id,
      model,
      created,
      text: completionText(sequence, visibleTokens),
      finishReason: maxTokens < 12 ? 'length' : 'stop',
      promptTokens,
      completionTokens,
      cachedTokens,
      cacheWriteTokens,
      reasoningTokens,
    };
    const afterWord = async (): Promise<void> => {
      if (behaviour.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, behaviour.chunkDelayMs));
    };
    if (responses) {
      if (body['stream'] !== true) sendJson(response, 200, simulatedResponse(completion, body));
      else {
        response.writeHead(200, SSE_HEADERS);
        await writeSimulatedResponseStream(response, completion, body, afterWord, cutAfter);
      }
      return;
    }
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: {
        cached_tokens: cachedTokens,
        ...(cacheWriteTokens > 0 ? { cache_write_tokens: cacheWriteTokens } : {}),
      },
      completion_tokens_details: { reasoning_tokens: reasoningTokens },
    };
    if (body['stream'] === true) {
      response.writeHead(200, SSE_HEADERS);
      const words = completion.text.split(' ');
      const everyChunk = behaviour.usageInEveryChunk ? { usage } : {};
      for (let index = 0; index < words.length; index++) {
        if (cutAfter !== undefined && index === cutAfter) {
          cutStream(response);
          return;
        }
        const chunk = {
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [
            {
              index: 0,
              delta: index === 0 ? { role: 'assistant', content: words[index] } : { content: ` ${words[index]}` },
              finish_reason: null,
            },
          ],
          ...everyChunk,
        };
        response.write(`data: ${JSON.stringify(chunk)}\n\n`);
        await afterWord();
      }
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: completion.finishReason }], ...everyChunk })}\n\n`,
      );
      const streamOptions = body['stream_options'] as { include_usage?: boolean } | undefined;
      if (streamOptions?.include_usage) {
        response.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
        );
      }
      response.end('data: [DONE]\n\n');
      return;
    }
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        { index: 0, message: { role: 'assistant', content: completion.text }, finish_reason: completion.finishReason },
      ],
      usage,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: options.name,
    models: options.models,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requestCounts,
    outcomes,
    rateLimitedCount: () => rateLimited,
    lastHeaders: () => lastHeaders,
    configure: (changes) => Object.assign(behaviour, changes),
    behaviour: () => ({ ...behaviour }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
