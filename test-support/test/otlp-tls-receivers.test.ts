/**
 * The TLS and mutual-TLS modes of the OTLP receivers, against real clients (`node:https`,
 * `@grpc/grpc-js`) and certificates `openssl` makes for the run: a client that trusts the private
 * CA gets through, one that does not is refused; with a client CA, only a client presenting a
 * certificate that CA signed is served, and the receiver records which certificate it verified.
 */
import { request } from 'node:https';
import { Client, Metadata, credentials, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OTLP_GRPC_METHODS, startOtlpGrpcReceiver } from '../otlp-grpc-receiver.js';
import { startOtlpReceiver, type ReceiverTls } from '../otlp-receiver.js';
import { createTestCertificates, opensslAvailable, type TestCertificates } from '../tls-certificates.js';

const closers: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const TRACE_REQUEST = JSON.stringify({
  resourceSpans: [
    {
      resource: { attributes: [] },
      scopeSpans: [
        {
          scope: { name: 'tls-test' },
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              name: 'over-tls',
              kind: 1,
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
            },
          ],
        },
      ],
    },
  ],
});

interface ClientTls {
  ca?: Buffer;
  key?: Buffer;
  cert?: Buffer;
}

/** POST the trace request over HTTPS: the status, or the client's error message. */
function postTraces(url: string, tls: ClientTls): Promise<number | string> {
  return new Promise((resolve) => {
    const outgoing = request(
      `${url}/v1/traces`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false, ...tls },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', (error) => resolve(error.message));
    outgoing.end(TRACE_REQUEST);
  });
}

/** One empty trace Export call over gRPC: `'OK'` or the client's error message. */
function grpcExport(port: number, channel: ChannelCredentials): Promise<string> {
  const client = new Client(`127.0.0.1:${port}`, channel);
  closers.push(() => client.close());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      OTLP_GRPC_METHODS.traces,
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.alloc(0),
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (error: ServiceError | null) => resolve(error === null ? 'OK' : error.message),
    );
  });
}

describe.skipIf(!opensslAvailable())('OTLP receivers over TLS', () => {
  let certificates: TestCertificates;
  let serverTls: ReceiverTls;
  let mutualTls: ReceiverTls;
  beforeAll(async () => {
    certificates = await createTestCertificates();
    serverTls = { key: certificates.read('serverKey'), cert: certificates.read('serverCertificate') };
    mutualTls = { ...serverTls, clientCa: certificates.read('ca') };
  });
  afterAll(() => certificates?.remove());

  describe('OTLP/HTTP', () => {
    async function receiver(tls: ReceiverTls) {
      const started = await startOtlpReceiver({ tls });
      closers.push(() => started.close());
      return started;
    }

    it('serves HTTPS to a client trusting its CA, and a client that does not is refused', async () => {
      const target = await receiver(serverTls);
      expect(target.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await postTraces(target.url, { ca: certificates.read('ca') })).toBe(200);
      expect(target.spans().map((span) => span.name)).toEqual(['over-tls']);
      expect(target.requests()[0]?.clientCertificate).toBeUndefined();
      expect(await postTraces(target.url, { ca: certificates.read('otherCa') })).toMatch(
        /verify|self[- ]signed|issuer/i,
      );
      expect(target.requestCount).toBe(1);
    });

    it('with a client CA, serves only a client presenting a certificate that CA signed', async () => {
      const target = await receiver(mutualTls);
      const ca = certificates.read('ca');
      const client = { ca, key: certificates.read('clientKey'), cert: certificates.read('clientCertificate') };
      expect(await postTraces(target.url, client)).toBe(200);
      expect(target.requests().map((record) => record.clientCertificate)).toEqual(['gatewayz-test-client']);
      expect(target.tlsFailures()).toEqual([]);

      expect(await postTraces(target.url, { ca })).not.toBe(200);
      const stranger = {
        ca,
        key: certificates.read('otherClientKey'),
        cert: certificates.read('otherClientCertificate'),
      };
      expect(await postTraces(target.url, stranger)).not.toBe(200);
      expect(target.requestCount).toBe(1);
      expect(target.tlsFailures()).toHaveLength(2);
      expect(target.tlsFailures().join('\n')).toMatch(/certificate/i);
    });
  });

  describe('OTLP/gRPC', () => {
    async function receiver(tls: ReceiverTls) {
      const started = await startOtlpGrpcReceiver({ tls });
      closers.push(() => started.close());
      return started;
    }

    it('serves gRPC over TLS to a client trusting its CA, and a client that does not is refused', async () => {
      const target = await receiver(serverTls);
      expect(target.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await grpcExport(target.port, credentials.createSsl(certificates.read('ca')))).toBe('OK');
      expect(target.calls().map((call) => [call.status, call.clientCertificate])).toEqual([[0, undefined]]);
      expect(await grpcExport(target.port, credentials.createSsl(certificates.read('otherCa')))).not.toBe('OK');
      expect(await grpcExport(target.port, credentials.createInsecure())).not.toBe('OK');
      expect(target.calls()).toHaveLength(1);
    });

    it('with a client CA, serves only a client presenting a certificate that CA signed', async () => {
      const target = await receiver(mutualTls);
      const ca = certificates.read('ca');
      const client = credentials.createSsl(ca, certificates.read('clientKey'), certificates.read('clientCertificate'));
      expect(await grpcExport(target.port, client)).toBe('OK');
      expect(target.calls().map((call) => call.clientCertificate)).toEqual(['gatewayz-test-client']);

      expect(await grpcExport(target.port, credentials.createSsl(ca))).not.toBe('OK');
      const stranger = credentials.createSsl(
        ca,
        certificates.read('otherClientKey'),
        certificates.read('otherClientCertificate'),
      );
      expect(await grpcExport(target.port, stranger)).not.toBe('OK');
      expect(target.calls()).toHaveLength(1);
    });
  });
});
