import type { IncomingHttpHeaders } from 'node:http';
import { usageFromOpenAi, type GenAiUsage as Usage } from '@gatewayz/telemetry/genai';
import {
  readUpstreamJson,
  UpstreamFailure,
  upstreamStatusFailure,
  type AbortLike,
  type UpstreamResponse,
} from './upstream.js';

/*
 * What a provider answered a request for a stream with, checked before the client is answered: a
 * 2xx is not yet a stream. What the gateway cannot relay fails the attempt, so another provider is
 * tried, rather than becoming a 200 whose stream only carries an error.
 */

/** `content-encoding` values that leave the body as it is. */
export const UNCODED = new Set(['', 'identity', 'none']);

/** Longest media type or encoding quoted in a failure's message. */
const MAX_QUOTED_LENGTH = 64;

/**
 * Resolves when `response` (a 2xx to a request with `stream: true`) may be an SSE stream the
 * gateway can read: any content type but JSON (`text/event-stream`, none, or one a server sends by
 * mistake such as `text/plain`: the first event tells; an HTML page has none and fails there), with
 * no content coding (the gateway asks for none and decodes none; `identity` and `none`, which some
 * servers send to keep proxies from compressing a stream, change nothing). Otherwise its body is
 * read or let go, and it throws an `UpstreamFailure`:
 *
 * - a JSON body holding an `error`: the failure `reportedFailure` makes of it;
 * - any other JSON body: `invalid_response` with the usage it reports, which the provider bills
 *   (a chat completion answering a request for a chat stream never gets here: stream-attempt.ts
 *   serves it as a stream, see ../request/json-answer-stream.ts);
 * - a content coding (`gzip`, `br`, ...): `invalid_response`.
 *
 * All of them fail over, except an error the client's request caused. The JSON body is read as
 * `readUpstreamJson` reads it with `clientGone` (the request's): once its client left, what arrives
 * no longer extends the read; once the server cut the request, it is let go at once (`cancelled`).
 */
export async function expectEventStream(response: UpstreamResponse, clientGone?: AbortLike): Promise<void> {
  const encoding = headerValue(response.headers, 'content-encoding');
  if (encoding !== undefined && !UNCODED.has(encoding)) {
    response.body.cancel();
    throw invalidStream(`content-encoding ${encoding}, which the gateway does not ask for`);
  }
  const type = headerValue(response.headers, 'content-type')?.split(';')[0]?.trim();
  if (type === undefined || !(type === 'application/json' || type.endsWith('+json'))) return;
  const answer = await readUpstreamJson(response, clientGone);
  const usage = usageFromOpenAi(answer['usage']);
  const error = answer['error'];
  if (error !== undefined && error !== null && error !== false) throw reportedFailure(error, undefined, usage);
  throw invalidStream('a JSON body (it does not stream)').withUsage(usage);
}

/**
 * The failure of an error a provider reported inside a 2xx answer before any output (a JSON error
 * body, or an error as a stream's first event): `message` (or the error's own) is the provider's.
 * An error whose `code` is an HTTP status (OpenRouter: `{"error":{"code":502,...}}`) fails as that
 * status does (`upstreamStatusFailure`: a client's 4xx goes back to it with the error, the rest
 * fail over); any other is `upstream_stream_error`, the `error.type` of an error event later in a
 * stream, and fails over: no output has gone out, so another provider can still answer.
 */
export function reportedFailure(
  error: unknown,
  message: string | undefined,
  usage: Usage | undefined,
): UpstreamFailure {
  const fields = typeof error === 'object' && error !== null ? (error as { code?: unknown; message?: unknown }) : {};
  const own = typeof fields.message === 'string' && fields.message !== '' ? fields.message : undefined;
  const text = message ?? own ?? (typeof error === 'string' ? error : 'The upstream reported an error');
  const code = fields.code;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 599)
    return new UpstreamFailure('error', 'upstream_stream_error', text, true).withUsage(usage);
  const byStatus = upstreamStatusFailure(code, { error });
  return new UpstreamFailure(
    byStatus.status,
    byStatus.errorType,
    `Upstream reported error ${code} in a 2xx answer: ${text}`,
    byStatus.failover,
    byStatus.httpStatus,
    byStatus.clientBody,
  ).withUsage(usage);
}

/** A header's value, lower case and trimmed, at most `MAX_QUOTED_LENGTH` characters; `undefined` when absent or empty. */
function headerValue(headers: IncomingHttpHeaders, name: 'content-type' | 'content-encoding'): string | undefined {
  const value = headers[name]?.trim().toLowerCase();
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_QUOTED_LENGTH);
}

function invalidStream(what: string): UpstreamFailure {
  return new UpstreamFailure('error', 'invalid_response', `Upstream answered a stream request with ${what}`, true);
}
