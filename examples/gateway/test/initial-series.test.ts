import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayTelemetry, MODEL_CALL_STATUSES } from '@gatewayz/telemetry';
import { loadProvidersFile, type ProviderConfig } from '../src/config.js';
import { createInitialSeries, INITIAL_SERIES_SHARE } from '../src/server/initial-series.js';
import { chatBody, startGatewayFor } from './harness.js';

/*
 * A counter series born at its first call appears already at 1, and rate()/increase() need a
 * sample before the increase: the first errors of a provider that never failed were invisible to
 * the SLO burn rates and GatewayzProviderErrorSurge. The gateway now creates every
 * provider × model × status series of model_inference_requests_total at 0 when it starts, within
 * half of the metric's series limit.
 */

/** `provider/model/status` → value of every `model_inference_requests_total` sample of an exposition. */
function inferenceSeries(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of text.matchAll(/^model_inference_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries(
      [...(match[1] as string).matchAll(/([a-z_]+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    found.set(`${labels['provider']}/${labels['model']}/${labels['status']}`, Number(match[2]));
  }
  return found;
}

/** Every `provider/model/status` of `providers`: their chat, image and embedding models. */
function everyCombination(providers: ReadonlyArray<Omit<ProviderConfig, 'baseUrl'>>): string[] {
  return providers.flatMap((provider) =>
    [...new Set([...provider.models, ...(provider.imageModels ?? []), ...(provider.embeddingModels ?? [])])].flatMap(
      (model) => MODEL_CALL_STATUSES.map((status) => `${provider.name}/${model}/${status}`),
    ),
  );
}

/** A logger that keeps what it is given. */
function collectingLogger(): {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  lines: Array<{ level: string; message: string; attributes?: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
  return {
    lines,
    info: (message, attributes) => lines.push({ level: 'info', message, ...(attributes ? { attributes } : {}) }),
    warn: (message, attributes) => lines.push({ level: 'warn', message, ...(attributes ? { attributes } : {}) }),
  };
}

const provider = (name: string, models: string[]): ProviderConfig => ({
  name,
  baseUrl: 'http://127.0.0.1:1/v1',
  models,
});

describe('a gateway started with a providers file', () => {
  let upstream: Server;
  let directory: string;
  let providers: ProviderConfig[];
  let gateway: Awaited<ReturnType<typeof startGatewayFor>>;
  const scrape = async (): Promise<Map<string, number>> =>
    inferenceSeries(await (await fetch(`${gateway.url}/metrics`)).text());

  beforeAll(async () => {
    // Every provider is down: each attempt is answered 500.
    upstream = createServer((request, response) => {
      request.resume();
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"upstream down"}}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    directory = mkdtempSync(join(tmpdir(), 'initial-series-'));
    const file = join(directory, 'providers.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'primary', baseUrl, models: ['chat-a', 'chat-b'], embeddingModels: ['embed-a', 'chat-b'] },
        { name: 'backup', baseUrl, models: ['chat-b'], imageModels: ['image-a'] },
      ]),
    );
    providers = loadProvidersFile(file, {});
    gateway = await startGatewayFor(providers, { ATTEMPT_TIMEOUT_MS: '2000' });
  });

  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('exposes every provider × model × status series at 0 before any request', async () => {
    const expected = everyCombination(providers);
    // primary: chat-a, chat-b, embed-a; backup: chat-b, image-a; five statuses each.
    expect(expected).toHaveLength(25);
    const series = await scrape();
    expect([...series.keys()].sort()).toEqual([...expected].sort());
    expect([...series.values()].every((value) => value === 0)).toBe(true);
  });

  it("exposes the providers' prompt cache hits and misses at 0 before any request", async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/^cache_hits_total\{cache="provider_prompt"\} 0$/m);
    expect(text).toMatch(/^cache_misses_total\{cache="provider_prompt"\} 0$/m);
  });

  it("counts a provider's first failure as an increase from 0", async () => {
    const before = await scrape();
    expect(before.get('primary/chat-a/error')).toBe(0);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('chat-a')),
    });
    expect(response.status).toBe(502);
    await response.text();
    const after = await scrape();
    expect(after.get('primary/chat-a/error')).toBe(1);
    // Nothing else moved, and no series was added.
    expect([...after].filter(([key, value]) => key !== 'primary/chat-a/error' && value !== 0)).toEqual([]);
    expect(after.size).toBe(before.size);
  });
});

describe('createInitialSeries', () => {
  it('reports the series at 0 through instruments too', async () => {
    class CollectingReader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider });
    const providers = [provider('openai', ['gpt-4o', 'gpt-4o-mini'])];
    createInitialSeries(telemetry, providers, collectingLogger());
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === 'model_inference_requests')
      .flatMap((metric) => (metric.dataPointType === DataPointType.SUM ? metric.dataPoints : []));
    expect(points.map((point) => `${point.attributes['model']}/${point.attributes['status']}`).sort()).toEqual(
      everyCombination(providers)
        .map((key) => key.slice('openai/'.length))
        .sort(),
    );
    expect(points.every((point) => point.value === 0)).toBe(true);
    await meterProvider.shutdown();
  });

  it('creates whole providers while they fit in half of maxSeriesPerMetric, leaves the others, and says so once', () => {
    // 20 series of the 40 allowed: a (10) fits, b (15) would make 25, c (5) makes 15.
    const telemetry = new GatewayTelemetry({ maxSeriesPerMetric: 40 });
    expect(INITIAL_SERIES_SHARE).toBe(0.5);
    const log = collectingLogger();
    const result = createInitialSeries(
      telemetry,
      [provider('a', ['a1', 'a2']), provider('b', ['b1', 'b2', 'b3']), provider('c', ['c1'])],
      log,
    );
    expect(result).toEqual({ series: 15, skippedProviders: ['b'] });
    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(15);
    expect(telemetry.currentValue('modelInferenceRequests', { provider: 'c', model: 'c1', status: 'timeout' })).toBe(0);
    expect(telemetry.currentValue('modelInferenceRequests', { provider: 'b', model: 'b1', status: 'error' })).toBe(
      undefined,
    );
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: 'warn',
      attributes: { providers: 'b', series_needed: 15, series_limit: 40 },
    });
    expect(log.lines[0]?.message).toContain('maxSeriesPerMetric');
    // Nothing folded into `other`: b's calls still get series of their own.
    expect(telemetry.seriesCount('telemetryLabelOverflow')).toBe(0);
    telemetry.recordModelInference('b', 'b1', 'error');
    expect(telemetry.currentValue('modelInferenceRequests', { provider: 'b', model: 'b1', status: 'error' })).toBe(1);
  });

  it('creates none when no provider fits, and never folds into the overflow series', () => {
    const telemetry = new GatewayTelemetry({ maxSeriesPerMetric: 8 });
    const log = collectingLogger();
    const result = createInitialSeries(telemetry, [provider('a', ['a1']), provider('b', ['b1', 'b2'])], log);
    expect(result).toEqual({ series: 0, skippedProviders: ['a', 'b'] });
    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(0);
    expect(telemetry.seriesCount('telemetryLabelOverflow')).toBe(0);
    expect(log.lines.map((line) => line.level)).toEqual(['warn']);
  });

  it('logs the series it created once, at info', () => {
    const log = collectingLogger();
    createInitialSeries(new GatewayTelemetry(), [provider('a', ['a1', 'a1'])], log);
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'model_inference_requests_total series created at 0',
        attributes: { series: 5, providers: 1 },
      },
    ]);
  });
});
