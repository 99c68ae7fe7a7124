import { logs } from '@opentelemetry/api-logs';
import type { Hono } from 'hono';
import { startProviderHealthTracker, type ProviderHealthTracker } from '@gatewayz/telemetry';
import { GEN_AI_SEMCONV_SCHEMA_URL, PricingTable } from '@gatewayz/telemetry/genai';
import { MemoryModelHealthStore, ModelHealthRecorder, type ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { AnomalyDetector } from '@gatewayz/telemetry/provider-health';
import type { RunningTelemetry } from '@gatewayz/telemetry-node';
import { ApiKeyRegistry } from '../api-keys/api-key-registry.js';
import { DEMO_API_KEYS } from '../api-keys/api-keys-file.js';
import { CostEstimator } from '../api-keys/cost-estimate.js';
import type { GatewayConfig } from '../config.js';
import { ProviderRouter } from '../providers/provider-router.js';
import { createApp } from './app.js';
import type { GatewayEnv, GatewayLogger } from './gateway-env.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { InFlightWork } from './in-flight-work.js';
import { createInitialSeries } from './initial-series.js';

export type { GatewayEnv, GatewayLogger } from './gateway-env.js';

/**
 * How long shutdown gives the requests its drain deadline cut, from the cut, to answer (a 503, or
 * a stream's final error event) and to record how they ended, before it flushes.
 */
export const CUT_REQUESTS_GRACE_MS = 2000;
/**
 * The part of `CUT_REQUESTS_GRACE_MS` their answers get before the remaining connections are
 * closed; the rest is left for the requests only that close reaches to record how they ended.
 */
const CUT_ANSWERS_GRACE_MS = 1000;

export interface GatewayOptions {
  config: GatewayConfig;
  otel: RunningTelemetry;
  /** Model-health store; default an in-memory one. */
  store?: ModelHealthStore;
  /** Structured logger; default `otel.logger`. */
  logger?: GatewayLogger;
}

export interface Gateway {
  readonly app: Hono<GatewayEnv>;
  readonly router: ProviderRouter;
  readonly tracker: ProviderHealthTracker;
  readonly store: ModelHealthStore;
  /** The API keys requests are served as, their spend and the business gauges derived from them. */
  readonly apiKeys: ApiKeyRegistry;
  /** Write-behind recording of every provider attempt into `store`. */
  readonly recorder: ModelHealthRecorder;
  /** Start listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stop accepting, let in-flight requests (streams included) finish within the deadline, stop background work. */
  close(): Promise<void>;
}

/**
 * The example gateway: OpenAI- and Anthropic-compatible endpoints over a failover chain of
 * providers, instrumented end to end with @gatewayz/telemetry. This wires the model-health store
 * and recorder, the provider health tracker, pricing, anomaly detection and the provider router
 * to the app (./app.ts), and owns the server's lifecycle.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, otel } = options;
  const telemetry = otel.telemetry;
  const log = options.logger ?? otel.logger;
  const store = options.store ?? new MemoryModelHealthStore();
  const recorder = new ModelHealthRecorder({ store, telemetry, flushIntervalMs: config.modelHealthFlushIntervalMs });
  const tracker = startProviderHealthTracker({ source: store, intervalMs: config.healthTrackerIntervalMs, telemetry });
  // Set the business gauges (keys by plan, budgets) now, before the first request or scrape.
  const apiKeys = new ApiKeyRegistry({ config: config.apiKeys ?? { keys: DEMO_API_KEYS, required: false }, telemetry });
  // Every provider × model × status of model_inference_requests_total at 0 from the first scrape,
  // so a provider's first failures are an increase the SLO and error-surge rules see.
  createInitialSeries(telemetry, config.providers, log);
  const pricing = new PricingTable(
    Object.fromEntries(config.providers.map((provider) => [provider.name, provider.pricing ?? {}])),
  );
  const costs = new CostEstimator(config.providers, pricing, config.budgetHoldOutputTokens);
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
    // The gen_ai.client.inference.operation.details events, when on (GatewayTelemetry.genAiContent.events).
    // The events follow the GenAI conventions release the telemetry package pins: its schema URL says so.
    genAiEvents: logs.getLogger('@gatewayz/example-gateway', undefined, { schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL }),
    sink: { recordCall: (call) => recorder.recordModelCall(call) },
    pricing,
    healthScore: (provider) => tracker.healthScore(provider),
  });
  const inFlight = new InFlightWork();
  const app = createApp({ config, otel, log, router, tracker, store, apiKeys, costs, inFlight });
  let server: HttpServer | undefined;

  return {
    app,
    router,
    tracker,
    store,
    apiKeys,
    recorder,
    listen: () => {
      server = startHttpServer(app, config.port, config.host);
      return server.listening;
    },
    close: async () => {
      // No health tick starts from here on. One in flight reads the store, which a store that does
      // not answer holds for its whole request timeout (10 s for Supabase's): it runs beside the
      // drain and is waited for only until the model-health write's deadline below.
      const trackerStopped = tracker.stop();
      // Requests still running at the deadline are cut by the server: they answer and are recorded
      // as such, within one grace for both.
      let cutAt: number | undefined;
      const cut = (): void => {
        cutAt = performance.now();
        inFlight.markCut();
      };
      await server?.close(config.shutdownTimeoutMs, cut, CUT_ANSWERS_GRACE_MS);
      const graceLeft =
        cutAt === undefined ? CUT_REQUESTS_GRACE_MS : Math.max(0, CUT_REQUESTS_GRACE_MS - (performance.now() - cutAt));
      // Requests the deadline cut record their attempts (spans, metrics, model health) as the cut
      // reaches them, or the close of their connections: wait for that before flushing anything.
      if (!(await inFlight.idle(graceLeft)))
        log.error('requests still recording at shutdown; their telemetry is lost', { requests: inFlight.size });
      // Everything the finished requests recorded reaches the store before we stop.
      const writeDeadline = performance.now() + config.shutdownTimeoutMs;
      const flushed = await recorder.close({ timeoutMs: config.shutdownTimeoutMs });
      if (!flushed.flushed)
        log.error('model-health calls not written before shutdown', { pending_calls: flushed.pendingCalls });
      if (!(await settlesWithin(trackerStopped, writeDeadline - performance.now())))
        log.warn('provider health tick still reading the model-health store at shutdown; not waiting for it');
      router.close();
      apiKeys.close();
    },
  };
}

/** Whether `promise` settles within `ms` (at once when `ms` <= 0); never rejects, and leaves no timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([
      settled,
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), false))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
