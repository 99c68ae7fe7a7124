/**
 * Reading the standard `OTEL_*` variables the way the OpenTelemetry specification parses them
 * ("SDK environment variables", "Common configuration"): an empty value is the same as unset, enum
 * values are case-insensitive, and a value that cannot be parsed or is out of range is reported
 * through `diag.warn` and `startTelemetry()`'s logger (naming the variable and the value given) and
 * then ignored, so the default applies. Variables of this package's own (`METRICS_TOKEN`, `LOG_LEVEL`, `GATEWAYZ_*`) and options
 * passed in code keep failing loudly with a `TelemetryConfigurationError`.
 */
import { diag } from '@opentelemetry/api';

/**
 * The longest timer Node.js keeps (2^31 − 1 ms): what a timeout of `0` ("no limit") becomes, and the
 * longest duration a variable may give (Node.js fires a longer timer after 1 ms).
 */
export const NO_TIMEOUT_MILLIS = 2_147_483_647;

/** How a warning says that a duration above {@link NO_TIMEOUT_MILLIS} is out of range. */
export const AT_MOST_LONGEST_TIMER = `at most ${NO_TIMEOUT_MILLIS} (the longest timer Node.js keeps)`;

/** Where `warnConfiguration()` also puts its messages while `captureConfigurationWarnings()` runs. */
let capturedWarnings: string[] | undefined;

/**
 * Report a configuration problem that is ignored (the specification's "generate a warning"):
 * through `diag.warn`, and, while `captureConfigurationWarnings()` runs, into its list, so that
 * `startTelemetry()` can also write it to its logger (the SDK's diagnostic logger prints nothing
 * unless `OTEL_LOG_LEVEL` is set, and is installed only after the variables have been read).
 * Within one capture a message is reported once: a general variable (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_METRIC_EXPORT_INTERVAL`) is read by every signal or reader it applies to.
 */
export function warnConfiguration(message: string): void {
  if (capturedWarnings?.includes(message) === true) return;
  capturedWarnings?.push(message);
  diag.warn(message);
}

/** Run `start` (synchronous) and return what it returned with the configuration warnings it reported. */
export function captureConfigurationWarnings<T>(start: () => T): { result: T; warnings: string[] } {
  const outer = capturedWarnings;
  const warnings: string[] = [];
  capturedWarnings = warnings;
  try {
    return { result: start(), warnings };
  } finally {
    capturedWarnings = outer;
    outer?.push(...warnings);
  }
}

/** Say once, at start-up, that `name` was set to a value that is ignored, and what applies instead. */
export function warnIgnoredVariable(name: string, raw: string, expected: string, instead = 'using the default'): void {
  warnConfiguration(
    `@gatewayz/telemetry-node: ignoring ${name}=${JSON.stringify(raw)}; expected ${expected}, ${instead}`,
  );
}

/** The trimmed value of `name`, or `undefined` when it is unset or blank. */
export function readEnvString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A whole number of at least `minimum` (durations and sizes of the specification are non-negative
 * integers; queue and batch sizes must be positive). Anything else is warned about and ignored.
 */
export function readEnvInteger(env: NodeJS.ProcessEnv, name: string, minimum: number): number | undefined {
  const raw = readEnvString(env, name);
  if (raw === undefined) return undefined;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum) {
    warnIgnoredVariable(name, raw, minimum === 0 ? 'a non-negative integer' : `an integer of at least ${minimum}`);
    return undefined;
  }
  return value;
}

/**
 * A duration in milliseconds (the specification's "Duration"): a non-negative integer of at most
 * {@link NO_TIMEOUT_MILLIS}. A longer one is out of range (Node.js would fire it after 1 ms) and,
 * as the specification asks of an out-of-range value, warned about and ignored, so the default applies.
 */
export function readEnvDuration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = readEnvInteger(env, name, 0);
  if (value === undefined || value <= NO_TIMEOUT_MILLIS) return value;
  warnIgnoredVariable(name, readEnvString(env, name) ?? '', `a non-negative integer ${AT_MOST_LONGEST_TIMER}`);
  return undefined;
}

