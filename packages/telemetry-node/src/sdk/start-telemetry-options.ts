import type { ContextManager } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { AT_MOST_LONGEST_TIMER, NO_TIMEOUT_MILLIS } from '../env/standard-variables.js';
import { isLogLevel, type LogLevel } from '../logs/structured-logger.js';
import type { ClusterMetricsSourceOptions } from '../cluster/cluster-worker.js';
import { timerDelayOption } from '../env/timer-delay-option.js';
import { SynchronousContextManager } from './synchronous-context-manager.js';
import type { StartTelemetryOptions } from './start-telemetry.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasMethod(value: unknown, method: string): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function'
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
}

function fail(option: string, expected: string, value: unknown): never {
  throw new TelemetryConfigurationError(option, `expected ${expected}, got ${describe(value)}`);
}

function integerFrom(minimum: 0 | 1, option: string, value: unknown, maximum = Number.MAX_SAFE_INTEGER): void {
  if (
    value !== undefined &&
    (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum)
  )
    fail(
      option,
      `${minimum === 1 ? 'a positive integer' : 'a non-negative integer'}${
        maximum < Number.MAX_SAFE_INTEGER ? ` ${AT_MOST_LONGEST_TIMER}` : ''
      }`,
      typeof value === 'number' ? String(value) : value,
    );
}

/**
 * Check the types and ranges of `startTelemetry()`'s options before anything starts, so a wrong
 * value (often from plain JavaScript or a parsed config file) throws a `TelemetryConfigurationError`
 * naming the option, instead of a `TypeError` from inside the SDK, an option silently ignored, or
 * a failure on the first scrape (a numeric `metricsToken` used to make every authorised request fail).
 * Options checked elsewhere (`telemetry`, `metrics`, `contextManager`, the `OTEL_*` variables) are
 * only checked here for being objects.
 */
export function checkStartTelemetryOptions(options: unknown): asserts options is StartTelemetryOptions {
  if (!isObject(options)) fail('options', 'an object of options (or nothing)', options);
  for (const name of ['serviceName', 'serviceVersion'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === ''))
      fail(name, 'a non-empty string', value);
  }
  if (options['metricsToken'] !== undefined && typeof options['metricsToken'] !== 'string')
    fail('metricsToken', 'a string of at least 16 characters (or "" to disable auth)', options['metricsToken']);
  for (const name of ['runtimeMetrics', 'hostMetrics', 'withScopeInfo', 'disabled'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') fail(name, 'true or false', options[name]);
  }
  for (const name of ['telemetry', 'metrics', 'env'] as const) {
    if (options[name] !== undefined && !isObject(options[name])) fail(name, 'an object', options[name]);
  }
  // Every reader of `env` trims its values: another type would fail deep inside with a TypeError.
  for (const [name, value] of Object.entries((options['env'] as Record<string, unknown> | undefined) ?? {})) {
    if (value !== undefined && typeof value !== 'string')
      fail(`env.${name}`, 'a string (as environment variables are) or undefined', value);
  }
  // A string would be read letter by letter, as exporters "o", "t", "l", "p".
  const exporters = (options['metrics'] as Record<string, unknown> | undefined)?.['exporters'];
  if (exporters !== undefined && !Array.isArray(exporters))
    throw new TelemetryConfigurationError(
      'metrics.exporters',
      `expected an array of exporter names such as ["otlp", "prometheus"], got ${
        typeof exporters === 'string' ? `a string (${describe(exporters)})` : describe(exporters)
      }`,
    );
  const logLevel = options['logLevel'];
  if (logLevel !== undefined && (typeof logLevel !== 'string' || !isLogLevel(logLevel)))
    fail('logLevel', 'debug, info, warn or error', logLevel);
  const logStream = options['logStream'];
  if (logStream !== undefined && logStream !== null && !hasMethod(logStream, 'write'))
    fail('logStream', 'a stream with write() (or null for none)', logStream);
  const detectors = options['resourceDetectors'];
  if (detectors !== undefined && (!Array.isArray(detectors) || !detectors.every((item) => hasMethod(item, 'detect'))))
    fail('resourceDetectors', 'an array of ResourceDetectors (objects with detect())', detectors);
  const traces = options['traces'];
  if (traces !== undefined && traces !== false) {
    if (!isObject(traces)) fail('traces', 'false, { exporter } or { spanProcessors }', traces);
    if ('exporter' in traces) {
      if (!hasMethod(traces['exporter'], 'export'))
        fail('traces.exporter', 'a SpanExporter (an object with export())', traces['exporter']);
    } else if (!Array.isArray(traces['spanProcessors'])) {
      fail('traces', 'false, { exporter } or { spanProcessors: SpanProcessor[] }', traces);
    }
  }
  const logs = options['logs'];
  if (logs !== undefined && logs !== false) {
    if (!isObject(logs)) fail('logs', 'false or { exporter?, maxQueueSize?, scheduledDelayMillis? }', logs);
    if (logs['exporter'] !== undefined && !hasMethod(logs['exporter'], 'export'))
      fail('logs.exporter', 'a LogRecordExporter (an object with export())', logs['exporter']);
    integerFrom(1, 'logs.maxQueueSize', logs['maxQueueSize']);
    // A delay of 0 exports at once, as OTEL_BLRP_SCHEDULE_DELAY=0 does.
    integerFrom(0, 'logs.scheduledDelayMillis', logs['scheduledDelayMillis'], NO_TIMEOUT_MILLIS);
  }
  const cluster = options['cluster'];
  if (cluster !== undefined && typeof cluster !== 'boolean' && !isObject(cluster))
    fail('cluster', 'true, false or cluster source options', cluster);
  const providers = options['providers'];
  if (
    providers !== undefined &&
    (!Array.isArray(providers) || providers.some((name) => typeof name !== 'string' || name.trim() === ''))
  )
    fail('providers', 'an array of provider names (non-empty strings)', providers);
}

