import cluster from 'node:cluster';
import { context, diag, metrics, trace, type ContextManager, type Tracer } from '@opentelemetry/api';
import type { ResourceDetector } from '@opentelemetry/resources';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { HostMetrics } from '@opentelemetry/host-metrics';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  GatewayTelemetry,
  PACKAGE_VERSION,
  TelemetryConfigurationError,
  peekTelemetry,
  type GatewayTelemetryOptions,
} from '@gatewayz/telemetry';
import { GEN_AI_SEMCONV_SCHEMA_URL } from '@gatewayz/telemetry/genai';
import {
  checkClusterChannel,
  checkStartTelemetryOptions,
  resolveContextManager,
  resolveLogLevel,
} from './start-telemetry-options.js';
import { shareTelemetry } from './live-instances.js';
import { checkBearerToken } from '../http/bearer-auth.js';
import { createMetricsHandler, type MetricsHandler } from '../http/metrics-handler.js';
import { StructuredLogger, type LogLevel } from '../logs/structured-logger.js';
import { toNodeListener } from '../http/node-adapter.js';
import { stoppableMetricsSource } from '../http/stoppable-metrics-source.js';
import { resolveMetricsExport, type MetricsExportOptions } from '../otlp-metrics/metrics-export-config.js';
import { histogramOptionsFrom } from '../otlp-metrics/histogram-options-from-env.js';
import { createMetricReaders } from './metric-readers.js';
import { createClusterMetricsSource, type ClusterMetricsSourceOptions } from '../cluster/cluster-worker.js';
import { createSpanProcessorsFromEnv, type SpanDropReason } from '../tracing/index.js';
import { tracesConfiguredByEnv } from '../tracing/create-span-processors-from-env.js';
import { samplerFromEnv, spanLimitsFromEnv } from '../tracing/tracer-config-from-env.js';
import { createLogRecordProcessors } from '../logs/create-log-record-processors.js';
import { resourceAttributesFromEnv, resourceDetectorsFromEnv } from '../env/resource-from-env.js';
import { startSdkProviders } from './sdk-providers.js';
import { resourceSources } from './resource-sources.js';
import { collectingAfter } from './resource-settled.js';
import { captureConfigurationWarnings, readEnvBoolean, warnConfiguration } from '../env/standard-variables.js';
import { propagatorFromEnv, registerPropagator } from '../env/propagator-from-env.js';
import { genAiOptionsFromEnv, warnWhenGenAiEventsGoNowhere } from '../env/genai-options-from-env.js';

/**
 * Options of {@link startTelemetry}. Every option is optional; unset ones fall back to the standard
 * `OTEL_*` variables and `METRICS_TOKEN` / `LOG_LEVEL` of `env`, then to the defaults given below.
 *
 * @example
 * ```ts
 * const options: StartTelemetryOptions = {
 *   serviceName: 'my-gateway',
 *   serviceVersion: '1.4.0',
 *   telemetry: { maxSeriesPerMetric: 5000 },
 *   traces: false,
 *   hostMetrics: false,
 * };
 * const otel = startTelemetry(options);
 * ```
 */
