/**
 * What the SDK's OTLP export delegates are given for the transport settings
 * {@link otlpExporterVariables} and `otlpTlsFromEnv` read from `env`: the legacy exporter options
 * (`url`, `headers` or gRPC `metadata`, `timeoutMillis`, `compression`), and the resolved delegate
 * options `startTelemetry()`'s exporters are built with, in which nothing comes from `process.env`.
 */
import { CompressionAlgorithm, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  convertLegacyOtlpGrpcOptions,
  createEmptyMetadata,
  type OTLPGRPCExporterConfigNode,
} from '@opentelemetry/otlp-grpc-exporter-base';
import { otlpGrpcCredentials } from '../otlp-grpc/otlp-grpc-credentials.js';
import type { OtlpGrpcOptions } from '../otlp-grpc/retrying-grpc-export-delegate.js';
import { otlpHttpAgentOptions, type OtlpTlsSettings } from './otlp-tls-from-env.js';
import type { OtlpExporterVariables, OtlpSignal } from './otlp-exporter-variables.js';
import { warnConfiguration } from './standard-variables.js';

/** The resolved options of the SDK's OTLP/HTTP export delegate (endpoint, headers, agent, timeout, ...). */
export type OtlpHttpDelegateOptions = ReturnType<typeof convertLegacyHttpOptions>;

/** gRPC metadata carrying `headers`; a header gRPC cannot carry is warned about and left out. */
export function grpcMetadataOf(headers: Readonly<Record<string, string>>): ReturnType<typeof createEmptyMetadata> {
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

/** `variables` as the options of the SDK's OTLP/HTTP exporters. */
export function otlpHttpExporterOptions(variables: OtlpExporterVariables): OTLPExporterNodeConfigBase {
  return {
    url: variables.url,
    headers: { ...variables.headers },
    timeoutMillis: variables.timeoutMillis,
    compression: variables.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
  };
}

/** `variables` as the options of the SDK's OTLP/gRPC exporters (headers as metadata). */
export function otlpGrpcExporterOptions(variables: OtlpExporterVariables): OTLPGRPCExporterConfigNode {
  return {
    url: variables.url,
    metadata: grpcMetadataOf(variables.headers),
    timeoutMillis: variables.timeoutMillis,
    compression: variables.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
  };
}

/** The signal's path below an OTLP/HTTP base endpoint. */
const SIGNAL_PATHS: Record<OtlpSignal, string> = { TRACES: 'v1/traces', METRICS: 'v1/metrics', LOGS: 'v1/logs' };

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
  const options = { ...otlpHttpExporterOptions(variables), httpAgentOptions: otlpHttpAgentOptions(tls) };
  const converted = convertLegacyHttpOptions(options, signal, SIGNAL_PATHS[signal], { 'Content-Type': contentType });
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
  const { url, timeoutMillis, compression } = otlpGrpcExporterOptions(variables);
  const credentials = otlpGrpcCredentials(variables.url, tls);
  const converted = convertLegacyOtlpGrpcOptions({ url, timeoutMillis, compression, credentials }, signal);
  const metadata = grpcMetadataOf(variables.headers);
  return { ...converted, metadata: () => metadata.clone() };
}
