import { diag, type Context, type Exception } from '@opentelemetry/api';
import { peekTelemetry } from '../metrics/shared-telemetry.js';
import { genAiContentValue } from './message-content.js';
import {
  genAiStartAttributes,
  genAiStartContent,
  setGenAiEndAttributes,
  type GenAiSpanEnd,
  type GenAiSpanStart,
} from './genai-span.js';
import {
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
  EVENT_GEN_AI_CLIENT_OPERATION_EXCEPTION,
} from './semconv.js';

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
 * The log record `emitGenAiOperationDetails()` and `emitGenAiOperationException()` emit: the fields
 * of an OpenTelemetry Logs API `LogRecord` they set.
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
  /** `gen_ai.client.inference.operation.details` or `gen_ai.client.operation.exception`. */
  eventName: string;
  /** The Logs API's severity number: 13 (`SeverityNumber.WARN`) on the exception event, absent on the details event. */
  severityNumber?: number;
  /** `WARN` on the exception event, absent on the details event. */
  severityText?: string;
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
 * model, server, request parameters, response, usage, `error.type`, and OpenAI's service tiers
 * and system fingerprint under the same rules) and, when given, its content,
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
  const event = EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS;
  let recorded: ReturnType<typeof operationDetailsAttributes>;
  try {
    // Plain JavaScript can pass anything; what cannot be read is one lost event, not a failed call.
    if (typeof details !== 'object' || details === null)
      throw new TypeError(`details must be an object, got ${details === null ? 'null' : typeof details}`);
    recorded = operationDetailsAttributes(details);
  } catch (error) {
    eventLost(event, 'invalid_details', `its details could not be read (${String(error)})`);
    return;
  }
  addOwnAttributes(recorded, attributes);
  emitEvent(logger, { eventName: event, attributes: recorded, ...(context !== undefined ? { context } : {}) });
}

/**
 * Emit the `gen_ai.client.operation.exception` event for an exception of a GenAI client operation
 * (an API error, a rate limit, a timeout): a log record with that event name, severity WARN (13) as
 * the conventions ask, and `exception.type`, `exception.message` and `exception.stacktrace` read
 * from `exception` as `span.recordException()` reads them (the type is a Node.js error's `code`
 * when it has one, else its `name`; a string is a message alone). Emit it when
 * `GatewayTelemetry.genAiContent.events` is on, whether or not the call's span is sampled, with
 * the context of the call's span so the two correlate. The message may hold sensitive details: give
 * one your code wrote, not an upstream's body. It never throws: an `exception` with neither a type
 * nor a message (`null`, `{}`, from plain JavaScript) is lost and counted as
 * `gatewayz_telemetry_logs_dropped_total{reason="invalid_details"}`, a logger that throws as
 * `reason="emit_failed"`, each warned about once.
 *
 * `attributes` adds attributes of the call, as the conventions allow (the ones captured on the
 * call's span, such as `error.type` or `gen_ai.provider.name`); the `exception.*` ones read from
 * `exception` keep their value, and an `undefined` value is left out.
 *
 * @param logger - where the event goes, e.g. `logs.getLogger('my-gateway')` of `@opentelemetry/api-logs`
 * @param exception - what was thrown: an `Error`, an object with a `code`, `name` or `message`, or a message
 * @param context - the context of the call's span (`trace.setSpan(parent, span)`), which the record is correlated with
 * @param attributes - attributes of the call, e.g. `{ 'error.type': '500' }`
 *
 * @example
 * ```ts
 * try {
 *   await callProvider();
 * } catch (error) {
 *   if (telemetry.genAiContent.events)
 *     emitGenAiOperationException(logger, error as Error, trace.setSpan(parent, span), { 'error.type': 'timeout' });
 *   endGenAiSpan(span, { errorType: 'timeout' });
 * }
 * ```
 */
