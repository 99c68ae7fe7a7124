/**
 * The JSON field names the health-service readers look for, in one place. Each reader takes its
 * fields from here, and so does the choice to unwrap a `{ "data": { … } }` envelope: a top-level
 * field that a reader of the body uses keeps the body as it is, so the two cannot drift apart.
 */

/** `/health` fields holding a status word or code; read before the flags, first present wins. */
export const HEALTH_STATUS_FIELDS = ['status', 'state'] as const;
/** `/health` fields holding a yes/no verdict. */
export const HEALTH_FLAG_FIELDS = ['healthy', 'ok'] as const;

/** Flags saying whether the service is monitoring (`/health`, else `/status` or `/metrics`). */
export const MONITORING_FLAG_FIELDS = ['monitoring_active', 'monitoringActive'] as const;
/** `monitoring`: a flag, or an object whose `active` is one; read after the flags above. */
export const MONITORING_FIELD = 'monitoring';

/** Count fields of `/status` (and of `/metrics`, which fills gaps), first present wins. */
export const COUNT_FIELDS = {
  trackedModels: ['tracked_models', 'total_models', 'models_tracked', 'models'],
  trackedProviders: ['tracked_providers', 'total_providers', 'providers_tracked', 'providers'],
  trackedGateways: ['tracked_gateways', 'total_gateways', 'gateways_tracked', 'gateways'],
  activeIncidents: ['active_incidents', 'open_incidents', 'incidents'],
} as const;
/** `/status` and `/metrics` fields holding `{ status: count }`, first present wins. */
export const DISTRIBUTION_FIELDS = ['status_distribution', 'status_counts', 'statuses'] as const;
/** Statuses read from `/metrics` counts such as `healthy_models` when no distribution is given. */
export const METRICS_STATUS_NAMES = [
  'healthy',
  'degraded',
  'unhealthy',
  'down',
  'offline',
  'unknown',
  'maintenance',
] as const;

/** The `/metrics` field counting the models in one status, e.g. `healthy_models`. */
export function statusCountField(status: string): string {
  return `${status}_models`;
}

/** A `/cache/stats` object listing the caches; without it the top level lists them. */
export const CACHES_FIELD = 'caches';
/** Suffix of a `/cache/stats` flag named after its cache, e.g. `redis_available`. */
export const CACHE_AVAILABLE_SUFFIX = '_available';
/** Fields of a cache's object holding its availability, first present (not null) wins. */
export const CACHE_AVAILABILITY_FIELDS = ['available', 'connected', 'healthy', 'status'] as const;

const MONITORING_FIELDS = [...MONITORING_FLAG_FIELDS, MONITORING_FIELD];
const COUNTS_AND_DISTRIBUTION = [...Object.values(COUNT_FIELDS).flat(), ...DISTRIBUTION_FIELDS, ...MONITORING_FIELDS];

/** Every top-level field read from `/health`: the verdict's and the monitoring flag's. */
export const HEALTH_BODY_FIELDS: readonly string[] = [
  ...HEALTH_STATUS_FIELDS,
  ...HEALTH_FLAG_FIELDS,
  ...MONITORING_FIELDS,
];
/** Every top-level field read from `/status`. */
export const STATUS_BODY_FIELDS: readonly string[] = COUNTS_AND_DISTRIBUTION;
/** Every top-level field read from `/metrics`: those of `/status` and the `*_models` counts. */
export const METRICS_BODY_FIELDS: readonly string[] = [
  ...COUNTS_AND_DISTRIBUTION,
  ...METRICS_STATUS_NAMES.map(statusCountField),
];
