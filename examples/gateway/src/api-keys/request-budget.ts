import type { ProviderConfig } from '../config.js';
import type { ApiKeyRegistry, BudgetHold, HoldAdmission } from './api-key-registry.js';
import type { CostBound, CostEstimator } from './cost-estimate.js';

/**
 * One request's budget, for a key that has one: its hold (`BudgetHold`), the bound of what it can
 * use (`CostBound`) and how that is priced. Travels in the request's OpenTelemetry context (see
 * api-key-context.ts), where the failover loop asks it to `cover` each attempt before the attempt
 * is sent, and `finishAttempt` charges through it what an attempt cost, or, for an attempt that
 * ended without the provider's usage (a cancelled stream), what it can have cost at most.
 */
export class RequestBudget {
  constructor(
    readonly hold: BudgetHold,
    readonly bound: CostBound,
    private readonly costs: CostEstimator,
    private readonly registry: ApiKeyRegistry,
  ) {}

  /** What an attempt at `provider` can cost at most. */
  attemptMaximum(provider: string): number {
    return this.costs.atProvider(this.bound, provider);
  }

  /**
   * Make sure the hold covers what the next attempt, at `provider`, can cost: a failed attempt
   * that reported usage was charged through the hold, so after it the hold may fall short. The
   * shortfall is held under the admission rule of the first hold (the key's spend, every hold and
   * the shortfall within the budget; in a cluster, admitted again by the primary for what the
   * request holds now). False (or a promise of false, when the cluster primary is asked) when it does not fit: the
   * request must not try the attempt.
   */
  cover(provider: string): boolean | Promise<boolean> {
    const shortfall = this.attemptMaximum(provider) - this.hold.heldUsd;
    if (!(shortfall > 0)) return true;
    if (!this.hold.extend(shortfall)) return false;
    const admission = this.registry.admission;
    return admission === undefined ? true : this.admitAgain(admission);
  }

  /** In a cluster: the primary, which admitted the first hold, admits what the request holds now instead. */
  private async admitAgain(admission: HoldAdmission): Promise<boolean> {
    this.hold.replaceAdmission(undefined);
    const answer = await admission.admit(this.hold.account, this.hold.heldUsd);
    if (!answer.admitted) return false;
    this.hold.replaceAdmission(answer.release);
    return true;
  }

  /**
   * Charge an attempt at `provider` that ended without a usage report although the provider may
   * bill it (the client went away, or shutdown cut it): the prompt's bound plus, when
   * `streamedOutputBytes` is known (a stream from a provider that stops generating when the
   * connection closes), that many output tokens (every token is at least one byte), else the
   * bound's whole output; at the provider's prices, capped at what the hold still covers. Returns
   * the USD charged, which the key's spend now includes.
   */
  chargeWithoutUsage(provider: ProviderConfig, streamedOutputBytes: number | undefined): number {
    const outputTokens =
      provider.cancelStopsBilling === true && streamedOutputBytes !== undefined
        ? Math.min(streamedOutputBytes, this.bound.outputTokens)
        : this.bound.outputTokens;
    const estimate = Math.min(this.costs.atProvider(this.bound, provider.name, outputTokens), this.hold.heldUsd);
    if (!(estimate > 0)) return 0;
    this.hold.charge(estimate);
    return estimate;
  }
}
