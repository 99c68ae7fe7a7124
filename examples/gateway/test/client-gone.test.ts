import { once } from 'node:events';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientGone } from '../src/request/request-context.js';

/** A loopback server that hands each request's response to the test, which answers or not. */
let server: Server;
let port: number;
const responses: ServerResponse[] = [];
let arrived: (() => void) | undefined;

beforeAll(async () => {
  server = createServer((_request, response) => {
    responses.push(response);
    arrived?.();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

/** Send a request and wait until the server has its response; `hangUp` destroys the client side. */
async function open(): Promise<{ response: ServerResponse; hangUp: () => void; answered: Promise<unknown> }> {
  const came = new Promise<void>((resolve) => (arrived = resolve));
  const outgoing = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/' });
  const answered = new Promise((resolve) => {
    outgoing.on('response', (message) => {
      message.resume();
      message.on('end', resolve);
    });
    outgoing.on('error', resolve);
  });
  outgoing.end('{}');
  await came;
  return { response: responses.at(-1)!, hangUp: () => outgoing.destroy(), answered };
}

describe('ClientGone', () => {
  it('aborts once when the client hangs up before the response is complete, as an AbortSignal would', async () => {
    const { response, hangUp } = await open();
    const gone = new ClientGone(response);
    const calls: string[] = [];
    const removed = (): void => void calls.push('removed');
    gone.addEventListener('abort', () => calls.push('first'), { once: true });
    gone.addEventListener('abort', removed);
    gone.addEventListener('abort', () => calls.push('second'));
    gone.removeEventListener('abort', removed);
    expect(gone.aborted).toBe(false);

    hangUp();
    await once(response, 'close');
    expect(gone.aborted).toBe(true);
    expect(calls).toEqual(['first', 'second']);

    // A listener added after the abort is not called (the caller reads `aborted`), and nothing is
    // called twice.
    gone.addEventListener('abort', () => calls.push('late'));
    response.emit('close');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['first', 'second']);
  });

  it('does not abort when the response completed before the connection closed', async () => {
    const { response, answered } = await open();
    const gone = new ClientGone(response);
    let called = 0;
    gone.addEventListener('abort', () => called++);
    const closed = once(response, 'close');
    response.end('done');
    await Promise.all([answered, closed]);
    expect(gone.aborted).toBe(false);
    expect(called).toBe(0);
  });

  it('is aborted from the start when the client already hung up', async () => {
    const { response, hangUp } = await open();
    hangUp();
    await once(response, 'close');
    expect(new ClientGone(response).aborted).toBe(true);
  });

  it('still calls the other listeners when one throws, and hands its error on', async () => {
    const { response, hangUp } = await open();
    const reported: unknown[] = [];
    const gone = new ClientGone(response, (error) => reported.push(error));
    const failure = new Error('listener failed');
    const calls: string[] = [];
    gone.addEventListener('abort', () => {
      throw failure;
    });
    gone.addEventListener('abort', () => calls.push('after'));
    hangUp();
    await once(response, 'close');
    expect(calls).toEqual(['after']);
    expect(reported).toEqual([failure]);
  });
});
