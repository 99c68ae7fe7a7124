import { diag, type Span } from '@opentelemetry/api';

/**
 * What ends a string that `contentMaxLength` cut: the first `contentMaxLength` characters (UTF-16
 * code units; one fewer when the cut would split a surrogate pair) are kept and this marker is
 * appended, so a cut value reads as cut and the JSON around it stays whole.
 *
 * @example
 * ```ts
 * startGenAiSpan(tracer, { ...start, inputMessages, contentMaxLength: 5 });
 * // a text part "Hello, world" is recorded as "Hello…[truncated]"
 * ```
 */
export const GEN_AI_CONTENT_TRUNCATION_MARKER = '…[truncated]';

/**
 * Whether GenAI message content is recorded on spans, and how long a string of it may be:
 * `GatewayTelemetry.genAiContent`, from the `captureGenAiContent` and `genAiContentMaxLength`
 * options (`startTelemetry()` reads `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` and
 * `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`). Off by default: content may hold personal data.
 *
 * @example
 * ```ts
 * const { capture, maxLength } = telemetry.genAiContent;
 * if (capture) start = { ...start, inputMessages: messagesOf(body), contentMaxLength: maxLength };
 * ```
 */
export interface GenAiContentCapture {
  /** Record `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions`. */
  readonly capture: boolean;
  /** Longest text content or tool argument string kept (see `GEN_AI_CONTENT_TRUNCATION_MARKER`); `undefined`: no limit. */
  readonly maxLength: number | undefined;
}

/** Fields of messages and parts that say what a part is or where it points: never cut. */
const STRUCTURAL_FIELDS = new Set([
  'type',
  'role',
  'name',
  'id',
  'finish_reason',
  'mime_type',
  'modality',
  'uri',
  'file_id',
]);

/** Thrown inside the walk for a value JSON cannot hold; caught before it leaves this module. */
class NotSerialisable extends Error {}

/** Attributes already warned about (one warning per attribute and reason for the process). */
const warned = new Set<string>();

function warnOnce(attribute: string, reason: string): void {
  const key = `${attribute}:${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  diag.warn(`@gatewayz/telemetry: ${attribute} not recorded: ${reason}. Further ones are dropped without a warning.`);
}

function cut(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = maxLength;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + GEN_AI_CONTENT_TRUNCATION_MARKER;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A copy of `value` with every string cut to `maxLength`; throws `NotSerialisable` for a cycle or a bigint. */
function cutDeep(value: unknown, maxLength: number, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return cut(value, maxLength);
  if (typeof value === 'bigint') throw new NotSerialisable('a BigInt value');
  if (typeof value !== 'object' || value === null) return value;
  // As JSON.stringify does: a Date (or any toJSON) becomes what its toJSON returns.
  const toJson = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') return cutDeep(toJson.call(value), maxLength, ancestors);
  if (ancestors.has(value)) throw new NotSerialisable('a cyclic value');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => cutDeep(item, maxLength, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = cutDeep(item, maxLength, ancestors);
    return copy;
  } finally {
    ancestors.delete(value);
  }
}

/** A message or part with its content fields cut (`parts` walked part by part), structural fields as they are. */
function cutEntries(value: unknown, maxLength: number): unknown {
  if (!isRecord(value)) return cutDeep(value, maxLength, new Set());
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (STRUCTURAL_FIELDS.has(key)) copy[key] = item;
    else if (key === 'parts' && Array.isArray(item)) copy[key] = item.map((part) => cutEntries(part, maxLength));
    else copy[key] = cutDeep(item, maxLength, new Set([value]));
  }
  return copy;
}

/**
 * `value` (messages or system instruction parts) as the JSON string the attribute holds, every
 * text content and tool argument string cut to `maxLength`; `undefined`, with one warning per
 * attribute and reason, when it cannot be (not an array, a cyclic or BigInt value, a bad
 * `maxLength`). Never throws.
 */
function contentJson(attribute: string, value: unknown, maxLength: number | undefined): string | undefined {
  if (!Array.isArray(value)) {
    warnOnce(attribute, `expected an array, got ${value === null ? 'null' : typeof value}`);
    return undefined;
  }
  if (maxLength !== undefined && (!Number.isSafeInteger(maxLength) || maxLength < 1)) {
    warnOnce(attribute, `contentMaxLength must be a positive integer, got ${String(maxLength)}`);
    return undefined;
  }
  try {
    return JSON.stringify(maxLength === undefined ? value : value.map((item) => cutEntries(item, maxLength)));
  } catch (error) {
    const reason =
      error instanceof NotSerialisable
        ? error.message
        : error instanceof RangeError
          ? 'it is nested too deeply'
          : 'a cyclic or BigInt value';
    warnOnce(attribute, `its value cannot be serialised to JSON (${reason})`);
    return undefined;
  }
}

/**
 * @internal Set the content attributes on `span` as JSON strings, only when it is recording (an
 * unsampled span costs no serialisation). A value that cannot be serialised is left out.
 */
export function setGenAiContentAttributes(
  span: Span,
  content: ReadonlyArray<readonly [attribute: string, value: unknown]>,
  maxLength: number | undefined,
): void {
  if (!span.isRecording()) return;
  for (const [attribute, value] of content) {
    if (value === undefined) continue;
    const json = contentJson(attribute, value, maxLength);
    if (json !== undefined) span.setAttribute(attribute, json);
  }
}