/**
 * The level of `startTelemetry()`'s logger: the `logLevel` option, else `LOG_LEVEL` of `env` (any
 * case), else `info`. The variable is read only when the option is unset: an option in code wins,
 * a wrong variable beside it included.
 */
export function resolveLogLevel(option: LogLevel | undefined, env: NodeJS.ProcessEnv): LogLevel {
  if (option !== undefined) return option;
  const fromEnv = env['LOG_LEVEL']?.trim().toLowerCase();
  if (fromEnv === undefined || fromEnv === '') return 'info';
  if (!isLogLevel(fromEnv))
    throw new TelemetryConfigurationError('LOG_LEVEL', `expected debug, info, warn or error, got "${fromEnv}"`);
  return fromEnv;
}

/**
 * Cluster mode asks the primary through the worker's IPC channel: without one, say so before
 * anything starts rather than once the SDK runs.
 */
export function checkClusterChannel(cluster: ClusterMetricsSourceOptions): void {
  // Here, before anything global changes, not first in createClusterMetricsSource().
  timerDelayOption(cluster.timeoutMs, 10_000, 'cluster.timeoutMs');
  if (typeof (cluster.channel ?? process).send !== 'function')
    throw new TelemetryConfigurationError(
      'cluster',
      'cluster mode needs an IPC channel: start this process as a node:cluster worker (startClusterPrimary() in the primary)',
    );
}

/** The context manager the `contextManager` option asks for. */
export function resolveContextManager(option: StartTelemetryOptions['contextManager']): ContextManager {
  if (option === undefined || option === 'async-local-storage') return new AsyncLocalStorageContextManager();
  if (option === 'synchronous') return new SynchronousContextManager();
  if (typeof option === 'object' && option !== null && typeof option.with === 'function') return option;
  throw new TelemetryConfigurationError(
    'contextManager',
    `expected 'async-local-storage', 'synchronous' or a ContextManager, got ${JSON.stringify(option) ?? typeof option}`,
  );
}
