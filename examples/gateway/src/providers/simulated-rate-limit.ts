import type { ServerResponse } from 'node:http';
import { monotonicNow } from '@gatewayz/telemetry/scheduling';

/** Which provider's rate-limit headers a simulated provider sends. */
export type RateLimitHeaderStyle = 'openai' | 'anthropic';

const WINDOW_MS = 60_000;
/** Token budget per request of the request budget: the token headers move, the request limit binds first. */
const TOKENS_PER_REQUEST = 4_000;

/**
 * A fixed one-minute window of `requestsPerMinute` requests, as a simulated provider enforces it,
 * with the headers a real provider sends: OpenAI style (`x-ratelimit-*`, Go durations) or
 * Anthropic style (`anthropic-ratelimit-*`, RFC 3339 times). The token budget
 * (`requestsPerMinute × 4000` tokens) is reported, not enforced. The window runs on a monotonic
 * clock, so a step of the wall clock neither holds it shut nor reopens it early.
 */
export class SimulatedRateLimit {
  /** When the window started, on `deadlineNow`'s clock. */
  private windowStartedAt = -Infinity;
  private requests = 0;
  private tokens = 0;

  constructor(
    private readonly style: RateLimitHeaderStyle,
    /** Wall clock in milliseconds since the epoch, for the reset times Anthropic-style headers announce. */
    private readonly now: () => number = () => Date.now(),
    /** The clock the window runs on; a step of the wall clock must not move it. */
    private readonly deadlineNow: () => number = monotonicNow,
  ) {}

  /**
   * Count one request of `tokens` tokens against a limit of `requestsPerMinute` and set the
   * rate-limit headers on `response`. Returns false (the request must be answered 429, with
   * `retry-after` already set) when the window has no request left.
   */
  admit(response: ServerResponse, requestsPerMinute: number, tokens: number): boolean {
    const now = this.deadlineNow();
    if (now >= this.windowStartedAt + WINDOW_MS) {
      this.windowStartedAt = now;
      this.requests = 0;
      this.tokens = 0;
    }
    const allowed = this.requests < requestsPerMinute;
    if (allowed) {
      this.requests++;
      this.tokens += tokens;
    }
    const resetMs = this.windowStartedAt + WINDOW_MS - now;
    const tokenLimit = requestsPerMinute * TOKENS_PER_REQUEST;
    const budget = {
      requests: { limit: requestsPerMinute, remaining: requestsPerMinute - this.requests },
      tokens: { limit: tokenLimit, remaining: Math.max(0, tokenLimit - this.tokens) },
    };
    for (const [name, value] of Object.entries(this.headers(budget, resetMs))) response.setHeader(name, value);
    if (!allowed) response.setHeader('retry-after', String(Math.max(1, Math.ceil(resetMs / 1000))));
    return allowed;
  }

  private headers(
    budget: Record<'requests' | 'tokens', { limit: number; remaining: number }>,
    resetMs: number,
  ): Record<string, string> {
    if (this.style === 'openai') {
      return {
        'x-ratelimit-limit-requests': String(budget.requests.limit),
        'x-ratelimit-remaining-requests': String(budget.requests.remaining),
        'x-ratelimit-reset-requests': goDuration(resetMs),
        'x-ratelimit-limit-tokens': String(budget.tokens.limit),
        'x-ratelimit-remaining-tokens': String(budget.tokens.remaining),
        'x-ratelimit-reset-tokens': goDuration(resetMs),
      };
    }
    // Anthropic announces the instant the budget is full again, to the second.
    const resetAt = new Date(Math.ceil((this.now() + resetMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    return {
      'anthropic-ratelimit-requests-limit': String(budget.requests.limit),
      'anthropic-ratelimit-requests-remaining': String(budget.requests.remaining),
      'anthropic-ratelimit-requests-reset': resetAt,
      'anthropic-ratelimit-tokens-limit': String(budget.tokens.limit),
      'anthropic-ratelimit-tokens-remaining': String(budget.tokens.remaining),
      'anthropic-ratelimit-tokens-reset': resetAt,
    };
  }
}

/** A duration as Go's `time.Duration.String()` writes it: `20ms`, `7.5s`, `1m0s`. */
export function goDuration(milliseconds: number): string {
  const ms = Math.max(0, Math.round(milliseconds));
  if (ms < 1000) return `${ms}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = String((ms % 60_000) / 1000);
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
