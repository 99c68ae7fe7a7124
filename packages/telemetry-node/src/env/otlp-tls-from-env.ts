/**
 * The OTLP exporters' TLS settings, read from the same `env` as every other variable
 * `startTelemetry()` reads. The SDK's transports would read `OTEL_EXPORTER_OTLP_*CERTIFICATE`,
 * `*CLIENT_KEY`, `*CLIENT_CERTIFICATE` and `*INSECURE` from `process.env` only (and turn a file
 * they cannot read into a debug-level warning and a TLS handshake that fails at every export), so
 * the files are loaded and checked here at start-up, and handed to the transports explicitly. The
 * OTLP/HTTP transports read them again when they change (certificate rotation, `otlp-tls-reload.ts`).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions } from 'node:https';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { otlpVariable, type OtlpSignal } from './otlp-exporter-variables.js';
import { parseEnvBoolean } from './standard-variables.js';
import { reloadingHttpAgentFactory, type OtlpTlsFiles } from './otlp-tls-reload.js';

/** The TLS settings of one signal's OTLP exporter. */
export interface OtlpTlsSettings {
  /** PEM certificates of the authorities to trust instead of Node.js's bundled ones (`_CERTIFICATE`). */
  readonly certificateAuthority: Buffer | undefined;
  /** PEM private key presented with {@link OtlpTlsSettings.clientCertificate} for mutual TLS (`_CLIENT_KEY`). */
  readonly clientKey: Buffer | undefined;
  /** PEM certificate chain presented to the collector for mutual TLS (`_CLIENT_CERTIFICATE`). */
  readonly clientCertificate: Buffer | undefined;
  /** `_INSECURE=true`: a gRPC endpoint written `host:port`, without a scheme, is plaintext. */
  readonly insecure: boolean;
  /**
   * The files the PEM bytes were read from (absolute paths), watched for rotation by both
   * transports; `undefined` when no file is given.
   */
  readonly files?: OtlpTlsFiles;
}

/** The absolute path of the file a variable names (relative to the working directory). */
/** `OTEL_EXPORTER_OTLP_<signal>_INSECURE`, else the general one: a boolean, warned about unless `true` or `false`. */
function insecureFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal): boolean {
  const variable = otlpVariable(env, signal, 'INSECURE');
  return variable !== undefined && parseEnvBoolean(variable.name, variable.value);
}

function pemPath(variable: { name: string; value: string } | undefined): string | undefined {
  return variable === undefined ? undefined : resolve(process.cwd(), variable.value);
}

/** The file a variable names (relative to the working directory), or a configuration error naming the variable. */
function readPemFile(variable: { name: string; value: string } | undefined): Buffer | undefined {
  if (variable === undefined) return undefined;
  const path = pemPath(variable)!;
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TelemetryConfigurationError(
      variable.name,
      `cannot read the PEM file "${path}" (${reason}); point it at a readable file or unset it`,
    );
  }
}

/**
 * The TLS settings of `signal`'s OTLP exporter: `OTEL_EXPORTER_OTLP_<signal>_CERTIFICATE`,
 * `_CLIENT_KEY`, `_CLIENT_CERTIFICATE` and `_INSECURE`, each falling back to the general
 * `OTEL_EXPORTER_OTLP_*` variable when unset or blank. The files are read now. Throws a
 * `TelemetryConfigurationError` naming the variable when a file cannot be read, the CA file holds no
 * PEM certificate, only one of the client key and client certificate is given (mutual TLS needs
 * both), or the key does not match the certificate.
 *
 * @example
 * ```ts
 * const tls = otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/otel/ca.pem' }, 'TRACES');
 * tls.certificateAuthority; // the CA's PEM bytes
 * ```
 */
export function otlpTlsFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal): OtlpTlsSettings {
  const keyVariable = otlpVariable(env, signal, 'CLIENT_KEY');
  const certificateVariable = otlpVariable(env, signal, 'CLIENT_CERTIFICATE');
  if ((keyVariable === undefined) !== (certificateVariable === undefined)) {
    const [given, missing] =
      keyVariable !== undefined
        ? [keyVariable.name, `OTEL_EXPORTER_OTLP_${signal}_CLIENT_CERTIFICATE or OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`]
        : [certificateVariable!.name, `OTEL_EXPORTER_OTLP_${signal}_CLIENT_KEY or OTEL_EXPORTER_OTLP_CLIENT_KEY`];
    throw new TelemetryConfigurationError(
      given,
      `a client certificate needs its key and the other way round; set ${missing} too, or unset ${given}`,
    );
  }
  const authorityVariable = otlpVariable(env, signal, 'CERTIFICATE');
  const certificateAuthority = readPemFile(authorityVariable);
  if (certificateAuthority !== undefined) {
    // Node.js would trust nothing from a file without a certificate, and say so only at each export.
    checkPem(authorityVariable!, () => new X509Certificate(certificateAuthority), 'a PEM certificate');
  }
  const clientKey = readPemFile(keyVariable);
  const clientCertificate = readPemFile(certificateVariable);
  if (clientKey !== undefined && clientCertificate !== undefined) {
    checkPem(
      keyVariable!,
      () => createSecureContext({ key: clientKey, cert: clientCertificate }),
      `a PEM private key matching the certificate of ${certificateVariable!.name}`,
    );
  }
  return {
    certificateAuthority,
    clientKey,
    clientCertificate,
    insecure: insecureFromEnv(env, signal),
    ...(certificateAuthority !== undefined || clientKey !== undefined
      ? {
          files: {
            certificateAuthority: pemPath(authorityVariable),
            clientKey: pemPath(keyVariable),
            clientCertificate: pemPath(certificateVariable),
          },
        }
      : {}),
  };
}

/** Run `parse`; a failure is a configuration error saying what `variable`'s file should hold. */
function checkPem(variable: { name: string; value: string }, parse: () => unknown, expected: string): void {
  try {
    parse();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TelemetryConfigurationError(variable.name, `"${variable.value}" is not ${expected} (${reason})`);
  }
}

/**
 * Agent options for the SDK's OTLP/HTTP transport (`httpAgentOptions`): keep-alive, as the SDK's
 * default, and the CA and client certificate of `tls`. Always given, so the transport never reads
 * the TLS variables of `process.env` behind `env`'s back. (The SDK leaves them out of a plain
 * `http:` agent.) When `tls` came from files, an agent factory instead, whose `https:` agent reads
 * the files again when they change (`reloadingHttpAgentFactory`).
 */
export function otlpHttpAgentOptions(
  tls: OtlpTlsSettings,
): AgentOptions | ((protocol: string) => Promise<HttpAgent | HttpsAgent>) {
  if (tls.files !== undefined) {
    return reloadingHttpAgentFactory({ keepAlive: true }, tls.files, {
      ca: tls.certificateAuthority,
      key: tls.clientKey,
      cert: tls.clientCertificate,
    });
  }
  return {
    keepAlive: true,
    ...(tls.certificateAuthority !== undefined ? { ca: tls.certificateAuthority } : {}),
    ...(tls.clientKey !== undefined ? { key: tls.clientKey } : {}),
    ...(tls.clientCertificate !== undefined ? { cert: tls.clientCertificate } : {}),
  };
}

/** No TLS settings of our own: Node.js's bundled authorities, no client certificate, `_INSECURE` unset. */
export const NO_OTLP_TLS: OtlpTlsSettings = {
  certificateAuthority: undefined,
  clientKey: undefined,
  clientCertificate: undefined,
  insecure: false,
};
