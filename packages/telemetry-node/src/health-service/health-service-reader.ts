import type {
  HealthServiceEndpoint,
  HealthServiceEndpointResult,
  HealthServiceValues,
} from './health-service-types.js';
import {
  CACHES_FIELD,
  CACHE_AVAILABILITY_FIELDS,
  CACHE_AVAILABLE_SUFFIX,
  COUNT_FIELDS,
  DISTRIBUTION_FIELDS,
  HEALTH_BODY_FIELDS,
  METRICS_BODY_FIELDS,
  METRICS_STATUS_NAMES,
  MONITORING_FIELD,
  MONITORING_FLAG_FIELDS,
  STATUS_BODY_FIELDS,
  statusCountField,
} from './health-service-fields.js';

const TRUE_WORDS = new Set([
  'true',
  'yes',
  'on',
  '1',
  'active',
  'enabled',
  'available',
  'up',
  'ok',
  'healthy',
  'connected',
]);
const FALSE_WORDS = new Set([
  'false',
  'no',
  'off',
  '0',
  'inactive',
  'disabled',
  'unavailable',
  'down',
  'error',
  'unhealthy',
  'disconnected',
]);
/** Label values taken from the service are bounded: at most this many statuses or cache types. */
const MAX_LABEL_VALUES = 16;
const MAX_LABEL_LENGTH = 64;

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Labels a body lists, usable value or not: a status of a distribution, a cache with an availability
 * field. One listed with an unusable value keeps its gauge; one no longer listed by a request that
 * succeeded reads 0 (see `recordHealthServicePoll`).
 */
export interface MentionedLabels {
  readonly statuses: Set<string>;
  readonly caches: Set<string>;
}

/** Whether a reader of a body uses its top-level field `key` (holding `value`). */
export type FieldTest = (key: string, value: unknown) => boolean;

/** A `FieldTest` for a fixed list of field names. */
export function oneOf(fields: readonly string[]): FieldTest {
  const names = new Set(fields);
  return (key) => names.has(key);
}

/**
 * A `{ "data": { … } }` envelope is unwrapped unless the top level holds a field that a reader of
 * the body uses: then the top level is the body, and `data` is not looked into.
 */
export function unwrap(body: unknown, readsField: FieldTest): JsonObject | undefined {
  if (!isObject(body)) return undefined;
  const data = body['data'];
  if (!isObject(data)) return body;
  const readAtTopLevel = Object.entries(body).some(([key, value]) => key !== 'data' && readsField(key, value));
  return readAtTopLevel ? body : data;
}

class FieldReader {
  constructor(
    private readonly endpoint: string,
    private readonly ignored: string[],
    /** Receives every status label a distribution lists, usable count or not. */
    private readonly mentioned: Set<string> = new Set(),
  ) {}

  private ignore(field: string, why: string): undefined {
    this.ignored.push(`${this.endpoint}.${field}: ${why}`);
    return undefined;
  }

  /** A count: a non-negative finite number, a numeric string, or an array (its length). */
  count(body: JsonObject | undefined, keys: readonly string[]): number | undefined {
    if (body === undefined) return undefined;
    for (const key of keys) {
      if (!(key in body) || body[key] === null) continue;
      return this.countValue(key, body[key]);
    }
    return undefined;
  }

  countValue(field: string, value: unknown): number | undefined {
    if (Array.isArray(value)) return value.length;
    let number: number;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) number = Number(value);
    else return this.ignore(field, `expected a non-negative number, got ${describe(value)}`);
    if (!Number.isFinite(number)) return this.ignore(field, `expected a finite number, got ${String(number)}`);
    if (number < 0) return this.ignore(field, `expected a non-negative number, got ${number}`);
    return number;
  }

  mention(status: string): void {
    this.mentioned.add(status);
  }

  /** A yes/no: a boolean, 0 or 1, or a word such as "active" / "inactive". */
  flag(field: string, value: unknown): boolean | undefined {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    if (typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
    }
    return this.ignore(field, `expected true/false, got ${describe(value)}`);
  }

  /** `{ status: count }`, label values normalised and bounded. */
  distribution(field: string, value: unknown): Record<string, number> | undefined {
    if (!isObject(value)) return this.ignore(field, `expected an object of counts, got ${describe(value)}`);
    const result: Record<string, number> = {};
    let kept = 0;
    for (const [rawStatus, rawCount] of Object.entries(value)) {
      const status = labelValue(rawStatus);
      if (status === undefined) {
        this.ignore(`${field}.${rawStatus.slice(0, 32)}`, 'not usable as a status label');
        continue;
      }
      this.mentioned.add(status);
      const count = this.countValue(`${field}.${status}`, rawCount);
      if (count === undefined) continue;
      if (!(status in result)) {
        if (kept >= MAX_LABEL_VALUES) {
          this.ignore(`${field}.${status}`, `more than ${MAX_LABEL_VALUES} statuses`);
          continue;
        }
        kept += 1;
        result[status] = 0;
      }
      result[status] = (result[status] as number) + count;
    }
    return result;
  }
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.slice(0, 32));
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** Lower-case, `[a-z0-9_]` only, bounded length; undefined when nothing usable is left. */
function labelValue(raw: string): string | undefined {
  const value = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_LABEL_LENGTH);
  return value === '' ? undefined : value;
}