export function emitGenAiOperationException(
  logger: GenAiEventLogger,
  exception: Exception,
  context?: Context,
  attributes?: Readonly<Record<string, GenAiEventValue | undefined>>,
): void {
  const event = EVENT_GEN_AI_CLIENT_OPERATION_EXCEPTION;
  let recorded: Record<string, GenAiEventValue>;
  try {
    recorded = exceptionAttributes(exception);
  } catch (error) {
    eventLost(event, 'invalid_details', `its exception could not be read (${String(error)})`);
    return;
  }
  addOwnAttributes(recorded, attributes);
  emitEvent(logger, {
    eventName: event,
    severityNumber: SEVERITY_NUMBER_WARN,
    severityText: 'WARN',
    attributes: recorded,
    ...(context !== undefined ? { context } : {}),
  });
}

/** The Logs API's `SeverityNumber.WARN` (this package does not depend on `@opentelemetry/api-logs`). */
const SEVERITY_NUMBER_WARN = 13;

/** Add the caller's `attributes` of the call to `recorded`, which keeps a value it already has. */
function addOwnAttributes(
  recorded: Record<string, GenAiEventValue>,
  attributes: Readonly<Record<string, GenAiEventValue | undefined>> | undefined,
): void {
  if (attributes === undefined) return;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined && !Object.hasOwn(recorded, key)) recorded[key] = value;
  }
}

/** Hand `record` to `logger`; a logger that throws loses the event, counted. */
function emitEvent(logger: GenAiEventLogger, record: GenAiEventRecord): void {
  try {
    logger.emit(record);
  } catch (error) {
    // A logger of the application's own that throws must not fail the call being recorded.
    eventLost(record.eventName, 'emit_failed', `the logger threw (${String(error)})`);
  }
}

/** The events and reasons of a lost event already warned about (once per process each). */
const lossWarned = new Set<string>();

/**
 * Count an event lost for `reason` in the shared instance (these helpers take none), as content
 * drops are, and warn the first time for that event and reason.
 */
function eventLost(event: string, reason: 'emit_failed' | 'invalid_details', why: string): void {
  peekTelemetry()?.add('telemetryLogsDropped', 1, { reason });
  const key = `${event} ${reason}`;
  if (lossWarned.has(key)) return;
  lossWarned.add(key);
  diag.warn(
    `@gatewayz/telemetry: ${event} event not emitted: ${why}. Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason ${reason}).`,
  );
}

/**
 * The `exception.*` attributes of `exception`, read as the OpenTelemetry SDK reads the exception of
 * `span.recordException()`. Set as attributes rather than the Logs API's recent `exception` field,
 * which older Logs SDKs do not read. Throws when it has neither a type nor a message, one of which
 * the conventions require.
 */
function exceptionAttributes(exception: unknown): Record<string, GenAiEventValue> {
  if (typeof exception === 'string' && exception !== '') return { [ATTR_EXCEPTION_MESSAGE]: exception };
  const attributes: Record<string, GenAiEventValue> = {};
  if (typeof exception === 'object' && exception !== null) {
    const { code, name, message, stack } = exception as Record<string, unknown>;
    const type = (typeof code === 'string' && code !== '') || typeof code === 'number' ? String(code) : name;
    if (typeof type === 'string' && type !== '') attributes[ATTR_EXCEPTION_TYPE] = type;
    if (typeof message === 'string' && message !== '') attributes[ATTR_EXCEPTION_MESSAGE] = message;
    if (attributes[ATTR_EXCEPTION_TYPE] === undefined && attributes[ATTR_EXCEPTION_MESSAGE] === undefined)
      throw new TypeError('exception has neither a code or name nor a message');
    if (typeof stack === 'string' && stack !== '') attributes[ATTR_EXCEPTION_STACKTRACE] = stack;
    return attributes;
  }
  throw new TypeError(
    `exception must be an Error, an object with a code, name or message, or a message, got ${exception === null ? 'null' : typeof exception === 'string' ? 'an empty string' : typeof exception}`,
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
