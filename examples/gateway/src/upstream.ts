import type { ModelCallStatus } from '@gatewayz/telemetry';

/**
 * A failed upstream attempt, classified for model health (`status`), for the GenAI `error.type`
 * attribute, and for routing (`failover`: whether another provider should be tried). Messages are
 * written by the gateway; upstream bodies, prompts and keys never end up in them.
 */
export class UpstreamFailure extends Error {
  override readonly name = 'UpstreamFailure';
  constructor(
    readonly status: ModelCallStatus,
    readonly errorType: string,
    message: string,
    readonly failover: boolean,
    readonly httpStatus?: number,
    /** Upstream error body, passed back to the client only for non-failover client errors. */
    readonly clientBody?: unknown,
  ) {
    super(message);
  }
}

export interface UpstreamRequest {
  url: string;
  body: unknown;
  headers: Record<string, string>;
  /** Deadline until response headers arrive. */
  timeoutMs: number;
  /** Aborts the attempt when the client goes away. */
  signal?: AbortSignal;
}

const MAX_ERROR_BODY_BYTES = 16_384;

async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ERROR_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POST JSON to an upstream and return the response once its headers arrived with a 2xx status.
 * Throws `UpstreamFailure`: `timeout` when no headers came within `timeoutMs`, `network_error` when
 * the connection failed, `rate_limited` on 429, `error` on 5xx (all fail over) and `error` without
 * failover on other 4xx (the request itself is wrong).
 */
export async function postUpstream(request: UpstreamRequest): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const onClientAbort = (): void => controller.abort();
  request.signal?.addEventListener('abort', onClientAbort, { once: true });
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...request.headers,
      },
      body: JSON.stringify(request.body),
      signal: controller.signal,
    });
  } catch (error) {
    if (timedOut) {
      throw new UpstreamFailure('timeout', 'timeout', `No response within ${request.timeoutMs} ms`, true);
    }
    if (request.signal?.aborted) {
      throw new UpstreamFailure('error', 'cancelled', 'Client closed the request', false);
    }
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new UpstreamFailure('network_error', 'network_error', `Connection failed${cause ? ` (${cause})` : ''}`, true);
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onClientAbort);
  }
  if (response.ok) return response;
  const text = await readBounded(response).catch(() => '');
  if (response.status === 429) {
    throw new UpstreamFailure('rate_limited', 'rate_limited', 'Upstream rate limit (HTTP 429)', true, 429);
  }
  if (response.status === 401 || response.status === 403) {
    // The gateway's credentials for this provider are wrong: a provider problem, not the client's.
    throw new UpstreamFailure(
      'error',
      String(response.status),
      `Upstream rejected the gateway's credentials (HTTP ${response.status})`,
      true,
      response.status,
    );
  }
  if (response.status >= 500 || response.status === 408) {
    throw new UpstreamFailure(
      'error',
      String(response.status),
      `Upstream error (HTTP ${response.status})`,
      true,
      response.status,
    );
  }
  let clientBody: unknown;
  try {
    clientBody = JSON.parse(text);
  } catch {
    clientBody = undefined;
  }
  throw new UpstreamFailure(
    'error',
    String(response.status),
    `Upstream rejected the request (HTTP ${response.status})`,
    false,
    response.status,
    clientBody,
  );
}

/** Read a JSON body from a successful upstream response; a malformed body is an upstream error. */
export async function readUpstreamJson(response: Response): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    throw new UpstreamFailure('error', 'invalid_response', 'Upstream returned malformed JSON', true);
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new UpstreamFailure('error', 'invalid_response', 'Upstream returned a non-object JSON body', true);
  }
  return parsed as Record<string, unknown>;
}
