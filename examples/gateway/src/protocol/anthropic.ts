import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { randomBytes } from 'node:crypto';
import { answeredToolCalls } from './chat-tools.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json.js';
import type { ApiError } from './openai-errors.js';
import { anthropicUsage } from './usage.js';
import { withFields } from '../with-fields.js';

/*
 * Anthropic Messages answers made from OpenAI chat completions (text and `tool_use` blocks, stop
 * reason, usage) and Anthropic's error shape. The request side is in anthropic-request.ts, the
 * stream in anthropic-stream.ts.
 */

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  // The provider's content filter stopped the answer: Anthropic's `refusal` (its classifiers stopped it).
  content_filter: 'refusal',
};

/**
 * Anthropic's `stop_reason` for a chat finish reason: `end_turn`, `max_tokens`, `tool_use`, or
 * `refusal` for a `content_filter` finish, and for an answer the model `refused` (OpenAI's
 * `refusal` instead of content) that would otherwise end its turn. An answer that called tools ends with
 * `tool_use` (the signal Anthropic clients run their tools on) also when the upstream said `stop`,
 * as some OpenAI-compatible servers do; one cut at `max_tokens` stays `max_tokens`.
 */
export function stopReason(finishReason: string | undefined, calledTools: boolean, refused = false): string {
  const reason = STOP_REASONS[finishReason ?? 'stop'] ?? 'end_turn';
  if (calledTools && reason === 'end_turn') return 'tool_use';
  // The model declined (OpenAI's `refusal` instead of content): Anthropic's `refusal`, its text the reply.
  return refused && reason === 'end_turn' ? 'refusal' : reason;
}

/** An id for a tool call the upstream sent without one, in Anthropic's style. */
export const toolUseId = (): string => `toolu_${randomBytes(12).toString('hex')}`;

/** An upstream answer the Anthropic translation cannot carry (tool call arguments that are not a JSON object). */
export class UntranslatableAnswer extends Error {
  override readonly name = 'UntranslatableAnswer';
}

/**
 * The `input` of a `tool_use` block from OpenAI's `arguments` (a JSON text; empty means no
 * arguments). Throws `UntranslatableAnswer` when they are not a JSON object, or one nested more than
 * `MAX_JSON_DEPTH` levels deep: the client could not run its tool with them.
 */
export function toolInput(argumentsText: unknown): Record<string, unknown> {
  if (argumentsText === undefined || argumentsText === null || argumentsText === '') return {};
  let input: unknown;
  try {
    input = typeof argumentsText === 'string' ? JSON.parse(argumentsText) : undefined;
  } catch {
    input = undefined;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UntranslatableAnswer('Upstream returned tool call arguments that are not a JSON object');
  if (nestsDeeperThan(input, MAX_JSON_DEPTH))
    throw new UntranslatableAnswer(
      `Upstream returned tool call arguments nested more than ${MAX_JSON_DEPTH} levels deep`,
    );
  return input as Record<string, unknown>;
}

/** Turn an OpenAI chat completion into an Anthropic message: its text, then a `tool_use` block per tool call. */
export function openAiToAnthropic(completion: Record<string, unknown>, model: string): Record<string, unknown> {
  const choice = (
    completion['choices'] as
      | Array<{
          message?: { content?: string | null; refusal?: string | null; tool_calls?: unknown };
          finish_reason?: string;
        }>
      | undefined
  )?.[0];
  const calls = answeredToolCalls(choice?.message);
  // A refusal comes instead of content: its text is the reply Anthropic's clients read.
  const refusal = choice?.message?.refusal;
  const refused = typeof refusal === 'string' && refusal !== '' && !choice?.message?.content;
  const text = refused ? refusal : (choice?.message?.content ?? '');
  const toolUses = calls.map((call) => ({
    type: 'tool_use',
    id: call.id ?? toolUseId(),
    name: call.name,
    input: toolInput(call.arguments),
  }));
  return {
    id: `msg_${typeof completion['id'] === 'string' ? completion['id'] : ''}`,
    type: 'message',
    role: 'assistant',
    model,
    // Anthropic sends no empty text block beside tool calls.
    content: [...(text !== '' || toolUses.length === 0 ? [{ type: 'text', text }] : []), ...toolUses],
    stop_reason: stopReason(choice?.finish_reason, toolUses.length > 0, refused),
    stop_sequence: null,
    usage: anthropicUsage(usageFromOpenAi(completion['usage'])),
  };
}

/** Anthropic's error type for an HTTP status. */
function anthropicErrorType(status: number): string {
  if (status === 400 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  // Anthropic uses invalid_request_error for the 4xx statuses it lists no type for (405, 422, ...).
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

/** An `ApiError` answered in Anthropic's error shape: `{"type":"error","error":{"type":...,"message":...}}`. */
export function anthropicErrorResponse(error: ApiError): Response {
  return new Response(
    JSON.stringify({ type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } }),
    { status: error.status, headers: withFields(error.headers, { 'content-type': 'application/json; charset=utf-8' }) },
  );
}
