/**
 * OTLP over TLS and mutual TLS, as users configure it: `startTelemetry({ env })` with the standard
 * variables, for each signal (a span, a metric push, a log record) over OTLP/HTTP (`https://`,
 * http/protobuf) and OTLP/gRPC, against real TLS receivers on loopback and certificates `openssl`
 * makes for the run (a private CA, a server and a client certificate it signed, an unrelated CA).
 *
 * The TLS variables are given in `env` only; the others (endpoints, protocol) in both `env` and
 * `process.env`, because the SDK's OTLP/HTTP trace and log exporters read their endpoint from
 * `process.env`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { startOtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { startOtlpReceiver, type ReceiverTls } from '../../../test-support/otlp-receiver.js';
import {
  createTestCertificates,
  opensslAvailable,
  type TestCertificates,
} from '../../../test-support/tls-certificates.js';
import { thrown } from '../../../test-support/thrown.js';
import { CollectingDiagLogger } from '../../telemetry/test/helpers.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

type Transport = 'http/protobuf' | 'grpc';
type Signal = 'traces' | 'metrics' | 'logs';
const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
const TRANSPORTS: readonly Transport[] = ['http/protobuf', 'grpc'];
const CASES = TRANSPORTS.flatMap((transport) => SIGNALS.map((signal) => [transport, signal] as const));

/** A receiver of either transport, seen the same way. */
interface Target {
  /** The signal's endpoint, for `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`. */
  endpoint(signal: Signal): string;
  /** What arrived of `signal`, decoded: span names, metric names or log bodies. */
  received(signal: Signal): string[];
  /** The names of the client certificates the receiver verified, one per request or call. */
  clientCertificates(): Array<string | undefined>;
  /** The handshakes the receiver refused, and why (OTLP/HTTP only: gRPC's TLS server does not say). */
  tlsFailures(): string[] | undefined;
}

let certificates: TestCertificates;
let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
  vi.unstubAllEnvs();
});

async function startTarget(transport: Transport, tls: ReceiverTls | undefined): Promise<Target> {
  if (transport === 'grpc') {
    const receiver = await startOtlpGrpcReceiver(tls === undefined ? {} : { tls });
    closers.push(() => receiver.close());
    return {
      endpoint: () => receiver.url,
      received: (signal) => names(signal, receiver),
      clientCertificates: () => receiver.calls().map((call) => call.clientCertificate),
      tlsFailures: () => undefined,
    };
  }
  const receiver = await startOtlpReceiver(tls === undefined ? {} : { tls });
  closers.push(() => receiver.close());
  return {
    endpoint: (signal) => `${receiver.url}/v1/${signal}`,
    received: (signal) => names(signal, receiver),
    clientCertificates: () => receiver.requests().map((request) => request.clientCertificate),
    tlsFailures: () => receiver.tlsFailures(),
  };
}

function names(
  signal: Signal,
  receiver: {
    spans(): Array<{ name: string }>;
    metrics(): Array<{ name: string }>;
    logRecords(): Array<{ body: unknown }>;
  },
): string[] {
  if (signal === 'traces') return receiver.spans().map((span) => span.name);
  if (signal === 'metrics') return [...new Set(receiver.metrics().map((metric) => metric.name))];
  return receiver.logRecords().map((record) => String(record.body));
}

/** The receiver's TLS: the server certificate the private CA signed (or the unrelated one's), and mTLS on request. */
function serverTls(options: { mutual?: boolean; unrelated?: boolean } = {}): ReceiverTls {
  const prefix = options.unrelated === true ? 'other' : '';
  return {
    key: certificates.read(prefix === '' ? 'serverKey' : 'otherServerKey'),
    cert: certificates.read(prefix === '' ? 'serverCertificate' : 'otherServerCertificate'),
    ...(options.mutual === true ? { clientCa: certificates.read('ca') } : {}),
  };
}

const VARIABLE: Readonly<Record<Signal, string>> = { traces: 'TRACES', metrics: 'METRICS', logs: 'LOGS' };

/** The variables that send `signal` alone over `transport` to `target`, quickly and with a short export timeout. */
function signalEnv(signal: Signal, transport: Transport, target: Target): Record<string, string> {
  return {
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_EXPORTER_OTLP_PROTOCOL: transport,
    [`OTEL_EXPORTER_OTLP_${VARIABLE[signal]}_ENDPOINT`]: target.endpoint(signal),
    ...(signal === 'metrics' ? { OTEL_METRICS_EXPORTER: 'otlp' } : {}),
    ...(signal === 'logs' ? { OTEL_LOGS_EXPORTER: 'otlp' } : {}),
    // A refused handshake may be retried until the timeout: keep it short.
    OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
    OTEL_METRIC_EXPORT_INTERVAL: '3600000',
    OTEL_BSP_SCHEDULE_DELAY: '3600000',
    OTEL_BLRP_SCHEDULE_DELAY: '3600000',
  };
}

