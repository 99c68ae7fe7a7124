import {
  isNoLimitCount,
  parseGoDurationSeconds,
  parseRateLimitCount,
  parseRetryAfterMillisSeconds,
  parseRetryAfterSeconds,
  parseRfc3339Millis,
} from './header-values.js';

/**
 * The `limit_type` label of the rate-limit gauges: the request budget or the token budget of a
 * provider's current window.
 *
 * @example
 * ```ts
 * for (const limitType of RATE_LIMIT_TYPES) console.log(limitType, snapshot[limitType]?.remaining);
 * ```
 */
export const RATE_LIMIT_TYPES = ['requests', 'tokens'] as const;
/**
 * One of `RATE_LIMIT_TYPES`: `requests` or `tokens`.
 *
 * @example
 * ```ts
 * const limitType: RateLimitType = 'requests';
 * ```
 */
export type RateLimitType = (typeof RATE_LIMIT_TYPES)[number];

/**
 * Every header the parser reads: OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`,
 * `retry-after` and `retry-after-ms`. The `header` label of `gatewayz_ratelimit_headers_malformed_total` takes
 * these values.
 *
 * @example
 * ```ts
 * const watched = new Set<string>(RATE_LIMIT_HEADERS);
 * ```
 */
export const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'anthropic-ratelimit-requests-limit',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-requests-reset',
  'anthropic-ratelimit-tokens-limit',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-tokens-reset',
  'anthropic-ratelimit-input-tokens-limit',
  'anthropic-ratelimit-input-tokens-remaining',
  'anthropic-ratelimit-input-tokens-reset',
  'anthropic-ratelimit-output-tokens-limit',
  'anthropic-ratelimit-output-tokens-remaining',
  'anthropic-ratelimit-output-tokens-reset',
  'retry-after',
  'retry-after-ms',
] as const;
/**
 * The name of a header the parser reads, in lower case; see `RATE_LIMIT_HEADERS`.
 *
 * @example
 * ```ts
 * const header: RateLimitHeaderName = 'x-ratelimit-remaining-requests';
 * ```
 */
export type RateLimitHeaderName = (typeof RATE_LIMIT_HEADERS)[number];

/**
 * Response headers as the parser takes them: a fetch `Headers` object (anything with `get()`), or
 * a record with lower-case names such as Node's `IncomingMessage.headers`.
 *
 * @example
 * ```ts
 * const fromFetch: RateLimitHeaderSource = response.headers;
 * const fromNode: RateLimitHeaderSource = incomingMessage.headers;
 * ```
 */
