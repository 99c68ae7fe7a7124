import type { MetricRecorder } from '../metrics/metric-recorder.js';
import type { SeriesCell } from '../metrics/series-store.js';

/** One budget of one provider, as its latest headers described it. */
interface WindowState {
  remainingCell: SeriesCell | undefined;
  resetCell: SeriesCell | undefined;
  /** When the budget is full again, in milliseconds since the epoch (`Date.now()`). */
  resetAt: number | undefined;
  /** When the remaining count was last read from a response (ms since the epoch). */
  remainingSeenAt: number;
  limit: number | undefined;
}

/**
 * The rate-limit windows a recorder has seen, kept so the headroom gauges stay true between a
 * provider's responses: at every collection the reset gauge counts down to the announced reset, and
 * once it has passed the remaining gauge reads the budget's full `limit` (when the headers gave it),
 * since the provider refills the budget then.
 */
export class RateLimitWindows {
  private readonly windows = new Map<string, WindowState>();

  constructor(recorder: MetricRecorder) {
    const refresh = (): void => this.refresh(Date.now());
    recorder.beforeCollect('providerRateLimitResetSeconds', refresh);
    recorder.beforeCollect('providerRateLimitRemaining', refresh);
  }

  /**
   * Note what one response said about one budget: its gauges' cells, its limit and its reset
   * (`resetSeconds` from now), each only when the gauges accepted it.
   */
  update(
    key: string,
    remainingCell: SeriesCell | undefined,
    resetCell: SeriesCell | undefined,
    limit: number | undefined,
    resetSeconds: number | undefined,
  ): void {
    let state = this.windows.get(key);
    if (state === undefined) {
      state = {
        remainingCell: undefined,
        resetCell: undefined,
        resetAt: undefined,
        remainingSeenAt: Number.NEGATIVE_INFINITY,
        limit: undefined,
      };
      this.windows.set(key, state);
    }
    const now = Date.now();
    state.remainingCell = remainingCell ?? state.remainingCell;
    if (remainingCell !== undefined) state.remainingSeenAt = now;
    state.resetCell = resetCell ?? state.resetCell;
    if (limit !== undefined) state.limit = limit;
    if (resetSeconds !== undefined) state.resetAt = now + resetSeconds * 1000;
  }

  private refresh(now: number): void {
    for (const [key, state] of this.windows) {
      // A removed series (`removeGaugeSeries()`) is not refreshed back to life; a later response
      // of the provider records it afresh.
      if (state.remainingCell?.removed === true) state.remainingCell = undefined;
      if (state.resetCell?.removed === true) state.resetCell = undefined;
      if (state.remainingCell === undefined && state.resetCell === undefined) {
        this.windows.delete(key);
        continue;
      }
      if (state.resetAt === undefined) continue;
      const seconds = Math.max(0, (state.resetAt - now) / 1000);
      if (state.resetCell !== undefined) state.resetCell.value = seconds;
      // Refill only a count read before that reset: a count that came later (without a reset of
      // its own) is newer than what the reset implies.
      if (
        seconds === 0 &&
        state.limit !== undefined &&
        state.remainingCell !== undefined &&
        state.remainingSeenAt <= state.resetAt
      ) {
        state.remainingCell.value = state.limit;
      }
    }
  }
}
