import { once } from 'node:events';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientGone } from '../src/request/request-context.js';
import { createInitialSeries } from '../src/server/initial-series.js';
import { InFlightWork } from '../src/server/in-flight-work.js';
import { sampleSum, startTestGateway, type TestGateway } from './harness.js';

/*
 * The edges of the server and the request plumbing the other tests leave open: the answer to a
 * request Node's parser refuses for its chunk extensions, and to a HEAD request it refuses, the series created at start-up at the
 * limit's boundaries, and a request's `ClientGone` once its answer is out (a shutdown cut
 * registered for it is let go of).
 */

/**
 * Write `raw` on a new connection to `url` and return everything the gateway sends back before it
 * ends. Parts after the first are written 50 ms apart, so the server reads them separately.
 */
function rawAnswer(url: string, raw: string | readonly string[], allowHalfOpen = false): Promise<string> {
  const [first = '', ...later] = typeof raw === 'string' ? [raw] : raw;
  const socket = connect({ port: Number(new URL(url).port), host: '127.0.0.1', allowHalfOpen });
  return new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      socket.destroy();
      resolve(text);
    });
    socket.on('error', reject);
    socket.write(first);
    later.forEach((part, index) => setTimeout(() => socket.write(part), 50 * (index + 1)));
  });
}

describe("a request whose chunk extensions are over Node's limit", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  // Node refuses chunk extensions over 16 KiB (HPE_CHUNK_EXTENSIONS_OVERFLOW).
  const overflowing = `1;ext=${'a'.repeat(20_000)}\r\n`;

  it('is answered 413 request_too_large in the JSON error shape, on a connection that closes', async () => {
    const answer = await rawAnswer(
      gw.url,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${overflowing}`,
    );
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 413 Payload Too Large',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    expect(JSON.parse(body)).toEqual({
      error: {
        message: 'Chunk extensions are too large',
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
      },
    });
  });

  it('is counted as the 413 it was answered when the app was reading its body', async () => {
    const before = await gw.scrape();
    const counted = (text: string, status: string): number =>
      sampleSum(text, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status }) -
      sampleSum(before, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status });
    const answer = await rawAnswer(
      gw.url,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mod\r\n${overflowing}`,
      true,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    let after = await gw.scrape();
    for (let attempt = 0; attempt < 100 && counted(after, '413') + counted(after, '400') === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await gw.scrape();
    }
    expect(counted(after, '413')).toBe(1);
    expect(counted(after, '400')).toBe(0);
  });
});