export function readValues(
  bodies: Record<HealthServiceEndpoint, unknown>,
  endpoints: Record<HealthServiceEndpoint, HealthServiceEndpointResult>,
  ignored: string[],
  mentioned: MentionedLabels,
): HealthServiceValues {
  const values: HealthServiceValues = {};
  const health = endpoints.health.ok ? unwrap(bodies.health, oneOf(HEALTH_BODY_FIELDS)) : undefined;
  const status = endpoints.status.ok ? unwrap(bodies.status, oneOf(STATUS_BODY_FIELDS)) : undefined;
  const metrics = endpoints.metrics.ok ? unwrap(bodies.metrics, oneOf(METRICS_BODY_FIELDS)) : undefined;
  const cacheStats = endpoints.cacheStats.ok ? unwrap(bodies.cacheStats, readsCacheField) : undefined;

  // The service's status is read by readHealthVerdict (health-verdict.ts), before this.
  if (health !== undefined) {
    const monitoring = monitoringFlag(health, new FieldReader('health', ignored));
    if (monitoring !== undefined) values.monitoringActive = monitoring;
  }

  const statusReader = new FieldReader('status', ignored, mentioned.statuses);
  const metricsReader = new FieldReader('metrics', ignored, mentioned.statuses);
  const counted = (keys: readonly string[]): number | undefined =>
    statusReader.count(status, keys) ?? metricsReader.count(metrics, keys);
  const trackedModels = counted(COUNT_FIELDS.trackedModels);
  const trackedProviders = counted(COUNT_FIELDS.trackedProviders);
  const trackedGateways = counted(COUNT_FIELDS.trackedGateways);
  const activeIncidents = counted(COUNT_FIELDS.activeIncidents);
  if (trackedModels !== undefined) values.trackedModels = trackedModels;
  if (trackedProviders !== undefined) values.trackedProviders = trackedProviders;
  if (trackedGateways !== undefined) values.trackedGateways = trackedGateways;
  if (activeIncidents !== undefined) values.activeIncidents = activeIncidents;
  if (values.monitoringActive === undefined) {
    const monitoring =
      (status && monitoringFlag(status, statusReader)) ?? (metrics && monitoringFlag(metrics, metricsReader));
    if (monitoring !== undefined) values.monitoringActive = monitoring;
  }

  const distribution =
    distributionOf(status, statusReader) ??
    distributionOf(metrics, metricsReader) ??
    distributionFromCounts(metrics, metricsReader);
  if (distribution !== undefined) values.statusDistribution = distribution;

  if (cacheStats !== undefined) {
    const caches = readCaches(cacheStats, new FieldReader('cache_stats', ignored), mentioned.caches);
    if (caches !== undefined) values.cacheAvailable = caches;
  }
  return values;
}

function monitoringFlag(body: JsonObject, reader: FieldReader): boolean | undefined {
  for (const key of MONITORING_FLAG_FIELDS) {
    if (key in body && body[key] !== null) return reader.flag(key, body[key]);
  }
  const monitoring = body[MONITORING_FIELD];
  if (isObject(monitoring) && 'active' in monitoring)
    return reader.flag(`${MONITORING_FIELD}.active`, monitoring['active']);
  if (typeof monitoring === 'boolean' || typeof monitoring === 'string')
    return reader.flag(MONITORING_FIELD, monitoring);
  return undefined;
}

function distributionOf(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  for (const key of DISTRIBUTION_FIELDS) {
    if (key in body && body[key] !== null) return reader.distribution(key, body[key]);
  }
  return undefined;
}

function distributionFromCounts(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  const result: Record<string, number> = {};
  let found = false;
  for (const status of METRICS_STATUS_NAMES) {
    const key = statusCountField(status);
    if (!(key in body) || body[key] === null) continue;
    reader.mention(status);
    const count = reader.countValue(key, body[key]);
    if (count === undefined) continue;
    result[status] = count;
    found = true;
  }
  return found ? result : undefined;
}

/** Where a `/cache/stats` entry holds a cache's availability; undefined for any other entry. */
function availabilityOf(key: string, value: unknown): { cacheType: string; field: string; flag: unknown } | undefined {
  if (key.endsWith(CACHE_AVAILABLE_SUFFIX) && key.length > CACHE_AVAILABLE_SUFFIX.length)
    return { cacheType: key.slice(0, -CACHE_AVAILABLE_SUFFIX.length), field: key, flag: value };
  if (typeof value === 'boolean') return { cacheType: key, field: key, flag: value };
  if (isObject(value)) {
    const field = CACHE_AVAILABILITY_FIELDS.find((candidate) => candidate in value && value[candidate] !== null);
    return field === undefined ? undefined : { cacheType: key, field: `${key}.${field}`, flag: value[field] };
  }
  // Timestamps, hit counts and the like: not availability.
  return undefined;
}

/** The `/cache/stats` reader uses `caches` and every entry that holds a cache's availability. */
function readsCacheField(key: string, value: unknown): boolean {
  return key === CACHES_FIELD || availabilityOf(key, value) !== undefined;
}

/**
 * Availability per cache. `mentioned` receives every cache listed with an availability field, usable
 * or not: a cache seen before and missing from it now reads unavailable.
 */
function readCaches(
  body: JsonObject,
  reader: FieldReader,
  mentioned: Set<string>,
): Record<string, boolean> | undefined {
  const source = isObject(body[CACHES_FIELD]) ? body[CACHES_FIELD] : body;
  const result: Record<string, boolean> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(source)) {
    const entry = availabilityOf(key, value);
    if (entry === undefined) continue;
    const name = labelValue(entry.cacheType);
    const available = reader.flag(entry.field, entry.flag);
    if (name === undefined) continue;
    mentioned.add(name);
    if (available === undefined) continue;
    if (!(name in result)) {
      if (kept >= MAX_LABEL_VALUES) continue;
      kept += 1;
    }
    result[name] = available;
  }
  return kept > 0 ? result : undefined;
}
