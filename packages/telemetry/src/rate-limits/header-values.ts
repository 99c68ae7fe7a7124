/*
 * Parsers for the value formats of rate-limit headers. Each returns undefined for a value it cannot
 * read exactly; the caller drops it and counts it. None of them guesses: a value that could mean
 * two things (a bare number where a duration is expected, an impossible calendar date) is refused.
 */

/**
 * Each unit of a Go duration (`time.Duration.String()` writes h, m, s, ms, µs and ns) as seconds
 * per unit, or as units per second for the sub-second ones: dividing `9` by 1000 gives the double
 * nearest 0.009, multiplying by the inexact 1e-3 gives 0.009000000000000001 (13 % of whole
 * millisecond counts came out one unit in the last place off that way).
 */
const GO_DURATION_UNITS: Readonly<Record<string, { readonly seconds: number } | { readonly perSecond: number }>> = {
  h: { seconds: 3600 },
  m: { seconds: 60 },
  s: { seconds: 1 },
  ms: { perSecond: 1e3 },
  us: { perSecond: 1e6 },
  µs: { perSecond: 1e6 }, // U+00B5 MICRO SIGN, what Go writes
  μs: { perSecond: 1e6 }, // U+03BC GREEK SMALL LETTER MU, what Go also accepts
  ns: { perSecond: 1e9 },
};
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/y;

/**
 * Seconds of a Go-style duration as OpenAI writes `x-ratelimit-reset-*`: `1s`, `6m0s`, `20ms`,
 * `1h2m3.5s`, or `0`. Signs, spaces, bare numbers other than `0` and unknown units are refused.
 *
 * @example
 * ```ts
 * parseGoDurationSeconds('6m0s'); // 360
 * parseGoDurationSeconds('20ms'); // 0.02
 * parseGoDurationSeconds('soon'); // undefined
 * ```
 */
export function parseGoDurationSeconds(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0 || text.length > 64) return undefined;
  let seconds = 0;
  let position = 0;
  while (position < text.length) {
    GO_DURATION_PART.lastIndex = position;
    const match = GO_DURATION_PART.exec(text);
    if (match === null) return undefined;
    const unit = GO_DURATION_UNITS[match[2] as string] as { seconds: number } | { perSecond: number };
    seconds += 'seconds' in unit ? Number(match[1]) * unit.seconds : Number(match[1]) / unit.perSecond;
    position = GO_DURATION_PART.lastIndex;
  }
  return Number.isFinite(seconds) ? seconds : undefined;
}

/**
 * A count such as `x-ratelimit-remaining-requests: 59`: decimal digits only, at most a safe
 * integer. Signs, fractions, exponents and spaces inside are refused.
 *
 * @example
 * ```ts
 * parseRateLimitCount('59'); // 59
 * parseRateLimitCount('-1'); // undefined
 * ```
 */
