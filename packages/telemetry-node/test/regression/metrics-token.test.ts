import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { MemoryModelHealthStore } from '@gatewayz/telemetry/model-health';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHandler, createModelHealthHandler, startTelemetry, toNodeListener } from '../../src/index.js';

/*
 * A metrics token that no request could ever match used to be accepted: with white space around it
 * (a secret file's final line feed, which HTTP strips from every header) or with characters outside
 * ASCII (sent as UTF-8 bytes, read back one character per byte), every scrape got 401 and nothing
 * said why.
 */

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** GET /metrics over real HTTP with the header's bytes exactly as given (curl and Prometheus send UTF-8). */
async function statusOver(handlerToken: string, authorization: Buffer): Promise<number> {
  const reader = new PullReader();
  new MeterProvider({ readers: [reader] });
  const handler = createMetricsHandler({ source: reader, token: handlerToken });
  const server = createServer(toNodeListener(handler));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      // node:http writes a header string one byte per character (latin1): this sends the raw bytes.
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent: false,
        headers: { authorization: authorization.toString('latin1') },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    outgoing.once('error', reject);
    outgoing.end();
  });
}

describe('metrics token', () => {
  it('accepts a token with characters outside ASCII sent as UTF-8', async () => {
    const token = 'clé-de-métriques-0123456789';
    expect(await statusOver(token, Buffer.from(`Bearer ${token}`, 'utf8'))).toBe(200);
    expect(await statusOver(token, Buffer.from('Bearer cle-de-metriques-0123456789', 'utf8'))).toBe(401);
    expect(await statusOver('0123456789abcdef', Buffer.from('Bearer 0123456789abcdef', 'utf8'))).toBe(200);
  });

  it.each([
    ['a final line feed', '0123456789abcdef\n'],
    ['a leading space', ' 0123456789abcdef'],
    ['a control character', '01234567\u000189abcdef'],
  ])('refuses at configuration time a token with %s', (_, token) => {
    expect(() => createMetricsHandler({ source: new PullReader(), token })).toThrow(TelemetryConfigurationError);
    expect(() => createModelHealthHandler({ store: new MemoryModelHealthStore(), token })).toThrow(
      TelemetryConfigurationError,
    );
    expect(() =>
      startTelemetry({
        metricsToken: token,
        traces: false,
        logs: false,
        logStream: null,
        runtimeMetrics: false,
        hostMetrics: false,
        env: {},
      }),
    ).toThrow(/metricsToken.*(white space|control character)/s);
  });
});
