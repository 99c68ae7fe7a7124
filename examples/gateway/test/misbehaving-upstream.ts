import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { startTelemetry, StructuredLogger, type RunningTelemetry } from '@gatewayz/telemetry-node';
import { createGateway, loadContextManagerChoice, loadGatewaySettings } from '../src/index.js';
import type { ProviderConfig } from '../src/config.js';

/*
 * Loopback upstreams for the tests of answers the gateway cannot relay: one that misbehaves as the
 * model name says, one that always answers well, and the gateway in front of them with its log
 * captured.
 */

/** How the misbehaving upstream answers each model (any other model is answered well). */
export const MISBEHAVIOURS = {
  /** 301 to the same path over https, with a query that must stay out of the logs. */
  moved: 'moved-301',
  /** 307 with an HTML body, as a server redirecting http:// to https:// sends. */
  redirected: 'moved-307',
  /** 304 with a `Location`: not a redirect, though it names a place. */
  notModified: 'not-modified-304',
  /** A JSON completion to a request with `stream: true`: the provider ignored it. */
  json: 'json-for-stream',
  /** 200 with an HTML page. */
  html: 'html-200',
  /** An SSE stream gzip-encoded, which the gateway never asks for. */
  gzip: 'gzip-200',
  /** A good SSE stream sent with `content-encoding: none`, which changes nothing. */
  encodingNone: 'encoding-none-200',
  /** A good SSE stream sent as `text/plain`: a wrong label on a readable stream. */
  textPlain: 'text-plain-200',
  /** An SSE stream whose first event is an error carrying HTTP status 502 (OpenRouter's overload). */
  errorFirst: 'error-first',
  /** An SSE stream whose first event is an error carrying 400: the client's request is wrong. */
  clientErrorFirst: 'client-error-first',
  /** An SSE stream that sends its headers and then nothing. */
  silent: 'silent-200',
} as const;

export const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

const completion = (model: string, content: string): Record<string, unknown> => ({
  id: 'chatcmpl-x',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: USAGE,
});

/** A good chat stream saying `content`, with its usage and `[DONE]`. */
export function goodStream(model: string, content: string): string {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices, ...extra })}\n\n`;
  return (
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]) +
    chunk([{ index: 0, delta: { content }, finish_reason: null }]) +
    chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
    chunk([], { usage: USAGE }) +
    'data: [DONE]\n\n'
  );
}

export interface LoopbackUpstream {
  baseUrl: string;
  /** Requests received, by model. */
  received: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A loopback upstream answering each request (JSON or streamed) with `answer`, given the request's
 * model, `stream` flag, the response, the origin it was called as and the request's path.
 */
export async function startUpstream(
  answer: (model: string, stream: boolean, response: ServerResponse, origin: string, path: string) => void,
): Promise<LoopbackUpstream> {
  const received = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (piece: Buffer) => (text += String(piece)));
    request.on('end', () => {
      const body = JSON.parse(text) as { model: string; stream?: boolean };
      received.set(body.model, (received.get(body.model) ?? 0) + 1);
      answer(body.model, body.stream === true, response, `https://${request.headers.host ?? ''}`, request.url ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The upstream that always answers well, saying "from backup". */
export function startGoodUpstream(): Promise<LoopbackUpstream> {
  return startUpstream((model, stream, response) => {
    if (stream) response.writeHead(200, { 'content-type': 'text/event-stream' }).end(goodStream(model, 'from backup'));
    else
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(completion(model, 'from backup')));
  });
}

/** The upstream that misbehaves as `MISBEHAVIOURS` says, by model. */
export function startMisbehavingUpstream(): Promise<LoopbackUpstream> {
  return startUpstream((model, stream, response, origin) => {
    const sse = { 'content-type': 'text/event-stream' };
    switch (model) {
      case MISBEHAVIOURS.moved:
        response.writeHead(301, { location: `${origin}/v1/chat/completions?token=secret` }).end();
        return;
      case MISBEHAVIOURS.redirected:
        response
          .writeHead(307, { location: `${origin}/v1/chat/completions`, 'content-type': 'text/html' })
          .end('<a href="https://example.test">moved</a>');
        return;
      case MISBEHAVIOURS.notModified:
        response.writeHead(304, { location: `${origin}/v1/chat/completions` }).end();
        return;
      case MISBEHAVIOURS.json:
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(model, 'json')));
        return;
      case MISBEHAVIOURS.html:
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>hello</body></html>');
        return;
      case MISBEHAVIOURS.gzip:
        response.writeHead(200, { ...sse, 'content-encoding': 'gzip' }).end(gzipSync(goodStream(model, 'compressed')));
        return;
      case MISBEHAVIOURS.encodingNone:
        response.writeHead(200, { ...sse, 'content-encoding': 'none' }).end(goodStream(model, 'uncompressed'));
        return;
      case MISBEHAVIOURS.textPlain:
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(goodStream(model, 'mislabelled'));
        return;
      case MISBEHAVIOURS.errorFirst:
      case MISBEHAVIOURS.clientErrorFirst: {
        const code = model === MISBEHAVIOURS.errorFirst ? 502 : 400;
        const message = code === 502 ? 'overloaded upstream' : 'prompt too long for this model';
        response.writeHead(200, sse).end(`data: ${JSON.stringify({ error: { message, code } })}\n\n`);
        return;
      }
      case MISBEHAVIOURS.silent:
        response.writeHead(200, sse).flushHeaders();
        return;
      default:
        if (stream) response.writeHead(200, sse).end(goodStream(model, 'from odd'));
        else
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(model, 'odd')));
    }
  });
}

export interface LoggedGateway {
  url: string;
  /** The gateway's log lines, parsed. */
  lines: Array<Record<string, unknown>>;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/** The gateway in this process in front of `providers`, with `env` and its log (debug and up) captured. */
export async function startLoggedGateway(
  providers: ProviderConfig[],
  env: Record<string, string> = {},
): Promise<LoggedGateway> {
  const settingsEnv = { PORT: '0', HEALTH_TRACKER_INTERVAL_MS: '3600000', ATTEMPT_TIMEOUT_MS: '5000', ...env };
  const otel: RunningTelemetry = startTelemetry({
    serviceName: 'gateway-under-test',
    hostMetrics: false,
    traces: false,
    logStream: null,
    contextManager: loadContextManagerChoice(settingsEnv),
    env: {},
  });
  const lines: Array<Record<string, unknown>> = [];
  const logger = new StructuredLogger({
    level: 'debug',
    stream: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const gateway = createGateway({ config: { ...loadGatewaySettings(settingsEnv), providers }, otel, logger });
  const url = await gateway.listen();
  return {
    url,
    lines,
    scrape: async () => (await fetch(`${url}/metrics`)).text(),
    close: async () => {
      await gateway.close();
      await otel.shutdown();
    },
  };
}

/** POST `body` to `path` of the gateway at `url`. */
export function post(url: string, path: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