/**
 * A timeout in milliseconds: a duration (see {@link readEnvDuration}) where `0` means no limit
 * (the specification's "Timeout" type), returned as {@link NO_TIMEOUT_MILLIS}.
 */
export function readEnvTimeout(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = readEnvDuration(env, name);
  return value === 0 ? NO_TIMEOUT_MILLIS : value;
}

/** One of `allowed` (compared in lower case); an unknown value is warned about and ignored. */
export function readEnvEnum<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  instead?: string,
): T | undefined {
  const raw = readEnvString(env, name);
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    warnIgnoredVariable(name, raw, `one of ${allowed.join(', ')}`, instead);
    return undefined;
  }
  return value as T;
}

/** A comma list in lower case, blanks dropped and duplicates removed; `undefined` when unset or blank. */
export function readEnvList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = readEnvString(env, name);
  if (raw === undefined) return undefined;
  const names = [
    ...new Set(
      raw
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter((entry) => entry !== ''),
    ),
  ];
  return names.length === 0 ? undefined : names;
}

/**
 * A comma list of names (as {@link readEnvList} reads it) where `none` means none of them: `[]` for
 * `none`, which also wins over names listed beside it, with a warning saying so (`instead` tells
 * what then applies); `undefined` when unset or blank.
 */
export function readEnvListWithNone(env: NodeJS.ProcessEnv, name: string, instead: string): string[] | undefined {
  const names = readEnvList(env, name);
  if (names === undefined || !names.includes('none')) return names;
  if (names.length > 1) warnIgnoredVariable(name, env[name] ?? '', '"none" alone', instead);
  return [];
}

/**
 * An exporter list (`OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`) as {@link readEnvListWithNone}
 * reads it, keeping the names of `known`: another name is warned about and skipped, and a list of
 * unknown names only is ignored whole, as the specification asks of a value it does not recognise
 * ("generate a warning and gracefully ignore the setting"): `undefined`, as if unset, so the
 * signal's default applies rather than no export at all. `expected` names the accepted values for
 * the warnings, `noneInstead` what `none` beside other names means.
 */
export function readEnvExporterNames(
  env: NodeJS.ProcessEnv,
  name: string,
  known: readonly string[],
  expected: string,
  noneInstead: string,
): string[] | undefined {
  const names = readEnvListWithNone(env, name, noneInstead);
  if (names === undefined) return undefined;
  const kept = names.filter((entry) => known.includes(entry));
  if (kept.length === 0 && names.length > 0) {
    warnIgnoredVariable(name, readEnvString(env, name) ?? '', expected, 'ignoring it, as if unset');
    return undefined;
  }
  for (const entry of names) if (!known.includes(entry)) warnIgnoredVariable(name, entry, expected, 'skipping it');
  return kept;
}

/**
 * `true` when `name` is `true` in any case (surrounding spaces ignored), as the specification's
 * boolean variables read; `false` for anything else, unset included. A value other than `true` or
 * `false` (`1`, `yes`) is warned about, as the specification asks, since whoever set it likely meant
 * `true`.
 */
export function readEnvBoolean(env: NodeJS.ProcessEnv, name: string): boolean {
  return parseEnvBoolean(name, readEnvString(env, name));
}

/** {@link readEnvBoolean} of a value already read (`raw`, trimmed; `undefined` when unset or blank). */
export function parseEnvBoolean(name: string, raw: string | undefined): boolean {
  const value = raw?.toLowerCase();
  if (value === 'true') return true;
  if (value !== undefined && value !== 'false') warnIgnoredVariable(name, raw ?? '', 'true or false', 'using false');
  return false;
}

/**
 * The warnings reported so far by the running `captureConfigurationWarnings()`, for a diagnostic
 * logger installed after them (`OTEL_LOG_LEVEL`), which would otherwise never see them.
 */
export function configurationWarningsSoFar(): readonly string[] {
  return capturedWarnings ?? [];
}

/** `text` percent-decoded, or `undefined` when it holds a malformed escape. */
export function decodePercent(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
