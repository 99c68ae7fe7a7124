import { createRequire } from 'node:module';
import { createInsecureCredentials, createSslCredentials } from '@opentelemetry/otlp-grpc-exporter-base';
import { otlpEndpointScheme } from '../env/otlp-exporter-variables.js';
import type { OtlpTlsSettings } from '../env/otlp-tls-from-env.js';
import { OtlpTlsFileWatch } from '../env/otlp-tls-reload.js';
import { OtlpGrpcCertificateProvider } from './otlp-grpc-certificate-provider.js';

// Loaded when a gRPC exporter is configured, as the SDK's own credentials load it, not before.
const requireHere = createRequire(import.meta.url);

/** The channel credentials of `@grpc/grpc-js`, as the SDK's gRPC exporter options take them. */
export type OtlpGrpcCredentials = ReturnType<typeof createSslCredentials>;

/**
 * The gRPC channel credentials for `endpoint`, as the OTLP exporter specification chooses them: an
 * `http://` endpoint is plaintext, an `https://` one TLS, and one without a scheme (`host:port`) TLS
 * unless `_INSECURE` is `true`. TLS trusts `tls.certificateAuthority` (else Node.js's bundled
 * authorities) and presents the client certificate when one is given (mutual TLS). When they came
 * from files, the files are watched: a rotated CA or client certificate is used from the channel's
 * next connection on (`OtlpGrpcCertificateProvider`).
 *
 * @example
 * ```ts
 * const credentials = otlpGrpcCredentials('https://collector:4317', otlpTlsFromEnv(env, 'TRACES'));
 * const exporter = new OtlpGrpcTraceExporter({ url: 'https://collector:4317', credentials });
 * ```
 */
export function otlpGrpcCredentials(endpoint: string, tls: OtlpTlsSettings): OtlpGrpcCredentials {
  const scheme = otlpEndpointScheme(endpoint);
  if (scheme === 'http' || (scheme === undefined && tls.insecure)) return createInsecureCredentials();
  const files = tls.files;
  if (files === undefined) return createSslCredentials(tls.certificateAuthority, tls.clientKey, tls.clientCertificate);
  const material = { ca: tls.certificateAuthority, key: tls.clientKey, cert: tls.clientCertificate };
  // The provider's timer is the throttle: the watch checks whenever it is asked.
  const provider = new OtlpGrpcCertificateProvider(new OtlpTlsFileWatch(files, material, 0));
  const grpc = requireHere('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  return grpc.experimental.createCertificateProviderChannelCredentials(
    provider,
    material.key !== undefined ? provider : null,
  );
}
