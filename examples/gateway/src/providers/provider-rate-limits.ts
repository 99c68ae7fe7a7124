import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayTelemetry } from '@gatewayz/telemetry';
import { parseRateLimitHeaders, type RateLimitWindow } from '@gatewayz/telemetry/rate-limits';

/** How long a provider is passed over when it has nothing left but said nothing about when it resets. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;

/**
 * What the gateway knows about each provider's rate limits, from the headers of its responses:
 * the headroom gauges, and until when a provider has no requests (or tokens) left. A provider is
 * exhausted until the reset its headers announced when a budget reads 0 remaining (the latest
 * reset when several budgets read 0), and after a
 * 429 until its `retry-after` (or the announced reset, or `DEFAULT_RATE_LIMIT_PAUSE_MS`).
 */
export class ProviderRateLimits {
  private readonly exhaustedUntil = new Map<string, number>();

  constructor(
    private readonly telemetry: GatewayTelemetry,
    /** Wall clock in milliseconds since the epoch (Anthropic's resets are RFC 3339 times). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Read one response of `provider`: record its headroom and note whether it is exhausted. */
  observe(provider: string, status: number, headers: IncomingHttpHeaders): void {
    const now = this.now();
    let snapshot = parseRateLimitHeaders(headers, now);
    // Every budget with nothing left must have refilled before a request can pass: the latest reset.
    const exhaustedFor = latest([
      exhaustedSeconds(snapshot.requests),
      exhaustedSeconds(snapshot.tokens),
      exhaustedSeconds(snapshot.inputTokens),
      exhaustedSeconds(snapshot.outputTokens),
    ]);
    let pauseSeconds = exhaustedFor;
    if (status === 429) {
      pauseSeconds = snapshot.retryAfterSeconds ?? exhaustedFor ?? DEFAULT_RATE_LIMIT_PAUSE_MS / 1000;
      // A 429 that names no exhausted budget still means no request gets through until then.
      if (exhaustedFor === undefined) {
        snapshot = { ...snapshot, requests: { ...snapshot.requests, remaining: 0, resetSeconds: pauseSeconds } };
      }
    }
    this.telemetry.recordRateLimits(provider, snapshot);
    if (pauseSeconds !== undefined) {
      const until = now + pauseSeconds * 1000;
      this.exhaustedUntil.set(provider, Math.max(until, this.exhaustedUntil.get(provider) ?? 0));
    } else if (status >= 200 && status < 300) {
      // A success says the provider is taking requests again, whatever was announced before.
      this.exhaustedUntil.delete(provider);
    }
  }

  /** Whether `provider` has no requests left now (until the reset it announced). */
  isExhausted(provider: string): boolean {
    const until = this.exhaustedUntil.get(provider);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.exhaustedUntil.delete(provider);
    return false;
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
