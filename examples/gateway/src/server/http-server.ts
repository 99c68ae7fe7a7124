import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { answerClientError } from './client-error.js';
import type { GatewayEnv } from './gateway-env.js';

/** An HTTP server that can drain: stop accepting, let in-flight requests finish, then close. */
export interface HttpServer {
  /** Resolves with the base URL once the server listens; rejects when it cannot. */
  readonly listening: Promise<string>;
  /**
   * Stop accepting, and keep no connection open once its answer is out; wait for in-flight
   * requests (streams included) at most `timeoutMs`. When some are still running then, call
   * `onDeadline`, which should make them answer at once (see `InFlightWork.markCut`), wait at most
   * `graceMs` for their answers to go out, then drop whatever is left.
   */
  close(timeoutMs: number, onDeadline?: () => void, graceMs?: number): Promise<void>;
}

/** Serve `app` through @hono/node-server (a `node:http` server) on `port` and `hostname`. */
export function startHttpServer(app: Hono<GatewayEnv>, port: number, hostname: string): HttpServer {
  const open = new Set<ServerResponse>();
  let closing = false;
  let idle: (() => void) | undefined;
  let server: Server | undefined;
  const listening = new Promise<string>((resolve, reject) => {
    const instance = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) => {
      resolve(`http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`);
    }) as Server;
    instance.on('error', reject);
    instance.on('clientError', answerClientError);
    instance.on('request', (_request, response: ServerResponse) => {
      open.add(response);
      // A request on a kept-alive connection while the server is closing.
      if (closing) closeAfterAnswer(response);
      response.once('close', () => {
        open.delete(response);
        // Its answer is out (a response ends at 'finish', before 'close'): a kept-alive connection
        // would otherwise stay open, and take new requests, until every other request is done.
        if (closing) instance.closeIdleConnections();
        if (open.size === 0) idle?.();
      });
    });
    server = instance;
  });
  /** Resolves once no request is in flight, or after `ms`. */
  const drained = async (ms: number): Promise<void> => {
    if (open.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (idle = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  };
  return {
    listening,
    close: async (timeoutMs, onDeadline, graceMs = 0) => {
      if (server === undefined) return;
      const instance = server;
      closing = true;
      const closed = new Promise<void>((resolve) => instance.close(() => resolve()));
      instance.closeIdleConnections();
      for (const response of open) closeAfterAnswer(response);
      await drained(timeoutMs);
      if (open.size > 0) {
        onDeadline?.();
        await drained(graceMs);
      }
      instance.closeAllConnections();
      await closed;
    },
  };
}

/**
 * Answer with `connection: close` when the answer has not started: Node then ends the connection
 * once the answer is out, and the client does not send another request on it.
 */
function closeAfterAnswer(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('connection', 'close');
}
