import { UpstreamFailure } from './upstream.js';

/**
 * opossum's `errorFilter` for a provider's circuit breaker: whether a failed call says nothing
 * against the provider (true: opossum counts it as a success, not a failure).
 *
 * - A call that says nothing of the provider (`saysNothingOfProvider`, see provider-fault.ts: a
 *   client-fault 4xx, or a call the client left or shutdown cut before the provider answered) is
 *   not held against it, and a rate limit (429) is the provider working as announced: the
 *   rate-limit headroom passes it over until its reset, so it does not open the breaker (which
 *   would answer 503 instead of 429).
 * - Except a cancelled call while the breaker is half-open: that is the trial call (or a call
 *   started before the breaker opened), and opossum 9 closes a half-open breaker on anything
 *   filtered (its `handleError` emits `success`), so the breaker would close without the provider
 *   having answered. opossum has no outcome that re-arms the trial (its pending-close flag is
 *   private, set only by its reset timer), so the cancelled call counts as a failed trial and
 *   opossum opens the breaker again: the first request after the next reset timeout is the trial.
 *   The health figures still leave the call out: it says nothing of the provider, it only ends the
 *   trial without a verdict.
 */
export function breakerErrorFilter(error: unknown, breaker: { readonly halfOpen: boolean }): boolean {
  if (!(error instanceof UpstreamFailure)) return false;
  if (error.errorType === 'cancelled' && breaker.halfOpen) return false;
  return error.saysNothingOfProvider || error.status === 'rate_limited';
}
