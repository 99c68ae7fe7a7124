import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayTelemetry } from '@gatewayz/telemetry';
import { ANONYMOUS_API_KEY_NAME, type ApiKeyPlan, type ApiKeysConfig } from './api-keys-file.js';

/** How long after its last request a key still counts in `active_api_keys`. */
export const ACTIVE_KEY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * One key's running state: what it spent, when it was last used. The secret is not kept here. In
 * a node:cluster, spend and use are this worker's own plus what the primary reports of the others
 * (see cluster-usage.ts), so budgets and `active_api_keys` hold for the whole gateway.
 */
export class ApiKeyAccount {
  /** Running sum of the USD this process charged to the key, and its rounding error (see `charge`). */
  private readonly ownSpend = new CompensatedSum();
  /** When this process last served a request with the key (ms since the epoch); -Infinity when never. */
  ownLastUsedMs = Number.NEGATIVE_INFINITY;
  /** USD the other workers of a cluster spent through the key (0 outside a cluster). */
  othersSpentUsd = 0;
  /** When another worker of a cluster last served the key. */
  othersLastUsedMs = Number.NEGATIVE_INFINITY;
  /** Called when this process's spend or use of the key changes (a cluster worker shares it). */
  onChange: ((account: ApiKeyAccount) => void) | undefined = undefined;
  /** USD held for this process's requests in progress (see `hold`), and how many hold some. */
  private readonly holds = new CompensatedSum();
  private openHolds = 0;
  /** Where `hold` adds spend, holds and the request's cost (kept to allocate nothing per request). */
  private readonly scratch = new CompensatedSum();

  constructor(
    /** The key's name: the `api_key_name` label. */
    readonly name: string,
    /** Undefined for `anonymous`. */
    readonly plan: ApiKeyPlan | undefined,
    /** Spending limit in USD, when the key has one. */
    readonly budgetUsd: number | undefined,
    private readonly telemetry: GatewayTelemetry,
  ) {}

  /** USD this process spent through the key since it started. */
  get ownSpentUsd(): number {
    return this.ownSpend.value;
  }

  /** USD spent through the key since the gateway started, by every worker. */
  get spentUsd(): number {
    return this.ownSpend.plus(this.othersSpentUsd);
  }

  /** When the key was last used, by any worker. */
  get lastUsedMs(): number {
    return Math.max(this.ownLastUsedMs, this.othersLastUsedMs);
  }

  /** Whether the key's spend has reached its budget: its requests are refused with 429. */
  get exhausted(): boolean {
    return this.budgetUsd !== undefined && this.spentUsd >= this.budgetUsd;
  }

  /** USD this process holds against the budget for its requests in progress (see `hold`). */
  get heldUsd(): number {
    return this.holds.value;
  }

  /** How many requests in progress in this process hold part of the budget. */
  get holdCount(): number {
    return this.openHolds;
  }

  /**
   * Admit a request that may cost up to `usd`: when the key's spend, what this process holds for
   * its other requests in progress and `usd` together fit in the budget (the exact sum, rounded
   * once), hold `usd` until the request ends and return the hold; otherwise undefined (the request
   * is refused; always for `usd` Infinity). A key without a budget needs no hold (undefined too:
   * check `budgetUsd` first).
   * The hold's `charge` turns what the request costs into spend, and its `release` gives back
   * whatever it did not cost.
   */
  hold(usd: number): BudgetHold | undefined {
    // A request whose cost has no bound (see `CostEstimator.atProvider`) fits no budget.
    if (usd === Infinity) return undefined;
    const amount = Number.isFinite(usd) && usd > 0 ? usd : 0;
    if (!this.fits(amount)) return undefined;
    this.holds.add(amount);
    this.openHolds++;
    return new BudgetHold(this, amount);
  }

  /**
   * @internal `BudgetHold.extend`: hold `usd` more for a request in progress, under the rule of
   * `hold` (spend, every hold and `usd` within the budget). Returns whether it was held.
   */
  extendHold(usd: number): boolean {
    if (!(usd > 0) || !Number.isFinite(usd) || !this.fits(usd)) return false;
    this.holds.add(usd);
    return true;
  }

  /** Whether the key's spend, what this process holds and `usd` more fit in the budget (exact sum, rounded once). */
  private fits(usd: number): boolean {
    if (this.budgetUsd === undefined) return false;
    const committed = this.scratch;
    committed.reset();
    committed.addSum(this.ownSpend);
    committed.add(this.othersSpentUsd);
    committed.addSum(this.holds);
    committed.add(usd);
    return committed.value <= this.budgetUsd;
  }

  /** @internal `BudgetHold`: charge `usd`, of which `covered` was held, in one step. */
  chargeHeld(usd: number, covered: number): void {
    if (covered > 0) this.holds.add(-covered);
    this.charge(usd);
  }

  /** @internal `BudgetHold.release`: give back what a request's hold did not cost. */
  releaseHold(rest: number): void {
    this.openHolds--;
    // With no request in progress nothing is held: exactly 0, whatever rounding left behind.
    if (this.openHolds === 0) this.holds.reset();
    else if (rest > 0) this.holds.add(-rest);
  }

