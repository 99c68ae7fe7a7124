import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../protocol/json.js';
import { isClientFault4xx } from './provider-fault.js';
import { UpstreamFailure } from './upstream-failure.js';

export { UpstreamFailure };

/**
 * The part of `AbortSignal` an attempt uses to hear that its client went away. An `AbortSignal`
 * fits; the gateway passes a lighter one per request (`ClientGone` in request-context.ts), because
 * on Node 20 making an `AbortSignal` costs about 3 µs and leaves about 200 bytes in old space.
 */
export interface AbortLike {
  readonly aborted: boolean;
  /**
   * True once the server cut the request (shutdown's drain deadline) while its client was still
   * there: a body still arriving is then let go at once, for the request to answer before its
   * connection is closed. An `AbortSignal` has none: its abort is the client leaving.
   */
  readonly cut?: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface UpstreamRequest {
  url: string;
  body: unknown;
  headers: Record<string, string>;
  /** Deadline until response headers arrive. */
  timeoutMs: number;
  /**
   * Longest silence while a body is read whole (a JSON answer, an error body): then its connection
   * is closed and the read fails as `timeout` (default `timeoutMs`). Streams keep their own idle
   * timeout (`sse-relay.ts`).
   */
  bodyIdleTimeoutMs?: number;
  /** Aborts the attempt when the client goes away: an `AbortSignal`, or the gateway's lighter `ClientGone`. */
  signal?: AbortLike;
  /**
   * Called with the status and headers of every response, success or failure, as soon as they
   * arrive (the router reads the provider's rate-limit headers from them).
   */
  onResponseHeaders?: (status: number, headers: IncomingHttpHeaders) => void;
}

const MAX_ERROR_BODY_BYTES = 16_384;
/**
 * Largest non-streaming success body read (a truncated body fails JSON parsing: `invalid_response`);
 * also the longest SSE event a stream relay holds (sse-relay.ts).
 */
export const MAX_SUCCESS_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Keep-alive connection pools for the upstream calls. Node's `http` client rather than `fetch`: on
 * Node 20, `fetch` (undici) registers every response with a FinalizationRegistry, which keeps each
 * request's objects alive through young-generation collections. At a few hundred requests a second
 * the gateway then promoted ~10 MB/s to the old generation and paused for a full mark-compact every
 * few seconds, the largest source of its tail latency; `http.request` over a keep-alive agent
 * promotes nothing per request (see docs/benchmarks.md, gateway section).
 */
const httpAgent = new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
const httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo' });

/** A successful upstream response: its status, its headers and its body as it arrives. */
export interface UpstreamResponse {
  readonly status: number;
  /** What the provider says of the body (`content-type`, `content-encoding`): a stream checks them first. */
  readonly headers: IncomingHttpHeaders;
  /** The body, chunk by chunk. Read it to the end or `cancel()` it, so the connection is released. */
  readonly body: UpstreamBody;
  /** Longest silence `readUpstreamJson` waits for while it reads the body (`UpstreamRequest.bodyIdleTimeoutMs`). */
  readonly bodyIdleTimeoutMs: number;
}

/** Body of an upstream response, read chunk by chunk. */
export interface UpstreamBody {
  /** The next chunk; `done` at the end. Rejects when the connection fails midway. */
  read(): Promise<IteratorResult<Uint8Array, undefined>>;
  /** Stop reading; a body still arriving closes its connection (it is not reused). */
  cancel(): void;
  /**
   * Stop reading because the caller has all it needs (an SSE `[DONE]`): what is left of the body is
   * discarded as it arrives, so the connection goes back to the pool; it is closed instead when the
   * body has not ended within `DISCARD_TIMEOUT_MS`.
   */
  discardRest(): void;
}

const DISCARD_TIMEOUT_MS = 5_000;

function bodyOf(message: IncomingMessage): UpstreamBody {
  // destroyOnReturn: false, so that `return()` detaches the iterator and leaves the socket alone.
  const iterator = message.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer, undefined>;
  /** The failure of a connection lost midway, once what arrived before it has been read. */
  let lost: Error | undefined;
  const read = async (): Promise<IteratorResult<Uint8Array, undefined>> => {
    if (lost !== undefined) throw lost;
    try {
      return await iterator.next();
    } catch (error) {
      // The iterator throws as soon as the response is destroyed (the connection closed before the
      // body's end), and leaves unread what had already arrived: the chunks a provider wrote just
      // before it cut the stream, when they came while the caller was busy (relaying the previous
      // chunk to a slow client). They were generated and are billed: hand them out first.
      const rest: unknown = message.read();
      if (!(rest instanceof Uint8Array) || rest.byteLength === 0) throw error;
      lost = error instanceof Error ? error : new Error(String(error));
      return { done: false, value: rest };
    }
  };
  const discard = (): void => {
    if (message.destroyed || message.readableEnded) return;
    const timer = setTimeout(() => message.destroy(), DISCARD_TIMEOUT_MS);
    timer.unref();
    message.once('close', () => clearTimeout(timer));
    void (async () => {
      await iterator.return?.();
      message.resume(); // the response must end for its socket to go back to the pool
    })().catch(() => message.destroy());
  };
  return {
    read,
    // A body that has fully arrived only needs consuming; destroying it would waste the connection.
    cancel: () => (message.complete ? discard() : message.destroy()),
    discardRest: discard,
  };
}

/**
 * The body as text, at most `limit` bytes (the rest is dropped and the connection closed). A body
 * silent for `idleTimeoutMs` (a provider that sent its headers and stalled) is let go and the read
 * fails as `timeout`, which fails over: without the bound such a request would wait for ever,
 * never trying another provider, and stay in flight. Once `clientGone` aborted, what arrives no
 * longer extends the read: a body not ended within `idleTimeoutMs` of its last chunk is let go and
 * the read fails as `cancelled`; at once when the server cut the request (`clientGone.cut`), whose
 * client must get its answer before shutdown closes the connection.
 */
async function readText(
  body: UpstreamBody,
  limit: number,
  idleTimeoutMs: number,
  clientGone?: AbortLike,
): Promise<string> {
  if (clientGone?.cut === true) {
    body.cancel();
    throw cancelledFailure(clientGone);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let idle = false;
  let cut = false;
  const timer = setTimeout(() => {
    idle = true;
    body.cancel();
  }, idleTimeoutMs);
  const onAbort = (): void => {
    if (clientGone?.cut !== true) return;
    cut = true;
    body.cancel();
  };
  clientGone?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array, undefined>;
      try {
        next = await body.read();
      } catch (error) {
        if (cut) throw cancelledFailure(clientGone);
        if (idle) throw bodyIdleFailure(idleTimeoutMs, clientGone);
        throw error;
      }
      // What had arrived before the connection was closed is handed out first: still a stalled body.
      if (cut) throw cancelledFailure(clientGone);
      if (idle) throw bodyIdleFailure(idleTimeoutMs, clientGone);
      if (next.done) break;
      if (clientGone?.aborted !== true) timer.refresh();
      size += next.value.byteLength;
      if (size > limit) {
        body.cancel();
        break;
      }
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
    clientGone?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function bodyIdleFailure(idleTimeoutMs: number, clientGone: AbortLike | undefined): UpstreamFailure {
  if (clientGone?.aborted === true) return cancelledFailure(clientGone);
  return new UpstreamFailure('timeout', 'timeout', `Upstream body idle for ${idleTimeoutMs} ms`, true);
}

/** The failure of an attempt its client left or the server cut: `cancelled`, no failover (499, or the cut's 503). */
function cancelledFailure(clientGone: AbortLike | undefined): UpstreamFailure {
  const message =
    clientGone?.cut === true ? 'The gateway shut down before the answer arrived' : 'Client closed the request';
  return new UpstreamFailure('error', 'cancelled', message, false);
}

/** The errors of a request written to a connection the server had already closed. */
function isStaleConnection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** Send the request; resolves with the response once its headers arrived. */
function send(
  request: UpstreamRequest,
  payload: string,
  onRequest: (outgoing: ClientRequest) => void,
): Promise<IncomingMessage> {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(new Error(`unsupported upstream protocol ${url.protocol}`));
  }
  return new Promise((resolve, reject) => {
    const outgoing = (secure ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: secure ? httpsAgent : httpAgent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...request.headers,
        'content-length': Buffer.byteLength(payload),
      },
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    onRequest(outgoing);
    outgoing.end(payload);
  });
}

/**
 * POST JSON to an upstream and return the response once its headers arrived with a 2xx status.
 * Throws `UpstreamFailure`: `timeout` when no headers came within `timeoutMs`, `network_error` when
 * the connection failed, and otherwise the failure of the status (`upstreamStatusFailure`).
 * Redirects are not followed: a 3xx is the provider's configuration's fault (its base URL). A body
 * that cannot be serialised is the client's error (400, no failover, nothing sent).
 */
export async function postUpstream(request: UpstreamRequest): Promise<UpstreamResponse> {
  const payload = serialised(request.body);
  let outgoing: ClientRequest | undefined;
  let timedOut = false;
  /** Whether the request's body was all written when the call was aborted (destroy() hides it). */
  let sentWhenAborted: boolean | undefined;
  const abort = (): void => {
    sentWhenAborted ??= outgoing?.writableFinished === true;
    outgoing?.destroy();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    abort();
  }, request.timeoutMs);
  request.signal?.addEventListener('abort', abort, { once: true });
  let message: IncomingMessage;
  try {
    if (request.signal?.aborted) throw new Error('the client closed the request');
    const track = (created: ClientRequest): void => {
      outgoing = created;
    };
    try {
      message = await send(request, payload, track);
    } catch (error) {
      // A keep-alive connection the upstream closed while it sat idle in the pool (the close and
      // our request crossed): the request never reached the upstream's application, so it is sent
      // once more on a new connection, as Node's documentation of `request.reusedSocket` advises.
      if (timedOut || request.signal?.aborted || outgoing?.reusedSocket !== true || !isStaleConnection(error)) {
        throw error;
      }
      message = await send(request, payload, track);
    }
  } catch (error) {
    if (timedOut) {
      throw new UpstreamFailure('timeout', 'timeout', `No response within ${request.timeoutMs} ms`, true);
    }
    if (request.signal?.aborted) {
      const failure = cancelledFailure(request.signal);
      // The body was not all written: the upstream cannot have begun to answer (nor bill).
      failure.unsent = sentWhenAborted !== true;
      throw failure;
    }
    const code = (error as { code?: unknown }).code;
    throw new UpstreamFailure(
      'network_error',
      'network_error',
      `Connection failed${typeof code === 'string' ? ` (${code})` : ''}`,
      true,
    );
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', abort);
  }
  const response = {
    status: message.statusCode ?? 0,
    headers: message.headers,
    body: bodyOf(message),
    bodyIdleTimeoutMs: request.bodyIdleTimeoutMs ?? request.timeoutMs,
  };
  request.onResponseHeaders?.(response.status, message.headers);
  if (response.status >= 200 && response.status < 300) return response;
  // The status says what went wrong; a body that fails or stalls only loses its details. One still
  // arriving when the server cuts the request is let go and the attempt cancelled: the request
  // answers the cut's 503, not a failover or a 502 on a status it no longer acts on.
  let text = '';
  try {
    text = await readText(response.body, MAX_ERROR_BODY_BYTES, response.bodyIdleTimeoutMs, request.signal);
  } catch {
    if (request.signal?.cut === true) throw cancelledFailure(request.signal);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // Its details are passed on to the client, written out by recursive code: too deep, they are lost.
  if (typeof body === 'object' && body !== null && nestsDeeperThan(body, MAX_JSON_DEPTH)) body = undefined;
  const failure = upstreamStatusFailure(response.status, body);
  if (REDIRECTS.has(response.status)) {
    failure.redirectedTo = redirectTarget(message.headers.location, request.url);
  }
  throw failure;
}

/** Statuses that point elsewhere with a `Location` (a 304 or 300 does not): said to be redirects. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The failure of an upstream answer with HTTP status `status` (not 2xx) and JSON body `body`:
 * `rate_limited` on 429; `error` with failover on every status that is the provider's or its
 * configuration's fault (5xx; 401, 402, 403, 404, 408, see `PROVIDER_FAULT_4XX`; a redirect, which
 * the gateway does not follow; anything else that is not a 4xx); `error` without failover on the
 * other 4xx (the client's request itself is wrong), carrying `body` back to the client. Its
 * `error.type` is the status, so the breaker and the health figures count it, or leave a client's
 * 4xx out (see `saysNothingOfProvider`).
 */
export function upstreamStatusFailure(status: number, body: unknown): UpstreamFailure {
  if (status === 429) {
    return new UpstreamFailure('rate_limited', 'rate_limited', 'Upstream rate limit (HTTP 429)', true, 429);
  }
  if (status === 401 || status === 403) {
    // The gateway's credentials for this provider are wrong: a provider problem, not the client's.
    const message = `Upstream rejected the gateway's credentials (HTTP ${status})`;
    return new UpstreamFailure('error', String(status), message, true, status);
  }
  if (REDIRECTS.has(status)) {
    const message = `Upstream redirected the request (HTTP ${status}); set the provider's base URL to where it points`;
    return new UpstreamFailure('error', String(status), message, true, status);
  }
  if (!isClientFault4xx(status)) {
    return new UpstreamFailure('error', String(status), `Upstream error (HTTP ${status})`, true, status);
  }
  const message = `Upstream rejected the request (HTTP ${status})`;
  return new UpstreamFailure('error', String(status), message, false, status, body);
}

/** Longest redirect target logged: enough for a base URL, not for whatever a server puts there. */
const MAX_REDIRECT_TARGET_LENGTH = 200;

/**
 * A redirect's `location` (resolved against the URL the gateway called) as origin and path only:
 * a query or credentials in it stay out of the logs.
 */
function redirectTarget(location: string | undefined, from: string): string | undefined {
  if (location === undefined || location === '') return undefined;
  try {
    const target = new URL(location, from);
    return `${target.origin}${target.pathname}`.slice(0, MAX_REDIRECT_TARGET_LENGTH);
  } catch {
    return undefined;
  }
}

/**
 * The request body as JSON. `JSON.stringify` recurses, so a body nested a few thousand levels deep
 * throws `RangeError`; readJsonObject refuses such bodies first, and should one get here anyway it
 * is the client's request that is wrong, not the provider: a client-error 4xx (`error.type` "400")
 * leaves the provider's breaker and health alone (see provider-fault.ts) and does not fail over.
 */
function serialised(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch {
    const failure = new UpstreamFailure(
      'error',
      '400',
      'The request body cannot be serialised as JSON (nested too deeply)',
      false,
      400,
    );
    failure.unsent = true;
    throw failure;
  }
}

/**
 * Read a JSON body from a successful upstream response; a malformed body is an upstream error, a
 * body silent for `response.bodyIdleTimeoutMs` a `timeout`, a connection lost midway a `network_error`
 * (all fail over). After `clientGone` aborts, the body is still read for its usage (the answer was
 * generated and is billed), but what arrives no longer restarts the idle timeout: a body not ended
 * by then (one trickling whitespace) is let go, and the read fails as `cancelled` (no failover).
 * Aborted by the server's cut (`clientGone.cut`), the body is let go at once (`cancelled`), so the
 * request answers its 503 in time. Pass the request's `clientGone` wherever there is one: without
 * it a client that leaves while the body trickles holds the upstream connection while it trickles.
 */
export async function readUpstreamJson(
  response: UpstreamResponse,
  clientGone?: AbortLike,
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readText(response.body, MAX_SUCCESS_BODY_BYTES, response.bodyIdleTimeoutMs, clientGone);
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    throw new UpstreamFailure('network_error', 'network_error', 'Upstream connection failed during the response', true);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFailure('error', 'invalid_response', 'Upstream returned malformed JSON', true);
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new UpstreamFailure('error', 'invalid_response', 'Upstream returned a non-object JSON body', true);
  }
  // The answer goes on to recursive code (`JSON.stringify` when it is relayed), which a few thousand levels overflow.
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
    throw new UpstreamFailure(
      'error',
      'invalid_response',
      `Upstream returned JSON nested more than ${MAX_JSON_DEPTH} levels deep`,
      true,
    );
  }
  return parsed as Record<string, unknown>;
}