export function parseRateLimitCount(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Whether a count header says its budget has no limit: exactly `-1`, what Azure OpenAI sends
 * (`x-ratelimit-limit-tokens: -1`, `x-ratelimit-remaining-tokens: -1`) for a deployment without a
 * token limit. Any other sign stays refused by `parseRateLimitCount()`.
 */
export function isNoLimitCount(text: string): boolean {
  return text === '-1';
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, as Anthropic writes
 * `anthropic-ratelimit-*-reset` (`2026-12-03T16:20:07Z`, offsets and fractions allowed). Impossible
 * dates (`2024-02-30`) and times are refused rather than rolled over.
 *
 * @example
 * ```ts
 * parseRfc3339Millis('2026-12-03T16:20:07Z'); // 1796314807000
 * parseRfc3339Millis('2026-02-30T00:00:00Z'); // undefined
 * ```
 */
export function parseRfc3339Millis(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (match[8] !== undefined) {
    const offsetHours = Number(match[9]);
    const offsetMinutesPart = Number(match[10]);
    if (offsetHours > 23 || offsetMinutesPart > 59) return undefined;
    offsetMinutes = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutesPart);
  }
  const fraction = match[7] !== undefined ? Number(`0${match[7]}`) * 1000 : 0;
  // A leap second (:60) reads as the first instant of the next minute.
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) + (second === 60 ? 1000 : 0);
  return utc + fraction - offsetMinutes * 60_000;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** IMF-fixdate, the HTTP date format senders use: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** The obsolete RFC 850 format, which recipients must still accept: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** The obsolete ANSI C asctime() format, which recipients must still accept: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Milliseconds since the epoch of an HTTP date in any of the three formats RFC 9110 (section 5.6.7)
 * says a recipient must accept; undefined for anything else or an impossible date. A two-digit RFC
 * 850 year that would be more than 50 years after `nowMs` is read as the latest past year ending in
 * those digits, as the RFC says. A leap second (`23:59:60`) is the first instant of the next minute.
 */
function parseHttpDateMillis(text: string, nowMs: number): number | undefined {
  // [day, month name, year, hour, minute, second] as written, whatever the format.
  let fields: string[];
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) fields = match.slice(1, 7);
  else if ((match = RFC850_DATE.exec(text)) !== null) fields = match.slice(1, 7);
  else if ((match = ASCTIME_DATE.exec(text)) !== null)
    fields = [match[2] as string, match[1] as string, match[6] as string, ...match.slice(3, 6)];
  else return undefined;
  const [day, month, hour, minute, second] = [
    Number(fields[0]),
    MONTHS.indexOf(fields[1] as string) + 1,
    Number(fields[3]),
    Number(fields[4]),
    Number(fields[5]),
  ];
  const digits = fields[2] as string;
  if (month === 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (:60) reads as the first instant of the next minute, as in parseRfc3339Millis().
  const at = (year: number): number | undefined =>
    day < 1 || day > daysInMonth(year, month)
      ? undefined
      : Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) + (second === 60 ? 1000 : 0);
  if (digits.length === 4) return at(Number(digits));
  // RFC 850's two-digit year: in this century, unless that is more than 50 years after now.
  const now = new Date(nowMs);
  const year = Math.floor(now.getUTCFullYear() / 100) * 100 + Number(digits);
  const fiftyYearsAhead = now.setUTCFullYear(now.getUTCFullYear() + 50);
  const inThisCentury = at(year);
  return inThisCentury !== undefined && inThisCentury <= fiftyYearsAhead ? inThisCentury : at(year - 100);
}

/**
 * The longest wait, in seconds, this package takes from a provider: 10^10 s (about 317 years), what
 * `retry-after` (at most ten digits of whole seconds) and `retry-after-ms` (thirteen digits of
 * milliseconds) can express. `gatewayz_provider_ratelimit_reset_seconds` refuses a longer reset as
 * `out_of_range` (a hand-built snapshot can hold any finite number, and the reset time computed
 * from a huge one would not be finite).
 */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 1e10;

/**
 * Seconds to wait from a `retry-after` value: delay-seconds (`120`, or `1.5` as some providers
 * send) or an HTTP date (IMF-fixdate, `Wed, 21 Oct 2015 07:28:00 GMT`, or the obsolete RFC 850 and
 * asctime formats every recipient must accept), measured from `nowMs`. A date in the past gives 0.
 * Anything else is refused.
 *
 * @example
 * ```ts
 * parseRetryAfterSeconds('30', Date.now()); // 30
 * parseRetryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')); // 60
 * ```
 */
export function parseRetryAfterSeconds(text: string, nowMs: number): number | undefined {
  if (/^\d{1,10}(?:\.\d{1,6})?$/.test(text)) return Number(text);
  const at = parseHttpDateMillis(text, nowMs);
  return at === undefined ? undefined : Math.max(0, (at - nowMs) / 1000);
}

/**
 * Seconds to wait from a `retry-after-ms` value: a non-negative number of milliseconds (`1500`,
 * `250.5`), the header some APIs send beside `retry-after` and that OpenAI's and Anthropic's SDKs
 * read first.
 * Anything else (a sign, an exponent, a unit, an empty value) is refused. The result is the double
 * nearest the decimal value in seconds (`9` ms gives 0.009 exactly as written).
 */
export function parseRetryAfterMillisSeconds(text: string): number | undefined {
  if (!/^\d{1,13}(?:\.\d{1,6})?$/.test(text)) return undefined;
  // Parsed as a decimal with the point moved: one rounding, no inexact division by 1000.
  return Number(`${text}e-3`);
}
