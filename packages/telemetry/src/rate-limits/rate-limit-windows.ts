import type { MetricRecorder } from '../metrics/metric-recorder.js';
import { OVERFLOW_LABEL_VALUE, type SeriesCell, type SeriesStore } from '../metrics/series-store.js';
import { monotonicNow } from '../scheduling/monotonic-now.js';

/**
 * The reset a `gatewayz_provider_ratelimit_reset_seconds` series counts down to, from the latest
 * response written into it (its `helperState`).
 */
interface ResetCountdown {
  readonly kind: 'rateLimitReset';
  /** When the budget is full again, on `monotonicNow()`. */
  readonly resetAt: number;
}

/**
 * What the responses written into a `gatewayz_provider_ratelimit_remaining` series said about the
 * budget's refill (its `helperState`).
 */
interface RemainingRefill {
  readonly kind: 'rateLimitRefill';
  /** The provider as given to `recordRateLimits()`: a series folded into `other` has several. */
  readonly provider: string;
  /** The budget's full size, read at its reset. */
  limit: number | undefined;
  /** The latest reset announced for the budget, on `monotonicNow()`. */
  resetAt: number | undefined;
  /** When the remaining count was last read from a response, on `monotonicNow()`. */
  seenAt: number;
}

function refillOf(cell: SeriesCell): RemainingRefill | undefined {
  return cell.helperState?.kind === 'rateLimitRefill' ? (cell.helperState as RemainingRefill) : undefined;
}

/** Reset stores whose countdown a collection hook already keeps. */
const keptStores = new WeakSet<SeriesStore>();

/**
 * Keep the headroom gauges of `recorder` true between a provider's responses: at every collection
 * the reset gauge counts down to the announced reset, and once it has passed the remaining gauge
 * reads the budget's full `limit` (when the headers gave it), since the provider refills the budget
 * then. What each series counts down to lives on the series itself, so label values folded into
 * `other` share one window (the newest response's), a removed series is not refreshed back to life,
 * memory stays within the series limit, and an instance that continues another (`continueFrom`)
 * goes on counting down the series it took over. Deadlines are kept on a monotonic clock: a step of the
 * wall clock (NTP correcting it) neither restarts a countdown nor delays a refill.
 */
export function keepRateLimitWindows(recorder: MetricRecorder): void {
  const resets = recorder.states.providerRateLimitResetSeconds.store;
  const remaining = recorder.states.providerRateLimitRemaining.store;
  // An instance that continues another takes over its stores and its collection hooks: one pair of
  // hooks per store is enough (a second pair, from another build of the package, would only repeat it).
  if (keptStores.has(resets)) return;
  keptStores.add(resets);
  recorder.beforeCollect('providerRateLimitResetSeconds', () => {
    const now = monotonicNow();
    for (const cell of resets.cells) {
      if (cell.helperState?.kind !== 'rateLimitReset') continue;
      cell.value = Math.max(0, ((cell.helperState as ResetCountdown).resetAt - now) / 1000);
    }
  });
  recorder.beforeCollect('providerRateLimitRemaining', () => {
    const now = monotonicNow();
    for (const cell of remaining.cells) {
      const refill = refillOf(cell);
      // Refill only a count read before that reset: a count that came later (without a reset of
      // its own) is newer than what the reset implies.
      if (
        refill?.limit !== undefined &&
        refill.resetAt !== undefined &&
        refill.resetAt <= now &&
        refill.seenAt <= refill.resetAt
      )
        cell.value = refill.limit;
    }
  });
}

/**
 * Note what one response of `provider` said about one budget. `resetCell` is the reset series it
 * wrote, if any; `countCell` the remaining series it wrote (`countWritten`) or, when it gave no
 * count, the one its count would go to, whose refill a new reset or limit still moves. `limit` and
 * `resetSeconds` are given only when the gauges accepted them; `resetSeconds` counts from now (an
 * absolute reset was read against the wall clock when the headers were parsed).
 */
export function noteRateLimitWindow(
  provider: string,
  resetCell: SeriesCell | undefined,
  countCell: SeriesCell | undefined,
  countWritten: boolean,
  limit: number | undefined,
  resetSeconds: number | undefined,
): void {
  const now = monotonicNow();
  const resetAt = resetSeconds === undefined ? undefined : now + resetSeconds * 1000;
  if (resetCell !== undefined && resetAt !== undefined) {
    const countdown: ResetCountdown = { kind: 'rateLimitReset', resetAt };
    resetCell.helperState = countdown;
  }
  if (countCell === undefined) return;
  let refill = refillOf(countCell);
  // A series of its own has one provider; in the overflow series a response of another provider
  // starts the window afresh (the newest response wins), never mixing one's limit with another's count.
  const sameProvider =
    refill !== undefined && (refill.provider === provider || countCell.attributes['provider'] !== OVERFLOW_LABEL_VALUE);
  if (!sameProvider) {
    if (!countWritten) return;
    refill = { kind: 'rateLimitRefill', provider, limit: undefined, resetAt: undefined, seenAt: now };
    countCell.helperState = refill;
  }
  const state = refill as RemainingRefill;
  if (countWritten) state.seenAt = now;
  if (limit !== undefined) state.limit = limit;
  if (resetAt !== undefined) state.resetAt = resetAt;
}