  /**
   * Add a call's cost to the key's spend and its budget gauge. Called with the amount that was
   * just added to `gatewayz_cost_by_api_key_total`, so spend and exported cost agree.
   */
  charge(usd: number): void {
    if (!(usd > 0) || !Number.isFinite(usd)) return;
    // Compensated: ten calls of 0.1 USD are 1 USD, not 0.9999999999999999 (which let an 11th call
    // through a 1 USD budget, and left the remaining-budget gauge above 0).
    this.ownSpend.add(usd);
    this.updateBudgetGauge();
    this.onChange?.(this);
  }

  /** Set the budget gauges from the current spend (keys without a budget have none). */
  updateBudgetGauge(): void {
    if (this.budgetUsd !== undefined) this.telemetry.setApiKeyBudget(this.name, this.budgetUsd, this.spentUsd);
  }
}

/**
 * A sum of many small amounts without the drift of repeated `+=` (Neumaier's variant of Kahan
 * summation): `value` is the exact sum of the amounts added, rounded once, for any realistic
 * number of calls (the error bound is |sum| × 2^-53 plus a term that only matters past ~10^15 additions).
 */
export class CompensatedSum {
  private sum = 0;
  /** What rounding took from `sum` so far. */
  private compensation = 0;

  add(amount: number): void {
    const next = this.sum + amount;
    this.compensation += Math.abs(this.sum) >= Math.abs(amount) ? this.sum - next + amount : amount - next + this.sum;
    this.sum = next;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  /** Add what `other` holds (its sum and its rounding error), keeping the total exact. */
  addSum(other: CompensatedSum): void {
    this.add(other.sum);
    this.add(other.compensation);
  }

  /** Back to 0. */
  reset(): void {
    this.sum = 0;
    this.compensation = 0;
  }

  /** The sum with `amount` added, rounded once, leaving this sum as it is. */
  plus(amount: number): number {
    const next = this.sum + amount;
    const lost = Math.abs(this.sum) >= Math.abs(amount) ? this.sum - next + amount : amount - next + this.sum;
    return next + (this.compensation + lost);
  }
}

/**
 * One request's hold on its key's budget (`ApiKeyAccount.hold`): `charge` adds a cost of the
 * request to the key's spend and takes as much from the hold (the two change together, so the key
 * is never counted twice nor short), `release` gives back the rest when the request ends, however
 * it ends. Both are safe to call in any order and more than once; nothing is held after `release`.
 */
export class BudgetHold {
  private released = false;
  /**
   * Called once at `release` (a cluster worker tells the primary, which admitted the hold), or
   * when `replaceAdmission` replaces it.
   */
  onRelease: (() => void) | undefined = undefined;

  constructor(
    readonly account: ApiKeyAccount,
    /** USD still held: the amount held at admission less what the request was charged so far. */
    private remaining: number,
  ) {}

  /** USD still held. */
  get heldUsd(): number {
    return this.remaining;
  }

  /** Charge a cost of the request (an attempt's): it replaces as much of the hold. */
  charge(usd: number): void {
    if (!(usd > 0) || !Number.isFinite(usd)) return;
    const covered = Math.min(usd, this.remaining);
    this.remaining -= covered;
    this.account.chargeHeld(usd, covered);
  }

  /**
   * Hold `usd` more for the request (a further attempt may cost more than is still held), under
   * the rule of `ApiKeyAccount.hold`. Returns whether it was held; nothing changes when not, or
   * once released.
   */
  extend(usd: number): boolean {
    if (this.released || !this.account.extendHold(usd)) return false;
    this.remaining += usd;
    return true;
  }

  /**
   * The cluster primary admitted the hold anew (for what it holds now): the previous admission is
   * given back, and `release` gives back the new one.
   */
  replaceAdmission(release: (() => void) | undefined): void {
    const previous = this.onRelease;
    this.onRelease = this.released ? undefined : release;
    previous?.();
    // Admitted after the request ended: nothing is held any more, give it back at once.
    if (this.released) release?.();
  }

