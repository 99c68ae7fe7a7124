import { readEnvString } from './standard-variables.js';

/**
 * `service.name` as the specification resolves it: `OTEL_SERVICE_NAME`, else the `service.name`
 * entry of `OTEL_RESOURCE_ATTRIBUTES` (percent-decoded), else `undefined`. Blank values count as
 * unset.
 *
 * @example
 * ```ts
 * serviceNameFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=checkout,deployment.environment=prod' }); // 'checkout'
 * ```
 */
export function serviceNameFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const fromVariable = readEnvString(env, 'OTEL_SERVICE_NAME');
  if (fromVariable !== undefined) return fromVariable;
  const attributes = readEnvString(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (attributes === undefined) return undefined;
  let found: string | undefined;
  for (const entry of attributes.split(',')) {
    const equals = entry.indexOf('=');
    if (equals < 0 || entry.slice(0, equals).trim() !== 'service.name') continue;
    try {
      found = decodeURIComponent(entry.slice(equals + 1).trim());
    } catch {
      // The resource detector ignores a malformed variable too; the default name applies.
      return undefined;
    }
  }
  return found === '' ? undefined : found;
}
