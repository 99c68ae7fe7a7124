import { createInsecureCredentials, createSslCredentials } from '@opentelemetry/otlp-grpc-exporter-base';
import { otlpEndpointScheme } from '../env/otlp-exporter-variables.js';
import type { OtlpTlsSettings } from '../env/otlp-tls-from-env.js';

/** The channel credentials of `@grpc/grpc-js`, as the SDK's gRPC exporter options take them. */
export type OtlpGrpcCredentials = ReturnType<typeof createSslCredentials>;

/**
 * The gRPC channel credentials for `endpoint`, as the OTLP exporter specification chooses them: an
 * `http://` endpoint is plaintext, an `https://` one TLS, and one without a scheme (`host:port`) TLS
 * unless `_INSECURE` is `true`. TLS trusts `tls.certificateAuthority` (else Node.js's bundled
 * authorities) and presents the client certificate when one is given (mutual TLS).
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
  return createSslCredentials(tls.certificateAuthority, tls.clientKey, tls.clientCertificate);
}
