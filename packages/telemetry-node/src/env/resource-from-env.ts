/**
 * The resource attributes of the standard variables, read from the `env` given to
 * `startTelemetry()`: the SDK's `envDetector` reads `process.env` only, and drops a malformed
 * `OTEL_RESOURCE_ATTRIBUTES` with a debug message nobody sees.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { decodePercent, readEnvListWithNone, readEnvString, warnIgnoredVariable } from './standard-variables.js';

/**
 * `OTEL_RESOURCE_ATTRIBUTES` as the specification defines it: comma-separated `key=value` pairs,
 * keys and values percent-decoded (`,` and `=` inside them must be encoded), blank entries skipped,
 * surrounding spaces trimmed; a later pair wins over an earlier one with the same key. On any error
 * (an entry without exactly one `=`, an empty key, a bad percent escape) the whole value is
 * discarded and a warning names it, as the specification asks. `OTEL_SERVICE_NAME` then sets
 * `service.name`, winning over the list. Any key is an attribute, `__proto__` and `constructor` too.
 *
 * @example
 * ```ts
 * resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=llm%20platform' });
 * // { 'deployment.environment': 'prod', team: 'llm platform' }
 * ```
 */
export function resourceAttributesFromEnv(env: NodeJS.ProcessEnv): Attributes {
  const attributes: Attributes = {};
  const raw = readEnvString(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (raw !== undefined) {
    const parsed = parseResourceAttributes(raw);
    if (typeof parsed === 'string') {
      warnIgnoredVariable(
        'OTEL_RESOURCE_ATTRIBUTES',
        raw,
        'comma-separated key=value pairs with "," and "=" percent-encoded',
        `${parsed}; none of its attributes are used`,
      );
    } else {
      // Defined, not assigned (nor Object.assign): assigning `__proto__` sets the prototype instead.
      for (const [key, value] of parsed) {
        Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  const serviceName = readEnvString(env, 'OTEL_SERVICE_NAME');
  if (serviceName !== undefined) attributes['service.name'] = serviceName;
  return attributes;
}

/** The pairs of `raw`, the last of each key, or why it is malformed. */
function parseResourceAttributes(raw: string): Map<string, string> | string {
  const pairs = new Map<string, string>();
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    if (parts.length !== 2) return `"${entry.trim()}" is not one key=value pair`;
    const key = decodePercent(parts[0]!.trim());
    const value = decodePercent(parts[1]!.trim());
    if (key === undefined || value === undefined) return `"${entry.trim()}" has a malformed percent escape`;
    if (key === '') return `"${entry.trim()}" has an empty key`;
    // A later pair wins, in the place of the first (as an object's key keeps its place).
    pairs.set(key, value);
  }
  return pairs;
}

/** The detectors `OTEL_NODE_RESOURCE_DETECTORS` can name (as in the Node SDK), besides `all` and `none`. */
const NAMED_DETECTORS: Readonly<Record<string, ResourceDetector | undefined>> = {
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are always read (the specification requires it).
  env: undefined,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};

/**
 * The built-in resource detectors `OTEL_NODE_RESOURCE_DETECTORS` names, a comma list of `env`,
 * `host`, `os`, `process`, `serviceinstance`, `all` or `none`, as the Node SDK reads it. Unset, just
 * the host detector: the process detector exports the command line, which can carry secrets, so it
 * runs only when named (the resource gets `process.pid` and the runtime's name and version anyway).
 * `env` is accepted and changes nothing: `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` are
 * always read. An unknown name is warned about and skipped.
 *
 * @example
 * ```ts
 * resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'host,os' }); // [hostDetector, osDetector]
 * ```
 */
export function resourceDetectorsFromEnv(env: NodeJS.ProcessEnv): ResourceDetector[] {
  const names = readEnvListWithNone(env, 'OTEL_NODE_RESOURCE_DETECTORS', 'running no detector');
  if (names === undefined) return [hostDetector];
  const detectors = new Set<ResourceDetector>();
  for (const name of names) {
    // Own keys only: `constructor` or `tostring` are not detectors.
    if (!Object.hasOwn(NAMED_DETECTORS, name) && name !== 'all') {
      warnIgnoredVariable(
        'OTEL_NODE_RESOURCE_DETECTORS',
        name,
        'env, host, os, process, serviceinstance, all or none',
        'skipping it',
      );
      continue;
    }
    const named = name === 'all' ? Object.values(NAMED_DETECTORS) : [NAMED_DETECTORS[name]];
    for (const detector of named) if (detector !== undefined) detectors.add(detector);
  }
  return [...detectors];
}
