/**
 * Instrumentation scope of the meters and tracers this package creates. Kept equal to package.json by a test.
 *
 * @example
 * ```ts
 * const ours = resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === PACKAGE_NAME);
 * ```
 */
export const PACKAGE_NAME = '@gatewayz/telemetry';
/**
 * Version of this package, the instrumentation scope version of its meters. Kept equal to
 * package.json by a test.
 *
 * @example
 * ```ts
 * console.log(`${PACKAGE_NAME}@${PACKAGE_VERSION}`); // e.g. '@gatewayz/telemetry@0.1.0'
 * ```
 */
export const PACKAGE_VERSION = '0.1.0';
