import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings } from '@hono/node-server';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  propagation,
  trace,
  type Context as OtelContext,
} from '@opentelemetry/api';
import { Hono, type Context } from 'hono';
import { startProviderHealthTracker, type ProviderHealthTracker } from '@gatewayz/telemetry';
import { MemoryModelHealthStore, ModelHealthRecorder, type ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { AnomalyDetector } from '@gatewayz/telemetry/provider-health';
import { PricingTable } from '@gatewayz/telemetry/genai';
import { createModelHealthHandler, type RunningTelemetry, type StructuredLogger } from '@gatewayz/telemetry-node';
import { anthropicStreamEncoder, anthropicToOpenAi, openAiToAnthropic } from './anthropic.js';
import type { GatewayConfig } from './config.js';
import { createDashboardHandler } from './dashboard/index.js';
import { ApiError, badRequest, readJsonObject } from './openai-errors.js';
import { ProviderRouter, type Usage } from './provider-router.js';
import { openAiStreamEncoder, relaySse, type StreamEncoder } from './sse-relay.js';
import { postUpstream, readUpstreamJson } from './upstream.js';

/** Hono variables of a gateway request. */
export interface GatewayEnv {
  /** Set by @hono/node-server; absent when the app is called through `app.fetch` directly. */
  Bindings: Partial<HttpBindings>;
  Variables: {
    /** The request's OpenTelemetry context: its server span, continuing the caller's `traceparent`. */
    otelContext: OtelContext;
    /** Aborts when the client goes away; made on first use (see `clientGone`). */
    clientGone: AbortSignal;
  };
}

export interface GatewayOptions {
  config: GatewayConfig;
  otel: RunningTelemetry;
  /** Model-health store; default an in-memory one. */
  store?: ModelHealthStore;
  /** Structured logger; default `otel.logger`. */
  logger?: GatewayLogger;
}

/** The logging the gateway needs: `StructuredLogger` from @gatewayz/telemetry-node fits. */
export type GatewayLogger = Pick<StructuredLogger, 'debug' | 'info' | 'warn' | 'error' | 'enabled'>;

export interface Gateway {
  readonly app: Hono<GatewayEnv>;
  readonly router: ProviderRouter;
  readonly tracker: ProviderHealthTracker;
  readonly store: ModelHealthStore;
  /** Write-behind recording of every provider attempt into `store`. */
  readonly recorder: ModelHealthRecorder;
  /** Start listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stop accepting, let in-flight requests (streams included) finish within the deadline, stop background work. */
  close(): Promise<void>;
}

/** Route templates, so HTTP metrics and span names never carry raw client paths. */
const ROUTES: ReadonlyArray<[RegExp, string]> = [
  [/^\/v1\/chat\/completions\/?$/, '/v1/chat/completions'],
  [/^\/v1\/messages\/?$/, '/v1/messages'],
  [/^\/v1\/images\/generations\/?$/, '/v1/images/generations'],
  [/^\/v1\/models\/?$/, '/v1/models'],
  [/^\/health\/?$/, '/health'],
  [/^\/dashboard\/?$/, '/dashboard'],
  [/^\/v1\/model-health\/?$/, '/v1/model-health'],
  [/^\/v1\/model-health\/(?:unhealthy|stats|providers)\/?$/, '/v1/model-health/:query'],
  [/^\/v1\/model-health\/provider\/[^/]+\/summary\/?$/, '/v1/model-health/provider/:provider/summary'],
  [/^\/v1\/model-health\/.+$/, '/v1/model-health/:provider/:model'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/prometheus\/metrics\/[a-z_]+\/?$/, '/prometheus/metrics/:category'],
];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function routeOf(pathname: string): string {
  for (const [pattern, template] of ROUTES) if (pattern.test(pathname)) return template;
  return 'other';
}

const CHAT_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** Validate the fields of an OpenAI chat request the gateway relies on. */
function validateChatRequest(body: Record<string, unknown>): { model: string; stream: boolean; includeUsage: boolean } {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest('messages: field required (a non-empty array)', 'messages');
  messages.forEach((message: unknown, index) => {
    const candidate = message as { role?: unknown; content?: unknown } | null;
    if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
      throw badRequest(`messages[${index}] must be an object`, `messages[${index}]`);
    }
    if (typeof candidate.role !== 'string' || !CHAT_ROLES.has(candidate.role)) {
      throw badRequest(
        `messages[${index}].role must be one of ${[...CHAT_ROLES].join(', ')}`,
        `messages[${index}].role`,
      );
    }
    const content = candidate.content;
    if (content !== null && content !== undefined && typeof content !== 'string' && !Array.isArray(content)) {
      throw badRequest(
        `messages[${index}].content must be a string or an array of content parts`,
        `messages[${index}].content`,
      );
    }
  });
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    throw badRequest('stream must be a boolean', 'stream');
  const maxTokens = body['max_tokens'];
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
  ) {
    throw badRequest('max_tokens must be a positive integer', 'max_tokens');
  }
  const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
  return { model, stream: stream === true, includeUsage: streamOptions?.include_usage === true };
}

