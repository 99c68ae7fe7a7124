import type {
  HealthServiceEndpoint,
  HealthServiceEndpointResult,
  HealthServiceValues,
} from './health-service-types.js';

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
/** Keys of a `/health` body that keep a `{ "data": { … } }` envelope from being unwrapped. */
export const HEALTH_KEYS: readonly string[] = ['status', 'state', 'healthy', 'monitoring_active'];
/** Status names read from `/metrics` counts such as `healthy_models` when `/status` has no distribution. */
const METRICS_STATUS_NAMES = ['healthy', 'degraded', 'unhealthy', 'down', 'offline', 'unknown', 'maintenance'];
/** Label values taken from the service are bounded: at most this many statuses or cache types. */
const MAX_LABEL_VALUES = 16;
const MAX_LABEL_LENGTH = 64;

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `{ "data": { … } }` envelope is unwrapped when the top level has nothing else of interest. */
export function unwrap(body: unknown, keys: readonly string[]): JsonObject | undefined {
  if (!isObject(body)) return undefined;
  if (!keys.some((key) => key in body) && isObject(body['data'])) return body['data'];
  return body;
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

const STATUS_KEYS = [
  'tracked_models',
  'total_models',
  'models_tracked',
  'models',
  'tracked_providers',
  'status_distribution',
  'active_incidents',
];

export function readValues(
  bodies: Record<HealthServiceEndpoint, unknown>,
  endpoints: Record<HealthServiceEndpoint, HealthServiceEndpointResult>,
  ignored: string[],
  mentionedStatuses: Set<string>,
): HealthServiceValues {
  const values: HealthServiceValues = {};
  const health = endpoints.health.ok ? unwrap(bodies.health, HEALTH_KEYS) : undefined;
  const status = endpoints.status.ok ? unwrap(bodies.status, STATUS_KEYS) : undefined;
  const metrics = endpoints.metrics.ok ? unwrap(bodies.metrics, STATUS_KEYS) : undefined;
  const cacheStats = endpoints.cacheStats.ok ? unwrap(bodies.cacheStats, ['caches', 'redis']) : undefined;

  // The service's status is read by readHealthVerdict (health-verdict.ts), before this.
  if (health !== undefined) {
    const monitoring = monitoringFlag(health, new FieldReader('health', ignored));
    if (monitoring !== undefined) values.monitoringActive = monitoring;
  }

  const statusReader = new FieldReader('status', ignored, mentionedStatuses);
  const metricsReader = new FieldReader('metrics', ignored, mentionedStatuses);
  const counted = (keys: readonly string[]): number | undefined =>
    statusReader.count(status, keys) ?? metricsReader.count(metrics, keys);
  const trackedModels = counted(['tracked_models', 'total_models', 'models_tracked', 'models']);
  const trackedProviders = counted(['tracked_providers', 'total_providers', 'providers_tracked', 'providers']);
  const trackedGateways = counted(['tracked_gateways', 'total_gateways', 'gateways_tracked', 'gateways']);
  const activeIncidents = counted(['active_incidents', 'open_incidents', 'incidents']);
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
    const caches = readCaches(cacheStats, new FieldReader('cache_stats', ignored));
    if (caches !== undefined) values.cacheAvailable = caches;
  }
  return values;
}

function monitoringFlag(body: JsonObject, reader: FieldReader): boolean | undefined {
  for (const key of ['monitoring_active', 'monitoringActive']) {
    if (key in body && body[key] !== null) return reader.flag(key, body[key]);
  }
  const monitoring = body['monitoring'];
  if (isObject(monitoring) && 'active' in monitoring) return reader.flag('monitoring.active', monitoring['active']);
  if (typeof monitoring === 'boolean' || typeof monitoring === 'string') return reader.flag('monitoring', monitoring);
  return undefined;
}

function distributionOf(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  for (const key of ['status_distribution', 'status_counts', 'statuses']) {
    if (key in body && body[key] !== null) return reader.distribution(key, body[key]);
  }
  return undefined;
}

function distributionFromCounts(body: JsonObject | undefined, reader: FieldReader): Record<string, number> | undefined {
  if (body === undefined) return undefined;
  const result: Record<string, number> = {};
  let found = false;
  for (const status of METRICS_STATUS_NAMES) {
    const key = `${status}_models`;
    if (!(key in body) || body[key] === null) continue;
    reader.mention(status);
    const count = reader.countValue(key, body[key]);
    if (count === undefined) continue;
    result[status] = count;
    found = true;
  }
  return found ? result : undefined;
}

function readCaches(body: JsonObject, reader: FieldReader): Record<string, boolean> | undefined {
  const source = isObject(body['caches']) ? body['caches'] : body;
  const result: Record<string, boolean> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(source)) {
    let name: string | undefined;
    let available: boolean | undefined;
    if (key.endsWith('_available') && key.length > '_available'.length) {
      name = labelValue(key.slice(0, -'_available'.length));
      available = reader.flag(key, value);
    } else if (typeof value === 'boolean') {
      name = labelValue(key);
      available = value;
    } else if (isObject(value)) {
      const field = ['available', 'connected', 'healthy', 'status'].find(
        (candidate) => candidate in value && value[candidate] !== null,
      );
      if (field === undefined) continue;
      name = labelValue(key);
      available = reader.flag(`${key}.${field}`, value[field]);
    } else {
      // Timestamps, hit counts and the like: not availability.
      continue;
    }
    if (name === undefined || available === undefined) continue;
    if (!(name in result)) {
      if (kept >= MAX_LABEL_VALUES) continue;
      kept += 1;
    }
    result[name] = available;
  }
  return kept > 0 ? result : undefined;
}