/** Start telemetry with `variables` in `env` and `tls` (the TLS variables) in `env` only. */
function start(variables: Record<string, string>, tls: Record<string, string>): RunningTelemetry {
  for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
  running = startTelemetry({
    serviceName: 'tls-test',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    contextManager: 'synchronous',
    env: { ...variables, ...tls },
  });
  return running;
}

/** Record one item of `signal` and flush it: what `forceFlush()` rejected with, if it did. */
async function emit(otel: RunningTelemetry, signal: Signal): Promise<unknown> {
  if (signal === 'traces') otel.tracer.startSpan('span over tls').end();
  else if (signal === 'metrics') otel.telemetry.recordModelInference('openai', 'gpt-4o', 'success', 0.4);
  else otel.logger.warn('log over tls', { provider: 'openai' });
  return otel.forceFlush().then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** How `forceFlush()` names the loss of the one item `emit` recorded. */
const NOT_EXPORTED: Readonly<Record<Signal, RegExp>> = {
  traces: /^@gatewayz\/telemetry-node: forceFlush: 1 span not exported: /,
  metrics: /^@gatewayz\/telemetry-node: forceFlush: metrics not exported \(network_error\): /,
  logs: /^@gatewayz\/telemetry-node: forceFlush: 1 log record not exported: /,
};

const EXPECTED: Readonly<Record<Signal, string>> = {
  traces: 'span over tls',
  metrics: 'model_inference_requests',
  logs: 'log over tls',
};

/** How many items of `signal` our self-metrics count as lost to failed exports. */
function countedFailures(otel: RunningTelemetry, signal: Signal): number {
  const { telemetry } = otel;
  if (signal === 'traces') return telemetry.currentValue('telemetrySpansDropped', { reason: 'export_failed' }) ?? 0;
  if (signal === 'logs') return telemetry.currentValue('telemetryLogsDropped', { reason: 'export_failed' }) ?? 0;
  return (['timeout', 'http_error', 'network_error', 'exporter_error', 'rejected'] as const)
    .map((reason) => telemetry.currentValue('telemetryExportFailures', { signal: 'metrics', reason }) ?? 0)
    .reduce((sum, count) => sum + count, 0);
}

async function expectArrives(otel: RunningTelemetry, signal: Signal, target: Target): Promise<void> {
  expect(await emit(otel, signal)).toBeUndefined();
  expect(target.received(signal)).toContain(EXPECTED[signal]);
  expect(countedFailures(otel, signal)).toBe(0);
}

/** The export fails, is counted, nothing arrives, and shutdown still ends promptly. */
async function expectRefused(otel: RunningTelemetry, signal: Signal, target: Target): Promise<void> {
  const failure = await emit(otel, signal);
  expect(failure).toBeInstanceOf(AggregateError);
  expect((failure as AggregateError).message).toMatch(NOT_EXPORTED[signal]);
  expect(target.received(signal)).toEqual([]);
  expect(countedFailures(otel, signal)).toBeGreaterThanOrEqual(1);
  // Over either transport a refused handshake is a network error: no request was answered.
  if (signal === 'metrics')
    expect(otel.telemetry.currentValue('telemetryExportFailures', { signal, reason: 'network_error' })).toBe(1);
  const started = performance.now();
  await otel.shutdown();
  expect(performance.now() - started).toBeLessThan(5000);
}

describe.skipIf(!opensslAvailable())('OTLP over TLS, through startTelemetry()', () => {
  beforeAll(async () => {
    certificates = await createTestCertificates();
  });
  afterAll(() => certificates?.remove());

  describe.each(CASES)('%s, %s', (transport, signal) => {
    const S = VARIABLE[signal];

    it('arrives when OTEL_EXPORTER_OTLP_CERTIFICATE trusts the private CA', async () => {
      const target = await startTarget(transport, serverTls());
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
      });
      await expectArrives(otel, signal, target);
      expect(target.clientCertificates().every((name) => name === undefined)).toBe(true);
    });

    it('mTLS: arrives with the client key and certificate, and the receiver verified them', async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: certificates.paths.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certificates.paths.clientCertificate,
      });
      await expectArrives(otel, signal, target);
      expect(new Set(target.clientCertificates())).toEqual(new Set(['gatewayz-test-client']));
    });

    it('mTLS: without a client certificate the export is refused and counted, never a crash', async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
      });
      await expectRefused(otel, signal, target);
      // Refused for the missing certificate, after the client trusted the server (not for an unknown CA).
      const refusals = target.tlsFailures();
      if (refusals !== undefined) expect(refusals.join('\n')).toMatch(/peer did not return a certificate/);
    });

    it('a server certificate from an unrelated CA is not accepted, and the failure is counted', async () => {
      const target = await startTarget(transport, serverTls({ unrelated: true }));
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
      });
      await expectRefused(otel, signal, target);
    });

    it(`OTEL_EXPORTER_OTLP_${S}_CERTIFICATE and _CLIENT_* beat the general variables`, async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.otherCa,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: certificates.paths.otherClientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certificates.paths.otherClientCertificate,
        [`OTEL_EXPORTER_OTLP_${S}_CERTIFICATE`]: certificates.paths.ca,
        [`OTEL_EXPORTER_OTLP_${S}_CLIENT_KEY`]: certificates.paths.clientKey,
        [`OTEL_EXPORTER_OTLP_${S}_CLIENT_CERTIFICATE`]: certificates.paths.clientCertificate,
      });
      await expectArrives(otel, signal, target);
      expect(new Set(target.clientCertificates())).toEqual(new Set(['gatewayz-test-client']));
    });

    it(`a wrong OTEL_EXPORTER_OTLP_${S}_CERTIFICATE is not rescued by a right general one`, async () => {
      const target = await startTarget(transport, serverTls());
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        [`OTEL_EXPORTER_OTLP_${S}_CERTIFICATE`]: certificates.paths.otherCa,
      });
      await expectRefused(otel, signal, target);
    });

    it('reads the TLS variables of the env option, not those of process.env', async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      vi.stubEnv('OTEL_EXPORTER_OTLP_CERTIFICATE', certificates.paths.otherCa);
      vi.stubEnv('OTEL_EXPORTER_OTLP_CLIENT_KEY', certificates.paths.otherClientKey);
      vi.stubEnv('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', certificates.paths.otherClientCertificate);
      const otel = start(signalEnv(signal, transport, target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: certificates.paths.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certificates.paths.clientCertificate,
      });
      await expectArrives(otel, signal, target);
    });

    it('without the env option, reads them from process.env', async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      const variables = {
        ...signalEnv(signal, transport, target),
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: certificates.paths.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certificates.paths.clientCertificate,
      };
      for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
      running = startTelemetry({ hostMetrics: false, runtimeMetrics: false, logStream: null });
      await expectArrives(running, signal, target);
    });

    it(`a ${S} CERTIFICATE file that cannot be read is a TelemetryConfigurationError at start-up`, async () => {
      const target = await startTarget(transport, serverTls());
      const missing = `${certificates.directory}/no-such-ca.pem`;
      const variable = `OTEL_EXPORTER_OTLP_${S}_CERTIFICATE`;
      const error = thrown(TelemetryConfigurationError, () =>
        start(signalEnv(signal, transport, target), { [variable]: missing }),
      );
      expect(error).toMatchObject({ option: variable, message: expect.stringContaining('no-such-ca.pem') });
    });
  });

  it('a client key without its certificate is a TelemetryConfigurationError naming the key', async () => {
    const target = await startTarget('http/protobuf', serverTls());
    const error = thrown(TelemetryConfigurationError, () =>
      start(signalEnv('traces', 'http/protobuf', target), {
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: certificates.paths.clientKey,
      }),
    );
    expect(error).toMatchObject({
      option: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY',
      message: expect.stringContaining('CLIENT_CERTIFICATE'),
    });
  });

  it.each([
    ['a CA file without a certificate', { OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: 'clientKey' }, 'CERTIFICATE'],
    [
      'a client key that does not match its certificate',
      {
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: 'clientKey',
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: 'otherClientCertificate',
      },
      'CLIENT_KEY',
    ],
  ] as const)('%s is a TelemetryConfigurationError naming the variable', async (_case, files, variable) => {
    const target = await startTarget('grpc', serverTls());
    const tls = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, certificates.paths[file]]));
    const error = thrown(TelemetryConfigurationError, () => start(signalEnv('logs', 'grpc', target), tls));
    expect(error.option).toBe(`OTEL_EXPORTER_OTLP_LOGS_${variable}`);
  });

  describe.each(SIGNALS)('gRPC endpoint without a scheme, %s', (signal) => {
    const S = VARIABLE[signal];
    const hostPort = (target: Target): string => target.endpoint(signal).replace(/^https?:\/\//, '');

    it('is TLS, trusting OTEL_EXPORTER_OTLP_CERTIFICATE', async () => {
      const target = await startTarget('grpc', serverTls());
      const variables = {
        ...signalEnv(signal, 'grpc', target),
        [`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`]: hostPort(target),
      };
      const otel = start(variables, { OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca });
      await expectArrives(otel, signal, target);
    });

    it(`is plaintext with OTEL_EXPORTER_OTLP_${S}_INSECURE=true`, async () => {
      const target = await startTarget('grpc', undefined);
      const variables = {
        ...signalEnv(signal, 'grpc', target),
        [`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`]: hostPort(target),
      };
      const otel = start(variables, {
        [`OTEL_EXPORTER_OTLP_${S}_INSECURE`]: 'true',
        OTEL_EXPORTER_OTLP_INSECURE: 'false',
      });
      await expectArrives(otel, signal, target);
    });
  });

  describe.each(CASES)('%s, %s: certificates rotated in their files', (transport, signal) => {
    /** A copy of `names` in a fresh directory, as a certificate manager would mount them. */
    function mounted(names: Record<string, keyof TestCertificates['paths']>): Record<string, string> {
      const directory = mkdtempSync(join(tmpdir(), 'otlp-tls-rotation-'));
      closers.push(async () => rmSync(directory, { recursive: true, force: true }));
      return Object.fromEntries(
        Object.entries(names).map(([file, name]) => {
          const path = join(directory, file);
          writeFileSync(path, certificates.read(name));
          return [file, path];
        }),
      );
    }
    const rotate = (path: string, name: keyof TestCertificates['paths']): void =>
      writeFileSync(path, certificates.read(name));
    // The files are checked once a second.
    const nextCheck = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));
    const variables = (target: Target): Record<string, string> => signalEnv(signal, transport, target);
    /**
     * The export of the files as they were is refused. Over gRPC that is left out: refused handshakes
     * put the channel in a reconnect backoff (1 s, growing 1.6× a time) that decides when it tries
     * the new files, which a test cannot wait for reliably; the channel's first connection after
     * the change shows it uses them, and otlp-tls-reload.test.ts follows a live channel's updates.
     */
    const expectRefusedFirst = async (otel: RunningTelemetry, target: Target): Promise<void> => {
      if (transport === 'grpc') return;
      expect((await emit(otel, signal)) as Error).toBeInstanceOf(AggregateError);
      expect(target.received(signal)).toEqual([]);
    };

    it('a client certificate replaced in its files is presented on the next export, without a restart', async () => {
      const target = await startTarget(transport, serverTls({ mutual: true }));
      // The certificate in the files is not one the collector trusts (an expired one, say).
      const files = mounted({ 'tls.key': 'otherClientKey', 'tls.crt': 'otherClientCertificate' });
      const otel = start(variables(target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: files['tls.key']!,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: files['tls.crt']!,
      });
      await expectRefusedFirst(otel, target);
      rotate(files['tls.key']!, 'clientKey');
      rotate(files['tls.crt']!, 'clientCertificate');
      await nextCheck();
      expect(await emit(otel, signal)).toBeUndefined();
      expect(target.received(signal)).toContain(EXPECTED[signal]);
      expect(target.clientCertificates().filter((name) => name !== undefined)).toEqual(['gatewayz-test-client']);
    });

    it('a CA replaced in its file is trusted on the next export', async () => {
      const target = await startTarget(transport, serverTls({ unrelated: true }));
      const files = mounted({ 'ca.crt': 'ca' });
      const otel = start(variables(target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: files['ca.crt']!,
      });
      await expectRefusedFirst(otel, target);
      rotate(files['ca.crt']!, 'otherCa');
      await nextCheck();
      expect(await emit(otel, signal)).toBeUndefined();
      expect(target.received(signal)).toContain(EXPECTED[signal]);
    });

    it('a rotation caught half-way keeps the certificates read before, with one warning, until the files agree', async () => {
      const logger = new CollectingDiagLogger().install();
      closers.push(async () => CollectingDiagLogger.uninstall());
      const target = await startTarget(transport, serverTls({ mutual: true }));
      const files = mounted({ 'tls.key': 'clientKey', 'tls.crt': 'clientCertificate' });
      const otel = start(variables(target), {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certificates.paths.ca,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: files['tls.key']!,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: files['tls.crt']!,
      });
      // Only the key has been replaced: it does not match the certificate in the other file.
      rotate(files['tls.key']!, 'otherClientKey');
      await nextCheck();
      expect(await emit(otel, signal)).toBeUndefined();
      await nextCheck();
      expect(await emit(otel, signal)).toBeUndefined();
      expect(
        logger.warnings.filter((warning) => warning.includes('OTLP TLS files changed but cannot be used yet')),
      ).toHaveLength(1);
      // The certificate follows: the new pair is used (and this collector does not trust it). A gRPC
      // channel keeps the connection it has, so only OTLP/HTTP (a new connection per rotation) shows it.
      if (transport === 'grpc') return;
      rotate(files['tls.crt']!, 'otherClientCertificate');
      await nextCheck();
      expect((await emit(otel, signal)) as Error).toBeInstanceOf(AggregateError);
    });
  });
});
