import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import {
  HEALTH_SERVICE_ENDPOINTS,
  type HealthServiceEndpoint,
  type HealthServiceEndpointResult,
  type HealthServiceFailureReason,
  type HealthServicePoll,
} from './health-service-types.js';
import { isObject } from './health-service-reader.js';
import { PlainTextHealth } from './health-verdict.js';

/** A request failure with the reason exported in poll results. */
export class PollFailure extends Error {
  constructor(
    readonly reason: HealthServiceFailureReason,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export function parseBaseUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TelemetryConfigurationError(
      'url',
      `expected the health service base URL, e.g. "http://health-service:8000", got ${JSON.stringify(url)}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new TelemetryConfigurationError(
      'url',
      `"${url}" is not an absolute URL; expected e.g. "http://health-service:8000"`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TelemetryConfigurationError('url', `"${url}" uses ${parsed.protocol}; expected http: or https:`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TelemetryConfigurationError('url', `"${url}" has a query or fragment; pass the base URL only`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Read at most `limit` bytes of the body as UTF-8; more fails the request. */
export async function readBody(response: Response, url: string, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new PollFailure(
      'response_too_large',
      `GET ${url} announced ${declared} bytes, more than the ${limit} allowed`,
      response.status,
    );
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PollFailure(
        'response_too_large',
        `GET ${url} sent more than the ${limit} bytes allowed`,
        response.status,
      );
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * Parse a body. JSON unless `/health` or `/metrics` answered in plain text: plain text holding a JSON
 * object is read as one; any other `/health` text is a `PlainTextHealth` (its words are read by
 * `readHealthVerdict`), any other `/metrics` text (Prometheus exposition) an empty object.
 */
export function decodeBody(
  endpoint: HealthServiceEndpoint,
  url: string,
  contentType: string | null,
  text: string,
): unknown {
  const type = (contentType ?? '').toLowerCase();
  const plainText = type.startsWith('text/plain') || type.startsWith('application/openmetrics-text');
  if (plainText && (endpoint === 'health' || endpoint === 'metrics')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
    // `false` or `0` sent as text/plain is the service's word, not a JSON value to look into.
    if (isObject(parsed)) return parsed;
    return endpoint === 'health' ? new PlainTextHealth(text) : {};
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw new PollFailure('malformed_json', `GET ${url} returned malformed JSON (${(error as Error).message})`);
  }
  if (!isObject(body)) {
    throw new PollFailure(
      'malformed_json',
      `GET ${url} returned ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}; expected a JSON object`,
    );
  }
  return body;
}

export function classify(
  error: unknown,
  url: string,
  context: { timedOut: boolean; stopped: boolean; timeoutMs: number; httpStatus: number | undefined },
): PollFailure {
  if (context.timedOut)
    return new PollFailure('timeout', `GET ${url} timed out after ${context.timeoutMs} ms`, context.httpStatus);
  if (context.stopped) return new PollFailure('stopped', `GET ${url} aborted: the poller stopped`, context.httpStatus);
  if (error instanceof PollFailure) return error;
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new PollFailure('network_error', `GET ${url} failed: ${detail}`, context.httpStatus);
}

export function internalFailure(url: string, at: number, error: unknown): HealthServicePoll {
  const message = `polling ${url} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
  const endpoints = Object.fromEntries(
    (Object.keys(HEALTH_SERVICE_ENDPOINTS) as HealthServiceEndpoint[]).map((endpoint) => [
      endpoint,
      {
        endpoint,
        url: `${url}${HEALTH_SERVICE_ENDPOINTS[endpoint]}`,
        ok: false,
        failure: { reason: 'internal_error', message },
      },
    ]),
  ) as Record<HealthServiceEndpoint, HealthServiceEndpointResult>;
  return { ok: false, up: false, finishedAt: at, endpoints, values: {}, ignoredFields: [] };
}
