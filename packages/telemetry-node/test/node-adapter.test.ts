import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHandler, toNodeListener, type MetricsSource } from '../src/index.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serve `handler` on a loopback port; resolves with its port. */
async function serve(handler: Parameters<typeof toNodeListener>[0]): Promise<number> {
  server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A body that produces `chunks` chunks of `size` bytes on demand and records how far it got. */
function countingBody(chunks: number, size: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled === chunks) return controller.close();
        state.pulled++;
        controller.enqueue(new Uint8Array(size).fill(120));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

describe('toNodeListener (writeFetchResponse underneath)', () => {
  it('streams a body of many chunks completely, with status and headers', async () => {
    const { body, state } = countingBody(200, 64 * 1024);
    const port = await serve(async () => new Response(body, { status: 201, headers: { 'x-test': 'yes' } }));
    const received = await new Promise<{ status: number; header: string; bytes: number }>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, header: String(response.headers['x-test']), bytes }),
        );
      })
        .on('error', reject)
        .end();
    });
    expect(received).toEqual({ status: 201, header: 'yes', bytes: 200 * 64 * 1024 });
    expect(state.pulled).toBe(200);
  });

  it('answers HEAD without a body and releases the body stream', async () => {
    const { body, state } = countingBody(1000, 1024);
    const port = await serve(async () => new Response(body, { headers: { 'content-type': 'text/plain' } }));
    const status = await new Promise<number>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/', method: 'HEAD' }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
    await expect.poll(() => state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(1000);
  });

  it('stops reading the body when the client disconnects mid-stream', async () => {
    // 1 GiB if read to the end: the client reads a little and hangs up.
    const { body, state } = countingBody(16 * 1024, 64 * 1024);
    const port = await serve(async () => new Response(body));
    await new Promise<void>((resolve, reject) => {
      const outgoing = request({ port, host: '127.0.0.1', path: '/' }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > 1024 * 1024) {
            outgoing.destroy();
            resolve();
          }
        });
      });
      outgoing.on('error', () => {});
      outgoing.on('response', () => {});
      outgoing.end();
      setTimeout(() => reject(new Error('no data')), 10_000);
    });
    await expect.poll(() => state.cancelled, { timeout: 5_000 }).toBe(true);
    expect(state.pulled).toBeLessThan(16 * 1024);
  });

  it('answers 500 with a JSON error when the handler rejects before the head is sent', async () => {
    const port = await serve(async () => {
      throw new Error('boom');
    });
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ error: { message: 'Internal error', type: 'server_error' } });
  });

  it('answers 400 to a request whose target or Host header make no URL, and keeps serving', async () => {
    const seen: string[] = [];
    const port = await serve(async (incoming) => {
      seen.push(new URL(incoming.url).pathname);
      return new Response('ok');
    });
    /** One request written as raw bytes (fetch cannot send these); the status line and body. */
    const raw = (head: string): Promise<{ status: string; body: string }> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
        socket.on('error', reject);
        socket.on('close', () =>
          resolve({ status: text.split('\r\n')[0] ?? '', body: text.split('\r\n\r\n')[1] ?? '' }),
        );
      });
    for (const head of ['GET /metrics HTTP/1.1\r\nHost: a b', 'GET /metrics HTTP/1.1\r\nHost: localhost:99999']) {
      const answer = await raw(head);
      expect(answer.status, head).toBe('HTTP/1.1 400 Bad Request');
      expect(JSON.parse(answer.body)).toEqual({
        error: { message: 'Invalid request target or Host header', type: 'invalid_request_error' },
      });
    }
    // A target that starts with two slashes is a path, not a host.
    expect((await raw('GET //metrics HTTP/1.1\r\nHost: localhost')).status).toBe('HTTP/1.1 200 OK');
    expect(seen).toEqual(['//metrics']);
    // The process and the server are still up.
    expect((await fetch(`http://127.0.0.1:${port}/after`)).status).toBe(200);
  });

  it('writes an empty body for a null-body response', async () => {
    const port = await serve(async () => new Response(null, { status: 204 }));
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.status).toBe(204);
    expect(await answer.text()).toBe('');
  });

  it('cuts the transfer, not ends it, when the body fails part-way', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++pulled === 4) controller.error(new Error('body failed'));
        else controller.enqueue(new TextEncoder().encode(`line ${pulled}\n`));
      },
    });
    const port = await serve(async () => new Response(body));
    const outcome = await new Promise<string>((resolve) => {
      request({ port, host: '127.0.0.1', path: '/' }, (response) => {
        response.resume();
        response.on('end', () => resolve('complete'));
        response.on('error', () => resolve('cut'));
        response.on('aborted', () => resolve('cut'));
      })
        .on('error', () => resolve('cut'))
        .end();
    });
    // Ended normally, the three lines looked like the whole body under a 200.
    expect(outcome).toBe('cut');
  });

  it.each(['none', 'gzip'] as const)(
    'makes a scrape whose serialisation fails part-way fail (compression %s), not a 200 with a truncated body',
    async (compression) => {
      const points = Array.from({ length: 1200 }, (_, index) => ({
        startTime: [0, 0] as [number, number],
        endTime: [0, 0] as [number, number],
        attributes: { i: String(index) },
        value: index,
      }));
      // Past the first chunks of the exposition: the head (200) is sent by then.
      Object.defineProperty(points[1100], 'value', {
        get() {
          throw new Error('boom mid-serialisation');
        },
      });
      const source: MetricsSource = {
        collect: async () => ({
          errors: [],
          resourceMetrics: {
            resource: { attributes: {} },
            scopeMetrics: [
              {
                scope: { name: 's' },
                metrics: [
                  {
                    descriptor: { name: 'g', description: 'd', unit: '', valueType: 1, type: 'OBSERVABLE_GAUGE' },
                    dataPointType: 2,
                    aggregationTemporality: 1,
                    dataPoints: points,
                  },
                ],
              },
            ],
          },
        }),
      } as unknown as MetricsSource;
      const port = await serve(createMetricsHandler({ source, compression }));
      // The head may have gone out (uncompressed) or not (gzip had flushed nothing yet): either way
      // the scrape must fail, where it used to read a 200 with a truncated (or empty) body.
      const scrape = fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': 'gzip' } }).then(
        (answer) => answer.text(),
      );
      await expect(scrape).rejects.toThrow();
    },
  );

  it.each(['none', 'gzip'] as const)(
    'answers 500 with the JSON error when serialisation fails before anything is sent (compression %s)',
    async (compression) => {
      class PullReader extends MetricReader {
        protected override onForceFlush(): Promise<void> {
          return Promise.resolve();
        }
        protected override onShutdown(): Promise<void> {
          return Promise.resolve();
        }
      }
      const reader = new PullReader();
      new MeterProvider({ readers: [reader] })
        .getMeter('scope')
        .createObservableGauge('queue_depth')
        .addCallback((result) => result.observe(3));
      // The first point fails to serialise: inside the first chunks, before any byte of the answer.
      const source: MetricsSource = {
        collect: async () => {
          const collection = await reader.collect();
          const point = collection.resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0] as object;
          Object.defineProperty(point, 'value', {
            get() {
              throw new Error('boom in the first chunk');
            },
          });
          return collection;
        },
      };
      const port = await serve(createMetricsHandler({ source, compression }));
      const answer = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
      // Uncompressed, the head (200) went out before the first chunk was serialised, and the
      // transfer was then cut.
      expect(answer.status).toBe(500);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await answer.json()).toEqual({
        error: {
          message: 'Collecting metrics failed; see the server log',
          type: 'invalid_request_error',
          code: 'collection_failed',
          param: null,
        },
      });
    },
  );
});
