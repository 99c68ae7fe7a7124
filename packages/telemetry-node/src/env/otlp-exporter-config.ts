/**
 * What the SDK's OTLP export delegates are given for the transport settings
 * {@link otlpExporterVariables} and `otlpTlsFromEnv` read from `env`: the resolved delegate options
 * `startTelemetry()`'s exporters are built with, in which nothing comes from `process.env`.
 */
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createEmptyMetadata } from '@opentelemetry/otlp-grpc-exporter-base';
import { otlpGrpcCredentials } from '../otlp-grpc/otlp-grpc-credentials.js';
import type { OtlpGrpcOptions } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import { otlpHttpAgentOptions, type OtlpTlsSettings } from './otlp-tls-from-env.js';
import { OTLP_SIGNAL_PATHS, type OtlpExporterVariables, type OtlpSignal } from './otlp-exporter-variables.js';
import { warnConfiguration } from './standard-variables.js';

/** The resolved options of the SDK's OTLP/HTTP export delegate (endpoint, headers, agent, timeout, ...). */
export type OtlpHttpDelegateOptions = ReturnType<typeof convertLegacyHttpOptions>;

/** gRPC metadata carrying `headers`; a header gRPC cannot carry is warned about and left out. */
function grpcMetadataOf(headers: Readonly<Record<string, string>>): ReturnType<typeof createEmptyMetadata> {
  const metadata = createEmptyMetadata();
  for (const [name, value] of Object.entries(headers)) {
    try {
      metadata.set(name, value);
    } catch (error) {
      warnConfiguration(
        `@gatewayz/telemetry-node: OTLP header "${name}" cannot be sent as gRPC metadata (${
          error instanceof Error ? error.message : String(error)
        }); leaving it out`,
      );
    }
  }
  return metadata;
}

/** The SDK's name for `variables.compression`. */
function compressionOf(variables: OtlpExporterVariables): CompressionAlgorithm {
  return variables.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
}

/**
 * The options of the SDK's OTLP/HTTP export delegate (`createOtlpHttpExportDelegate`) for
 * `variables` and `tls` alone. The SDK's conversion fills what is not given from `process.env`:
 * everything that matters is given (the agent with `tls`'s CA and client certificate), and the
 * headers it would merge in from `process.env` are replaced by `variables.headers` (plus the
 * `Content-Type` of the encoding).
 */
export function otlpHttpDelegateOptions(
  variables: OtlpExporterVariables,
  tls: OtlpTlsSettings,
  signal: OtlpSignal,
  contentType: string,
): OtlpHttpDelegateOptions {
  const options = {
    url: variables.url,
    timeoutMillis: variables.timeoutMillis,
    compression: compressionOf(variables),
    httpAgentOptions: otlpHttpAgentOptions(tls),
  };
  const converted = convertLegacyHttpOptions(options, signal, OTLP_SIGNAL_PATHS[signal], {
    'Content-Type': contentType,
  });
  const headers = { ...variables.headers, 'content-type': contentType };
  return { ...converted, headers: async () => ({ ...headers }) };
}

/**
 * The options of the SDK's OTLP/gRPC export delegate for `variables` and `tls` alone: the
 * credentials the endpoint's scheme and `tls` call for, and, as in {@link otlpHttpDelegateOptions},
 * the metadata the SDK's conversion would merge in from `process.env` replaced by `variables.headers`.
 */
export function otlpGrpcDelegateOptions(
  variables: OtlpExporterVariables,
  tls: OtlpTlsSettings,
  signal: OtlpSignal,
): OtlpGrpcOptions {
  const converted = convertLegacyOtlpGrpcOptions(
    {
      url: variables.url,
      timeoutMillis: variables.timeoutMillis,
      compression: compressionOf(variables),
      credentials: otlpGrpcCredentials(variables.url, tls),
    },
    signal,
  );
  const metadata = grpcMetadataOf(variables.headers);
  return { ...converted, metadata: () => metadata.clone() };
}
