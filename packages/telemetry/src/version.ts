/** Instrumentation scope of the meters and tracers this package creates. Kept equal to package.json by a test. */
export const PACKAGE_NAME = '@gatewayz/telemetry';
export const PACKAGE_VERSION = '0.1.0';
