import { request } from 'node:http';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type RunningTelemetry } from '@gatewayz/telemetry-node';
import type { ApiKeysConfig } from '../src/api-keys/api-keys-file.js';
import type { ProviderConfig } from '../src/config.js';
import {
  createGateway,
  loadContextManagerChoice,
  loadGatewaySettings,
  startDemoProviders,
  type DemoProviders,
  type Gateway,
  type SimulatedProvider,
} from '../src/index.js';

export interface TestGateway {
  url: string;
  gateway: Gateway;
  otel: RunningTelemetry;
  demo: DemoProviders;
  provider(name: string): SimulatedProvider;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  scrape(path?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The example gateway in this process on a loopback port, with the demo's simulated providers
 * (no latency, no errors unless a test configures them) and a real OpenTelemetry SDK.
 */
export async function startTestGateway(
  options: { env?: Record<string, string>; spanProcessors?: SpanProcessor[]; apiKeys?: ApiKeysConfig } = {},
): Promise<TestGateway> {
  const demo = await startDemoProviders({ latencyMs: 0, errorRate: 0 });
  const running = await startGatewayFor(
    demo.providers,
    { BREAKER_VOLUME_THRESHOLD: '3', BREAKER_RESET_TIMEOUT_MS: '600000', ATTEMPT_TIMEOUT_MS: '2000', ...options.env },
    options,
  );
  const { url } = running;
  return {
    ...running,
    demo,
    provider: (name) => {
      const found = demo.simulated.find((provider) => provider.name === name);
      if (found === undefined) throw new Error(`no simulated provider ${name}`);
      return found;
    },
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    scrape: async (path = '/metrics') => (await fetch(`${url}${path}`)).text(),
    close: async () => {
      await running.close();
      await demo.close();
    },
  };
}

/**
 * The example gateway in this process in front of `providers` (a test's own upstreams, or the
 * demo's), with a real OpenTelemetry SDK, the settings `env` gives (`TELEMETRY_CONTEXT_MANAGER`
 * among them, default `synchronous` as in main.ts) and, when given, `options.spanProcessors` (else
 * no traces) and `options.apiKeys`.
 */
export async function startGatewayFor(
  providers: ProviderConfig[],
  env: Record<string, string> = {},
  options: { spanProcessors?: SpanProcessor[]; apiKeys?: ApiKeysConfig } = {},
): Promise<{ url: string; gateway: Gateway; otel: RunningTelemetry; close(): Promise<void> }> {
  const settingsEnv = { PORT: '0', HEALTH_TRACKER_INTERVAL_MS: '3600000', ...env };
  const otel = startTelemetry({
    serviceName: 'gateway-under-test',
    hostMetrics: false,
    traces: options.spanProcessors ? { spanProcessors: options.spanProcessors } : false,
    logStream: null,
    contextManager: loadContextManagerChoice(settingsEnv),
    env: {},
  });
  const settings = loadGatewaySettings(settingsEnv);
  const gateway = createGateway({
    config: { ...settings, providers, apiKeys: options.apiKeys ?? settings.apiKeys },
    otel,
  });
  const url = await gateway.listen();
  return {
    url,
    gateway,
    otel,
    close: async () => {
      await gateway.close();
      await otel.shutdown();
    },
  };
}

/** Keeps every span as it ends (an exporter would see them only once the resource is ready). */
export class SpanRecorder implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  clear(): void {
    this.spans.length = 0;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Sum of every sample of `name` whose labels include all of `labels`, parsed from exposition text. */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      present[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) total += Number(match[3]);
  }
  return total;
}

export const chatBody = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'Say something about observability.' }],
  ...extra,
});

/** Per-million-token prices of one demo model (`DEMO_PRICES`). */
export interface DemoPrice {
  inputPerMillionTokens?: number;
  cachedInputPerMillionTokens?: number;
  cacheWritePerMillionTokens?: number;
  outputPerMillionTokens?: number;
}

/**
 * USD of one call at the demo prices (per million tokens): `input` counts every input token,
 * `cacheRead` and `cacheWrite` of them are priced at the cache prices (default the input price).
 */
export function demoCost(
  prices: DemoPrice | undefined,
  input: number,
  output: number,
  cacheRead = 0,
  cacheWrite = 0,
): number {
  const inputPrice = prices?.inputPerMillionTokens ?? 0;
  return (
    (inputPrice * (input - cacheRead - cacheWrite) +
      (prices?.cachedInputPerMillionTokens ?? inputPrice) * cacheRead +
      (prices?.cacheWritePerMillionTokens ?? inputPrice) * cacheWrite +
      (prices?.outputPerMillionTokens ?? 0) * output) /
    1_000_000
  );
}

/** One request on a fresh connection, so node:cluster hands it to any of its workers. */
export function sendOnFreshConnection(
  gateway: { url: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(path, gateway.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent: false,
        headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
