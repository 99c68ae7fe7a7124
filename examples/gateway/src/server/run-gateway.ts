/**
 * One gateway process: the whole gateway when it runs alone, or one worker of a node:cluster
 * (`GATEWAY_WORKERS`, see run-cluster.ts). A worker answers scrapes with every worker's metrics
 * and, without Supabase, keeps model health in the primary's store.
 */
import type { ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { ClusterModelHealthStore, startHealthServicePoller, startTelemetry } from '@gatewayz/telemetry-node';
import {
  checkBaseUrl,
  checkProviderName,
  givenVariable,
  GatewayConfigError,
  loadContextManagerChoice,
  loadDemoSettings,
  loadHealthServiceIntervalMs,
  loadHealthServiceUrl,
  loadGatewaySettings,
  loadProvidersFile,
  loadSupabaseSettings,
  parseProviders,
  type ProviderConfig,
} from '../config.js';
import { loadApiKeys, type ApiKeysConfig } from '../api-keys/api-keys-file.js';
import { shareApiKeyUsage } from '../api-keys/cluster-usage.js';
import { checkBudgetsPriced } from '../api-keys/priced-budgets.js';
import { isOpenRouter } from '../provider-pricing.js';
import { startDemoProviders, type DemoProviders } from '../providers/demo-providers.js';
import { providerNameForUrl } from '../providers/well-known-provider.js';
import { startDemoTraffic, type DemoTraffic } from '../demo-traffic.js';
import { createGateway } from './gateway.js';

/**
 * Where a cluster primary hands its workers the simulated providers it started (JSON). Internal:
 * set by the primary for its workers only, and read only by a worker.
 */
export const CLUSTER_PROVIDERS_VARIABLE = 'GATEWAY_CLUSTER_PROVIDERS';

const UPSTREAM_VARIABLES = ['UPSTREAM_BASE_URL', 'UPSTREAM_MODELS', 'UPSTREAM_API_KEY', 'UPSTREAM_NAME'] as const;

/**
 * Whether providers are configured (`GATEWAY_PROVIDERS_FILE` or any `UPSTREAM_*` variable), so
 * `resolveProviders` reads and checks them; otherwise the demo's simulated ones run.
 */
export function providersConfigured(env: NodeJS.ProcessEnv): boolean {
  return (
    givenVariable(env, 'GATEWAY_PROVIDERS_FILE') !== undefined ||
    UPSTREAM_VARIABLES.some((name) => givenVariable(env, name) !== undefined)
  );
}

/**
 * Providers from GATEWAY_PROVIDERS_FILE, from UPSTREAM_* variables, or simulated ones for the demo.
 * Configured providers are checked against the budgets of GATEWAY_API_KEYS_FILE: every model they
 * serve must be priced when a key has a budget (`checkBudgetsPriced`).
 * @throws GatewayConfigError when the file and UPSTREAM_* are both set, when UPSTREAM_* is set
 * without UPSTREAM_BASE_URL, and for any problem of the providers or their prices.
 */
export async function resolveProviders(
  env: NodeJS.ProcessEnv,
): Promise<{ providers: ProviderConfig[]; demo?: DemoProviders }> {
  const file = givenVariable(env, 'GATEWAY_PROVIDERS_FILE');
  const upstream = UPSTREAM_VARIABLES.filter((name) => givenVariable(env, name) !== undefined);
  if (file !== undefined && upstream.length > 0) {
    throw new GatewayConfigError(
      `GATEWAY_PROVIDERS_FILE and ${upstream.join(', ')} are both set, and the gateway takes its providers from one or the other: unset ${upstream.join(', ')} (the providers file can describe that provider too), or unset GATEWAY_PROVIDERS_FILE`,
    );
  }
  if (file !== undefined) {
    const providers = loadProvidersFile(file, env);
    checkBudgetsPriced(providers, loadApiKeys(env), 'GATEWAY_PROVIDERS_FILE');
    return { providers };
  }
  if (upstream.length > 0) {
    const providers = [upstreamProvider(env, upstream)];
    checkBudgetsPriced(providers, loadApiKeys(env), 'UPSTREAM_BASE_URL');
    return { providers };
  }
  const demo = await startDemoProviders(loadDemoSettings(env));
  return { providers: demo.providers, demo };
}

/** The one provider of the UPSTREAM_* variables (`set`: those given). */
function upstreamProvider(env: NodeJS.ProcessEnv, set: readonly string[]): ProviderConfig {
  const url = givenVariable(env, 'UPSTREAM_BASE_URL');
  if (url === undefined) {
    throw new GatewayConfigError(
      `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but UPSTREAM_BASE_URL is not: set UPSTREAM_BASE_URL to the provider's URL (such as https://api.openai.com/v1), or unset ${set.join(', ')} to run the demo's simulated providers`,
    );
  }
  const models = (env['UPSTREAM_MODELS'] ?? '')
    .split(',')
    .map((model) => model.trim())
    .filter(Boolean);
  if (models.length === 0)
    throw new GatewayConfigError('UPSTREAM_MODELS must list the models served by UPSTREAM_BASE_URL, comma-separated');
  // The checks of a providers file's entries: a name that makes a metric label, an http(s) URL.
  const baseUrl = checkBaseUrl(url, 'UPSTREAM_BASE_URL');
  // Unnamed, the provider takes the GenAI conventions' name of its host (`openai` for api.openai.com).
  const name = checkProviderName(
    givenVariable(env, 'UPSTREAM_NAME') ?? providerNameForUrl(baseUrl, 'upstream'),
    'UPSTREAM_NAME',
  );
  const apiKey = env['UPSTREAM_API_KEY'];
  return {
    name,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(apiKey !== undefined && apiKey.trim() !== '' ? { apiKey } : {}),
    models,
    // No prices here, but OpenRouter reports each answer's cost: its calls have one.
    ...(isOpenRouter(baseUrl) ? { reportsCost: true } : {}),
  };
}

/**
 * Run the gateway in this process until SIGTERM or SIGINT. `clusterWorker`: this process is a
 * node:cluster worker, whose primary runs `runClusterPrimary`.
 */
export async function runGateway(env: NodeJS.ProcessEnv, clusterWorker: boolean): Promise<void> {
  const contextManager = loadContextManagerChoice(env);
  const clusterProviders = env[CLUSTER_PROVIDERS_VARIABLE];
  const { providers, demo } =
    clusterWorker && clusterProviders !== undefined
      ? { providers: parseProviders(clusterProviders, CLUSTER_PROVIDERS_VARIABLE, env), demo: undefined }
      : await resolveProviders(env);
  const simulated = demo !== undefined || clusterProviders !== undefined;
  // The rest of the configuration is read before telemetry starts, so a bad value stops the start
  // with its GatewayConfigError alone. The demo refreshes provider health every 5 s so its
  // dashboards move; production keeps 30 s.
  const settings = loadGatewaySettings(simulated ? { HEALTH_TRACKER_INTERVAL_MS: '5000', ...env } : env);
  // SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY keep model health in Supabase (shared by every
  // replica); without them it stays in memory.
  const supabase = loadSupabaseSettings(env);
  // Seed 004 option A: poll an external health service into the gatewayz_health_* metrics.
  const healthServiceUrl = loadHealthServiceUrl(env);
  const healthServiceIntervalMs = healthServiceUrl !== undefined ? loadHealthServiceIntervalMs(env) : undefined;
  // startTelemetry() takes service.name from OTEL_SERVICE_NAME, then from OTEL_RESOURCE_ATTRIBUTES;
  // the example's own name applies only when neither gives one.
  const serviceNamed =
    (env['OTEL_SERVICE_NAME'] ?? '').trim() !== '' ||
    /(^|,)\s*service\.name\s*=\s*[^,\s]/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
  const otel = startTelemetry({
    ...(serviceNamed ? {} : { serviceName: 'gatewayz-example-gateway' }),
    contextManager,
    cluster: clusterWorker,
    // The summary counts the configured providers from start-up, before their first call.
    providers: providers.map((provider) => provider.name),
  });
  const log = otel.logger;
  let store: ModelHealthStore | undefined;
  if (supabase !== undefined) {
    // Loaded only when configured: supabase-js adds about 1.7 MB to the live heap and 50 ms to
    // start-up, which a gateway keeping model health in memory does not pay.
    const { SupabaseModelHealthStore } = await import('@gatewayz/telemetry-supabase');
    store = new SupabaseModelHealthStore({ ...supabase, telemetry: otel.telemetry });
  } else if (clusterWorker) {
    // One in-memory store for all workers, in the primary.
    store = new ClusterModelHealthStore();
  }
  const gateway = createGateway({
    config: { ...settings, providers },
    otel,
    logger: log,
    ...(store !== undefined ? { store } : {}),
  });
  // Budgets and active_api_keys hold for the whole cluster: spend and use are shared through the primary.
  if (clusterWorker) otel.onShutdown(shareApiKeyUsage(gateway.apiKeys));
  if (healthServiceUrl !== undefined && healthServiceIntervalMs !== undefined) {
    const poller = startHealthServicePoller({
      url: healthServiceUrl,
      telemetry: otel.telemetry,
      intervalMs: healthServiceIntervalMs,
    });
    otel.onShutdown(() => poller.stop());
  }
  const url = await gateway.listen();
  // In a cluster the primary says "gateway listening" once every worker is.
  log.info(clusterWorker ? 'worker listening' : 'gateway listening', {
    url,
    pid: process.pid,
    providers: providers.map((provider) => `${provider.name}[${provider.models.join(',')}]`).join(' '),
    simulated_providers: simulated,
    telemetry: otel.disabled ? 'disabled (OTEL_SDK_DISABLED=true)' : 'enabled',
    model_health_store: supabase !== undefined ? 'supabase' : clusterWorker ? 'memory (cluster primary)' : 'memory',
    health_service: healthServiceUrl !== undefined ? 'polled' : 'not configured (HEALTH_SERVICE_URL)',
    traces: otel.tracesEnabled ? 'exported over OTLP' : 'not exported (set OTEL_EXPORTER_OTLP_ENDPOINT to export)',
    logs: otel.logsExported ? 'standard output and OTLP' : 'standard output',
    context_manager: contextManager,
    api_keys: settings.apiKeys?.required
      ? `${settings.apiKeys.keys.length} from GATEWAY_API_KEYS_FILE, required on inference endpoints`
      : 'demo keys, optional (requests without a key are served as anonymous)',
  });
  if (clusterWorker) {
    handleSignals(log, async () => {
      await gateway.close();
      await otel.shutdown();
    });
    return;
  }
  if (!otel.metricsAuthEnabled) {
    log.warn('metrics and model-health endpoints are not protected; set METRICS_TOKEN to require a bearer token');
  }
  log.info(
    `try: curl ${url}/v1/chat/completions${settings.apiKeys?.required ? " -H 'authorization: Bearer <your key>'" : ''} -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'`,
  );

  let traffic: DemoTraffic | undefined;
  if (demo !== undefined) {
    const { trafficPerSecond } = loadDemoSettings(env);
    if (trafficPerSecond > 0) {
      traffic = startDemoTraffic(url, trafficPerSecond, demoCallers(settings.apiKeys));
      log.info(
        `demo traffic: ${trafficPerSecond} requests/s against the simulated providers (DEMO_TRAFFIC_RPS=0 turns it off)`,
      );
    }
    log.info(
      `metrics: ${url}/metrics, ${url}/prometheus/metrics/providers, ${url}/prometheus/metrics/summary; dashboard: ${url}/dashboard`,
    );
  }

  handleSignals(log, async () => {
    // The demo's requests in flight are the gateway's like any other: the drain answers them or
    // cuts them at SHUTDOWN_TIMEOUT_MS. Waiting for them first would keep the gateway accepting.
    traffic?.stop();
    await gateway.close();
    await traffic?.close();
    await otel.shutdown();
    await demo?.close();
  });
}

/** The keys the demo traffic sends in turn: the gateway's own, and no key when keys are optional. */
export function demoCallers(apiKeys: ApiKeysConfig | undefined): Array<string | undefined> {
  const keys: Array<string | undefined> = (apiKeys?.keys ?? []).map((entry) => entry.key);
  if (apiKeys?.required !== true) keys.push(undefined);
  return keys;
}

/** On SIGTERM or SIGINT: run `stop` once, then exit (1 when it failed). */
function handleSignals(
  log: {
    info(message: string, attributes?: Record<string, string>): void;
    error(message: string, attributes?: Record<string, string>): void;
  },
  stop: () => Promise<void>,
): void {
  let stopping = false;
  const onSignal = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    let exitCode = 0;
    try {
      await stop();
      log.info('stopped');
    } catch (error) {
      exitCode = 1;
      log.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
    }
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
}
