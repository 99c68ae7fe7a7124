/**
 * Certificate rotation for the OTLP/HTTP exporters. `OTEL_EXPORTER_OTLP_*CERTIFICATE`,
 * `*CLIENT_KEY` and `*CLIENT_CERTIFICATE` name files that a certificate manager (cert-manager, a
 * Vault agent, a mounted Kubernetes secret) replaces before they expire. The agent here checks the
 * files (at most once a second, when an export opens or reuses a connection) and opens new
 * connections with what they hold now, so a rotated client certificate or CA is used without a
 * restart. A rotation caught half-way (a key that does not match the certificate yet, an unreadable
 * or empty file) keeps the last good material, with one warning, until the files agree again.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions, RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { diag } from '@opentelemetry/api';

/** The PEM files behind a signal's TLS settings, as absolute paths (each optional). */
export interface OtlpTlsFiles {
  readonly certificateAuthority?: string | undefined;
  readonly clientKey?: string | undefined;
  readonly clientCertificate?: string | undefined;
}

/** What a TLS connection is opened with, read from {@link OtlpTlsFiles}. */
export interface OtlpTlsMaterial {
  readonly ca?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
}

/** The minimum time between two checks of the files; exports are seconds apart, rotations days. */
const DEFAULT_CHECK_INTERVAL_MS = 1000;

/**
 * Watches {@link OtlpTlsFiles} for change (size, modification time, inode) and reads them again
 * when they changed, keeping the last material that was whole and consistent.
 *
 * @example
 * ```ts
 * const files = new OtlpTlsFileWatch({ clientKey: '/etc/otel/tls.key', clientCertificate: '/etc/otel/tls.crt' }, material);
 * if (files.refresh()) reconnect(files.material);
 * ```
 */
export class OtlpTlsFileWatch {
  private current: OtlpTlsMaterial;
  private stamps: string;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private warned: string | undefined;

  /** `material`: what the files held when they were read and checked at start-up. */
  constructor(
    private readonly files: OtlpTlsFiles,
    material: OtlpTlsMaterial,
    private readonly checkIntervalMs = DEFAULT_CHECK_INTERVAL_MS,
  ) {
    this.current = material;
    this.stamps = this.stampsNow() ?? '';
  }

  /** The material connections are opened with now. */
  get material(): OtlpTlsMaterial {
    return this.current;
  }

  /** Check the files (at most once per interval); `true` when new material was taken. */
  refresh(now = performance.now()): boolean {
    if (now - this.checkedAt < this.checkIntervalMs) return false;
    this.checkedAt = now;
    const stamps = this.stampsNow();
    if (stamps === undefined || stamps === this.stamps) return false;
    let next: OtlpTlsMaterial;
    try {
      next = readMaterial(this.files);
    } catch (error) {
      // Keep the stamps unchanged so the files are read again at the next check.
      this.warnOnce(stamps, error);
      return false;
    }
    this.stamps = stamps;
    this.current = next;
    this.warned = undefined;
    diag.info('@gatewayz/telemetry-node: OTLP TLS files changed; new connections use the new certificates');
    return true;
  }

  /** Size, modification time and inode of every file, or `undefined` while one cannot be read. */
  private stampsNow(): string | undefined {
    const parts: string[] = [];
    for (const path of [this.files.certificateAuthority, this.files.clientKey, this.files.clientCertificate]) {
      if (path === undefined) continue;
      try {
        const stat = statSync(path);
        parts.push(`${stat.ino}:${stat.size}:${stat.mtimeMs}`);
      } catch (error) {
        this.warnOnce(`missing:${path}`, error);
        return undefined;
      }
    }
    return parts.join('|');
  }

  private warnOnce(state: string, error: unknown): void {
    if (this.warned === state) return;
    this.warned = state;
    diag.warn(
      `@gatewayz/telemetry-node: OTLP TLS files changed but cannot be used yet (${error instanceof Error ? error.message : String(error)}); keeping the certificates read before`,
    );
  }
}

/** Read and check the files: the CA must hold a certificate, the key must match the certificate. */
function readMaterial(files: OtlpTlsFiles): OtlpTlsMaterial {
  const ca = files.certificateAuthority === undefined ? undefined : readFileSync(files.certificateAuthority);
  const key = files.clientKey === undefined ? undefined : readFileSync(files.clientKey);
  const cert = files.clientCertificate === undefined ? undefined : readFileSync(files.clientCertificate);
  if (ca !== undefined) new X509Certificate(ca);
  if (key !== undefined && cert !== undefined) createSecureContext({ key, cert });
  return { ca, key, cert };
}

/**
 * An agent factory for the SDK's OTLP/HTTP transport (`httpAgentOptions` given as a function):
 * plain keep-alive agents for `http:`, and for `https:` a keep-alive agent that opens each new
 * connection with the current contents of `files` (see {@link OtlpTlsFileWatch}). When the files
 * change, connections opened before are no longer reused (their idle ones are closed), and no TLS
 * session of the old certificates is resumed. The modules are loaded when the transport asks, as
 * the SDK's own factory does, so an HTTP instrumentation loaded later can still patch them.
 *
 * @example
 * ```ts
 * const agentFactory = reloadingHttpAgentFactory({ keepAlive: true }, files, material);
 * ```
 */
export function reloadingHttpAgentFactory(
  options: AgentOptions,
  files: OtlpTlsFiles,
  material: OtlpTlsMaterial,
  checkIntervalMs = DEFAULT_CHECK_INTERVAL_MS,
): (protocol: string) => Promise<HttpAgent | HttpsAgent> {
  // Now, while `material` is what the files hold: a change before the first export must count.
  const watch = new OtlpTlsFileWatch(files, material, checkIntervalMs);
  return async (protocol) => {
    if (protocol === 'http:') {
      const http = await import('node:http');
      return new http.Agent(options);
    }
    const https = await import('node:https');
    return new (reloadingAgentClass(https.Agent))(options, watch);
  };
}

/** `https.Agent` with the connection material of a {@link OtlpTlsFileWatch}. */
function reloadingAgentClass(Base: typeof HttpsAgent) {
  return class ReloadingTlsAgent extends Base {
    private generation = 0;

    constructor(
      options: AgentOptions,
      private readonly watch: OtlpTlsFileWatch,
    ) {
      super(options);
    }

    // Called for every request: the pool (and TLS session cache) key changes with the files.
    override getName(options?: RequestOptions): string {
      if (this.watch.refresh()) {
        this.generation++;
        this.closeIdleSockets();
      }
      return `${super.getName(options)}:tls-files-${this.generation}`;
    }

    override createConnection(
      options: RequestOptions,
      callback?: (error: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const { ca, key, cert } = this.watch.material;
      return super.createConnection({ ...options, ca, key, cert }, callback);
    }

    private closeIdleSockets(): void {
      for (const sockets of Object.values(this.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
  };
}