function usageOf(completion: Record<string, unknown>): Usage | undefined {
  const usage = completion['usage'] as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
  if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/**
 * The example gateway: OpenAI- and Anthropic-compatible endpoints over a failover chain of
 * providers, instrumented end to end with @gatewayz/telemetry.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, otel } = options;
  const telemetry = otel.telemetry;
  const log = options.logger ?? otel.logger;
  const store = options.store ?? new MemoryModelHealthStore();
  const recorder = new ModelHealthRecorder({ store, telemetry, flushIntervalMs: config.modelHealthFlushIntervalMs });
  const tracker = startProviderHealthTracker({ source: store, intervalMs: config.healthTrackerIntervalMs, telemetry });
  const pricing = new PricingTable(
    Object.fromEntries(config.providers.map((provider) => [provider.name, provider.pricing ?? {}])),
  );
  const anomalies = new AnomalyDetector({
    telemetry,
    onAnomaly: (anomaly) =>
      log.warn('anomaly detected', {
        type: anomaly.type,
        provider: anomaly.provider,
        value: anomaly.value,
        baseline: anomaly.baseline,
        samples: anomaly.samples,
      }),
  });
  const router = new ProviderRouter({
    config,
    telemetry,
    anomalies,
    logger: log,
    tracer: otel.tracer,
    sink: { recordCall: (call) => recorder.recordModelCall(call) },
    pricing,
    healthScore: (provider) => tracker.healthScore(provider),
  });
  // The request's OpenTelemetry context (its server span) travels with the Hono context, not with
  // the active context: that works with either context manager, including 'synchronous'.
  const app = new Hono<GatewayEnv>();
  const requestContext = (c: Context<GatewayEnv>): OtelContext => c.get('otelContext') ?? ROOT_CONTEXT;
  /**
   * Aborts when the client goes away before the answer is complete. From Node's response when
   * served by @hono/node-server: `c.req.raw.signal` would build a WHATWG Request (see
   * `readJsonObject`).
   */
  const clientGone = (c: Context<GatewayEnv>): AbortSignal => {
    const made = c.get('clientGone');
    if (made !== undefined) return made;
    const outgoing = c.env?.outgoing;
    if (outgoing === undefined) return c.req.raw.signal;
    const controller = new AbortController();
    c.set('clientGone', controller.signal);
    if (outgoing.destroyed && !outgoing.writableFinished) controller.abort();
    else
      outgoing.once('close', () => {
        if (!outgoing.writableFinished) controller.abort();
      });
    return controller.signal;
  };

  app.use('*', async (c, next) => {
    const started = performance.now();
    const method = METHODS.has(c.req.method) ? c.req.method : 'other';
    const route = routeOf(c.req.path);
    const carrier: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      carrier[key] = value;
    });
    const parent = propagation.extract(contextApi.active(), carrier);
    const span = otel.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
      parent,
    );
    telemetry.trackHttpRequestInProgress(method, route, 1);
    const active = trace.setSpan(parent, span);
    c.set('otelContext', active);
    try {
      await contextApi.with(active, next);
    } finally {
      const status = c.res.status;
      // Access log at debug level (LOG_LEVEL=debug), correlated with the request span; nothing is
      // built on the request path when debug is off.
      if (log.enabled('debug')) {
        contextApi.with(active, () =>
          log.debug('request', {
            method,
            route,
            status,
            duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          }),
        );
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      telemetry.trackHttpRequestInProgress(method, route, -1);
      telemetry.recordHttpRequest(method, route, status, (performance.now() - started) / 1000);
    }
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return error.toResponse();
    contextApi.with(requestContext(c), () =>
      log.error('unhandled error', { route: routeOf(c.req.path), error: error.message }),
    );
    return new ApiError(500, 'Internal server error', 'server_error', 'internal_error').toResponse();
  });
  app.notFound((c) =>
    new ApiError(
      404,
      `Unknown route ${c.req.method} ${routeOf(c.req.path) === 'other' ? 'path' : c.req.path}`,
      'invalid_request_error',
      'not_found',
    ).toResponse(),
  );

  app.get('/health', (c) =>
    c.json({ status: 'ok', providers: tracker.snapshot(), circuit_breakers: router.breakerStates() }),
  );

  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: router.models().map((model) => ({
        id: model.id,
        object: 'model',
        created: 0,
        owned_by: 'gatewayz',
        providers: model.providers,
      })),
    }),
  );

  const metrics = (c: Context<GatewayEnv>): Promise<Response> => otel.metricsHandler(c.req.raw);
  const modelHealth = createModelHealthHandler({
    store,
    ...(config.apiToken !== undefined ? { token: config.apiToken } : {}),
  });
  app.all('/v1/model-health', (c) => modelHealth(c.req.raw));
  app.all('/v1/model-health/*', (c) => modelHealth(c.req.raw));
  const dashboard = createDashboardHandler();
  app.get('/dashboard', (c) => dashboard(c.req.raw));
  app.all('/metrics', metrics);
  app.all('/prometheus/metrics/*', metrics);

  /** Run a chat request through the router, streaming or not, and answer with `encode*` shapes. */
  const chat = async (
    c: Context<GatewayEnv>,
    model: string,
    stream: boolean,
    upstreamBody: Record<string, unknown>,
    streamEncoder: () => StreamEncoder,
    shape: (completion: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Response> => {
    // An unknown model is answered 404 by router.route() before any provider is tried.
    if (stream) {
      const routed = await router.route(
        model,
        'chat',
        async ({ provider, headers }) => {
          const attemptStartedAt = performance.now();
          const response = await postUpstream({
            url: `${provider.baseUrl}/chat/completions`,
            body: { ...upstreamBody, stream: true, stream_options: { include_usage: true } },
            headers,
            timeoutMs: config.attemptTimeoutMs,
            signal: clientGone(c),
          });
          return { value: { response, attemptStartedAt }, deferred: true };
        },
        requestContext(c),
      );
      const body = relaySse(routed.value.response, {
        encoder: streamEncoder(),
        idleTimeoutMs: config.streamIdleTimeoutMs,
        attemptStartedAt: routed.value.attemptStartedAt,
        onEnd: (completion) => routed.complete(completion),
      });
      return new Response(body, { status: 200, headers: SSE_HEADERS });
    }
    const routed = await router.route(
      model,
      'chat',
      async ({ provider, headers }) => {
        const response = await postUpstream({
          url: `${provider.baseUrl}/chat/completions`,
          body: { ...upstreamBody, stream: false },
          headers,
          timeoutMs: config.attemptTimeoutMs,
          signal: clientGone(c),
        });
        const completion = await readUpstreamJson(response);
        const usage = usageOf(completion);
        const finishReason = (completion['choices'] as Array<{ finish_reason?: string }> | undefined)?.[0]
          ?.finish_reason;
        return {
          value: completion,
          completion: {
            status: 'success',
            ...(usage !== undefined ? { usage } : {}),
            ...(typeof completion['model'] === 'string' ? { responseModel: completion['model'] } : {}),
            ...(finishReason !== undefined ? { finishReasons: [finishReason] } : {}),
          },
        };
      },
      requestContext(c),
    );
    return c.json(shape(routed.value));
  };

  app.post('/v1/chat/completions', async (c) => {
    const body = await readJsonObject(c.req.raw, config.maxBodyBytes, c.env?.incoming);
    const { model, stream, includeUsage } = validateChatRequest(body);
    return chat(
      c,
      model,
      stream,
      body,
      () => openAiStreamEncoder(includeUsage),
      (completion) => completion,
    );
  });

  app.post('/v1/messages', async (c) => {
    const body = await readJsonObject(c.req.raw, config.maxBodyBytes, c.env?.incoming);
    const { model, stream, openAi } = anthropicToOpenAi(body);
    return chat(
      c,
      model,
      stream,
      openAi,
      () => anthropicStreamEncoder(model),
      (completion) => openAiToAnthropic(completion, model),
    );
  });

  app.post('/v1/images/generations', async (c) => {
    const body = await readJsonObject(c.req.raw, config.maxBodyBytes, c.env?.incoming);
    const model = body['model'];
    if (typeof model !== 'string' || model.trim() === '')
      throw badRequest('model: field required (a non-empty string)', 'model');
    const prompt = body['prompt'];
    if (typeof prompt !== 'string' || prompt.trim() === '')
      throw badRequest('prompt: field required (a non-empty string)', 'prompt');
    const n = body['n'] ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10)
      throw badRequest('n must be an integer from 1 to 10', 'n');
    if (!router.serves(model, 'image_generation')) {
      throw new ApiError(
        404,
        `The model \`${model}\` does not generate images at any configured provider`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    const routed = await router.route(
      model,
      'image_generation',
      async ({ provider, headers }) => {
        const response = await postUpstream({
          url: `${provider.baseUrl}/images/generations`,
          body,
          headers,
          timeoutMs: config.attemptTimeoutMs,
          signal: clientGone(c),
        });
        const result = await readUpstreamJson(response);
        const images = Array.isArray(result['data']) ? result['data'].length : 0;
        return { value: result, completion: { status: 'success', images } };
      },
      requestContext(c),
    );
    return c.json(routed.value);
  });

  let server: Server | undefined;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  return {
    app,
    router,
    tracker,
    store,
    recorder,
    listen: () =>
      new Promise<string>((resolve, reject) => {
        const instance = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) => {
          resolve(`http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`);
        }) as Server;
        instance.on('error', reject);
        instance.on('request', (_request, response) => {
          inFlight++;
          response.once('close', () => {
            inFlight--;
            if (inFlight === 0) idle?.();
          });
        });
        server = instance;
      }),
    close: async () => {
      if (server !== undefined) {
        const instance = server;
        const closed = new Promise<void>((resolve) => instance.close(() => resolve()));
        instance.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([
            new Promise<void>((resolve) => (idle = resolve)),
            new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref()),
          ]);
        }
        instance.closeAllConnections();
        await closed;
      }
      // Everything the finished requests recorded reaches the store before we stop.
      const flushed = await recorder.close({ timeoutMs: config.shutdownTimeoutMs });
      if (!flushed.flushed)
        log.error('model-health calls not written before shutdown', { pending_calls: flushed.pendingCalls });
      await tracker.stop();
      router.close();
    },
  };
}
