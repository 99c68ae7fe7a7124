import { readFileSync } from 'node:fs';
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { afterEach, describe, expect, it } from 'vitest';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import {
  createOtlpHttpTransport,
  OTLP_EXPORTER_BASE_VERSION,
  retryAfterMillis,
} from '../src/otlp-transport/otlp-http-transport.js';
import { httpRetryDelay } from '../src/otlp-transport/otlp-http-export-delegate.js';
import { createRetryingTransport } from '../src/otlp-transport/retrying-transport.js';

/*
 * The OTLP/HTTP transport of every signal: an attempt ends within the export timeout however the
 * collector answers, and a Retry-After that names no wait gets the backoff.
 */

/** One POST as the collector saw it. */
interface Seen {
  path: string;
  at: number;
  headers: IncomingMessage['headers'];
}

const servers: Server[] = [];
let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  );
});

/** A loopback collector answering every POST (once its body is read) with `answer`. */
async function collector(
  answer: (response: ServerResponse, index: number) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ path: request.url ?? '', at: performance.now(), headers: request.headers });
      answer(response, seen.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Answers `status` at once, then one byte of its body every 100 ms, never ending it. */
function trickling(status: number): (response: ServerResponse) => void {
  return (response) => {
    response.writeHead(status, { 'content-type': 'application/x-protobuf' });
    const timer = setInterval(() => response.write('x'), 100);
    response.on('close', () => clearInterval(timer));
  };
}

const optionsFor = (url: string) =>
  convertLegacyHttpOptions({ url: `${url}/v1/traces` }, 'TRACES', 'v1/traces', {
    'Content-Type': 'application/x-protobuf',
  });

describe('an OTLP/HTTP attempt', () => {
  it('ends at the timeout while a 2xx answer is still trickling in, as the success the status says', async () => {
    const { url } = await collector(trickling(200));
    const response = await createOtlpHttpTransport(optionsFor(url)).send(new Uint8Array([1, 2, 3]), 500);
    expect(response).toEqual({ status: 'success' });
  });

  it('ends at the timeout as retryable with the status of a trickling 503, and with none when nothing came', async () => {
    const unavailable = await collector(trickling(503));
    const refused = await createOtlpHttpTransport(optionsFor(unavailable.url)).send(new Uint8Array([1]), 500);
    expect(refused.status).toBe('retryable');
    expect(refused.status === 'retryable' && (refused.error as { code?: number } | undefined)?.code).toBe(503);

    const silent = await collector(() => undefined);
    const unanswered = await createOtlpHttpTransport(optionsFor(silent.url)).send(new Uint8Array([1]), 300);
    expect(unanswered.status).toBe('retryable');
    expect(unanswered.status === 'retryable' && unanswered.error?.message).toBe(
      'OTLP export request timed out after 300 ms',
    );
  });

  it('sends the User-Agent of the SDK version it is pinned to, after a configured prefix', async () => {
    const require = createRequire(import.meta.url);
    // The package's exports map hides package.json: its entry point is build/src/index.js.
    const entry = require.resolve('@opentelemetry/otlp-exporter-base');
    const installed = JSON.parse(readFileSync(join(dirname(entry), '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(OTLP_EXPORTER_BASE_VERSION).toBe(installed.version);
    const { url, seen } = await collector((response) => response.writeHead(200).end());
    await createOtlpHttpTransport(optionsFor(url)).send(new Uint8Array([1]), 1000);
    await createOtlpHttpTransport({ ...optionsFor(url), userAgent: 'my-gateway/2' }).send(new Uint8Array([1]), 1000);
    expect(seen.map((request) => request.headers['user-agent'])).toEqual([
      `OTel-OTLP-Exporter-JavaScript/${installed.version}`,
      `my-gateway/2 OTel-OTLP-Exporter-JavaScript/${installed.version}`,
    ]);
  });
});

describe('an OTLP/HTTP attempt, where the SDK transport read it otherwise', () => {
  it('keeps a 2xx whose body a reset cut off: the collector took the request, it is not sent again', async () => {
    const { url, seen } = await collector((response) => {
      response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '100' });
      response.write('partial');
      // Once the client has read the status: a reset, where the body was to go on.
      setTimeout(() => response.socket?.resetAndDestroy(), 30);
    });
    const transport = createRetryingTransport(createOtlpHttpTransport(optionsFor(url)), httpRetryDelay, {
      backoff: { initialMillis: 50 },
    });
    expect((await transport.send(new Uint8Array([1]), 2000)).status).toBe('success');
    expect(seen).toHaveLength(1);
  });

  it('asks an agent factory that failed again at the next export', async () => {
    const { url } = await collector((response) => response.writeHead(200).end());
    let calls = 0;
    const options = {
      ...optionsFor(url),
      agentFactory: () => (++calls === 1 ? Promise.reject(new Error('no agent yet')) : new Agent()),
    };
    const transport = createOtlpHttpTransport(options);
    await expect(transport.send(new Uint8Array([1]), 1000)).rejects.toThrow('no agent yet');
    expect((await transport.send(new Uint8Array([1]), 1000)).status).toBe('success');
    expect(calls).toBe(2);
  });

  it('names the timeout in whole milliseconds when it is what was left of the export timeout', async () => {
    const { url } = await collector(() => undefined);
    const transport = createRetryingTransport(createOtlpHttpTransport(optionsFor(url)), httpRetryDelay);
    const response = await transport.send(new Uint8Array([1]), 300);
    expect(response.status === 'retryable' && response.error?.message).toMatch(
      /^OTLP export request timed out after \d+ ms$/,
    );
  });

  it('counts a collector that answers 504 until the time is up as its answer (http_error), not a timeout', async () => {
    const { url } = await collector((response) => response.writeHead(504).end());
    running = startTelemetry({
      traces: false,
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      },
    });
    running.telemetry.incrementCostByProvider('openai', 0.5);
    expect(await flushFailures(running)).toEqual(['metrics not exported (http_error): Gateway Timeout']);
  });
});

describe('the retry loop', () => {
  it('sends no attempt when its wait ended at or past the deadline (a late timer)', async () => {
    let clock = 0;
    const sent: number[] = [];
    const answer: ExportResponse = { status: 'retryable', retryInMillis: 10 };
    const inner: IExporterTransport = {
      send: (_data, timeoutMillis) => {
        sent.push(timeoutMillis);
        // The event loop is busy past the deadline while the retry waits.
        setTimeout(() => (clock = 1000), 0);
        return Promise.resolve(answer);
      },
      shutdown: () => {},
    };
    const transport = createRetryingTransport(inner, httpRetryDelay, { now: () => clock });
    expect(await transport.send(new Uint8Array([1]), 1000)).toBe(answer);
    expect(sent).toEqual([1000]);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  it.each([
    ['2', 2000],
    [' 30 ', 30_000],
    ['Mon, 07 Dec 2026 12:00:05 GMT', 5000],
    ['0', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['garbage', undefined],
    ['Mon, 07 Dec 2026 11:59:00 GMT', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j waits %j ms', (header, expected) => {
    expect(retryAfterMillis(header, now)).toBe(expected);
  });

  it.each(['garbage', '0', '-5'])('%s: the retries wait the backoff, not a tight loop', async (header) => {
    const { url, seen } = await collector((response) => response.writeHead(503, { 'retry-after': header }).end());
    const transport = createRetryingTransport(createOtlpHttpTransport(optionsFor(url)), httpRetryDelay, {
      backoff: { initialMillis: 200, multiplier: 1, jitter: 0 },
      maxRetries: 2,
    });
    const response = await transport.send(new Uint8Array([1]), 5000);
    expect(response.status).toBe('retryable');
    expect(seen).toHaveLength(3);
    const gaps = seen.slice(1).map((request, index) => request.at - (seen[index]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(190);
  });
});

describe('startTelemetry with a collector that trickles its answers', () => {
  it('flushes and shuts down every signal although the collector never finishes an answer', async () => {
    const { url, seen } = await collector(trickling(200));
    running = startTelemetry({
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_TIMEOUT: '500',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      },
    });
    running.tracer.startSpan('request').end();
    running.logger.info('served');
    running.telemetry.incrementCostByProvider('openai', 0.5);
    // Each waited for ever on the answer's end before: the test would time out.
    await running.forceFlush();
    const stopping = running;
    running = undefined;
    await stopping.shutdown();
    expect(new Set(seen.map((request) => request.path))).toEqual(new Set(['/v1/traces', '/v1/logs', '/v1/metrics']));
  }, 20_000);
});
