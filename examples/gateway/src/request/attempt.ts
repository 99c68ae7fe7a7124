import type { IncomingHttpHeaders } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { ModelCallStatus } from '@gatewayz/telemetry';
import type { GenAiOutputMessage, GenAiRequestParameters, GenAiSpanStart, GenAiUsage } from '@gatewayz/telemetry/genai';
import type { ModelCall } from '@gatewayz/telemetry/model-health';
import type { ProviderConfig } from '../config.js';

/** The GenAI operation of a request (`gen_ai.operation.name`): `/v1/responses` is `chat` too. */
export type Operation = 'chat' | 'image_generation' | 'embeddings';

/**
 * What the attempt spans say of the client's request: whether it streams (`gen_ai.request.stream`)
 * and its parameters (`gen_ai.request.max_tokens`, `temperature`, `stop_sequences`, ...), the same
 * for every provider tried.
 */
export type AttemptRequest = SpanRequest & { stream?: boolean };

/**
 * What a route puts on the attempt spans of its request: the request's parameters and, only when
 * content capture is on (`GatewayTelemetry.genAiContent.capture`), its messages and system
 * instructions (`gen_ai.input.messages`, `gen_ai.system_instructions`).
 */
export type SpanRequest = GenAiRequestParameters &
  Pick<GenAiSpanStart, 'inputMessages' | 'systemInstructions' | 'toolDefinitions'>;

/** Where finished calls go: the model-health store (or its write-behind recorder). */
export interface ModelCallSink {
  recordCall(call: ModelCall): void;
}

/**
 * Token usage of one call, as the upstream reported it: the core's `GenAiUsage` (cached and
 * reasoning tokens are parts of the input and output totals; 0 output tokens for embeddings).
 */
export type Usage = GenAiUsage;

/** What an attempt reports when it finishes (immediately, or at the end of a stream). */
export interface AttemptCompletion {
  status: ModelCallStatus;
  usage?: Usage;
  images?: number;
  responseModel?: string;
  finishReasons?: string[];
  errorType?: string;
  errorMessage?: string;
  timeToFirstTokenSeconds?: number;
  /** Streams: seconds from the attempt's start to the first chunk received from the provider. */
  timeToFirstChunkSeconds?: number;
  /**
   * Streams: for each chunk received after the first, seconds since the previous one; none for a
   * JSON answer served as a stream, whose chunks the gateway made at once (see `ChunkTiming`).
   */
  timesPerOutputChunkSeconds?: number[];
  /** The provider's id of the response (`gen_ai.response.id`), e.g. `chatcmpl-123`. */
  responseId?: string;
  /**
   * The answer's `service_tier` (`openai.response.service_tier` when the provider is `openai`), e.g.
   * `flex`; a stream's last chunk that carried one.
   */
  serviceTier?: string;
  /** The answer's `system_fingerprint` (`openai.response.system_fingerprint` when the provider is `openai`), as `serviceTier`. */
  systemFingerprint?: string;
  /** The answer, one message per choice (`gen_ai.output.messages`): only when content capture is on. */
  outputMessages?: GenAiOutputMessage[];
  /** The client went away before the end (streams); recorded as the provider's success. */
  cancelled?: boolean;
  /** With `cancelled`: it was the gateway's shutdown (drain deadline passed) that cut the stream, not the client. */
  shutdown?: boolean;
  /**
   * Streams: UTF-8 bytes of the generated output received from the provider (text, refusal,
   * reasoning, tool calls), which bound its output tokens from above when no usage came (see
   * `RequestBudget.chargeWithoutUsage`).
   */
  streamedOutputBytes?: number;
  /**
   * The client went away before the request's body was all written to the provider, which then
   * cannot have begun to answer: nothing is charged for it (see `UpstreamFailure.unsent`).
   */
  unsent?: boolean;
  /**
   * A failed attempt whose provider made an answer the gateway could not use (see
   * `UpstreamFailure.answered`): billed, so charged its bound when it came without usage.
   */
  answered?: boolean;
}

export interface AttemptContext {
  provider: ProviderConfig;
  /** Headers for the upstream request: auth and W3C `traceparent` of the attempt span. */
  headers: Record<string, string>;
  span: Span;
  /** Give it the status and headers of the provider's response (its rate-limit headers are read). */
  onResponseHeaders: (status: number, headers: IncomingHttpHeaders) => void;
}

/**
 * The value an attempt produced. When `deferred`, the call is still running (a stream) and the
 * caller must call `complete()` exactly once when it ends.
 */
export interface AttemptResult<T> {
  value: T;
  deferred?: boolean;
  completion?: AttemptCompletion;
}

export interface RoutedResult<T> {
  value: T;
  provider: string;
  /** How the attempt that produced `value` finished; absent while a deferred attempt runs. */
  completion?: AttemptCompletion;
  /** Finish a deferred attempt (streams). No-op for finished ones. */
  complete(completion: AttemptCompletion): void;
}
