import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ProtobufSink } from './protobuf-sink.js';

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

// Span.flags: the W3C trace flags plus "has is_remote" and "is_remote" of the parent.
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;
const INT64_MIN = -(2 ** 63);
const INT64_MAX_EXCLUSIVE = 2 ** 63;

/**
 * Append one `ScopeSpans.spans` entry (field 2: tag, length, `Span` message) for `span`. The field
 * order and the fields written for default values are those of `@opentelemetry/otlp-transformer`'s
 * `ProtobufTraceSerializer`, so a batch encoded here is byte-identical to the SDK's
 * (`test/tracing/encode-span.test.ts` checks it, and decodes both with the official definitions).
 */
export function encodeSpan(sink: ProtobufSink, span: ReadableSpan): void {
  sink.tag(2, LENGTH_DELIMITED);
  const spanAt = sink.startTwoByte();
  const spanContext = span.spanContext();
  sink.tag(1, LENGTH_DELIMITED);
  sink.hexId(spanContext.traceId);
  sink.tag(2, LENGTH_DELIMITED);
  sink.hexId(spanContext.spanId);
  const traceState = spanContext.traceState?.serialize();
  if (traceState) {
    sink.tag(3, LENGTH_DELIMITED);
    sink.string(traceState);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    sink.tag(4, LENGTH_DELIMITED);
    sink.hexId(parent.spanId);
  }
  sink.tag(5, LENGTH_DELIMITED);
  sink.repeatedString(span.name);
  // OTLP kinds are the API's plus one (0 is "unspecified").
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    sink.tag(6, VARINT);
    sink.varint(kind);
  }
  sink.tag(7, FIXED64);
  sink.hrTime(span.startTime);
  sink.tag(8, FIXED64);
  sink.hrTime(span.endTime);
  encodeAttributes(sink, span.attributes, 9);
  sink.tag(10, VARINT);
  sink.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    sink.tag(11, LENGTH_DELIMITED);
    const eventAt = sink.start();
    sink.tag(1, FIXED64);
    sink.hrTime(event.time);
    sink.tag(2, LENGTH_DELIMITED);
    sink.repeatedString(event.name);
    encodeAttributes(sink, event.attributes, 3);
    sink.tag(4, VARINT);
    sink.varint(event.droppedAttributesCount || 0);
    sink.finish(eventAt);
  }
  sink.tag(12, VARINT);
  sink.varint(span.droppedEventsCount);
  for (const link of span.links) {
    sink.tag(13, LENGTH_DELIMITED);
    const linkAt = sink.start();
    sink.tag(1, LENGTH_DELIMITED);
    sink.hexId(link.context.traceId);
    sink.tag(2, LENGTH_DELIMITED);
    sink.hexId(link.context.spanId);
    const linkTraceState = link.context.traceState?.serialize();
    if (linkTraceState) {
      sink.tag(3, LENGTH_DELIMITED);
      sink.string(linkTraceState);
    }
    encodeAttributes(sink, link.attributes, 4);
    sink.tag(5, VARINT);
    sink.varint(link.droppedAttributesCount || 0);
    sink.tag(6, FIXED32);
    sink.fixed32(flags(link.context.traceFlags, link.context.isRemote));
    sink.finish(linkAt);
  }
  sink.tag(14, VARINT);
  sink.varint(span.droppedLinksCount);
  sink.tag(15, LENGTH_DELIMITED);
  const statusAt = sink.start();
  if (span.status.message) {
    sink.tag(2, LENGTH_DELIMITED);
    sink.string(span.status.message);
  }
  sink.tag(3, VARINT);
  sink.varint(span.status.code);
  sink.finish(statusAt);
  sink.tag(16, FIXED32);
  sink.fixed32(flags(spanContext.traceFlags, parent?.isRemote));
  sink.finishTwoByte(spanAt);
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return ((traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (isRemote ? FLAG_IS_REMOTE : 0)) >>> 0;
}

/** Repeated `KeyValue` in field `field`. */
function encodeAttributes(sink: ProtobufSink, attributes: Attributes | undefined, field: number): void {
  if (attributes === undefined) return;
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    if (field === SPAN_ATTRIBUTES && typeof value === 'string') {
      encodeStringAttribute(sink, key, value);
      continue;
    }
    encodeKeyValue(sink, field, key, value);
  }
}