export type RateLimitHeaderSource =
  { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One budget of a provider as its headers describe it. Each field is absent when its header was
 * absent or malformed.
 *
 * @example
 * ```ts
 * const window: RateLimitWindow = { limit: 60, remaining: 0, resetSeconds: 12.5 };
 * ```
 */
export interface RateLimitWindow {
  /** Size of the budget per window (requests or tokens). */
  readonly limit?: number;
  /** What is left of it now. */
  readonly remaining?: number;
  /** Seconds from the response until the budget is refilled. */
  readonly resetSeconds?: number;
}

/**
 * A header whose value could not be read exactly: the value was dropped (the window field stays
 * absent) and is reported here, to be counted.
 *
 * @example
 * ```ts
 * const bad: MalformedRateLimitHeader = { header: 'x-ratelimit-reset-requests', value: 'soon' };
 * ```
 */
export interface MalformedRateLimitHeader {
  /** The header, in lower case. */
  readonly header: RateLimitHeaderName;
  /** The raw value, cut to 64 characters. */
  readonly value: string;
}

/**
 * What one response's headers say about the provider's rate limits.
 *
 * @example
 * ```ts
 * const snapshot: RateLimitSnapshot = parseRateLimitHeaders(response.headers);
 * if (snapshot.requests?.remaining === 0) console.log(`no requests left for ${snapshot.requests.resetSeconds} s`);
 * ```
 */
export interface RateLimitSnapshot {
  /** The request budget (`x-ratelimit-*-requests` or `anthropic-ratelimit-requests-*`). */
  readonly requests?: RateLimitWindow;
  /**
   * The token budget: `x-ratelimit-*-tokens`, or `anthropic-ratelimit-tokens-*` (Anthropic's most
   * restrictive token limit), or else the one of Anthropic's input and output token budgets with
   * the fewest tokens left.
   */
  readonly tokens?: RateLimitWindow;
  /** Anthropic's input-token budget (`anthropic-ratelimit-input-tokens-*`). */
  readonly inputTokens?: RateLimitWindow;
  /** Anthropic's output-token budget (`anthropic-ratelimit-output-tokens-*`). */
  readonly outputTokens?: RateLimitWindow;
  /**
   * Seconds to wait before retrying: from `retry-after-ms` (milliseconds) when it is present and
   * readable, as OpenAI's and Anthropic's SDKs prefer it, else from `retry-after` (seconds or an
   * HTTP date).
   */
  readonly retryAfterSeconds?: number;
  /** Headers present with a value that could not be read; empty when every value was readable. */
  readonly malformed: readonly MalformedRateLimitHeader[];
}

/**
 * The value of one header, trimmed, or undefined when absent; a conflicting repeat is malformed.
 * Repeats given as an array are checked here; repeats already joined into one string, in `readWith`.
 */
function headerValue(
  headers: RateLimitHeaderSource,
  name: RateLimitHeaderName,
  malformed: MalformedRateLimitHeader[],
): string | undefined {
  const raw =
    typeof (headers as { get?: unknown }).get === 'function'
      ? ((headers as { get(name: string): string | null }).get(name) ?? undefined)
      : (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') return raw.trim();
  if (!Array.isArray(raw)) {
    // Not a header value at all (`null`, a number) from headers built by hand: malformed, not a throw.
    malformed.push({ header: name, value: String(raw).slice(0, 64) });
    return undefined;
  }
  // The same header sent twice: usable only when every copy says the same thing.
  const first = String(raw[0] ?? '').trim();
  for (const entry of raw) {
    if (String(entry).trim() !== first) {
      malformed.push({ header: name, value: raw.join(', ').slice(0, 64) });
      return undefined;
    }
  }
  return first;
}

/**
 * Read one header with `parse`; a present value `parse` refuses (undefined) is recorded as
 * malformed. A value `parse` reads as saying nothing to record (null: no limit) is left out.
 */
function readWith(
  headers: RateLimitHeaderSource,
  name: RateLimitHeaderName,
  malformed: MalformedRateLimitHeader[],
  parse: (text: string, nowMs: number) => number | null | undefined,
  nowMs: number,
): number | undefined {
  const text = headerValue(headers, name, malformed);
  if (text === undefined) return undefined;
  let value = parse(text, nowMs);
  if (value === undefined) {
    const copy = repeatedCopy(text);
    if (copy !== undefined) value = parse(copy, nowMs);
  }
  if (value === undefined) malformed.push({ header: name, value: text.slice(0, 64) });
  return value ?? undefined;
}

/**
 * The one value of a header sent more than once with the same value, which Node's
 * `IncomingMessage.headers` and fetch's `Headers.get()` hand over joined with ", " (`0, 0`;
 * `Wed, 21 Oct 2015 07:28:00 GMT, Wed, 21 Oct 2015 07:28:00 GMT`); undefined when the copies differ
 * or there is only one.
 */
function repeatedCopy(text: string): string | undefined {
  if (!text.includes(',')) return undefined;
  const pieces = text.split(',').map((piece) => piece.trim());
  for (let period = 1; period <= pieces.length / 2; period++) {
    if (pieces.length % period !== 0) continue;
    if (pieces.every((piece, index) => piece === pieces[index % period])) return pieces.slice(0, period).join(', ');
  }
  return undefined;
}

// A budget without a limit has no count to show: left out, not malformed.
const count = (text: string): number | null | undefined => (isNoLimitCount(text) ? null : parseRateLimitCount(text));
const duration = (text: string): number | undefined => parseGoDurationSeconds(text);
const retryAfterMillis = (text: string): number | undefined => parseRetryAfterMillisSeconds(text);
const resetAt = (text: string, nowMs: number): number | undefined => {
  const at = parseRfc3339Millis(text);
  return at === undefined ? undefined : Math.max(0, (at - nowMs) / 1000);
};

function window(
  limit: number | undefined,
  remaining: number | undefined,
  resetSeconds: number | undefined,
): RateLimitWindow | undefined {
  if (limit === undefined && remaining === undefined && resetSeconds === undefined) return undefined;
  const result: { limit?: number; remaining?: number; resetSeconds?: number } = {};
  if (limit !== undefined) result.limit = limit;
  if (remaining !== undefined) result.remaining = remaining;
  if (resetSeconds !== undefined) result.resetSeconds = resetSeconds;
  return result;
}

type AnthropicBudget = 'requests' | 'tokens' | 'input-tokens' | 'output-tokens';
const ANTHROPIC_HEADERS = {
  requests: [
    'anthropic-ratelimit-requests-limit',
    'anthropic-ratelimit-requests-remaining',
    'anthropic-ratelimit-requests-reset',
  ],
  tokens: [
    'anthropic-ratelimit-tokens-limit',
    'anthropic-ratelimit-tokens-remaining',
    'anthropic-ratelimit-tokens-reset',
  ],
  'input-tokens': [
    'anthropic-ratelimit-input-tokens-limit',
    'anthropic-ratelimit-input-tokens-remaining',
    'anthropic-ratelimit-input-tokens-reset',
  ],
  'output-tokens': [
    'anthropic-ratelimit-output-tokens-limit',
    'anthropic-ratelimit-output-tokens-remaining',
    'anthropic-ratelimit-output-tokens-reset',
  ],
} as const satisfies Record<AnthropicBudget, readonly [RateLimitHeaderName, RateLimitHeaderName, RateLimitHeaderName]>;

function anthropicWindow(
  headers: RateLimitHeaderSource,
  budget: AnthropicBudget,
  malformed: MalformedRateLimitHeader[],
  nowMs: number,
): RateLimitWindow | undefined {
  const [limit, remaining, reset] = ANTHROPIC_HEADERS[budget];
  return window(
    readWith(headers, limit, malformed, count, nowMs),
    readWith(headers, remaining, malformed, count, nowMs),
    readWith(headers, reset, malformed, resetAt, nowMs),
  );
}

/** The first window's fields, each filled from the second where the first lacks it. */
function merge(first: RateLimitWindow | undefined, second: RateLimitWindow | undefined): RateLimitWindow | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return window(
    first.limit ?? second.limit,
    first.remaining ?? second.remaining,
    first.resetSeconds ?? second.resetSeconds,
  );
}

/** Of two token budgets, the one with fewer tokens left (a budget with an unknown remainder loses). */
function mostRestrictive(a: RateLimitWindow | undefined, b: RateLimitWindow | undefined): RateLimitWindow | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.remaining === undefined) return b;
  if (b.remaining === undefined) return a;
  return b.remaining < a.remaining ? b : a;
}

