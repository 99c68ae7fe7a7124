import type { ModelCallStatus } from '@gatewayz/telemetry';
import type { GenAiUsage as Usage } from '@gatewayz/telemetry/genai';
import { saysNothingOfProvider } from './provider-fault.js';

/**
 * A failed upstream attempt, classified for model health (`status`), for the GenAI `error.type`
 * attribute, and for routing (`failover`: whether another provider should be tried). Messages are
 * written by the gateway, or are the provider's own error message when it reported one inside a
 * 2xx answer (as a stream's error event is recorded); upstream bodies, prompts and keys never end
 * up in them.
 */
export class UpstreamFailure extends Error {
  override readonly name = 'UpstreamFailure';
  constructor(
    readonly status: ModelCallStatus,
    readonly errorType: string,
    message: string,
    readonly failover: boolean,
    readonly httpStatus?: number,
    /** Upstream error body, passed back to the client only for non-failover client errors. */
    readonly clientBody?: unknown,
  ) {
    super(message);
  }

  /**
   * The client went away (or shutdown cut the call) before an answer, or the upstream rejected the
   * client's request (a client-fault 4xx, see `PROVIDER_FAULT_4XX`): the attempt says nothing
   * about the provider, so its circuit breaker and its health figures leave it out.
   */
  get saysNothingOfProvider(): boolean {
    return saysNothingOfProvider(this.errorType);
  }

  /** The client left before the request's body was all written to the upstream: nothing to bill. */
  unsent = false;

  /** The usage reported with an answer the gateway could not use (billed): recorded, and charged to the budget. */
  usage: Usage | undefined = undefined;

  /** The provider made (and bills) an answer the gateway could not use: without usage, its bound is charged. */
  answered = false;

  /** This failure with the usage the provider reported for the answer it refers to. */
  withUsage(usage: Usage | undefined): this {
    this.usage = usage;
    return this;
  }

  /**
   * Where a redirect (3xx) pointed, without its query or credentials: the gateway does not follow
   * redirects, so an operator must put it in the provider's base URL (try-providers.ts logs it).
   */
  redirectedTo: string | undefined = undefined;
}
