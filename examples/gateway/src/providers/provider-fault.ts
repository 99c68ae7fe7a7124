/*
 * What a failed attempt says about its provider. One rule for the circuit breaker's error filter
 * and for the provider's health figures (model health and the tracker's availability, error rate
 * and score that read it, `model_inference_requests_total` and `model_inference_duration_seconds`,
 * `provider_response_time_seconds`, the anomaly detector), so a request that the breaker does not
 * hold against a provider does not lower the provider's health either, and the other way round.
 */

/**
 * Upstream 4xx statuses that are the provider's (or the gateway's configuration of it) fault, not
 * the client's: the same request may succeed at another provider, so the attempt fails over, and
 * it counts against the provider.
 *
 * - 401, 403: the provider rejected the gateway's credentials (wrong, revoked, or without access
 *   to the model): every request fails until an operator fixes the key.
 * - 402: the gateway's account at the provider is out of credit (OpenRouter's insufficient
 *   credits): the same, until someone pays.
 * - 404: the gateway sends a provider only the models configured for it (an unknown model is
 *   answered 404 by the gateway itself, before any attempt), so a 404 means the provider does not
 *   have that model (any more) or the base URL is wrong: a configuration problem.
 * - 408: the provider gave up waiting for a request the gateway sent in full: its timeout.
 *
 * Every other 4xx (400, 409, 413, 415, 422, ...) says the client's request itself was wrong
 * (invalid parameters, too long a prompt, ...): it is passed back to the client without failover
 * (another provider would reject it too), and says nothing about the provider. 429 is separate:
 * the provider's quota (`rate_limited`). Any status outside 2xx and 4xx is the provider's fault
 * too: a 5xx, and a redirect (3xx), which the gateway does not follow (the provider's base URL is
 * out of date, e.g. `http://` for a server that moved to `https://`).
 */
export const PROVIDER_FAULT_4XX: ReadonlySet<number> = new Set([401, 402, 403, 404, 408]);

/** Whether an upstream 4xx status is the client's fault (its request was wrong); 429 is not. */
export function isClientFault4xx(httpStatus: number): boolean {
  return httpStatus >= 400 && httpStatus < 500 && httpStatus !== 429 && !PROVIDER_FAULT_4XX.has(httpStatus);
}

/**
 * Whether a failed attempt says nothing about its provider's health, from its `error.type`:
 * `cancelled` (the client went away, or the gateway's shutdown cut the call, before the provider
 * answered: the provider was never given the time to answer) and the upstream's HTTP status for a
 * client error (see `PROVIDER_FAULT_4XX`). Such an attempt is left out of every provider health
 * figure and is not a failure of the provider's circuit breaker (except a call cancelled while the
 * breaker is half-open, which must not close it: see breaker-error-filter.ts); its span and the
 * GenAI metrics still carry the `error.type`, which describes what happened.
 */
export function saysNothingOfProvider(errorType: string | undefined): boolean {
  if (errorType === undefined) return false;
  if (errorType === 'cancelled') return true;
  if (!/^\d{3}$/.test(errorType)) return false;
  return isClientFault4xx(Number(errorType));
}
