import type { HttpBindings } from '@hono/node-server';
import type { Context as OtelContext } from '@opentelemetry/api';
import type { ProviderHealthTracker } from '@gatewayz/telemetry';
import type { ModelHealthStore } from '@gatewayz/telemetry/model-health';
import type { RunningTelemetry, StructuredLogger } from '@gatewayz/telemetry-node';
import type { ApiKeyRegistry, BudgetHold } from '../api-keys/api-key-registry.js';
import type { CostEstimator } from '../api-keys/cost-estimate.js';
import type { GatewayConfig } from '../config.js';
import type { ProviderRouter } from '../providers/provider-router.js';
import type { AbortLike } from '../providers/upstream.js';
import type { ResponseBodyEnd } from '../middleware/instrument-request.js';
import type { InFlightWork } from './in-flight-work.js';

/** Hono variables of a gateway request. */
export interface GatewayEnv {
  /** Set by @hono/node-server; absent when the app is called through `app.fetch` directly. */
  Bindings: Partial<HttpBindings>;
  Variables: {
    /** The request's OpenTelemetry context: its server span, continuing the caller's `traceparent`. */
    otelContext: OtelContext;
    /** Aborts when the client goes away; made on first use (see `clientGone`). */
    clientGone: AbortLike;
    /** `performance.now()` when the request arrived (for the GenAI server metrics). */
    requestStartedAt: number;
    /** Set by a handler whose response body outlives it (a stream): the request ends with the body. */
    responseBodyEnd: ResponseBodyEnd;
    /** The request's hold on its API key's budget (keys with a budget): released when the request ends. */
    budgetHold: BudgetHold;
  };
}

/** The logging the gateway needs: `StructuredLogger` from @gatewayz/telemetry-node fits. */
export type GatewayLogger = Pick<StructuredLogger, 'debug' | 'info' | 'warn' | 'error' | 'enabled'>;

/** What the middleware and routes work with, built once by `createGateway`. */
export interface GatewayServices {
  readonly config: GatewayConfig;
  readonly otel: RunningTelemetry;
  readonly log: GatewayLogger;
  readonly router: ProviderRouter;
  readonly tracker: ProviderHealthTracker;
  readonly store: ModelHealthStore;
  /** The gateway's API keys: who a request is served as, spend against budgets. */
  readonly apiKeys: ApiKeyRegistry;
  /** What a request may cost at most: held against its key's budget when it is admitted. */
  readonly costs: CostEstimator;
  /** Requests and streams still recording; shutdown waits for them before it flushes. */
  readonly inFlight: InFlightWork;
}
