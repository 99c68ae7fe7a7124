import { HEALTH_BODY_FIELDS, HEALTH_FLAG_FIELDS, HEALTH_STATUS_FIELDS } from './health-service-fields.js';
import { isObject, oneOf, unwrap } from './health-service-reader.js';

/**
 * What `/health` says of the service, read before the poll's gauges are set:
 * - `unstated`: the body names no status (a JSON object without `status`, `state`, `healthy` or
 *   `ok`, or a plain-text body that is not a known word): the 2xx answer stands, the service is up;
 * - `up` / `down`: the status it reports;
 * - `unreadable`: a JSON body whose status field holds a value that means neither, such as
 *   `"healthy": "maybe"`, `"status": 42` or an unknown word; the poll counts `/health` as failed.
 *
 * `status` is what the poll reports as `values.serviceStatus`: a string status lower-cased, a flag
 * (`healthy`, `ok`, a boolean or 0/1) as `healthy` or `unhealthy`.
 */
export type HealthVerdict =
  | { readonly kind: 'unstated'; readonly status?: string }
  | { readonly kind: 'up' | 'down'; readonly status: string }
  | { readonly kind: 'unreadable'; readonly message: string };

/** A `/health` body sent as plain text that is not a JSON object (`OK`, `healthy`, `false`, …). */
export class PlainTextHealth {
  constructor(readonly text: string) {}
}

/** Status words that mean the service is up (compared lower-case, spaces and dashes as `_`). */
export const UP_WORDS: ReadonlySet<string> = new Set([
  'healthy',
  'ok',
  'okay',
  'up',
  'pass',
  'passed',
  'passing',
  'success',
  'operational',
  'available',
  'online',
  'running',
  'alive',
  'ready',
  'active',
  'green',
  'good',
  'normal',
  // Working, with a warning: up (the degradation shows in the status distribution and incidents).
  'degraded',
  'warn',
  'warning',
  'yellow',
  'true',
  'yes',
  'on',
  '1',
]);

/** Status words that mean the service reports itself down (compared as `UP_WORDS`). */
export const DOWN_WORDS: ReadonlySet<string> = new Set([
  'unhealthy',
  'down',
  'fail',
  'failed',
  'failing',
  'error',
  'critical',
  'unavailable',
  'offline',
  'dead',
  'inactive',
  'stopped',
  'not_ready',
  'out_of_service',
  'outage',
  'major_outage',
  'red',
  'false',
  'no',
  'off',
  '0',
]);

/**
 * Read the verdict of a decoded `/health` body (a JSON object, or `PlainTextHealth`). Never throws.
 *
 * Plain text is free-form (`OK`, `pong`, an empty body): a known down word (`unhealthy`, `false`,
 * `0`, …) means down, anything else leaves the 2xx answer to decide. In JSON the status is a field
 * the service chose to fill, so a value that is neither a known up nor a known down spelling cannot
 * be read as up: it is `unreadable`.
 */
export function readHealthVerdict(body: unknown): HealthVerdict {
  if (body instanceof PlainTextHealth) {
    const word = body.text.trim();
    if (word === '') return { kind: 'unstated' };
    const status = word.toLowerCase().slice(0, 32);
    const meaning = wordMeaning(word);
    return meaning === undefined ? { kind: 'unstated', status } : { kind: meaning, status };
  }
  // The verdict is read where the monitoring flag is: a `data` envelope only when the top level has neither.
  const health = unwrap(body, oneOf(HEALTH_BODY_FIELDS));
  if (health === undefined) return { kind: 'unstated' };
  // The fields carrying the verdict, first present (and not null) wins.
  for (const field of [...HEALTH_STATUS_FIELDS, ...HEALTH_FLAG_FIELDS]) {
    const value = health[field];
    if (value === undefined || value === null) continue;
    const isFlag = (HEALTH_FLAG_FIELDS as readonly string[]).includes(field);
    const meaning = valueMeaning(value, isFlag);
    if (meaning === undefined) {
      return {
        kind: 'unreadable',
        message:
          `/health "${field}" is ${describe(value)}, which the poller cannot read as up or down; expected ` +
          (isFlag
            ? 'true or false (also "true"/"false", 1/0, "up"/"down")'
            : 'a status such as "healthy", "degraded" or "unhealthy"'),
      };
    }
    const status =
      !isFlag && typeof value === 'string'
        ? value.trim().toLowerCase().slice(0, 32)
        : meaning === 'up'
          ? 'healthy'
          : 'unhealthy';
    return { kind: meaning, status };
  }
  return { kind: 'unstated' };
}

/**
 * What a value of a status field (`status`, `state`) or a flag field (`healthy`, `ok`) means. A
 * boolean is itself; 1 and 0 are true and false; a status field may also hold an HTTP status code
 * (200–399 up, 400–599 down); a string is read as a word, or as a number when it is all digits.
 */
function valueMeaning(value: unknown, isFlag: boolean): 'up' | 'down' | undefined {
  if (typeof value === 'boolean') return value ? 'up' : 'down';
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return numberMeaning(Number(value), isFlag);
  if (typeof value === 'number') return numberMeaning(value, isFlag);
  if (typeof value === 'string') return wordMeaning(value);
  return undefined;
}

function numberMeaning(value: number, isFlag: boolean): 'up' | 'down' | undefined {
  if (value === 1) return 'up';
  if (value === 0) return 'down';
  if (isFlag || !Number.isInteger(value)) return undefined;
  if (value >= 200 && value <= 399) return 'up';
  if (value >= 400 && value <= 599) return 'down';
  return undefined;
}

function wordMeaning(text: string): 'up' | 'down' | undefined {
  const word = text
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (UP_WORDS.has(word)) return 'up';
  if (DOWN_WORDS.has(word)) return 'down';
  return undefined;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 32));
  if (isObject(value)) return 'an object';
  if (Array.isArray(value)) return 'an array';
  return String(value);
}
