import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { ProviderConfig } from '../config.js';
import { isObject } from '../protocol/json.js';
import type { StreamEncoder, StreamParser } from '../protocol/stream-encoder.js';
import { requestBudgetOf } from '../api-keys/api-key-context.js';
import { ResponseBodyEnd } from '../middleware/instrument-request.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import type { SpanRequest, Usage } from './attempt.js';
import { StreamedChatOutput, type StreamedOutput } from './streamed-chat-output.js';
import { clientGone, requestContext } from './request-context.js';
import { routeUpstream, type UpstreamPlan } from './route-upstream.js';
import { recordServerAnswer } from './server-request.js';
import { expectEventStream } from '../providers/stream-answer.js';
import { completionStream, isJsonAnswer } from './json-answer-stream.js';
import { openSseRelay } from './open-sse-relay.js';
import { SSE_HEADERS, type RelayEnd } from './sse-relay.js';
import { withFields } from '../with-fields.js';

/*
 * One streamed attempt, start to end. `streamModel` (chat completions, messages, responses) asks
 * the router for the provider chain (provider-chain.ts) and tries it (try-providers.ts: breaker,
 * attempt span, failover) with an attempt that opens the upstream stream, checks that it is one
 * (stream-answer.ts), reads it up to its first event (open-sse-relay.ts; due `ATTEMPT_TIMEOUT_MS`
 * after the attempt's start) and returns it `deferred`: a provider that answers anything else, or
 * fails before its first event, fails its attempt and the next one is tried, and the client's 200
 * is sent only once a stream opened. A
 * chat completion answering a request for a chat stream is the exception: it is relayed as the
 * stream it would have been (json-answer-stream.ts). The relay (sse-relay.ts) measures time to
 * first token from the attempt's start, enforces the idle timeout between chunks (and before the
 * first), and reports how the stream ended (success, timeout, upstream failure, client cancel)
 * exactly once; that report finishes the attempt (`complete` → finish-attempt.ts: metrics, model
 * health, span).
 */

/** What one streamed attempt sends to a provider, and how its stream is read and re-encoded. */
export interface StreamPlan extends UpstreamPlan {
  encoder: StreamEncoder;
  /** How the upstream's events are parsed; default OpenAI chat chunks. */
  parse?: StreamParser;
  /** Where the answer's content is put together, when content capture is on. */
  output?: StreamedOutput;
}

/**
 * Answer a model request as a stream: `plan` says, per provider tried, what to send upstream and
 * how its stream reaches the client; the first provider whose stream opens (a sound first event)
 * is relayed. When the stream ends, the request is recorded in the GenAI server metrics (duration,
 * time to the first content chunk sent to the client, time per output token but for a JSON answer
 * served as a stream). `parameters` (the client's max tokens, temperature, ...) go on the attempt
 * spans.
 */