/** One `KeyValue` in field `field`. */
function encodeKeyValue(sink: ProtobufSink, field: number, key: string, value: AttributeValue | undefined): void {
  sink.tag(field, LENGTH_DELIMITED);
  const keyValueAt = sink.start();
  sink.tag(1, LENGTH_DELIMITED);
  sink.repeatedString(key);
  sink.tag(2, LENGTH_DELIMITED);
  const valueAt = sink.start();
  encodeAnyValue(sink, value);
  sink.finish(valueAt);
  sink.finish(keyValueAt);
}

/** `Span.attributes`. */
const SPAN_ATTRIBUTES = 9;
/** Distinct values of one attribute key kept encoded; a key with more is not cached any more. */
const VALUES_PER_KEY = 16;
/** Longest string value kept encoded. */
const CACHED_VALUE_LENGTH = 64;
/** Attribute keys with cached fields, at most. */
const MAX_CACHED_KEYS = 1024;

/**
 * A span attribute with a string value. Most of them repeat from span to span with a few values
 * (`http.route`, `gen_ai.provider.name`, ...): the whole field, tag to value, is encoded once per
 * (key, value) and copied afterwards. A key seen with more than {@link VALUES_PER_KEY} values
 * (ids, free text) stops being cached, so memory stays bounded whatever the attributes carry.
 */
function encodeStringAttribute(sink: ProtobufSink, key: string, value: string): void {
  const cache = sink.stringAttributes;
  let values = cache.get(key);
  if (values !== undefined && values !== null) {
    const encoded = values.get(value);
    if (encoded !== undefined) {
      sink.raw(encoded);
      return;
    }
  }
  const fieldStart = sink.length;
  encodeKeyValue(sink, SPAN_ATTRIBUTES, key, value);
  if (values === null || value.length > CACHED_VALUE_LENGTH) return;
  if (values === undefined) {
    if (cache.size >= MAX_CACHED_KEYS) return;
    values = new Map();
    cache.set(key, values);
  }
  if (values.size >= VALUES_PER_KEY) {
    cache.set(key, null);
    return;
  }
  values.set(value, sink.bytes.slice(fieldStart, sink.length));
}

/** The body of an `AnyValue`; nothing for `null`/`undefined` (an empty value, as the SDK writes). */
function encodeAnyValue(sink: ProtobufSink, value: AttributeValue | undefined | null | object): void {
  switch (typeof value) {
    case 'string':
      sink.tag(1, LENGTH_DELIMITED);
      sink.string(value);
      return;
    case 'boolean':
      sink.tag(2, VARINT);
      sink.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= INT64_MIN && value < INT64_MAX_EXCLUSIVE) {
        sink.tag(3, VARINT);
        sink.int64(value);
      } else {
        sink.tag(4, FIXED64);
        sink.double(value);
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null) return;
  if (value instanceof Uint8Array) {
    sink.tag(7, LENGTH_DELIMITED);
    sink.lengthDelimited(value);
    return;
  }
  if (Array.isArray(value)) {
    sink.tag(5, LENGTH_DELIMITED);
    const arrayAt = sink.start();
    for (const item of value as unknown[]) {
      sink.tag(1, LENGTH_DELIMITED);
      const itemAt = sink.start();
      encodeAnyValue(sink, item as AttributeValue);
      sink.finish(itemAt);
    }
    sink.finish(arrayAt);
    return;
  }
  sink.tag(6, LENGTH_DELIMITED);
  const listAt = sink.start();
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    sink.tag(1, LENGTH_DELIMITED);
    const keyValueAt = sink.start();
    sink.tag(1, LENGTH_DELIMITED);
    sink.string(key);
    sink.tag(2, LENGTH_DELIMITED);
    const valueAt = sink.start();
    encodeAnyValue(sink, (value as Record<string, AttributeValue>)[key]);
    sink.finish(valueAt);
    sink.finish(keyValueAt);
  }
  sink.finish(listAt);
}