  /** The request ended: whatever is still held goes back to the budget. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const rest = this.remaining;
    this.remaining = 0;
    this.account.releaseHold(rest);
    this.onRelease?.();
  }
}

/**
 * Where a cluster worker has its holds admitted by the cluster primary, which sees every worker's
 * holds (see cluster-usage.ts): `admit` resolves whether the gateway as a whole can hold `usd` more
 * of the key's budget; `release` tells it the hold ended. Absent outside a cluster.
 */
export interface HoldAdmission {
  admit(account: ApiKeyAccount, usd: number): Promise<{ admitted: boolean; release?: () => void }>;
}

/** How a request presented its key. */
export type PresentedKey =
  { readonly kind: 'none' } | { readonly kind: 'malformed' } | { readonly kind: 'key'; readonly secret: string };

/** Who a request is served as, or why it is refused. */
export type Identification =
  | { readonly kind: 'account'; readonly account: ApiKeyAccount }
  | { readonly kind: 'refused'; readonly reason: 'missing' | 'malformed' | 'unknown' };

export interface ApiKeyRegistryOptions {
  readonly config: ApiKeysConfig;
  readonly telemetry: GatewayTelemetry;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** How often `active_api_keys` is recounted so keys unused for 24 h drop out; default 60 s. */
  readonly refreshIntervalMs?: number;
}

interface RegisteredKey {
  readonly digest: Buffer;
  readonly account: ApiKeyAccount;
}

/**
 * The gateway's API keys at run time: identifies a request's key in constant time, keeps each key's
 * spend against its budget, and sets the business gauges from the keys (`subscription_count` =
 * paid keys, `trial_active` = trial keys, `active_api_keys` = keys used in the last 24 hours) and
 * each budget's gauges as soon as it is built.
 *
 * Keys are compared by their SHA-256 digests with `crypto.timingSafeEqual`, against every
 * registered key with no early exit, so neither the time to answer nor its dependence on the
 * presented key's length tells an attacker how close a guess was.
 */
export class ApiKeyRegistry {
  /** Whether a request without a known key is refused (keys from `GATEWAY_API_KEYS_FILE`). */
  readonly required: boolean;
  /** In a cluster worker: the primary's admission of holds, across workers (see `holdBudget`). */
  admission: HoldAdmission | undefined = undefined;
  /** Requests without a key when keys are optional. */
  readonly anonymous: ApiKeyAccount;
  private readonly keys: readonly RegisteredKey[];
  private readonly telemetry: GatewayTelemetry;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: ApiKeyRegistryOptions) {
    this.required = options.config.required;
    this.telemetry = options.telemetry;
    this.now = options.now ?? Date.now;
    this.anonymous = new ApiKeyAccount(ANONYMOUS_API_KEY_NAME, undefined, undefined, this.telemetry);
    this.keys = options.config.keys.map((entry) => ({
      digest: digestOf(entry.key),
      account: new ApiKeyAccount(entry.name, entry.plan, entry.budgetUsd, this.telemetry),
    }));
    const accounts = this.accounts();
    this.telemetry.setSubscriptionCount(accounts.filter((account) => account.plan === 'paid').length);
    this.telemetry.setTrialActiveCount(accounts.filter((account) => account.plan === 'trial').length);
    for (const account of accounts) account.updateBudgetGauge();
    this.refreshActiveKeys();
    this.timer = setInterval(() => this.refreshActiveKeys(), options.refreshIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Every registered key's account, in file order. */
  accounts(): ApiKeyAccount[] {
    return this.keys.map((key) => key.account);
  }

  /**
   * Who a request is served as: the account of a registered key; otherwise, when keys are
   * required, a refusal (`missing`, `malformed` Authorization header, `unknown` key), and when they
   * are optional, `anonymous`.
   */
  identify(presented: PresentedKey): Identification {
    if (presented.kind === 'key') {
      const account = this.lookup(presented.secret);
      if (account !== undefined) return { kind: 'account', account };
    }
    if (!this.required) return { kind: 'account', account: this.anonymous };
    return {
      kind: 'refused',
      reason: presented.kind === 'none' ? 'missing' : presented.kind === 'malformed' ? 'malformed' : 'unknown',
    };
  }

  /** Note a request served with `account`: it counts in `active_api_keys` for the next 24 hours. */
  use(account: ApiKeyAccount): void {
    if (account === this.anonymous) return;
    const now = this.now();
    const wasActive = now - account.lastUsedMs < ACTIVE_KEY_WINDOW_MS;
    account.ownLastUsedMs = now;
    if (!wasActive) this.refreshActiveKeys();
    account.onChange?.(account);
  }

  /** The account of the key named `name`, if registered. */
  account(name: string): ApiKeyAccount | undefined {
    return this.keys.find((key) => key.account.name === name)?.account;
  }

  /** Keys used within the last 24 hours. */
  activeKeyCount(): number {
    const now = this.now();
    let count = 0;
    for (const { account } of this.keys) if (now - account.lastUsedMs < ACTIVE_KEY_WINDOW_MS) count++;
    return count;
  }

  /** Recount `active_api_keys` (done on a timer, and when a key becomes active). */
  refreshActiveKeys(): void {
    this.telemetry.setActiveApiKeys(this.activeKeyCount());
  }

  /** Stop the recount timer. */
  close(): void {
    clearInterval(this.timer);
  }

  private lookup(secret: string): ApiKeyAccount | undefined {
    const digest = digestOf(secret);
    let found: ApiKeyAccount | undefined;
    // Every key is compared, whatever matched: the loop takes the same time for any guess.
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest)) found = key.account;
    }
    return found;
  }
}

function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, or, where `xApiKey` is passed
 * (Anthropic's `/v1/messages`), the `x-api-key` header when there is no Authorization header.
 */
export function presentedKey(authorization: string | undefined, xApiKey?: string): PresentedKey {
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
    return match?.[1] !== undefined ? { kind: 'key', secret: match[1] } : { kind: 'malformed' };
  }
  if (xApiKey !== undefined) {
    const secret = xApiKey.trim();
    return secret === '' ? { kind: 'malformed' } : { kind: 'key', secret };
  }
  return { kind: 'none' };
}