/**
 * Read the rate-limit headers of one provider response: OpenAI style (`x-ratelimit-limit-requests`,
 * `-remaining-requests`, `-remaining-tokens`, `-reset-requests`, `-reset-tokens`, with Go-style
 * durations such as `1s`, `6m0s`, `20ms`), Anthropic style
 * (`anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`, resets
 * as RFC 3339 times, turned into seconds from `nowMs`), `retry-after` (seconds or an HTTP date) and
 * `retry-after-ms` (milliseconds; preferred over `retry-after` when both are readable).
 *
 * Pure and total: it never throws. A value that cannot be read exactly is left out of the snapshot
 * and listed in `malformed`, so the caller can count it; a reset time in the past reads as 0 s.
 *
 * @example
 * ```ts
 * const snapshot = parseRateLimitHeaders(
 *   { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s' },
 *   Date.now(),
 * );
 * // { requests: { remaining: 0, resetSeconds: 360 }, malformed: [] }
 * ```
 */
export function parseRateLimitHeaders(headers: RateLimitHeaderSource, nowMs: number = Date.now()): RateLimitSnapshot {
  const malformed: MalformedRateLimitHeader[] = [];
  const requests = merge(
    window(
      readWith(headers, 'x-ratelimit-limit-requests', malformed, count, nowMs),
      readWith(headers, 'x-ratelimit-remaining-requests', malformed, count, nowMs),
      readWith(headers, 'x-ratelimit-reset-requests', malformed, duration, nowMs),
    ),
    anthropicWindow(headers, 'requests', malformed, nowMs),
  );
  const inputTokens = anthropicWindow(headers, 'input-tokens', malformed, nowMs);
  const outputTokens = anthropicWindow(headers, 'output-tokens', malformed, nowMs);
  const tokens = merge(
    window(
      readWith(headers, 'x-ratelimit-limit-tokens', malformed, count, nowMs),
      readWith(headers, 'x-ratelimit-remaining-tokens', malformed, count, nowMs),
      readWith(headers, 'x-ratelimit-reset-tokens', malformed, duration, nowMs),
    ),
    anthropicWindow(headers, 'tokens', malformed, nowMs) ?? mostRestrictive(inputTokens, outputTokens),
  );
  // Both are read (an unreadable one is counted); the millisecond one wins, as in the providers' SDKs.
  const retryAfterFromSeconds = readWith(headers, 'retry-after', malformed, parseRetryAfterSeconds, nowMs);
  const retryAfterSeconds =
    readWith(headers, 'retry-after-ms', malformed, retryAfterMillis, nowMs) ?? retryAfterFromSeconds;
  const snapshot: {
    requests?: RateLimitWindow;
    tokens?: RateLimitWindow;
    inputTokens?: RateLimitWindow;
    outputTokens?: RateLimitWindow;
    retryAfterSeconds?: number;
    malformed: readonly MalformedRateLimitHeader[];
  } = { malformed };
  if (requests !== undefined) snapshot.requests = requests;
  if (tokens !== undefined) snapshot.tokens = tokens;
  if (inputTokens !== undefined) snapshot.inputTokens = inputTokens;
  if (outputTokens !== undefined) snapshot.outputTokens = outputTokens;
  if (retryAfterSeconds !== undefined) snapshot.retryAfterSeconds = retryAfterSeconds;
  return snapshot;
}
