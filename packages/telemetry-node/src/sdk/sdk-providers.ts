/**
 * The SDK's three providers, built by `startTelemetry()` from the configuration it resolved from
 * `env`, and registered as the global ones. (`NodeSDK` did this before, and read `OTEL_SDK_DISABLED`,
 * `OTEL_LOG_LEVEL`, the log record limits and the resource attributes from `process.env` whatever
 * `env` said.)
 */
import { DiagConsoleLogger, DiagLogLevel, diag, metrics, trace, type Attributes } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { detectResources, resourceFromAttributes, type ResourceDetector } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { TracerProvider, type Sampler, type SpanLimits, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { logRecordLimitsFromEnv } from '../logs/log-exporters-from-env.js';
import {
  configurationWarningsSoFar,
  readEnvBoolean,
  readEnvEnum,
  warnConfiguration,
} from '../env/standard-variables.js';
import { resourceKeepingEveryKey } from './resource-keeping-every-key.js';
import { RESOURCE_WAIT_MILLIS, settleAsyncAttributes } from './resource-settled.js';

/** What `startTelemetry()` needs of an instrumentation (the runtime metrics one). */
export interface ProviderInstrumentation {
  setMeterProvider(meterProvider: ReturnType<typeof metrics.getMeterProvider>): void;
  setLoggerProvider(loggerProvider: ReturnType<typeof logs.getLoggerProvider>): void;
  isEnabled(): boolean;
  enable(): void;
  disable(): void;
}

/** Options of {@link startSdkProviders}. */
export interface SdkProvidersOptions {
  /** Read for `OTEL_LOG_LEVEL`, the log record limits and `OTEL_NODE_EXPERIMENTAL_SDK_METRICS`. */
  env: NodeJS.ProcessEnv;
  /** Resource attributes `startTelemetry()` sets by default; every other source wins over them. */
  defaultAttributes: Attributes;
  /** Resource detectors to run, in order (a later one wins over an earlier one). */
  detectors: ResourceDetector[];
  /** `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`, as `resourceAttributesFromEnv(env)` read them. */
  envAttributes: Attributes;
  /** Attributes given in code (`serviceName`, `serviceVersion`): they win over everything. */
  codeAttributes: Attributes;
  metricReaders: MetricReader[];
  spanProcessors: SpanProcessor[];
  sampler: Sampler;
  spanLimits: Required<SpanLimits>;
  logRecordProcessors: LogRecordProcessor[];
  instrumentations: ProviderInstrumentation[];
}

/**
 * The running providers; `shutdown()` flushes and stops them and undoes every registration (a
 * failed flush is reported through `diag.error`, never thrown).
 */
export interface SdkProviders {
  /**
   * Start waiting for the resource's asynchronous attributes (once; later calls return the same
   * wait): resolves once they settled, or `RESOURCE_WAIT_MILLIS` after the first call; never
   * rejects. Scrapes wait for it (a push reader waits for the attributes itself).
   */
  settleResource(): Promise<void>;
  /** The meter provider built (when there is a reader), registered as the global one or not. */
  readonly meterProvider: MeterProvider | undefined;
  /** The tracer provider built (when there is a span processor), registered as the global one or not. */
  readonly tracerProvider: TracerProvider | undefined;
  /** Flush every provider side by side; rejects with one `AggregateError` naming every failure. */
  forceFlush(options: { metrics: boolean }): Promise<void>;
  shutdown(): Promise<void>;
}

const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
const DIAG_LEVELS: Record<(typeof LOG_LEVELS)[number], DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/**
 * Build and register the providers, as `NodeSDK.start()` would with the same configuration, but with
 * nothing read from `process.env`:
 * - `OTEL_LOG_LEVEL` of `env` (case-insensitive; an unknown level is warned about and ignored)
 *   installs a console diagnostic logger at that level, removed again on shutdown.
 * - The resource: the default attributes, then the detectors', then `env`'s
 *   (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`), then those given in code; each source wins
 *   over the ones before it, as the specification ranks them (user-provided over the variable).
 *   Its asynchronous attributes are waited for when `settleResource()` asks.
 * - A meter provider only when there is a reader, a tracer provider only when there is a span
 *   processor (otherwise the API's no-op tracer answers, and spans cost nothing); a logger provider
 *   always, with the log record limits of `env`.
 * - The instrumentations get the meter provider and are enabled; shutdown disables them.
 * - A provider is registered as the global one unless one is already (the application's, or that of
 *   a `startTelemetry()` not shut down): that one is kept, with a warning, and shutdown removes only
 *   the providers this call registered.
 */
export function startSdkProviders(options: SdkProvidersOptions): SdkProviders {
  const { env } = options;
  const logLevel = readEnvEnum(env, 'OTEL_LOG_LEVEL', LOG_LEVELS, 'leaving the diagnostic logger as it is');
  if (logLevel !== undefined) {
    diag.setLogger(new DiagConsoleLogger(), { logLevel: DIAG_LEVELS[logLevel] });
    // The variables were read before this logger existed; what they were warned about goes to it now.
    for (const warning of configurationWarningsSoFar()) diag.warn(warning);
  }
  const sdkMetricsEnabled = readEnvBoolean(env, 'OTEL_NODE_EXPERIMENTAL_SDK_METRICS');
  const resource = resourceKeepingEveryKey(
    resourceFromAttributes(options.defaultAttributes)
      .merge(detectResources({ detectors: options.detectors }))
      .merge(resourceFromAttributes(options.envAttributes))
      .merge(resourceFromAttributes(options.codeAttributes)),
  );

  let meterProvider: MeterProvider | undefined;
  let ownsMeterProvider = false;
  if (options.metricReaders.length > 0) {
    meterProvider = new MeterProvider({ resource, readers: options.metricReaders, views: [], sdkMetricsEnabled });
    ownsMeterProvider = metrics.setGlobalMeterProvider(meterProvider);
  }
  const selfMetrics = sdkMetricsEnabled && meterProvider !== undefined ? { meterProvider } : {};
  let tracerProvider: TracerProvider | undefined;
  if (options.spanProcessors.length > 0) {
    tracerProvider = new TracerProvider({
      resource,
      sampler: options.sampler,
      spanLimits: options.spanLimits,
      spanProcessors: options.spanProcessors,
      ...selfMetrics,
    });
  }
  const ownsTracerProvider = tracerProvider !== undefined && trace.setGlobalTracerProvider(tracerProvider);
  const loggerProvider = new LoggerProvider({
    resource,
    logRecordLimits: logRecordLimitsFromEnv(env),
    processors: options.logRecordProcessors,
    ...selfMetrics,
  });
  // The logs API returns the provider that is global: ours only if none was registered before.
  const ownsLoggerProvider = logs.setGlobalLoggerProvider(loggerProvider) === loggerProvider;
  const kept = [
    meterProvider !== undefined && !ownsMeterProvider ? 'meter' : undefined,
    tracerProvider !== undefined && !ownsTracerProvider ? 'tracer' : undefined,
    ownsLoggerProvider ? undefined : 'logger',
  ].filter((kind) => kind !== undefined);
  if (kept.length > 0) {
    const one = kept.length === 1;
    const names = one ? kept[0] : `${kept.slice(0, -1).join(', ')} and ${kept.at(-1)}`;
    warnConfiguration(
      `@gatewayz/telemetry-node: ${one ? 'a ' : ''}global ${names} provider${one ? ' is' : 's are'} already registered (by the application, or by a startTelemetry() not shut down); keeping ${one ? 'it' : 'them'}: what the OpenTelemetry API records goes there, and shutdown() leaves ${one ? 'it' : 'them'} registered`,
    );
  }
  for (const instrumentation of options.instrumentations) {
    instrumentation.setMeterProvider(meterProvider ?? metrics.getMeterProvider());
    instrumentation.setLoggerProvider(loggerProvider);
    // Instrumentations enable themselves when constructed; enabling twice would start their
    // collectors twice.
    if (!instrumentation.isEnabled()) instrumentation.enable();
  }

  let resourceSettled: Promise<void> | undefined;
  return {
    meterProvider,
    tracerProvider,
    settleResource: () => (resourceSettled ??= settleAsyncAttributes(resource, RESOURCE_WAIT_MILLIS)),
    forceFlush: async ({ metrics: flushMetrics }) => {
      // Side by side: a silent collector costs one export timeout, not three.
      const failure = await settledFailure('forceFlush', [
        tracerProvider?.forceFlush(),
        loggerProvider.forceFlush(),
        flushMetrics ? meterProvider?.forceFlush() : undefined,
      ]);
      if (failure !== undefined) throw failure;
    },
    shutdown: async () => {
      for (const instrumentation of options.instrumentations) instrumentation.disable();
      // Every provider finishes (one failing must not cut the others' last export short); an
      // unreachable exporter must not turn a clean shutdown into a crash: say what was lost.
      const failure = await settledFailure('shutdown', [
        tracerProvider?.shutdown(),
        loggerProvider.shutdown(),
        meterProvider?.shutdown(),
      ]);
      if (failure !== undefined) diag.error(failure.message, failure);
      // Only what this call registered: a provider kept in its place is not ours to remove.
      if (ownsMeterProvider) metrics.disable();
      if (ownsTracerProvider) trace.disable();
      if (ownsLoggerProvider) logs.disable();
      if (logLevel !== undefined) diag.disable();
    },
  };
}

/**
 * Wait for every provider's flush or shutdown, and make one `AggregateError` of what they rejected
 * with (`undefined` if none did).
 */
async function settledFailure(
  operation: 'forceFlush' | 'shutdown',
  work: ReadonlyArray<Promise<unknown> | undefined>,
): Promise<AggregateError | undefined> {
  const failures: unknown[] = [];
  for (const result of await Promise.allSettled(work.map((promise) => promise ?? Promise.resolve()))) {
    if (result.status === 'fulfilled') continue;
    const reason: unknown = result.reason;
    // The SDK tracer provider rejects with an array of its processors' errors.
    if (Array.isArray(reason)) failures.push(...(reason as unknown[]));
    else failures.push(reason);
  }
  return failures.length > 0 ? flushError(operation, failures) : undefined;
}

/**
 * One `Error` for what a flush reported: the SDK's tracer provider rejects with an array (of its
 * processors' errors, or a number for a processor that ran out of time), which names nothing when
 * logged or thrown further.
 */
function flushError(operation: 'forceFlush' | 'shutdown', failures: readonly unknown[]): AggregateError {
  const errors = failures.map((failure) =>
    failure instanceof Error
      ? failure
      : new Error(
          typeof failure === 'number'
            ? 'a span processor did not finish within its flush timeout'
            : `flush failed: ${String(failure)}`,
        ),
  );
  return new AggregateError(
    errors,
    `@gatewayz/telemetry-node: ${operation}: ${errors.map((error) => error.message).join('; ')}`,
  );
}
