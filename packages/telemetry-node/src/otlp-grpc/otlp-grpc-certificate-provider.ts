/**
 * Certificate rotation for the OTLP/gRPC exporters: a `@grpc/grpc-js` certificate provider backed
 * by the same file watch as the OTLP/HTTP agent (`OtlpTlsFileWatch`), so a CA or client certificate
 * replaced in its files is used for the channel's next connection (a reconnect, or the retry after a
 * refused handshake), and a rotation caught half-way keeps the last good pair.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { diag } from '@opentelemetry/api';
import type { OtlpTlsFileWatch, OtlpTlsMaterial } from '../env/otlp-tls-reload.js';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** How often the files are checked while a channel uses the provider. */
const CHECK_INTERVAL_MS = 1000;

/**
 * The provider: listeners get the current material at once and again whenever the files change;
 * the files are checked every second while a channel listens (an unref'd timer, so it never keeps
 * the process alive), and not at all once the channel has closed.
 *
 * @example
 * ```ts
 * const provider = new OtlpGrpcCertificateProvider(watch);
 * const credentials = grpc.experimental.createCertificateProviderChannelCredentials(provider, provider);
 * ```
 */
export class OtlpGrpcCertificateProvider implements CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly watch: OtlpTlsFileWatch) {}

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.start();
    process.nextTick(() => listener(caUpdate(this.watch.material)));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.stopWhenUnused();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.start();
    process.nextTick(() => listener(identityUpdate(this.watch.material)));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.stopWhenUnused();
  }

  /** Start checking; the first listener of a channel gets what the files hold now, not at start-up. */
  private start(): void {
    if (this.timer !== undefined) return;
    this.watch.refresh();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private stopWhenUnused(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0 || this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    if (!this.watch.refresh()) return;
    const material = this.watch.material;
    for (const listener of this.caListeners) listener(caUpdate(material));
    for (const listener of this.identityListeners) listener(identityUpdate(material));
  }
}

function caUpdate(material: OtlpTlsMaterial): experimental.CaCertificateUpdate {
  return { caCertificate: material.ca ?? defaultAuthorities() };
}

function identityUpdate(material: OtlpTlsMaterial): experimental.IdentityCertificateUpdate | null {
  if (material.key === undefined || material.cert === undefined) return null;
  return { certificate: material.cert, privateKey: material.key };
}

let defaults: Buffer | undefined;

/**
 * The authorities a channel trusts without a CA file, as `@grpc/grpc-js` chooses them for its own
 * TLS credentials: the file of `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, else Node.js's bundled ones plus
 * those of `NODE_EXTRA_CA_CERTS` (variables of the runtime and of grpc-js, read from the process).
 */
function defaultAuthorities(): Buffer {
  if (defaults !== undefined) return defaults;
  const grpcRoots = process.env['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'];
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  const pems = grpcRoots ? [readOptional(grpcRoots)] : [rootCertificates.join('\n'), extra ? readOptional(extra) : ''];
  defaults = Buffer.from(pems.join('\n'));
  return defaults;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    diag.warn(`@gatewayz/telemetry-node: cannot read the certificate authorities of "${path}"`, error);
    return '';
  }
}
