import {
  parseGoDurationSeconds,
  parseRateLimitCount,
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
 * Every header the parser reads: OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`
 * and `retry-after`. The `header` label of `gatewayz_ratelimit_headers_malformed_total` takes
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
  /** Seconds to wait before retrying (`retry-after`, in seconds or as an HTTP date). */
  readonly retryAfterSeconds?: number;
  /** Headers present with a value that could not be read; empty when every value was readable. */
  readonly malformed: readonly MalformedRateLimitHeader[];
}

type Reader = (name: RateLimitHeaderName) => string | undefined;

/** A reader that reports malformed values into `malformed` and returns the trimmed value or undefined. */
function headerReader(headers: RateLimitHeaderSource, malformed: MalformedRateLimitHeader[]): Reader {
  const get =
    typeof (headers as { get?: unknown }).get === 'function'
      ? (name: string): string | readonly string[] | undefined =>
          (headers as { get(name: string): string | null }).get(name) ?? undefined
      : (name: string): string | readonly string[] | undefined =>
          (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  return (name) => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    let value: string;
    if (typeof raw === 'string') value = raw.trim();
    else {
      // The same header sent twice: usable only when both say the same thing.
      const values = new Set(raw.map((entry) => String(entry).trim()));
      value = values.size === 1 ? ([...values][0] as string) : '';
      if (values.size !== 1) {
        malformed.push({ header: name, value: raw.join(', ').slice(0, 64) });
        return undefined;
      }
    }
    return value;
  };
}

/** Read one header with `parse`; a present value `parse` refuses is recorded as malformed. */
function readWith<T>(
  read: Reader,
  malformed: MalformedRateLimitHeader[],
  name: RateLimitHeaderName,
  parse: (text: string) => T | undefined,
): T | undefined {
  const text = read(name);
  if (text === undefined) return undefined;
  const value = parse(text);
  if (value === undefined) malformed.push({ header: name, value: text.slice(0, 64) });
  return value;
}

function window(limit: number | undefined, remaining: number | undefined, resetSeconds: number | undefined) {
  if (limit === undefined && remaining === undefined && resetSeconds === undefined) return undefined;
  return {
    ...(limit !== undefined ? { limit } : {}),
    ...(remaining !== undefined ? { remaining } : {}),
    ...(resetSeconds !== undefined ? { resetSeconds } : {}),
  } satisfies RateLimitWindow;
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
 * as RFC 3339 times, turned into seconds from `nowMs`) and `retry-after` (seconds or an HTTP date).
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
  const read = headerReader(headers, malformed);
  const count = (name: RateLimitHeaderName): number | undefined => readWith(read, malformed, name, parseRateLimitCount);
  const duration = (name: RateLimitHeaderName): number | undefined =>
    readWith(read, malformed, name, parseGoDurationSeconds);
  const resetAt = (name: RateLimitHeaderName): number | undefined =>
    readWith(read, malformed, name, (text) => {
      const at = parseRfc3339Millis(text);
      return at === undefined ? undefined : Math.max(0, (at - nowMs) / 1000);
    });
  const anthropic = (budget: 'requests' | 'tokens' | 'input-tokens' | 'output-tokens'): RateLimitWindow | undefined =>
    window(
      count(`anthropic-ratelimit-${budget}-limit`),
      count(`anthropic-ratelimit-${budget}-remaining`),
      resetAt(`anthropic-ratelimit-${budget}-reset`),
    );

  const requests = merge(
    window(
      count('x-ratelimit-limit-requests'),
      count('x-ratelimit-remaining-requests'),
      duration('x-ratelimit-reset-requests'),
    ),
    anthropic('requests'),
  );
  const inputTokens = anthropic('input-tokens');
  const outputTokens = anthropic('output-tokens');
  const tokens = merge(
    window(
      count('x-ratelimit-limit-tokens'),
      count('x-ratelimit-remaining-tokens'),
      duration('x-ratelimit-reset-tokens'),
    ),
    anthropic('tokens') ?? mostRestrictive(inputTokens, outputTokens),
  );
  const retryAfterSeconds = readWith(read, malformed, 'retry-after', (text) => parseRetryAfterSeconds(text, nowMs));
  return {
    ...(requests !== undefined ? { requests } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(inputTokens !== undefined ? { inputTokens } : {}),
    ...(outputTokens !== undefined ? { outputTokens } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    malformed,
  };
}
