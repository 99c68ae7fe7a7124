/** One media range of an `Accept` header: `type/subtype`, its parameters (lower-case names) and its weight. */
interface MediaRange {
  readonly type: string;
  readonly parameters: ReadonlyMap<string, string>;
  readonly quality: number;
}

/** OpenMetrics text versions the serializer's output satisfies (0.0.1 is the same text format). */
const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);
/** Prometheus text versions the classic output satisfies (1.0.0 is 0.0.4 that may carry UTF-8 names). */
const PROMETHEUS_TEXT_VERSIONS = new Set(['0.0.4', '1.0.0']);

function parseMediaRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const element of accept.split(',')) {
    const [mediaType = '', ...rawParameters] = element.split(';');
    const type = mediaType.trim().toLowerCase();
    if (type === '') continue;
    const parameters = new Map<string, string>();
    for (const parameter of rawParameters) {
      const equals = parameter.indexOf('=');
      if (equals < 0) continue;
      const value = parameter.slice(equals + 1).trim();
      parameters.set(
        parameter.slice(0, equals).trim().toLowerCase(),
        value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value,
      );
    }
    const q = parameters.get('q');
    const quality = q === undefined ? 1 : Number(q);
    ranges.push({ type, parameters, quality: Number.isFinite(quality) ? Math.min(Math.max(quality, 0), 1) : 1 });
  }
  return ranges;
}

/**
 * The weight the header gives a media type: that of its most specific matching range (exact type,
 * then `type/*`, then `*\/*`), the highest when several ranges are equally specific, 0 when none
 * matches. `explicit` says whether the type was named rather than reached through a wildcard.
 */
function weightOf(
  ranges: readonly MediaRange[],
  type: string,
  versions: ReadonlySet<string>,
): { quality: number; explicit: boolean } {
  const exact = ranges.filter((range) => {
    if (range.type !== type) return false;
    const version = range.parameters.get('version');
    return version === undefined || versions.has(version);
  });
  if (exact.length > 0) return { quality: Math.max(...exact.map((range) => range.quality)), explicit: true };
  if (ranges.some((range) => range.type === type)) return { quality: 0, explicit: true };
  for (const wildcard of [`${type.slice(0, type.indexOf('/'))}/*`, '*/*']) {
    const matches = ranges.filter((range) => range.type === wildcard);
    if (matches.length > 0) return { quality: Math.max(...matches.map((range) => range.quality)), explicit: false };
  }
  return { quality: 0, explicit: false };
}

/**
 * Whether an `Accept` header asks for OpenMetrics rather than the classic Prometheus text format,
 * by the weights of HTTP content negotiation: OpenMetrics (version 1.0.0 or 0.0.1, or no version)
 * must be named, not only reached through `*\/*`, with a weight above 0 and at least that of
 * `text/plain`. So Prometheus's default header gets OpenMetrics, while a scrape configuration that
 * puts `PrometheusText0.0.4` first in `scrape_protocols` (its weight then above OpenMetrics'), a
 * `q=0` on OpenMetrics, or a header without it gets the classic format. Parameters other than
 * `version` and `q` (Prometheus 3's `escaping=`) do not matter: every exposed name is already a
 * classic Prometheus name.
 *
 * @example
 * ```ts
 * acceptsOpenMetrics('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'); // true
 * acceptsOpenMetrics('text/plain;version=0.0.4;q=0.3,application/openmetrics-text;version=1.0.0;q=0.2'); // false
 * const openMetrics = acceptsOpenMetrics(request.headers.get('accept'));
 * ```
 */
export function acceptsOpenMetrics(accept: string | null): boolean {
  if (accept === null || !/openmetrics/i.test(accept)) return false;
  const ranges = parseMediaRanges(accept);
  const openMetrics = weightOf(ranges, 'application/openmetrics-text', OPENMETRICS_VERSIONS);
  if (!openMetrics.explicit || openMetrics.quality <= 0) return false;
  return openMetrics.quality >= weightOf(ranges, 'text/plain', PROMETHEUS_TEXT_VERSIONS).quality;
}