export async function streamModel(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  plan: (provider: ProviderConfig) => StreamPlan,
  parameters: SpanRequest = {},
): Promise<Response> {
  const { config } = services;
  // The output received is counted only where it can be charged: a request holding a budget, at a
  // provider that stops generating (and billing) when the client leaves (RequestBudget.chargeWithoutUsage).
  const budgeted = requestBudgetOf(requestContext(c)) !== undefined;
  const routed = await routeUpstream(
    c,
    services,
    'chat',
    model,
    (provider) =>
      withFields(plan(provider), {
        countOutputBytes: budgeted && provider.cancelStopsBilling === true,
        providerName: provider.name,
      }),
    async (planned, response, attemptStartedAt) => {
      let upstream = response;
      let usage: Usage | undefined;
      // A chat completion from a provider that ignored `stream: true` is served as the chat stream it
      // would have sent: it was generated and is billed (json-answer-stream.ts), so its usage is
      // the attempt's even when the client has left by the time it is read. It arrived whole, so
      // its chunks have no timing but the first one's.
      const jsonAnswer = planned.parse === undefined && isJsonAnswer(response.headers);
      if (jsonAnswer) {
        ({ upstream, usage } = await completionStream(response, planned.body, clientGone(c)));
        services.log.debug('provider answered a stream request with a JSON chat completion, served as a stream', {
          provider: planned.providerName,
          model,
        });
      } else await expectEventStream(response, clientGone(c));
      const reading = {
        encoder: planned.encoder,
        ...(planned.parse !== undefined ? { parse: planned.parse } : {}),
        ...(planned.output !== undefined ? { output: planned.output } : {}),
        ...(usage !== undefined ? { usage } : {}),
        // A JSON answer is whole already: its first event is at hand, whenever the body ended.
        ...(jsonAnswer ? { jsonAnswer } : { openTimeoutMs: config.attemptTimeoutMs }),
        idleTimeoutMs: config.streamIdleTimeoutMs,
        attemptStartedAt,
        countOutputBytes: planned.countOutputBytes,
      };
      return { value: await openSseRelay(upstream, reading, clientGone(c)), deferred: true };
    },
    withFields(parameters, { stream: true }),
  );
  const relay = routed.value;
  // The stream records when it ends, after this handler returned: shutdown waits for it, and the
  // request's SERVER span and duration end with it.
  const recorded = services.inFlight.begin();
  const bodyEnd = new ResponseBodyEnd();
  c.set('responseBodyEnd', bodyEnd);
  const onEnd: RelayEnd = (ended, served) => {
    try {
      // A stream cut because shutdown's drain deadline passed was ended by the server.
      const completion = ended.cancelled && services.inFlight.cut ? withFields(ended, { shutdown: true }) : ended;
      routed.complete(completion);
      recordServerAnswer(c, services, {
        operation: 'chat',
        model,
        provider: routed.provider,
        completion,
        ...(served.firstOutputAt !== undefined ? { firstContentAt: served.firstOutputAt } : {}),
        reasoningStreamed: served.reasoningRelayed,
        jsonAnswer: served.jsonAnswer,
      });
    } finally {
      recorded();
      bodyEnd.end();
    }
  };
  // Served by @hono/node-server: straight into Node's response (see relaySseToResponse).
  const outgoing = c.env?.outgoing;
  if (outgoing !== undefined) {
    relay.toResponse(outgoing, onEnd, clientGone(c));
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(relay.toStream(onEnd), { status: 200, headers: SSE_HEADERS });
}

/**
 * Answer a chat request as a stream: `upstreamBody` (an OpenAI chat request, or a function making
 * it for the provider tried) goes to the best provider that opens a stream, and its chunks reach the client through `encoder`. `parameters`
 * are the client's, read from the body it sent.
 */
export function streamChat(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  upstreamBody: Record<string, unknown> | ((provider: ProviderConfig) => Record<string, unknown>),
  encoder: () => StreamEncoder,
  parameters: SpanRequest,
): Promise<Response> {
  const { collect, maxLength } = services.otel.telemetry.genAiContent;
  return streamModel(
    c,
    services,
    model,
    (provider) => {
      const body = typeof upstreamBody === 'function' ? upstreamBody(provider) : upstreamBody;
      return {
        path: '/chat/completions',
        // The gateway needs the usage; the client's other stream options (`include_obfuscation`, ...) go on.
        body: withFields(body, { stream: true, stream_options: withUsage(body['stream_options']) }),
        encoder: encoder(),
        ...(collect ? { output: new StreamedChatOutput(maxLength) } : {}),
      };
    },
    parameters,
  );
}

/**
 * The client's `stream_options` with `include_usage: true`, which the gateway asks of every
 * upstream stream to record its usage (the client still gets the usage only if it asked, see
 * `openAiStreamEncoder`); `{ include_usage: true }` when the client sent none, or no object.
 */
export function withUsage(streamOptions: unknown): Record<string, unknown> {
  return withFields(isObject(streamOptions) ? streamOptions : {}, { include_usage: true });
}
