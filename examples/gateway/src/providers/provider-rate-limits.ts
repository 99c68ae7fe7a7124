import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayTelemetry } from '@gatewayz/telemetry';
import { parseRateLimitHeaders, type RateLimitWindow } from '@gatewayz/telemetry/rate-limits';
import { monotonicNow } from '@gatewayz/telemetry/scheduling';
import { withFields } from '../with-fields.js';

/** How long a provider is passed over when it has nothing left but said nothing about when it resets. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;

/**
 * The longest pause a 429's `retry-after` (or `retry-after-ms`) can impose by default: 60 s, the
 * bound below which OpenAI's Node SDK (v4 and v5) obeys a server's retry hint (above it, it backs
 * off on its own, at most 8 s).
 */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** Options of `ProviderRateLimits`. */
export interface ProviderRateLimitsOptions {
  /**
   * Longest pause a 429's `retry-after` or `retry-after-ms` imposes on a provider, in milliseconds
   * (`RETRY_AFTER_MAX_MS`; default `DEFAULT_MAX_RETRY_AFTER_MS`). A longer value (a provider or a
   * proxy answering `retry-after: 86400`) pauses the provider this long; the next request after
   * that tries it again, and a new 429 pauses it again. Resets announced by the rate-limit
   * headers themselves are not capped: they are the provider's budget windows.
   */
  readonly maxRetryAfterMs?: number;
  /**
   * The clock pauses are measured on, in milliseconds: by default `monotonicNow()`, which a step of
   * the wall clock (NTP correcting it, a VM resumed) does not move, or the `now` given to the
   * constructor, so that a test's fake clock moves the pauses too.
   */
  readonly monotonicNow?: () => number;
}

/**
 * What the gateway knows about each provider's rate limits, from the headers of its responses:
 * the headroom gauges, and until when a provider has no requests (or tokens) left. A provider is
 * exhausted until the reset its headers announced when a budget reads 0 remaining (the latest
 * reset when several budgets read 0), and after a
 * 429 until its `retry-after-ms` or `retry-after` (at most `maxRetryAfterMs`; without one, until the
 * announced reset, or for `DEFAULT_RATE_LIMIT_PAUSE_MS`). A 429 that names no exhausted budget
 * records the pause applied as its `requests` reset (`gatewayz_provider_ratelimit_reset_seconds`
 * shows the capped pause, not the header's value) but no remaining count the headers did not give:
 * for a provider that sends only `retry-after`, nothing would ever correct a made-up 0. An answer
 * to a request sent before the provider's latest pause was recorded is out of date: it can
 * lengthen the pause, never end it, and its headroom does not replace the newer one (its
 * malformed headers are still counted).
 * Headers are read against the wall clock (an absolute reset becomes seconds from now); the pauses
 * run on a monotonic clock, so a step of the wall clock neither lengthens nor ends them.
 */
export class ProviderRateLimits {
  /** When each paused provider's pause ends, on `deadlineNow`'s clock. */
  private readonly exhaustedUntil = new Map<string, number>();
  /** When each provider's latest pause was recorded, on `deadlineNow`'s clock (kept after it ends). */
  private readonly pausedAt = new Map<string, number>();
  private readonly maxRetryAfterSeconds: number;
  private readonly now: () => number;
  private readonly deadlineNow: () => number;

  constructor(
    private readonly telemetry: GatewayTelemetry,
    /** Wall clock in milliseconds since the epoch (Anthropic's resets are RFC 3339 times); default `Date.now()`. */
    now?: () => number,
    options: ProviderRateLimitsOptions = {},
  ) {
    this.maxRetryAfterSeconds = (options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS) / 1000;
    this.now = now ?? (() => Date.now());
    this.deadlineNow = options.monotonicNow ?? now ?? monotonicNow;
  }

  /** Now on the pause clock: when a request is sent, for `observe`'s `sentAt`. */
  pauseClockNow(): number {
    return this.deadlineNow();
  }

  /**
   * Read one response of `provider`: record its headroom and note whether it is exhausted.
   * `sentAt` is when its request was sent, on the pause clock (`monotonicNow` option); without it
   * the response is taken as current.
   */
  observe(provider: string, status: number, headers: IncomingHttpHeaders, sentAt?: number): void {
    let snapshot = parseRateLimitHeaders(headers, this.now());
    // Every budget with nothing left must have refilled before a request can pass: the latest reset.
    const exhaustedFor = latest([
      exhaustedSeconds(snapshot.requests),
      exhaustedSeconds(snapshot.tokens),
      exhaustedSeconds(snapshot.inputTokens),
      exhaustedSeconds(snapshot.outputTokens),
    ]);
    let pauseSeconds = exhaustedFor;
    if (status === 429) {
      const retryAfter =
        snapshot.retryAfterSeconds === undefined
          ? undefined
          : Math.min(snapshot.retryAfterSeconds, this.maxRetryAfterSeconds);
      pauseSeconds = retryAfter ?? exhaustedFor ?? DEFAULT_RATE_LIMIT_PAUSE_MS / 1000;
      // The pause shows as the reset; the remaining count stays what the headers said, if anything.
      if (exhaustedFor === undefined) {
        snapshot = withFields(snapshot, {
          requests: Object.assign({}, snapshot.requests, { resetSeconds: pauseSeconds }),
        });
      }
    }
    // A request sent before the latest pause was let through before it (a slow answer's headers come
    // when its generation ends): its answer says nothing of the provider taking requests now, and
    // its counts are older than the pause's.
    const pausedAt = this.pausedAt.get(provider);
    const outOfDate = sentAt !== undefined && pausedAt !== undefined && sentAt < pausedAt;
    this.telemetry.recordRateLimits(provider, outOfDate ? { malformed: snapshot.malformed } : snapshot);
    if (pauseSeconds !== undefined) {
      const now = this.deadlineNow();
      // A refusal holds whenever its request was sent: even an out-of-date one may lengthen the pause.
      this.exhaustedUntil.set(provider, Math.max(now + pauseSeconds * 1000, this.exhaustedUntil.get(provider) ?? 0));
      if (!outOfDate) this.pausedAt.set(provider, now);
    } else if (!outOfDate && status >= 200 && status < 300) {
      // A success says the provider is taking requests again, whatever was announced before.
      this.exhaustedUntil.delete(provider);
    }
  }

  /**
   * Milliseconds until `provider`'s pause ends: the reset it announced with nothing left, or the end
   * of its 429's `retry-after`; `undefined` when it is not paused (or the pause has ended).
   */
  pauseLeftMs(provider: string): number | undefined {
    const until = this.exhaustedUntil.get(provider);
    if (until === undefined) return undefined;
    const left = until - this.deadlineNow();
    if (left > 0) return left;
    this.exhaustedUntil.delete(provider);
    return undefined;
  }

  /** Whether `provider` has no requests left now (until the reset it announced). */
  isExhausted(provider: string): boolean {
    return this.pauseLeftMs(provider) !== undefined;
  }
}

/** The largest of the defined values; undefined when none is. */
function latest(values: ReadonlyArray<number | undefined>): number | undefined {
  let result: number | undefined;
  for (const value of values) if (value !== undefined && (result === undefined || value > result)) result = value;
  return result;
}

/** Seconds until `window` resets when nothing is left of it; undefined while something is. */
function exhaustedSeconds(window: RateLimitWindow | undefined): number | undefined {
  if (window?.remaining !== 0) return undefined;
  return window.resetSeconds ?? DEFAULT_RATE_LIMIT_PAUSE_MS / 1000;
}
