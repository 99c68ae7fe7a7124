import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry, TelemetryConfigurationError } from '@gatewayz/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsHandler, toNodeListener, type MetricsHandler } from '../src/index.js';
import { GZIP_MIN_BYTES, acceptsGzip } from '../src/http/response-encoding.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';

/*
 * Prometheus always sends `Accept-Encoding: gzip`; a 3,000-series exposition is about 21 times
 * smaller gzipped. Every exposition endpoint honours the header (with its weights); the summary and
 * docs endpoints stay as they were; tiny bodies and `compression: 'none'` go uncompressed.
 */

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

function setup(compression?: 'gzip' | 'none'): MetricsHandler {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const telemetry = new GatewayTelemetry({ meterProvider: provider, maxSeriesPerMetric: 5000 });
  for (let index = 0; index < 1000; index++) {
    telemetry.recordTokensUsed(`provider-${index % 10}`, `model-${index}`, 'input', index + 1);
    telemetry.setProviderHealthScore(`provider-${index}`, index / 1000);
    telemetry.recordModelInference(`provider-${index % 10}`, `model-${index}`, 'success', index / 100);
  }
  return createMetricsHandler({ source: reader, ...(compression !== undefined ? { compression } : {}) });
}

async function fetchRaw(
  handler: MetricsHandler,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ response: Response; bytes: Buffer }> {
  const response = await handler(new Request(`http://gateway.test${path}`, { headers, method }));
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

describe('acceptsGzip: the Accept-Encoding weights', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['x-gzip', true],
    ['GZIP;q=0.5', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['*', true],
    ['deflate, *;q=0.5', true],
    [null, false],
    ['', false],
    ['identity', false],
    ['br, deflate', false],
    ['gzip;q=0', false],
    ['gzip;q=0.000', false],
    ['gzip;q=0.3, identity;q=0.5', false],
    ['gzip;q=0.5, identity;q=0.5', true],
    ['*;q=0', false],
    ['gzip;q=abc', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('gzip on the exposition endpoints', () => {
  const handler = setup();

  it.each([
    ['/metrics', 'text/plain'],
    ['/metrics', PROMETHEUS_ACCEPT],
    ['/prometheus/metrics/all', PROMETHEUS_ACCEPT],
    ['/prometheus/metrics/providers', 'text/plain'],
    ['/prometheus/metrics/models', PROMETHEUS_ACCEPT],
  ])('%s (Accept %s): gzip when asked, and the same exposition once decoded', async (path, accept) => {
    const identity = await fetchRaw(handler, path, { accept });
    expect(identity.response.headers.get('content-encoding')).toBeNull();
    expect(identity.response.headers.get('vary')).toBe('accept, accept-encoding');
    const gzipped = await fetchRaw(handler, path, { accept, 'accept-encoding': 'gzip' });
    expect(gzipped.response.status).toBe(200);
    expect(gzipped.response.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.response.headers.get('vary')).toBe('accept, accept-encoding');
    expect(gzipped.response.headers.get('content-type')).toBe(identity.response.headers.get('content-type'));
    // The gzip magic number, then a body that decodes to the identity one, byte for byte.
    expect([...gzipped.bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const decoded = gunzipSync(gzipped.bytes);
    expect(decoded.toString('utf8')).toBe(identity.bytes.toString('utf8'));
    expect(gzipped.bytes.length).toBeLessThan(identity.bytes.length / 5);
  });

  it('answers identity when Accept-Encoding refuses gzip or prefers identity', async () => {
    for (const acceptEncoding of ['identity', 'gzip;q=0', 'br', 'gzip;q=0.2, identity;q=0.9']) {
      const { response, bytes } = await fetchRaw(handler, '/metrics', { 'accept-encoding': acceptEncoding });
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(bytes.toString('utf8')).toMatch(/^# HELP target_info/);
    }
  });

  it('sends a body shorter than GZIP_MIN_BYTES uncompressed: gzip would only make it longer', async () => {
    const { response, bytes } = await fetchRaw(handler, '/prometheus/metrics/health_service', {
      'accept-encoding': 'gzip',
    });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(bytes.length).toBeLessThan(GZIP_MIN_BYTES);
    expect(bytes.toString('utf8')).toContain('# no registered metrics\n');
  });

  it('leaves the summary (JSON) and docs endpoints uncompressed', async () => {
    for (const path of ['/prometheus/metrics/summary', '/prometheus/metrics/docs']) {
      const { response } = await fetchRaw(handler, path, { 'accept-encoding': 'gzip' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBeNull();
    }
  });

  it("never compresses with compression: 'none'", async () => {
    const off = setup('none');
    const { response, bytes } = await fetchRaw(off, '/metrics', { 'accept-encoding': 'gzip' });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('vary')).toBe('accept');
    expect(bytes.toString('utf8')).toMatch(/^# HELP target_info/);
  });

  it('refuses an unknown compression option at configuration time, naming it', () => {
    expect(() => createMetricsHandler({ source: undefined, compression: 'brotli' as unknown as 'gzip' })).toThrowError(
      TelemetryConfigurationError,
    );
    expect(() => resolveMetricsExport({ prometheus: { compression: 'zstd' as unknown as 'none' } }, {})).toThrowError(
      /metrics\.prometheus\.compression/,
    );
    expect(resolveMetricsExport(undefined, {}).prometheusCompression).toBe('gzip');
    expect(resolveMetricsExport({ prometheus: { compression: 'none' } }, {}).prometheusCompression).toBe('none');
  });
});

describe('gzip over node:http', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer(toNodeListener(setup()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function raw(
    method: string,
    headers: Record<string, string>,
  ): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/metrics', method, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  it('streams a gzip body that decodes to the full exposition, chunked', async () => {
    const plain = await raw('GET', {});
    const gzipped = await raw('GET', { 'accept-encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['transfer-encoding']).toBe('chunked');
    const decoded = gunzipSync(gzipped.body).toString('utf8');
    expect(decoded).toBe(plain.body.toString('utf8'));
    expect(decoded.match(/^tokens_used_total\{/gm)).toHaveLength(1000);
  });

  it('HEAD announces the coding a GET would use, and sends no body', async () => {
    const head = await raw('HEAD', { 'accept-encoding': 'gzip' });
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.body.length).toBe(0);
  });
});
