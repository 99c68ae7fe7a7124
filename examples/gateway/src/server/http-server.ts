import type { Server } from 'node:http';
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
   * Stop accepting; wait for in-flight requests (streams included) at most `timeoutMs`, then drop
   * the rest, after calling `onDeadline` when there are any.
   */
  close(timeoutMs: number, onDeadline?: () => void): Promise<void>;
}

/** Serve `app` through @hono/node-server (a `node:http` server) on `port` and `hostname`. */
export function startHttpServer(app: Hono<GatewayEnv>, port: number, hostname: string): HttpServer {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let server: Server | undefined;
  const listening = new Promise<string>((resolve, reject) => {
    const instance = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) => {
      resolve(`http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`);
    }) as Server;
    instance.on('error', reject);
    instance.on('clientError', answerClientError);
    instance.on('request', (_request, response) => {
      inFlight++;
      response.once('close', () => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
    });
    server = instance;
  });
  return {
    listening,
    close: async (timeoutMs, onDeadline) => {
      if (server === undefined) return;
      const instance = server;
      const closed = new Promise<void>((resolve) => instance.close(() => resolve()));
      instance.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (idle = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
        ]);
      }
      if (inFlight > 0) onDeadline?.();
      instance.closeAllConnections();
      await closed;
    },
  };
}
