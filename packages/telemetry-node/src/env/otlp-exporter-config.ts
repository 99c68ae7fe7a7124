/**
 * What the SDK's OTLP export delegates are given for the transport settings
 * {@link otlpExporterVariables} and `otlpTlsFromEnv` read from `env`: the resolved delegate options
 * `startTelemetry()`'s exporters are built with, in which nothing comes from `process.env`.
 */
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { createEmptyMetadata } from '@opentelemetry/otlp-grpc-exporter-base';
// The package has no `exports` map, so this path resolves from ESM and CJS alike; its index exports
// only `convertLegacyOtlpGrpcOptions`, which parses `process.env` (and throws on a header there
// that gRPC metadata cannot carry), and the version is pinned exactly in package.json.
import {
  getOtlpGrpcDefaultConfiguration,
  mergeOtlpGrpcConfigurationWithDefaults,
} from '@opentelemetry/otlp-grpc-exporter-base/build/src/configuration/otlp-grpc-configuration.js';
import { otlpGrpcCredentials } from '../otlp-grpc/otlp-grpc-credentials.js';
import type { OtlpGrpcOptions } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import { otlpHttpAgentOptions, type OtlpTlsSettings } from './otlp-tls-from-env.js';
import {
  OTLP_SIGNAL_PATHS,
  unsendableHeaderReason,
  type OtlpExporterVariables,
  type OtlpSignal,
} from './otlp-exporter-variables.js';
import { warnConfiguration } from './standard-variables.js';

/** The resolved options of the SDK's OTLP/HTTP export delegate (endpoint, headers, agent, timeout, ...). */
export type OtlpHttpDelegateOptions = ReturnType<typeof convertLegacyHttpOptions>;

/**
 * gRPC metadata carrying `headers`; a header gRPC cannot carry is warned about (by its key only:
 * `@grpc/grpc-js`'s error quotes the value, often a secret) and left out.
 */
function grpcMetadataOf(headers: Readonly<Record<string, string>>): ReturnType<typeof createEmptyMetadata> {
  const metadata = createEmptyMetadata();
  for (const [name, value] of Object.entries(headers)) {
    try {
      metadata.set(name, value);
    } catch {
      warnConfiguration(
        `@gatewayz/telemetry-node: ignoring the OTLP header "${name}": ${unsendableHeaderReason(true)}; sending the other headers`,
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
 * credentials the endpoint's scheme and `tls` call for and the metadata of `variables.headers`,
 * merged with the SDK's defaults only. Unlike `convertLegacyOtlpGrpcOptions`, nothing is read from
 * `process.env`, so a header there that gRPC cannot carry neither throws nor reaches the collector:
 * `otlpExporterVariables` has warned about it and left it out of `env`'s.
 */
export function otlpGrpcDelegateOptions(variables: OtlpExporterVariables, tls: OtlpTlsSettings): OtlpGrpcOptions {
  const metadata = grpcMetadataOf(variables.headers);
  const credentials = otlpGrpcCredentials(variables.url, tls);
  return mergeOtlpGrpcConfigurationWithDefaults(
    {
      url: variables.url,
      timeoutMillis: variables.timeoutMillis,
      compression: compressionOf(variables),
      credentials: () => credentials,
      // The SDK clones it for each call.
      metadata: () => metadata,
    },
    {},
    getOtlpGrpcDefaultConfiguration(),
  );
}