export interface StartTelemetryOptions {
  /** `service.name`; default `OTEL_SERVICE_NAME`, the `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, or `gatewayz-gateway`. */
  serviceName?: string;
  /** `service.version` resource attribute; omitted when unset. */
  serviceVersion?: string;
  /**
   * Options of the shared `GatewayTelemetry` instance (prefix, series limits); they win over `env`.
   * Read once here (see the README): the GenAI options from `OTEL_SEMCONV_STABILITY_OPT_IN`,
   * `OTEL_INSTRUMENTATION_GENAI_*` and `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`, `exemplars` from
   * `OTEL_METRICS_EXEMPLAR_FILTER` (`trace_based`, `always_on` or `always_off`).
   */
  telemetry?: Omit<GatewayTelemetryOptions, 'meterProvider' | 'exportVia' | 'continueFrom'>;
  /** Bearer token the metrics endpoints require; default `METRICS_TOKEN`. Empty string disables auth. */
  metricsToken?: string;
  /**
   * Trace export. Default: when any of `OTEL_EXPORTER_OTLP_ENDPOINT`,
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set, the exporters
   * `OTEL_TRACES_EXPORTER` lists (`otlp`, the default, over HTTP or gRPC, `zipkin`, `console`, or
   * `none`), each configured by the standard variables read from `env`; otherwise none. Pass an
   * exporter or span processors to choose explicitly, or
   * `false` to turn tracing off. The default for `http/protobuf` and `grpc` encodes each sampled span as it
   * ends and batches only the bytes (`OTEL_BSP_*` apply; same request bytes as the SDK's exporter,
   * a fraction of the CPU and no span objects waiting in the heap); `GATEWAYZ_SPAN_PROCESSOR=batch`
   * selects the SDK's `BatchSpanProcessor` + `OTLPTraceExporter` instead. With the default or an
   * `exporter`, sampled spans dropped (queue beyond `OTEL_BSP_MAX_QUEUE_SIZE`) or not exported are
   * counted in `gatewayz_telemetry_spans_dropped_total{reason}`.
   */
  traces?: false | { exporter: SpanExporter } | { spanProcessors: SpanProcessor[] };
  /**
   * Log export. Default: `OTEL_LOGS_EXPORTER` (`otlp`, `console`, a comma list of both, or `none`);
   * unset, OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` is set, in
   * the protocol of `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL` (default
   * `http/protobuf`), otherwise logs go to standard output only. Records beyond `maxQueueSize`
   * waiting for export (default `OTEL_BLRP_MAX_QUEUE_SIZE` or 2048) are dropped and counted in
   * `gatewayz_telemetry_logs_dropped_total{reason}`; `OTEL_BLRP_*` set the other batch settings.
   */
  logs?: false | { exporter?: LogRecordExporter; maxQueueSize?: number; scheduledDelayMillis?: number };
  /** Lowest level `logger` writes; default `LOG_LEVEL` (not read when this is set) or `info`. */
  logLevel?: LogLevel;
  /** Where `logger` writes JSON lines; default standard output, `null` for none. */
  logStream?: { write(line: string): unknown } | null;
  /** Node.js runtime metrics (event loop, heap, GC). Default true. */
  runtimeMetrics?: boolean;
  /** Host and process metrics (CPU, memory). Default true. */
  hostMetrics?: boolean;
  /**
   * More resource detectors (e.g. a container, Kubernetes or cloud detector from
   * `@opentelemetry/resource-detector-*`), run after the built-in ones `OTEL_NODE_RESOURCE_DETECTORS`
   * names (default: the host detector). Their attributes win over the detected and default ones;
   * `OTEL_RESOURCE_ATTRIBUTES` and the `serviceName`/`serviceVersion` options win over theirs. In a
   * node:cluster worker a `service.instance.id` they or `OTEL_RESOURCE_ATTRIBUTES` give gets
   * `-worker-<cluster.worker.id>` appended, so workers that inherit it push as distinct instances.
   */
  resourceDetectors?: ResourceDetector[];
  /** Add `otel_scope_*` labels to every series. Default false. */
  withScopeInfo?: boolean;
  /**
   * How the active context follows the code. `'async-local-storage'` (default, as the Node SDK
   * does) carries it across `await`s for any code, at a cost to every promise in the process on
   * Node.js 20 and 22 (an async hook; Node.js 24 builds AsyncLocalStorage without one, and an `await`
   * costs about 17 ns more there, against 125–160 ns on 20 and 22). `'synchronous'`
   * ({@link SynchronousContextManager}) keeps it for the synchronous run of `context.with()` only:
   * no async hooks, but the application passes its `Context` across `await`s itself (the example
   * gateway does). Or pass any `ContextManager`.
   */
  contextManager?: 'async-local-storage' | 'synchronous' | ContextManager;
  /**
   * Where metrics go. Default: `OTEL_METRICS_EXPORTER` (`prometheus`, `otlp`, `console`, `none`, or
   * a comma list such as `otlp,prometheus`), else Prometheus only. The OTLP push reads the standard
   * `OTEL_EXPORTER_OTLP_*` and `OTEL_METRIC_EXPORT_*` variables unless `metrics.otlp` sets them.
   * Without `prometheus` the metrics endpoints answer 503.
   */
  metrics?: MetricsExportOptions;
  /**
   * node:cluster mode, for a worker process: the metrics endpoints answer the aggregate of every
   * worker (counters and histograms summed, gauges merged by their catalog rule), collected through
   * the primary, which must run `startClusterPrimary()`; `shutdown()` first hands the primary this
   * worker's final counts (waiting at most `timeoutMs`), so what it recorded while draining stays in
   * the aggregate after it exits. Default false.
   */
  cluster?: boolean | ClusterMetricsSourceOptions;
  /**
   * Names of the providers the application is configured with: `/prometheus/metrics/summary` counts
   * them from start-up, before their first call gives them health gauges (see `buildMetricsSummary`).
   */
  providers?: readonly string[];
  /** Turn everything off; default `OTEL_SDK_DISABLED=true`. */
  disabled?: boolean;
  /** Environment to read, its values strings (or `undefined`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * What {@link startTelemetry} returns: the shared helpers, the metrics endpoints as a fetch handler
 * and a `node:http` listener, a tracer and a logger, flags saying what is on, and `shutdown()`.
 *
 * @example
 * ```ts
 * const otel: RunningTelemetry = startTelemetry({ serviceName: 'my-gateway' });
 * otel.onShutdown(async () => {
 *   await recorder.close();
 * });
 * otel.logger.info('telemetry started', { traces: otel.tracesEnabled, metrics_auth: otel.metricsAuthEnabled });
 * process.once('SIGTERM', () => void otel.shutdown());
 * ```
 */
export interface RunningTelemetry {
  /** The shared helpers instance, bound to the SDK's meter provider. */
  readonly telemetry: GatewayTelemetry;
  /** Fetch-style handler for every metrics endpoint. */
  readonly metricsHandler: MetricsHandler;
  /** `node:http` listener serving `metricsHandler`. */
  readonly nodeMetricsListener: ReturnType<typeof toNodeListener>;
  /** Tracer for the application's spans; its scope has the schema URL of the GenAI conventions (`GEN_AI_SEMCONV_SCHEMA_URL`). */
  readonly tracer: Tracer;
  /** Structured JSON logger, correlated with the active span and exported over OTLP when configured. */
  readonly logger: StructuredLogger;
  /** Whether log records are exported over OTLP. */
  readonly logsExported: boolean;
  /** True when `OTEL_SDK_DISABLED=true` (or `disabled`) turned telemetry off. */
  readonly disabled: boolean;
  /** Whether spans are exported. */
  readonly tracesEnabled: boolean;
  /** Which metric exporters run (`prometheus`, `otlp`, `console`). */
  readonly metricExporters: readonly string[];
  /** Whether the metrics endpoints require a bearer token. */
  readonly metricsAuthEnabled: boolean;
  /** Register work to finish before the SDK shuts down (e.g. flushing pending model-health writes). */
  onShutdown(task: () => Promise<void> | void): void;
  /**
   * Export the spans, log records and pushed metrics waiting now, side by side; a no-op when
   * disabled. When an exporter reports a failure it rejects with one `AggregateError` whose message
   * names every failure (`errors` holds them); what was not exported is also counted in the
   * telemetry self-metrics.
   */
  forceFlush(): Promise<void>;
  /**
   * Run the `onShutdown` tasks in registration order (a failing task is logged through `diag`), then
   * flush spans and logs and shut down the SDK. Never rejects; safe to call more than once. Undoes
   * only what this call registered (global providers, propagator, context manager); the shared
   * helpers go back to the instance of a `startTelemetry()` still running, if any. The metrics
   * endpoints then answer 503 (`telemetry_shut_down`).
   */
  shutdown(): Promise<void>;
}

/**
 * Start the OpenTelemetry Node SDK for a gateway: a meter provider whose Prometheus exporter is
 * served by `metricsHandler` (no extra port), OTLP trace export configured by the standard
 * `OTEL_*` variables, runtime and host metrics, and the shared `GatewayTelemetry` helpers bound to
 * it. `OTEL_SDK_DISABLED=true` turns it all off; the endpoints then answer 503.
 *
 * Reads `METRICS_TOKEN`, `LOG_LEVEL` and the standard `OTEL_*` variables from `env` (the list is in
 * the package README). Throws a `TelemetryConfigurationError` for an option of the wrong type or
 * out of range (naming it), when the metrics token is shorter than 16 characters or `LOG_LEVEL` is
 * not `debug`, `info`, `warn` or `error` (read only without `logLevel`), before anything global
 * changes: a call that throws leaves the process as it was. A standard variable with a value the
 * specification does not allow is reported through `diag.warn` and the returned `logger` (a `warn`
 * record) and ignored. Called again before the first one's `shutdown()`, it starts a second instance
 * (said once through `diag.warn`): the global providers stay the first one's.
 *
 * @example
 * ```ts
 * const otel = startTelemetry({ serviceName: 'my-gateway' });
 * http.createServer((req, res) =>
 *   otel.metricsHandler.handles(new URL(req.url!, 'http://x').pathname) ? otel.nodeMetricsListener(req, res) : app(req, res),
 * );
 * process.on('SIGTERM', () => otel.shutdown());
 * ```
 */
export function startTelemetry(options: StartTelemetryOptions = {}): RunningTelemetry {
  const { result, warnings } = captureConfigurationWarnings(() => start(options));
  for (const warning of warnings) result.logger.warn(warning);
  return result;
}

function start(options: StartTelemetryOptions): RunningTelemetry {
  checkStartTelemetryOptions(options);
  const env = options.env ?? process.env;
  const disabled = options.disabled ?? readEnvBoolean(env, 'OTEL_SDK_DISABLED');
  const propagator = propagatorFromEnv(env);
  const metricsToken = options.metricsToken ?? env['METRICS_TOKEN'];
  if (metricsToken !== undefined && metricsToken !== '' && metricsToken.length < 16) {
    throw new TelemetryConfigurationError(
      'metricsToken',
      'use at least 16 characters (METRICS_TOKEN), or leave it unset to disable auth',
    );
  }
  const token = metricsToken === '' ? undefined : metricsToken;
  // Before anything starts: a token no header can carry would otherwise only fail in the handler.
  checkBearerToken('metricsToken', token);
  const logLevel = resolveLogLevel(options.logLevel, env);
  const metricsExport = resolveMetricsExport(options.metrics, env);
  const contextManager = resolveContextManager(options.contextManager);
  const clusterOptions = options.cluster === true ? {} : options.cluster === false ? undefined : options.cluster;
  if (clusterOptions !== undefined && !disabled && metricsExport.prometheus) checkClusterChannel(clusterOptions);
  // The helpers aggregate in-process and are collected through a metric producer: recording never
  // enters the SDK, and collection reads the series directly. When helpers already ran before the
  // SDK started, the new instance continues their shared one, with the counts and gauges it holds.
  const existing = options.telemetry === undefined ? peekTelemetry() : undefined;
  const telemetry = new GatewayTelemetry({
    ...genAiOptionsFromEnv(env),
    ...histogramOptionsFrom(env, metricsExport),
    ...options.telemetry,
    exportVia: 'producer',
    ...(existing !== undefined && !existing.isBound ? { continueFrom: existing } : {}),
  });
  const envAttributes = resourceAttributesFromEnv(env);
  const envServiceName = envAttributes['service.name'];
  const serviceName =
    options.serviceName ??
    (typeof envServiceName === 'string' && envServiceName !== '' ? envServiceName : undefined) ??
    'gatewayz-gateway';
  const makeTracer = (provider = trace.getTracerProvider()): Tracer =>
    provider.getTracer('@gatewayz/telemetry-node', PACKAGE_VERSION, { schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL });
  const makeLogger = (): StructuredLogger =>
    new StructuredLogger({
      name: serviceName,
      level: logLevel,
      ...(options.logStream !== undefined ? { stream: options.logStream } : {}),
    });
  const shutdownTasks: Array<() => Promise<void> | void> = [];
  /** Run the registered tasks once each; a failing task is logged, never thrown. */
  const runShutdownTasks = async (): Promise<void> => {
    for (const task of shutdownTasks.splice(0)) {
      try {
        await task();
      } catch (error) {
        diag.error('@gatewayz/telemetry-node: shutdown task failed', error);
      }
    }
  };

  if (disabled) {
    // From here on the process's global state changes: nothing below throws.
    const releaseSharedTelemetry = shareTelemetry(telemetry);
    // The specification: OTEL_SDK_DISABLED leaves the propagators of OTEL_PROPAGATORS in place, so
    // a disabled gateway still passes its callers' trace context on to providers.
    const unregisterPropagator = registerPropagator(propagator);
    const metricsHandler = createMetricsHandler({
      source: undefined,
      prefix: telemetry.prefix,
      token,
      disabledReason: 'Telemetry is disabled (OTEL_SDK_DISABLED=true)',
    });
    return {
      telemetry,
      metricsHandler,
      nodeMetricsListener: toNodeListener(metricsHandler),
      tracer: makeTracer(),
      logger: makeLogger(),
      logsExported: false,
      disabled: true,
      tracesEnabled: false,
      metricExporters: [],
      metricsAuthEnabled: token !== undefined,
      onShutdown: (task) => void shutdownTasks.push(task),
      forceFlush: async () => {},
      shutdown: async () => {
        await runShutdownTasks();
        unregisterPropagator();
        releaseSharedTelemetry();
      },
    };
  }

  const { exporter, readers: metricReaders } = createMetricReaders(
    telemetry,
    metricsExport,
    options.withScopeInfo ?? false,
  );
  const countDroppedSpans = (reason: SpanDropReason, count: number): void =>
    telemetry.add('telemetrySpansDropped', count, { reason });
  let spanProcessors: SpanProcessor[];
  const traces = options.traces;
  if (traces === false) spanProcessors = [];
  else if (traces !== undefined && 'exporter' in traces)
    spanProcessors = createSpanProcessorsFromEnv({ env, exporter: traces.exporter, onDrop: countDroppedSpans });
  else if (traces !== undefined) spanProcessors = traces.spanProcessors;
  else if (!tracesConfiguredByEnv(env)) spanProcessors = [];
  // The exporters OTEL_TRACES_EXPORTER names (default otlp), all built from `env`, behind processors
  // whose drops are counted.
  else spanProcessors = createSpanProcessorsFromEnv({ env, onDrop: countDroppedSpans });

  const logProcessors = createLogRecordProcessors(options.logs, env, (reason, count) =>
    telemetry.add('telemetryLogsDropped', count, { reason }),
  );
  warnWhenGenAiEventsGoNowhere(telemetry.genAiContent, logProcessors.length > 0);

  const resource = resourceSources({
    envAttributes,
    detectors: [...resourceDetectorsFromEnv(env), ...(options.resourceDetectors ?? [])],
    // Processes that push (or share a port) must tell their series apart.
    needsInstanceId: clusterOptions !== undefined || metricsExport.otlp !== undefined,
    clusterWorkerId: cluster.isWorker ? cluster.worker?.id : undefined,
  });
  // From here on the process's global state changes: every check and set-up that can throw ran above.
  // A later startTelemetry() starts from fresh series, not this run's (see shareTelemetry).
  const releaseSharedTelemetry = shareTelemetry(telemetry);
  const providers = startSdkProviders({
    env,
    ...resource,
    codeAttributes: {
      'service.name': serviceName,
      ...(options.serviceVersion !== undefined ? { 'service.version': options.serviceVersion } : {}),
    },
    metricReaders,
    spanProcessors,
    // Read from `env` as the specification parses them (the SDK's own readers take the sampler
    // name case-sensitively and miss OTEL_EVENT_/OTEL_LINK_ATTRIBUTE_COUNT_LIMIT).
    sampler: samplerFromEnv(env),
    spanLimits: spanLimitsFromEnv(env),
    logRecordProcessors: logProcessors,
    instrumentations: options.runtimeMetrics === false ? [] : [new RuntimeNodeInstrumentation()],
  });
  const unregisterPropagator = registerPropagator(propagator);
  contextManager.enable();
  const ownsContextManager = context.setGlobalContextManager(contextManager);
  if (!ownsContextManager) {
    contextManager.disable();
    warnConfiguration('@gatewayz/telemetry-node: a context manager is already registered; keeping it');
  }
  if (options.hostMetrics !== false) {
    const meterProvider = providers.meterProvider ?? metrics.getMeterProvider();
    new HostMetrics({ meterProvider, name: '@gatewayz/telemetry-node' }).start();
  }
  const tracesEnabled = spanProcessors.length > 0;
  // Scrapes (and a worker's answers to its primary) carry the resource's asynchronous attributes,
  // waited for from now on.
  const localSource = exporter !== undefined ? collectingAfter(exporter, providers.settleResource()) : undefined;
  const clusterSource =
    clusterOptions !== undefined && localSource !== undefined
      ? createClusterMetricsSource(localSource, clusterOptions)
      : undefined;
  const servedSource = localSource !== undefined ? stoppableMetricsSource(clusterSource ?? localSource) : undefined;
  const metricsHandler = createMetricsHandler({
    source: servedSource,
    prefix: telemetry.prefix,
    token,
    withScopeInfo: options.withScopeInfo ?? false,
    compression: metricsExport.prometheusCompression,
    ...(options.providers !== undefined ? { providers: options.providers } : {}),
    ...(exporter === undefined
      ? { disabledReason: 'Prometheus export is off (OTEL_METRICS_EXPORTER does not list prometheus)' }
      : {}),
  });

  let shuttingDown: Promise<void> | undefined;
  return {
    telemetry,
    metricsHandler,
    nodeMetricsListener: toNodeListener(metricsHandler),
    tracer: makeTracer(providers.tracerProvider),
    logger: makeLogger(),
    logsExported: logProcessors.length > 0,
    disabled: false,
    tracesEnabled,
    metricExporters: [
      ...(metricsExport.prometheus ? ['prometheus'] : []),
      ...(metricsExport.otlp !== undefined ? ['otlp'] : []),
      ...(metricsExport.console !== undefined ? ['console'] : []),
    ],
    metricsAuthEnabled: token !== undefined,
    onShutdown: (task) => void shutdownTasks.push(task),
    forceFlush: async () => {
      // Push readers (OTLP, console) export now; the Prometheus reader has nothing to flush.
      await providers.forceFlush({ metrics: metricReaders.length > (exporter !== undefined ? 1 : 0) });
    },
    shutdown: () => {
      shuttingDown ??= (async () => {
        await runShutdownTasks();
        // Scrapes from now on answer 503 (telemetry shut down), not 500 from the reader shut down.
        servedSource?.stop();
        // Before the readers shut down: the worker's final snapshot is collected from them.
        await clusterSource?.stop();
        await providers.shutdown();
        unregisterPropagator();
        // Unregister our context manager too, so a later startTelemetry() can install its own.
        if (ownsContextManager) context.disable();
        releaseSharedTelemetry();
      })();
      return shuttingDown;
    },
  };
}
