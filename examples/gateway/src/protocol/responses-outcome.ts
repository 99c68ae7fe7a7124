import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { AttemptCompletion } from '../request/attempt.js';

/*
 * How a native Responses API response (the provider's own, relayed or answered as JSON) ended, in
 * the chat completion's terms the attempt span reports (`gen_ai.response.finish_reasons`), and
 * the attempt's completion of a JSON answer.
 */

/**
 * Output item types that ask the client to run a tool and send its result back: the Responses
 * API's counterparts of a chat completion ending with `tool_calls`. Built-in tools the provider
 * runs itself (`web_search_call`, `file_search_call`, `code_interpreter_call`, ...) do not end the
 * turn: a response holding only those ends with its message.
 */
const CLIENT_TOOL_CALLS: ReadonlySet<string> = new Set([
  'function_call',
  'custom_tool_call',
  'computer_call',
  'local_shell_call',
  'shell_call',
  'apply_patch_call',
]);

interface NativeResponse {
  status?: unknown;
  output?: unknown;
  incomplete_details?: { reason?: unknown } | null;
}

/** Whether a Response's `output` holds a call of a tool the client runs. */
function callsClientTool(output: unknown): boolean {
  if (!Array.isArray(output)) return false;
  return output.some((item: unknown) => {
    const type = (item as { type?: unknown } | null)?.type;
    return typeof type === 'string' && CLIENT_TOOL_CALLS.has(type);
  });
}

/**
 * The chat finish reason of a finished Response: `length` or `content_filter` for an incomplete
 * one (its `incomplete_details.reason` decides), `tool_calls` for a completed one whose output
 * calls a tool the client runs (a function, a custom tool, the computer, a shell, a patch), `stop`
 * otherwise. `status` is the Response's, or the event's for a stream's `response.completed` /
 * `response.incomplete`.
 */
export function responsesFinishReason(response: unknown, status: unknown): string {
  const native = (typeof response === 'object' && response !== null ? response : {}) as NativeResponse;
  if (status === 'incomplete')
    return native.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  return callsClientTool(native.output) ? 'tool_calls' : 'stop';
}

/**
 * The attempt's completion of a native Response answered as JSON. A Response with `status:
 * "failed"` (answered with HTTP 200) is a failed attempt, recorded as a stream's
 * `response.failed` is (status `error`, `error.type` `upstream_stream_error`, the provider's
 * message, and the usage it reports, which the provider bills); the client still gets the
 * Response as the provider sent it. A completed or incomplete one succeeded, with its finish
 * reason (`length` or `content_filter` when incomplete, as a stream's `response.incomplete`).
 */
export function nativeResponseCompletion(response: Record<string, unknown>): AttemptCompletion {
  const usage = usageFromOpenAi(response['usage']);
  const reported: Pick<AttemptCompletion, 'usage' | 'responseModel' | 'responseId' | 'serviceTier'> = {};
  if (usage !== undefined) reported.usage = usage;
  if (typeof response['model'] === 'string') reported.responseModel = response['model'];
  if (typeof response['id'] === 'string') reported.responseId = response['id'];
  if (typeof response['service_tier'] === 'string') reported.serviceTier = response['service_tier'];
  if (response['status'] === 'failed') {
    const message = (response['error'] as { message?: unknown } | null | undefined)?.message;
    return {
      status: 'error',
      // The error.type sse-relay.ts gives a stream's `response.failed`: one name for both.
      errorType: 'upstream_stream_error',
      errorMessage: typeof message === 'string' ? message : 'The upstream response failed',
      ...reported,
    };
  }
  return { status: 'success', ...reported, finishReasons: [responsesFinishReason(response, response['status'])] };
}
