import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { probeChatCompletion, servedLoad } from '../lib/gateway-load.mjs';

/** The fields of an autocannon result that `servedLoad` reads. */
const autocannonResult = (average: number, total: number, non2xx: number, errors = 0) => ({
  requests: { average, total },
  non2xx,
  errors,
  timeouts: Math.min(errors, 1),
});

describe('servedLoad', () => {
  it('counts 2xx answers only: a gateway answering 500 to most requests does not read as fast', () => {
    const served = servedLoad(autocannonResult(1000, 1000, 750, 3));
    expect(served.requestsPerSec).toBe(250);
    expect(served.served).toBe(250);
    // Errors (timeouts among them) got no response: failures, but not in autocannon's total.
    expect(served.failures).toBe(753);
  });

  it('serves nothing when every answer failed', () => {
    expect(servedLoad(autocannonResult(5000, 5000, 5000))).toMatchObject({
      requestsPerSec: 0,
      served: 0,
      failures: 5000,
    });
    expect(servedLoad(autocannonResult(0, 0, 0, 10))).toMatchObject({ requestsPerSec: 0, served: 0, failures: 10 });
  });

  it("keeps autocannon's own req/s when every answer was 2xx", () => {
    expect(servedLoad(autocannonResult(1234.5, 1240, 0))).toEqual({
      requestsPerSec: 1234.5,
      served: 1240,
      responses: 1240,
      failures: 0,
    });
  });
});

describe('probeChatCompletion', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());
  const gatewayAnswering = async (status: number, body: string) => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(status).end(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { name: 'traced', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };

  it('refuses a gateway that answers anything but 200, before it is measured', async () => {
    const gateway = await gatewayAnswering(500, '{"error":"upstream refused"}');
    await expect(probeChatCompletion(gateway, { model: 'm' }, 'nonStreaming')).rejects.toThrow(
      /nonStreaming probe of traced answered 500: \{"error":"upstream refused"\}/,
    );
  });

  it('refuses a streamed answer that does not end with [DONE], and passes a complete one', async () => {
    const cut = await gatewayAnswering(200, 'data: {"choices":[]}\n\n');
    await expect(probeChatCompletion(cut, { stream: true }, 'streaming')).rejects.toThrow(/not a complete SSE stream/);
    server!.close();
    const complete = await gatewayAnswering(200, 'data: {"choices":[]}\n\ndata: [DONE]\n\n');
    await expect(probeChatCompletion(complete, { stream: true }, 'streaming')).resolves.toBeUndefined();
  });
});
