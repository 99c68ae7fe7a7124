import type { IncomingHttpHeaders } from 'node:http';
import { context as contextApi, propagation, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { FailoverReason } from '@gatewayz/telemetry';
import { startGenAiSpan, type GenAiSpanStart } from '@gatewayz/telemetry/genai';
import { monotonicNow } from '@gatewayz/telemetry/scheduling';
import { requestBudgetOf } from '../api-keys/api-key-context.js';
import { budgetRefusal } from '../api-keys/authenticate.js';
import { ApiError, CLIENT_CLOSED_REQUEST } from '../protocol/openai-errors.js';
import type { ProviderRateLimits } from '../providers/provider-rate-limits.js';
import type { ProviderRuntime } from '../providers/provider-router.js';
import { UpstreamFailure } from '../providers/upstream.js';
import type {
  AttemptCompletion,
  AttemptContext,
  AttemptRequest,
  AttemptResult,
  Operation,
  RoutedResult,
} from './attempt.js';
import {
  contentLimit,
  finishAttempt,
  withoutContent,
  type AttemptRecording,
  type StartedAttempt,
} from './finish-attempt.js';
import { providerFilterOf, trialInFlight, type ProviderFilter } from './provider-chain.js';

/**
 * An attempt the breaker let through: its CLIENT span, context, outbound headers and start time,
 * and what its span was started with (the content too when it goes to events).
 */
interface BegunAttempt extends StartedAttempt {
  readonly headers: Record<string, string>;
}

export interface FailoverOptions extends AttemptRecording {
  tracer: Tracer;
  /** Providers' rate-limit headroom, read from every response; exhausted providers are passed over. */
  rateLimits: ProviderRateLimits;
}

/**
 * Try the providers of `modelChain` in order until one succeeds, each through its circuit breaker and
 * inside its own GenAI CLIENT span (a child of `parent`, carried upstream in `traceparent`).
 * Every attempt that reached a provider is finished by `finishAttempt`: at once, or, when the
 * attempt is `deferred` (a stream), through the `complete` of the result.
 *
 * A provider whose breaker is open is passed over, and so is one whose breaker is half-open with
 * its trial call in flight (a half-open breaker waiting for its trial comes first in the chain, see
 * `providerChain`); so is a provider with no requests left until its announced reset (see
 * `ProviderRateLimits`), as long as a provider after it in the chain can answer; those passed over
 * are tried last, in chain order, when no other provider answered. Every move from one
 * provider of the chain to the next, after a failed attempt or passing a provider over, is counted
 * in `gatewayz_failovers_total{provider,next_provider,reason}`.
 *
 * The providers the request's `ProviderFilter` (in `parent`) does not admit are left out of the
 * chain: never tried, nor counted as failovers; the messages of the 503, 429 and 502 below then
 * speak of the providers "that can serve this request", with the filter's `requirement`. `request`
 * (streaming or not, the request's parameters) goes on every attempt span.
 *
 * Throws `ApiError`: 404 when no provider serves the model, the filter's refusal when it admits
 * none of them, the upstream's own 4xx for a client error, 503 when no provider could be tried (its
 * message names the providers whose breaker is open and those whose half-open trial is in
 * progress; its `Retry-After` is the time until the first of those breakers goes half-open, in
 * whole seconds, at least 1), 429 when every attempt was rate limited (its `Retry-After` is the time until the first of those providers' pauses ends, see
 * `ProviderRateLimits.pauseLeftMs`, in whole seconds, at least 1), 502 when every attempt failed.
 * Both are measured on `monotonicNow()`, which a step of the wall clock does not move.
 */
export async function tryProviders<T>(
  modelChain: readonly ProviderRuntime[],
  model: string,
  operation: Operation,
  attempt: (context: AttemptContext) => Promise<AttemptResult<T>>,
  parent: Context,
  options: FailoverOptions,
  request: AttemptRequest = {},
): Promise<RoutedResult<T>> {
  if (modelChain.length === 0) {
    throw new ApiError(
      404,
      `The model \`${model}\` does not exist or is not served by any configured provider`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }
  const chain = admittedProviders(modelChain, model, parent, options);
  // When the filter left providers out, the errors below speak of those it admitted only: the model
  // may well answer a request that its other providers can serve.
  const restriction = chain.length < modelChain.length ? providerFilterOf(parent) : undefined;
  const failures: string[] = [];
  let lastTried: string | undefined;
  const refused: RefusedProviders = { open: [], trialInFlight: [], retryAt: [] };
  /** The providers whose attempt was answered 429, for the `Retry-After` of the 429. */
  const rateLimited: string[] = [];
  // A breaker refuses calls while open, and while half-open with its one trial call in flight.
  const refusesCalls = (runtime: ProviderRuntime): boolean =>
    (runtime.breaker.opened && !runtime.breaker.halfOpen) || trialInFlight(runtime);
  const isExhausted = (runtime: ProviderRuntime): boolean => options.rateLimits.isExhausted(runtime.config.name);
  // Note why a provider was refused, and when its breaker lets a call through again.
  const refuse = (runtime: ProviderRuntime): void => {
    (trialInFlight(runtime) ? refused.trialInFlight : refused.open).push(runtime.config.name);
    // An open breaker lets a call through once it goes half-open; one busy with its trial, at the
    // trial's end (at once, at the earliest).
    const halfOpenAt = trialInFlight(runtime) ? monotonicNow() : runtime.halfOpenAt();
    if (halfOpenAt !== undefined) refused.retryAt.push(halfOpenAt);
  };
  // An exhausted provider is passed over while a provider after it in the chain could answer, and
  // tried at the end, in chain order, if none of them did: the chain in order, then those.
  let passedOver: number[] | undefined;
  const positionAt = (step: number): number | undefined =>
    step < chain.length ? step : passedOver?.[step - chain.length];
  const laterCanAnswer = (index: number): boolean => {
    for (let later = index + 1; later < chain.length; later++) {
      const runtime = chain[later] as ProviderRuntime;
      if (!refusesCalls(runtime) && !isExhausted(runtime)) return true;
    }
    return false;
  };
  const moveOn = (step: number, reason: FailoverReason): void => {
    const next = positionAt(step + 1);
    if (next !== undefined)
      options.telemetry.recordFailover(chain[positionAt(step)!]!.config.name, chain[next]!.config.name, reason);
  };
  // The request's budget, when its key has one (see RequestBudget).
  const budget = requestBudgetOf(parent);
  for (let step = 0; ; step++) {
    const index = positionAt(step);
    if (index === undefined) break;
    const runtime = chain[index] as ProviderRuntime;
    if (refusesCalls(runtime)) {
      refuse(runtime);
      moveOn(step, 'circuit_open');
      continue;
    }
    if (step < chain.length && isExhausted(runtime) && laterCanAnswer(index)) {
      (passedOver ??= []).push(index);
      moveOn(step, 'rate_limited');
      continue;
    }
    const provider = runtime.config;
    // A failed attempt that reported usage was charged through the request's hold: the next one is
    // tried only if the hold still covers what it may cost, or can be extended to (else 429).
    if (budget !== undefined) {
      const covered = budget.cover(provider.name);
      if (covered !== true && !(await covered))
        throw budgetRefusal(budget.hold.account, budget.attemptMaximum(provider.name));
    }
    // The attempt span starts when the breaker lets the call through (opossum runs the action
    // synchronously inside fire()), so a call the breaker refuses (open, or half-open with its
    // trial call in flight) leaves no CLIENT span for a request never sent.
    const begun: { attempt?: BegunAttempt } = {};
    const begin = (): BegunAttempt => {
      const start: GenAiSpanStart = {
        stream: false,
        ...request,
        operationName: operation,
        providerName: provider.name,
        requestModel: model,
        ...runtime.server,
        semconvMode: options.telemetry.genAiSemconvMode,
        ...contentLimit(options.telemetry),
      };
      // The request's content was collected for the events only: it stays off the span.
      const span = startGenAiSpan(
        options.tracer,
        options.telemetry.genAiContent.capture ? start : withoutContent(start),
        parent,
      );
      const attemptContext = trace.setSpan(parent, span);
      const headers: Record<string, string> = {};
      if (provider.apiKey) headers['authorization'] = `Bearer ${provider.apiKey}`;
      propagation.inject(attemptContext, headers);
      begun.attempt = { span, attemptContext, headers, startedAt: performance.now(), start };
      return begun.attempt;
    };
    // Read with the time the request was sent: an answer to a request sent before the provider was
    // paused neither ends the pause nor replaces newer headroom.
    const sentAt = options.rateLimits.pauseClockNow();
    const onResponseHeaders = (status: number, responseHeaders: IncomingHttpHeaders): void =>
      options.rateLimits.observe(provider.name, status, responseHeaders, sentAt);
    try {
      // A deferred attempt (a stream) is handed to the caller once it opened, but the breaker's
      // call lasts until the stream ends, so that the breaker hears how it ended, as model health
      // does: a provider whose streams fail midway opens its breaker, and a half-open breaker's
      // trial is a stream that worked to its end, not one that merely opened.
      const opened: { result?: AttemptResult<T>; end?: (completion: AttemptCompletion) => void } = {};
      let streamOpened!: () => void;
      const whenOpened = new Promise<void>((resolve) => (streamOpened = resolve));
      const call = runtime.breaker.fire(async () => {
        const { span, headers } = begin();
        const answered = await attempt({ provider, headers, span, onResponseHeaders });
        if (!answered.deferred) return answered;
        return new Promise<AttemptResult<T>>((resolve, reject) => {
          opened.result = answered;
          opened.end = (completion) =>
            completion.status === 'success' ? resolve(answered) : reject(streamFailure(completion));
          streamOpened();
        });
      }) as Promise<AttemptResult<T>>;
      const result = await Promise.race([call, whenOpened.then(() => opened.result as AttemptResult<T>)]);
      const started = begun.attempt ?? begin();
      if (result.deferred) {
        // The breaker has counted the stream's failure by the time this rejects: nothing to handle.
        call.catch(() => {});
        const endCall = opened.end as (completion: AttemptCompletion) => void;
        let completed = false;
        return {
          value: result.value,
          provider: provider.name,
          complete: (completion) => {
            if (completed) return;
            completed = true;
            try {
              finishAttempt(options, provider, model, operation, started, completion);
            } finally {
              endCall(completion);
            }
          },
        };
      }
      finishAttempt(options, provider, model, operation, started, result.completion ?? { status: 'success' });
      return { value: result.value, provider: provider.name, completion: result.completion, complete: () => {} };
    } catch (error) {
      if (begun.attempt === undefined && (error as { code?: string }).code === 'EOPENBREAKER') {
        // The breaker refused the call (it opened while we were choosing, or it is half-open with
        // its trial call in flight): nothing was sent to the provider, and no attempt span exists.
        refuse(runtime);
        moveOn(step, 'circuit_open');
        continue;
      }
      const failure =
        error instanceof UpstreamFailure
          ? error
          : new UpstreamFailure('error', 'internal', 'Unexpected error while calling the provider', true);
      // A failure before the action ran (e.g. a breaker shut down) is still an attempt on record.
      const started = begun.attempt ?? begin();
      finishAttempt(options, provider, model, operation, started, {
        status: failure.status,
        errorType: failure.errorType,
        errorMessage: failure.message,
        // A stream that failed (or was left) before it opened has received no output.
        ...(request.stream === true ? { streamedOutputBytes: 0 } : {}),
        // An answer the gateway could not use, which the provider made and bills.
        ...(failure.usage !== undefined ? { usage: failure.usage } : {}),
        ...(failure.unsent ? { unsent: true } : {}),
        ...(failure.answered ? { answered: true } : {}),
      });
      // Every call to the provider is redirected until its base URL is corrected: say where to.
      if (failure.redirectedTo !== undefined) {
        const redirect = { provider: provider.name, http_status: failure.httpStatus, location: failure.redirectedTo };
        contextApi.with(started.attemptContext, () =>
          options.logger?.warn('provider redirected the request, which the gateway does not follow', redirect),
        );
      }
      if (!failure.failover) throw clientError(failure, provider.name);
      failures.push(`${provider.name}: ${failure.status}`);
      lastTried = provider.name;
      if (failure.status === 'rate_limited') rateLimited.push(provider.name);
      moveOn(step, failure.status === 'success' ? 'error' : failure.status);
    }
  }
  if (failures.length === 0) {
    const error = new ApiError(
      503,
      unavailableMessage(serversOf(model, restriction), refused),
      'server_error',
      'providers_unavailable',
    );
    const retryAfter = retryAfterSeconds(refused.retryAt, monotonicNow());
    throw retryAfter === undefined ? error : error.withHeader('retry-after', String(retryAfter));
  }
  if (rateLimited.length === failures.length) {
    const error = new ApiError(
      429,
      `Every provider ${serversOf(model, restriction).serving} is rate limited; retry later`,
      'rate_limit_error',
      'rate_limit_exceeded',
    ).answeredBy(lastTried as string);
    // Each 429 paused its provider (ProviderRateLimits.observe): retry once the first pause ends,
    // or once the breaker of a provider this request could not try lets a call through, if sooner.
    const now = monotonicNow();
    const pausedUntil = rateLimited
      .map((name) => options.rateLimits.pauseLeftMs(name))
      .filter((left): left is number => left !== undefined)
      .map((left) => now + left);
    const retryAfter = retryAfterSeconds([...pausedUntil, ...refused.retryAt], now) ?? 1;
    throw error.withHeader('retry-after', String(retryAfter));
  }
  throw new ApiError(
    502,
    `${serversOf(model, restriction).failed} (${failures.join(', ')})`,
    'server_error',
    'upstream_failed',
  ).answeredBy(lastTried as string);
}

/**
 * The providers of `chain` the request's `ProviderFilter` admits, in chain order; all of them when
 * it has none. Those left out are logged at debug. Throws the filter's refusal when it admits none.
 */
function admittedProviders(
  chain: readonly ProviderRuntime[],
  model: string,
  parent: Context,
  options: FailoverOptions,
): readonly ProviderRuntime[] {
  const filter = providerFilterOf(parent);
  if (filter === undefined) return chain;
  const admitted = chain.filter((runtime) => filter.admits(runtime.config));
  if (admitted.length === chain.length) return chain;
  const leftOut = chain.filter((runtime) => !admitted.includes(runtime)).map((runtime) => runtime.config.name);
  contextApi.with(parent, () =>
    options.logger?.debug("providers left out of the request's chain: they cannot serve it", {
      model,
      providers: leftOut.join(', '),
      param: filter.refusal.param,
    }),
  );
  if (admitted.length === 0) throw filter.refusal;
  return admitted;
}

/**
 * How a stream that failed after it opened ended, for its provider's circuit breaker: the failure
 * its completion describes, which the breaker's error filter reads as it reads a failed call (see
 * breaker-error-filter.ts). A stream the client left is a success (`cancelled`), as in model health.
 */
function streamFailure(completion: AttemptCompletion): UpstreamFailure {
  return new UpstreamFailure(
    completion.status,
    completion.errorType ?? 'error',
    completion.errorMessage ?? 'The stream failed',
    false,
  );
}

/**
 * A client error from upstream (no failover), answered with the upstream's own status and error
 * fields; a client that went away before any answer is 499 (client closed request), not a 400 it
 * never sent.
 */
function clientError(failure: UpstreamFailure, provider: string): ApiError {
  if (failure.errorType === 'cancelled')
    return new ApiError(
      CLIENT_CLOSED_REQUEST,
      failure.message,
      'invalid_request_error',
      'client_closed_request',
    ).answeredBy(provider);
  const body = failure.clientBody as
    { error?: { message?: string; type?: string; code?: string; param?: string } } | undefined;
  return new ApiError(
    failure.httpStatus ?? 400,
    body?.error?.message ?? failure.message,
    body?.error?.type ?? 'invalid_request_error',
    body?.error?.code ?? null,
    body?.error?.param ?? null,
  ).answeredBy(provider);
}

/** Providers a request could not try because their circuit breaker refused calls, by reason. */
interface RefusedProviders {
  /** Breaker open: calls fail fast until its reset timeout makes it half-open. */
  readonly open: string[];
  /** Breaker half-open with its one trial call in flight (another request's): refused until it ends. */
  readonly trialInFlight: string[];
  /** When each refusing breaker lets a call through again, at the earliest (on `monotonicNow()`). */
  readonly retryAt: number[];
}

/**
 * A `Retry-After` in seconds: until the earliest of `retryAt` (on `now`'s clock), rounded up, at
 * least 1. For the 503, when the first refusing breaker goes half-open (its next call is its trial;
 * a breaker busy with its trial may be free again at any moment); for the 429, when the first rate
 * limited provider's pause ends. `undefined` when none said when.
 */
function retryAfterSeconds(retryAt: readonly number[], now: number): number | undefined {
  if (retryAt.length === 0) return undefined;
  return Math.max(1, Math.ceil((Math.min(...retryAt) - now) / 1000));
}

/**
 * The message of the 503 answered when no provider of the chain could be tried: which breakers
 * were open, and which were half-open with their trial call (another request's) in progress, which
 * closes the breaker again within one provider call if the provider has recovered.
 */
function unavailableMessage(servers: ChainServers, refused: RefusedProviders): string {
  const reasons: string[] = [];
  const breakers = (names: readonly string[]): string =>
    names.length === 1 ? `the circuit breaker of ${names[0]} is` : `the circuit breakers of ${names.join(', ')} are`;
  if (refused.open.length > 0) reasons.push(`${breakers(refused.open)} open`);
  if (refused.trialInFlight.length > 0)
    reasons.push(
      `${breakers(refused.trialInFlight)} half-open with a trial call in progress (the provider is being retested)`,
    );
  if (reasons.length === 0) reasons.push('no provider could be tried');
  return `${servers.noneAvailable}: ${reasons.join('; ')}. Retry shortly.`;
}

/** How the errors of a request no provider answered speak of the providers it could go to. */
interface ChainServers {
  /** Ends "Every provider …" (is rate limited). */
  readonly serving: string;
  /** The 503's message up to its reasons. */
  readonly noneAvailable: string;
  /** The 502's message up to its list of failures. */
  readonly failed: string;
}

/**
 * The providers a request for `model` could go to, as its errors name them: those of the model, or,
 * when `filter` left some out, those of the model that can serve the request, with the filter's
 * requirement, e.g. ``Every provider of `r1` that can serve this request (with the Responses API,
 * needed for `tools[0].type`) is rate limited``.
 */
function serversOf(model: string, filter: ProviderFilter | undefined): ChainServers {
  if (filter === undefined)
    return {
      serving: `serving \`${model}\``,
      noneAvailable: `No provider is available for \`${model}\``,
      failed: `All providers failed for \`${model}\``,
    };
  const able = `of \`${model}\` that can serve this request (${filter.requirement})`;
  return { serving: able, noneAvailable: `No provider ${able} is available`, failed: `All providers ${able} failed` };
}
