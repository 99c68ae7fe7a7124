// PostgreSQL writes a timestamptz in the session's TimeZone, with the offset that zone had at that
// instant. Before standard time (about 1883 in America, later elsewhere) that offset is the local
// mean time of the zone's city, in seconds: `1850-01-01T00:00:00-04:56:02` in America/New_York.
// `new Date()` refuses offsets with seconds, so the row parser reads the text itself. Accepted:
// JSON (XSD) output `YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM[:SS]`, the ISO text output with a space and
// `±HH`, the basic `±HHMM[SS]`, and `Z`. An offset is required: without one the instant is unknown.
const POSTGRES_TIMESTAMP =
  /^(\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2})(?::(\d{2})(?::(\d{2}))?|(\d{2})(\d{2})?)?)$/;

/** PostgreSQL refuses offsets beyond 15:59:59 either way. */
const MAX_OFFSET_HOURS = 15;

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;

function field(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

/**
 * @internal The instant of a PostgreSQL `timestamptz` as PostgREST sends it, or `undefined` when
 * `text` is not one (or names no valid date, time or offset). The offset is applied exactly, to the
 * second; digits of the fraction beyond milliseconds are cut, as `new Date()` does.
 *
 * @example
 * ```ts
 * parsePostgresTimestamp('1850-01-01T00:00:00-04:56:02')?.toISOString(); // '1850-01-01T04:56:02.000Z'
 * parsePostgresTimestamp('2025-01-31 12:00:00.123456+05:30')?.toISOString(); // '2025-01-31T06:30:00.123Z'
 * ```
 */
export function parsePostgresTimestamp(text: string): Date | undefined {
  const match = POSTGRES_TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zulu, sign] = match;
  const offsetHours = field(match[10]);
  const offsetMinutes = field(match[11] ?? match[13]);
  const offsetSeconds = field(match[12] ?? match[14]);
  if (offsetHours > MAX_OFFSET_HOURS || offsetMinutes > 59 || offsetSeconds > 59) return undefined;
  if (zulu === undefined && sign === undefined) return undefined;

  const milliseconds = field(fraction?.slice(0, 3).padEnd(3, '0'));
  const local = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0 to 99 as they are.
  local.setUTCFullYear(field(year), field(month) - 1, field(day));
  local.setUTCHours(field(hour), field(minute), field(second), milliseconds);
  // Date rolls 2025-02-30 over to 2025-03-02 and 24:00 to the next day: refuse instead.
  if (
    local.getUTCFullYear() !== field(year) ||
    local.getUTCMonth() !== field(month) - 1 ||
    local.getUTCDate() !== field(day) ||
    local.getUTCHours() !== field(hour) ||
    local.getUTCMinutes() !== field(minute) ||
    local.getUTCSeconds() !== field(second)
  ) {
    return undefined;
  }
  const offsetMs = offsetHours * MS_PER_HOUR + offsetMinutes * MS_PER_MINUTE + offsetSeconds * MS_PER_SECOND;
  const instant = new Date(local.getTime() - (sign === '-' ? -offsetMs : offsetMs));
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}
