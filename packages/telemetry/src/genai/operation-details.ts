import { diag, type Context } from '@opentelemetry/api';
import { peekTelemetry } from '../metrics/shared-telemetry.js';
import { genAiContentValue } from './message-content.js';
import {
  genAiStartAttributes,
  genAiStartContent,
  setGenAiEndAttributes,
  type GenAiSpanEnd,
  type GenAiSpanStart,
} from './genai-span.js';
import { ATTR_GEN_AI_OUTPUT_MESSAGES, EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS } from './semconv.js';

/**
 * A value of an event attribute: the scalars and string arrays of span attributes, or the
 * structured (JSON-shaped) content the conventions ask events to hold as it is.
 *
 * @example
 * ```ts
 * const messages: GenAiEventValue = [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }];
 * ```
 */
export type GenAiEventValue = string | number | boolean | null | GenAiEventValue[] | { [key: string]: GenAiEventValue };

/**
 * The log record `emitGenAiOperationDetails()` emits: the fields of an OpenTelemetry Logs API
 * `LogRecord` it sets.
 *
 * @example
 * ```ts
 * const record: GenAiEventRecord = {
 *   eventName: 'gen_ai.client.inference.operation.details',
 *   attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' },
 * };
 * ```
 */
export interface GenAiEventRecord {
  /** Always `gen_ai.client.inference.operation.details`. */
  eventName: string;
  /** The call's attributes; the content ones structured. */
  attributes: Record<string, GenAiEventValue>;
  /** The context whose span the record is correlated with (the call's span), when given. */
  context?: Context;
}

/**
 * Where GenAI events go: any object with an `emit(record)` method, such as a `Logger` of
 * `@opentelemetry/api-logs` (`logs.getLogger('my-gateway')`), which this package does not depend on.
 *
 * @example
 * ```ts
 * import { logs } from '@opentelemetry/api-logs';
 * const events: GenAiEventLogger = logs.getLogger('my-gateway');
 * ```
 */
export interface GenAiEventLogger {
  /** Emit one log record (the Logs API's `Logger.emit`). */
  emit(record: GenAiEventRecord): void;
}

/**
 * Everything known of one inference call when it has ended: what `startGenAiSpan()` and
 * `endGenAiSpan()` take. Content fields (`inputMessages`, `systemInstructions`, `toolDefinitions`,
 * `outputMessages`) are given only when content goes to events (`GatewayTelemetry.genAiContent.eventContent`).
 *
 * @example
 * ```ts
 * const details: GenAiOperationDetails = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 12, outputTokens: 30, finishReasons: ['stop'],
 * };
 * ```
 */
export type GenAiOperationDetails = GenAiSpanStart & GenAiSpanEnd;

/**
 * Emit the `gen_ai.client.inference.operation.details` event for one inference call: a log record
 * with that event name, the call's attributes as its GenAI span has them (operation, provider,
 * model, server, request parameters, response, usage, `error.type`) and, when given, its content,
 * structured (the conventions ask events to hold it so) and cut as on spans
 * (`contentMaxLength`). Emit it whether or not the call's span is sampled: the event is meant to
 * keep the details apart from traces. Call it only when `GatewayTelemetry.genAiContent.events` is
 * on (off by default). Content that JSON cannot hold is left out with one warning, and a logger
 * that throws is warned about once and each lost event counted in the shared instance's
 * `gatewayz_telemetry_logs_dropped_total{reason="emit_failed"}`; `details` that cannot be read (not
 * an object, from plain JavaScript) likewise, as `reason="invalid_details"`: it never throws.
 *
 * `attributes` adds the application's own attributes of the call, such as the ones it sets on the
 * call's span beside the GenAI ones (a cost, a cancellation), so that an event whose span was not
 * sampled still has them. They cannot replace the call's own: a key that `details` sets (a
 * `gen_ai.*`, `server.*` or `error.type` attribute) keeps the value `details` gives, and an
 * `undefined` value is left out.
 *
 * @param logger - where the event goes, e.g. `logs.getLogger('my-gateway')` of `@opentelemetry/api-logs`
 * @param details - the call, as given to `startGenAiSpan()` and `endGenAiSpan()`
 * @param context - the context of the call's span (`trace.setSpan(parent, span)`), which the record is correlated with
 * @param attributes - further attributes of the call, e.g. `{ 'gatewayz.usage.cost_usd': 0.0042 }`
 *
 * @example
 * ```ts
 * const { events, eventContent, maxLength } = telemetry.genAiContent;
 * if (events)
 *   emitGenAiOperationDetails(logger, {
 *     ...start, ...end,
 *     ...(eventContent ? { inputMessages, outputMessages, contentMaxLength: maxLength } : {}),
 *   }, trace.setSpan(parent, span), { 'gatewayz.usage.cost_usd': cost });
 * ```
 */
export function emitGenAiOperationDetails(
  logger: GenAiEventLogger,
  details: GenAiOperationDetails,
  context?: Context,
  attributes?: Readonly<Record<string, GenAiEventValue | undefined>>,
): void {
  let recorded: ReturnType<typeof operationDetailsAttributes>;
  try {
    // Plain JavaScript can pass anything; what cannot be read is one lost event, not a failed call.
    if (typeof details !== 'object' || details === null)
      throw new TypeError(`details must be an object, got ${details === null ? 'null' : typeof details}`);
    recorded = operationDetailsAttributes(details);
  } catch (error) {
    eventLost('invalid_details', `its details could not be read (${String(error)})`);
    return;
  }
  if (attributes !== undefined)
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      if (value !== undefined && !Object.hasOwn(recorded, key)) recorded[key] = value;
    }
  try {
    logger.emit({
      eventName: EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
      attributes: recorded,
      ...(context !== undefined ? { context } : {}),
    });
  } catch (error) {
    // A logger of the application's own that throws must not fail the call being recorded.
    eventLost('emit_failed', `the logger threw (${String(error)})`);
  }
}

/** The reasons of a lost event already warned about (once per process each). */
const lossWarned = new Set<string>();

/**
 * Count an event lost for `reason` in the shared instance (this helper takes none), as content
 * drops are, and warn the first time for that reason.
 */
function eventLost(reason: 'emit_failed' | 'invalid_details', why: string): void {
  peekTelemetry()?.add('telemetryLogsDropped', 1, { reason });
  if (lossWarned.has(reason)) return;
  lossWarned.add(reason);
  diag.warn(
    `@gatewayz/telemetry: ${EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS} event not emitted: ${why}. Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason ${reason}).`,
  );
}

/** The event's attributes that `details` gives: its span's, with the content structured. */
function operationDetailsAttributes(details: GenAiOperationDetails): Record<string, GenAiEventValue> {
  const attributes: Record<string, GenAiEventValue> = genAiStartAttributes(details);
  setGenAiEndAttributes(
    {
      setAttribute: (key, value) => {
        attributes[key] = value;
      },
    },
    details,
  );
  const content = [...genAiStartContent(details), [ATTR_GEN_AI_OUTPUT_MESSAGES, details.outputMessages] as const];
  for (const [attribute, value] of content) {
    if (value === undefined) continue;
    const structured = genAiContentValue(attribute, value, details.contentMaxLength);
    if (structured !== undefined) attributes[attribute] = structured as GenAiEventValue;
  }
  return attributes;
}
