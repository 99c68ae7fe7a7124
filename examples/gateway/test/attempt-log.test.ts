import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, StructuredLogger, type RunningTelemetry } from '@gatewayz/telemetry-node';
import { createGateway, loadContextManagerChoice, loadGatewaySettings, type Gateway } from '../src/index.js';
import { chatBody } from './harness.js';

/*
 * The "provider attempt failed" log through the real gateway in this process, its logger writing
 * JSON lines to a capture: a provider's failure is a warning; an attempt that says nothing about
 * the provider (the upstream refused the client's bad request, the client went away) is logged at
 * debug, so a client sending bad requests does not flood the warn log.
 */

const MODEL = 'acme-1';

/** A loopback upstream behaving by the user message: `bad` → 400, `down` → 500, `slow` → 1 s, else 200. */
async function startUpstream(received: { count: number }): Promise<Server> {
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (piece: Buffer) => (text += String(piece)));
    request.on('end', () => {
      received.count++;
      const body = JSON.parse(text) as { messages: Array<{ content: string }> };
      const send = (status: number, payload: unknown): void => {
        if (!response.destroyed)
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      const content = body.messages[0]?.content;
      if (content === 'bad') {
        send(400, {
          error: { message: 'Invalid value for max_tokens', type: 'invalid_request_error', code: 'invalid_value' },
        });
      } else if (content === 'down') {
        send(500, { error: { message: 'The server had an error', type: 'server_error' } });
      } else {
        setTimeout(
          () =>
            send(200, {
              id: 'chatcmpl-1',
              object: 'chat.completion',
              model: MODEL,
              choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
            }),
          content === 'slow' ? 1000 : 0,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('the "provider attempt failed" log level', () => {
  const lines: Array<Record<string, unknown>> = [];
  const received = { count: 0 };
  let upstream: Server;
  let otel: RunningTelemetry;
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    upstream = await startUpstream(received);
    const env = { PORT: '0', HEALTH_TRACKER_INTERVAL_MS: '3600000', ATTEMPT_TIMEOUT_MS: '5000' };
    otel = startTelemetry({
      serviceName: 'gateway-under-test',
      hostMetrics: false,
      traces: false,
      logStream: null,
      contextManager: loadContextManagerChoice(env),
      env: {},
    });
    const logger = new StructuredLogger({
      level: 'debug',
      stream: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gateway = createGateway({
      config: { ...loadGatewaySettings(env), providers: [{ name: 'acme', baseUrl: base, models: [MODEL] }] },
      otel,
      logger,
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close();
    await otel?.shutdown();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  const chat = (content: string, signal?: AbortSignal): Promise<Response> =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatBody(MODEL), messages: [{ role: 'user', content }] }),
      ...(signal !== undefined ? { signal } : {}),
    });
  const attemptLogs = (level?: string): Array<Record<string, unknown>> =>
    lines.filter(
      (line) => line['msg'] === 'provider attempt failed' && (level === undefined || line['level'] === level),
    );

  it('logs a client error and a cancellation at debug, and a provider failure at warn', async () => {
    // A client sending ten bad requests (the upstream answers 400, passed back to it).
    for (let sent = 0; sent < 10; sent++) expect((await chat('bad')).status).toBe(400);
    // A client that hangs up while the provider works on its request.
    const abort = new AbortController();
    const before = received.count;
    const cancelled = chat('slow', abort.signal).catch((error: unknown) => error);
    while (received.count === before) await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    await cancelled;
    const deadline = Date.now() + 5000;
    while (!attemptLogs().some((line) => line['error_type'] === 'cancelled')) {
      if (Date.now() > deadline) throw new Error('no log of the cancelled attempt');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(attemptLogs('warn')).toEqual([]);
    const debug = attemptLogs('debug');
    expect(debug.map((line) => line['error_type']).sort()).toEqual([...Array<string>(10).fill('400'), 'cancelled']);
    expect(debug[0]).toMatchObject({ provider: 'acme', model: MODEL, operation: 'chat', status: 'error' });

    // The provider's own failure is still a warning.
    expect((await chat('down')).status).toBe(502);
    const warn = attemptLogs('warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ provider: 'acme', model: MODEL, status: 'error', error_type: '500' });
    expect(attemptLogs('debug')).toHaveLength(11);
  });
});
