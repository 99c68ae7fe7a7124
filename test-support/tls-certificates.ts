/**
 * Certificates for TLS and mutual-TLS integration tests, made at test time with the `openssl` CLI
 * into a temporary directory: a private CA, a server certificate for `127.0.0.1` / `localhost`
 * and a client certificate signed by it, and a second, unrelated CA with a server and a client
 * certificate of its own (what a client or server must refuse).
 *
 * ```ts
 * describe.skipIf(!opensslAvailable())('over TLS', () => {
 *   let certificates: TestCertificates;
 *   beforeAll(async () => void (certificates = await createTestCertificates()));
 *   afterAll(() => certificates.remove());
 *   // OTEL_EXPORTER_OTLP_CERTIFICATE=certificates.paths.ca
 * });
 * ```
 *
 * Skip-or-fail policy as for Prometheus (see `prometheus.ts`): without `openssl` the tests skip
 * locally and fail under `CI=true`.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { findExecutable, requireComponent } from './prometheus.js';

const runFile = promisify(execFile);

/** The certificate files {@link createTestCertificates} writes (PEM; keys unencrypted). */
export interface TestCertificatePaths {
  /** The private CA's certificate: what `OTEL_EXPORTER_OTLP_CERTIFICATE` trusts. */
  ca: string;
  /** Server certificate for `127.0.0.1` and `localhost`, signed by the private CA. */
  serverCertificate: string;
  serverKey: string;
  /** Client certificate (`CN=gatewayz-test-client`), signed by the private CA. */
  clientCertificate: string;
  clientKey: string;
  /** An unrelated CA's certificate. */
  otherCa: string;
  /** Server certificate for `127.0.0.1` and `localhost`, signed by the unrelated CA. */
  otherServerCertificate: string;
  otherServerKey: string;
  /** Client certificate (`CN=gatewayz-other-client`), signed by the unrelated CA. */
  otherClientCertificate: string;
  otherClientKey: string;
}

/** A set of certificates on disk. */
export interface TestCertificates {
  /** The temporary directory holding them. */
  directory: string;
  paths: TestCertificatePaths;
  /** The contents of one of {@link TestCertificates.paths}. */
  read(name: keyof TestCertificatePaths): Buffer;
  /** Delete the directory. Idempotent. */
  remove(): Promise<void>;
}

/** Where `openssl` is, if installed (searched in `PATH`, then `/usr/bin`, `/usr/local/bin` and `/bin`). */
export function findOpenssl(): string | undefined {
  return findExecutable('openssl');
}

/** Whether `openssl` is installed; under `CI=true` a missing one throws instead (see `requireComponent`). */
export function opensslAvailable(): boolean {
  return requireComponent(
    'openssl',
    findOpenssl(),
    'install it with `sudo apt-get install -y openssl` (Debian/Ubuntu)',
  );
}

/** A P-256 key, so generating a set takes milliseconds rather than RSA's seconds. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function run(openssl: string, args: string[], cwd: string): Promise<void> {
  try {
    await runFile(openssl, args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr || String(error)}`);
  }
}

async function createAuthority(openssl: string, directory: string, name: string, commonName: string): Promise<void> {
  await run(
    openssl,
    [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    directory,
  );
}

/** A leaf certificate `name.pem` / `name.key` for `commonName`, signed by the authority `issuer`. */
async function createLeaf(
  openssl: string,
  directory: string,
  name: string,
  issuer: string,
  commonName: string,
  usage: 'serverAuth' | 'clientAuth',
): Promise<void> {
  const extensions = [
    'basicConstraints=CA:FALSE',
    `extendedKeyUsage=${usage}`,
    ...(usage === 'serverAuth' ? ['subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
  ];
  await writeFile(join(directory, `${name}.ext`), `${extensions.join('\n')}\n`);
  await run(
    openssl,
    ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`],
    directory,
  );
  await run(
    openssl,
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      String(Date.now()),
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    directory,
  );
}

/**
 * Make a fresh set of certificates in a new temporary directory. Throws when `openssl` is missing
 * (check {@link opensslAvailable} first) or fails, with its error output.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const openssl = findOpenssl();
  if (openssl === undefined) throw new Error('openssl was not found; install it (apt-get install -y openssl)');
  const directory = await mkdtemp(join(tmpdir(), 'gatewayz-tls-'));
  try {
    await createAuthority(openssl, directory, 'ca', 'gatewayz test CA');
    await createAuthority(openssl, directory, 'other-ca', 'unrelated test CA');
    await createLeaf(openssl, directory, 'server', 'ca', 'localhost', 'serverAuth');
    await createLeaf(openssl, directory, 'client', 'ca', 'gatewayz-test-client', 'clientAuth');
    await createLeaf(openssl, directory, 'other-server', 'other-ca', 'localhost', 'serverAuth');
    await createLeaf(openssl, directory, 'other-client', 'other-ca', 'gatewayz-other-client', 'clientAuth');
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const file = (name: string): string => join(directory, name);
  const paths: TestCertificatePaths = {
    ca: file('ca.pem'),
    serverCertificate: file('server.pem'),
    serverKey: file('server.key'),
    clientCertificate: file('client.pem'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.pem'),
    otherServerCertificate: file('other-server.pem'),
    otherServerKey: file('other-server.key'),
    otherClientCertificate: file('other-client.pem'),
    otherClientKey: file('other-client.key'),
  };
  return {
    directory,
    paths,
    read: (name) => readFileSync(paths[name]),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}