// A HEAD answer carries no content (RFC 9110, 9.3.2): a client reading one takes bytes after the
// header block for the next answer, and Node's fails the request instead of reading the status.
describe('a HEAD request the HTTP parser refuses', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  const oversized = 'a'.repeat(20_000);

  it('is answered 431 without content, which a Node client reads as the status', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const outgoing = httpRequest(
        `${gw.url}/health`,
        { method: 'HEAD', headers: { 'x-padding': oversized } },
        (answer) => {
          answer.resume();
          answer.on('end', () => resolve(answer.statusCode ?? 0));
        },
      );
      outgoing.on('error', (error) => resolve(`client error: ${error.message}`));
      outgoing.end();
    });
    expect(status).toBe(431);
  });

  it('has Content-Length 0 and nothing after the header block, where a GET gets the JSON error', async () => {
    const head = await rawAnswer(gw.url, `HEAD /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${oversized}\r\n\r\n`);
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head.toLowerCase()).toContain('content-length: 0\r\n');
    expect(head.endsWith('\r\n\r\n')).toBe(true);

    const get = await rawAnswer(gw.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${oversized}\r\n\r\n`);
    const [getHead = '', body = ''] = get.split('\r\n\r\n');
    expect(getHead).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(body).error.code).toBe('request_headers_too_large');
    expect(getHead.toLowerCase()).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
  });

  it('gets the JSON error when its request line came in an earlier read (the method is not known)', async () => {
    const answer = await rawAnswer(gw.url, ['HEAD /health HTTP/1.1\r\nHost: x\r\n', `X-Padding: ${oversized}\r\n\r\n`]);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(body).error.code).toBe('request_headers_too_large');
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });
});

describe('the series createInitialSeries creates within half of maxSeriesPerMetric', () => {
  /** A logger that keeps what it is given. */
  const collectingLogger = (): {
    info(message: string, attributes?: Record<string, unknown>): void;
    warn(message: string, attributes?: Record<string, unknown>): void;
    lines: Array<{ level: string; message: string; attributes?: Record<string, unknown> }>;
  } => {
    const lines: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
    return {
      lines,
      info: (message, attributes) => lines.push({ level: 'info', message, ...(attributes ? { attributes } : {}) }),
      warn: (message, attributes) => lines.push({ level: 'warn', message, ...(attributes ? { attributes } : {}) }),
    };
  };
  const provider = (name: string, models: string[]) => ({ name, baseUrl: 'http://127.0.0.1:1/v1', models });

  it('creates a provider whose series fill the half exactly', () => {
    // 2 models × 5 statuses = 10 series, half of 20.
    const telemetry = new GatewayTelemetry({ maxSeriesPerMetric: 20 });
    const result = createInitialSeries(telemetry, [provider('a', ['a1', 'a2'])], collectingLogger());
    expect(result).toEqual({ series: 10, skippedProviders: [] });
    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(10);
  });

  it('rounds half of an odd limit down', () => {
    // Half of 19 is 9 series: the provider's 10 do not fit.
    const telemetry = new GatewayTelemetry({ maxSeriesPerMetric: 19 });
    const result = createInitialSeries(telemetry, [provider('a', ['a1', 'a2'])], collectingLogger());
    expect(result).toEqual({ series: 0, skippedProviders: ['a'] });
    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(0);
  });

  it('counts the series already there against the half', () => {
    // 6 series there already; a provider's 15 would make 21 of the 20 allowed.
    const telemetry = new GatewayTelemetry({ maxSeriesPerMetric: 40 });
    for (let index = 0; index < 6; index++) telemetry.recordModelInference('earlier', `m${index}`, 'success');
    const log = collectingLogger();
    const result = createInitialSeries(telemetry, [provider('a', ['a1', 'a2', 'a3'])], log);
    expect(result).toEqual({ series: 0, skippedProviders: ['a'] });
    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(6);
    expect(log.lines).toMatchObject([
      { level: 'warn', attributes: { providers: 'a', series_needed: 15, series_limit: 40 } },
    ]);
  });

  it('logs nothing when there is no provider', () => {
    const log = collectingLogger();
    expect(createInitialSeries(new GatewayTelemetry(), [], log)).toEqual({ series: 0, skippedProviders: [] });
    expect(log.lines).toEqual([]);
  });
});

describe("a request's ClientGone once its answer is out", () => {
  /** A loopback server that hands each request's response to the test. */
  let server: Server;
  let port: number;
  let arrived: ((response: ServerResponse) => void) | undefined;
  beforeAll(async () => {
    server = createServer((_request, response) => arrived?.(response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** The server's response to a new request, not answered yet. */
  async function opened(): Promise<ServerResponse> {
    const came = new Promise<ServerResponse>((resolve) => (arrived = resolve));
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false });
    outgoing.on('response', (message) => message.resume());
    outgoing.end('{}');
    return came;
  }

  /** Answer `response` in full and wait until its connection closed. */
  async function answerAndClose(response: ServerResponse): Promise<void> {
    const closed = once(response, 'close');
    response.end('done');
    await closed;
  }

  it('is not aborted when made after its answer completed and its connection closed', async () => {
    const response = await opened();
    await answerAndClose(response);
    expect(response.destroyed).toBe(true);
    expect(new ClientGone(response).aborted).toBe(false);
  });

  it('lets go of the shutdown cut when its answer completed, so a later cut does not abort it', async () => {
    const response = await opened();
    const inFlight = new InFlightWork();
    let registered = 0;
    let unregistered = 0;
    const gone = new ClientGone(response, undefined, (cut) => {
      registered++;
      const unregister = inFlight.whenCut(cut);
      return () => {
        unregistered++;
        unregister();
      };
    });
    let called = 0;
    gone.addEventListener('abort', () => called++);
    await answerAndClose(response);
    expect([registered, unregistered]).toEqual([1, 1]);
    inFlight.markCut();
    expect(gone.aborted).toBe(false);
    expect(called).toBe(0);
  });
});
