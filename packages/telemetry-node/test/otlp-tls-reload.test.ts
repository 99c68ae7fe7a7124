/**
 * Certificate rotation, below the exporters: the file watch both OTLP transports use, and the gRPC
 * certificate provider's updates to a live channel's credentials (which a TLS receiver cannot show
 * deterministically: the channel keeps its connection, and after refused handshakes its reconnect
 * backoff decides when it tries again). Real PEM files made by openssl.
 */
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestCertificates,
  opensslAvailable,
  type TestCertificates,
} from '../../../test-support/tls-certificates.js';
import { CollectingDiagLogger } from '../../telemetry/test/helpers.js';
import { OtlpTlsFileWatch } from '../src/env/otlp-tls-reload.js';
import { OtlpGrpcCertificateProvider } from '../src/otlp-grpc/otlp-grpc-certificate-provider.js';

let certificates: TestCertificates;
let directory: string;
let logger: CollectingDiagLogger;

type Name = keyof TestCertificates['paths'];

/** Mounted copies of a client key and certificate and a CA, as a certificate manager writes them. */
function mount(key: Name, cert: Name, ca: Name): { key: string; cert: string; ca: string } {
  const files = { key: join(directory, 'tls.key'), cert: join(directory, 'tls.crt'), ca: join(directory, 'ca.crt') };
  writeFileSync(files.key, certificates.read(key));
  writeFileSync(files.cert, certificates.read(cert));
  writeFileSync(files.ca, certificates.read(ca));
  return files;
}

function watchOf(files: { key: string; cert: string; ca: string }, interval = 0): OtlpTlsFileWatch {
  return new OtlpTlsFileWatch(
    { clientKey: files.key, clientCertificate: files.cert, certificateAuthority: files.ca },
    { key: certificates.read('clientKey'), cert: certificates.read('clientCertificate'), ca: certificates.read('ca') },
    interval,
  );
}

describe.skipIf(!opensslAvailable())('OTLP TLS files, rotated', () => {
  beforeAll(async () => {
    certificates = await createTestCertificates();
  });
  afterAll(() => certificates?.remove());
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
    CollectingDiagLogger.uninstall();
  });
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'otlp-tls-reload-'));
    logger = new CollectingDiagLogger().install();
  });

  it('the watch takes new files when they change, no more often than its interval', () => {
    const files = mount('clientKey', 'clientCertificate', 'ca');
    const watch = watchOf(files, 1000);
    expect(watch.refresh(10_000)).toBe(false);
    writeFileSync(files.key, certificates.read('otherClientKey'));
    writeFileSync(files.cert, certificates.read('otherClientCertificate'));
    // Within the interval of the last check: not looked at yet.
    expect(watch.refresh(10_500)).toBe(false);
    expect(watch.material.cert).toEqual(certificates.read('clientCertificate'));
    expect(watch.refresh(11_000)).toBe(true);
    expect(watch.material.cert).toEqual(certificates.read('otherClientCertificate'));
    expect(watch.material.key).toEqual(certificates.read('otherClientKey'));
    expect(watch.refresh(12_000)).toBe(false);
  });

  it('a key without its certificate, or a missing file, keeps the last good material with one warning each', () => {
    const files = mount('clientKey', 'clientCertificate', 'ca');
    const watch = watchOf(files);
    writeFileSync(files.key, certificates.read('otherClientKey'));
    expect(watch.refresh()).toBe(false);
    expect(watch.refresh()).toBe(false);
    expect(watch.material.key).toEqual(certificates.read('clientKey'));
    expect(logger.warnings.filter((warning) => warning.includes('cannot be used yet'))).toHaveLength(1);
    unlinkSync(files.cert);
    expect(watch.refresh()).toBe(false);
    expect(watch.refresh()).toBe(false);
    expect(logger.warnings.filter((warning) => warning.includes('cannot be used yet'))).toHaveLength(2);
    // The pair completes: taken.
    writeFileSync(files.cert, certificates.read('otherClientCertificate'));
    expect(watch.refresh()).toBe(true);
    expect(watch.material.cert).toEqual(certificates.read('otherClientCertificate'));
    // A CA file that holds no certificate is not taken either.
    writeFileSync(files.ca, 'not a certificate');
    expect(watch.refresh()).toBe(false);
    expect(watch.material.ca).toEqual(certificates.read('ca'));
  });

  it('the gRPC provider gives a channel what the files hold when it connects, then each change', async () => {
    const files = mount('clientKey', 'clientCertificate', 'ca');
    const provider = new OtlpGrpcCertificateProvider(watchOf(files));
    // Changed after start-up, before the channel's first connection.
    writeFileSync(files.ca, certificates.read('otherCa'));
    const cas: Buffer[] = [];
    const identities: Array<Buffer | undefined> = [];
    const onCa = (update: { caCertificate: Buffer } | null): void => void cas.push(update!.caCertificate);
    const onIdentity = (update: { certificate: Buffer } | null): void => void identities.push(update?.certificate);
    provider.addCaCertificateListener(onCa);
    provider.addIdentityCertificateListener(onIdentity);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(cas).toEqual([certificates.read('otherCa')]);
    expect(identities).toEqual([certificates.read('clientCertificate')]);
    // A rotation while the channel lives reaches its listeners on the next check (once a second).
    writeFileSync(files.key, certificates.read('otherClientKey'));
    writeFileSync(files.cert, certificates.read('otherClientCertificate'));
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(identities).toEqual([certificates.read('clientCertificate'), certificates.read('otherClientCertificate')]);
    expect(cas).toHaveLength(2);
    // The channel closed: no more checks, no more updates.
    provider.removeCaCertificateListener(onCa);
    provider.removeIdentityCertificateListener(onIdentity);
    writeFileSync(files.cert, certificates.read('clientCertificate'));
    writeFileSync(files.key, certificates.read('clientKey'));
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(identities).toHaveLength(2);
  });
});
