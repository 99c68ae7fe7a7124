import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { encodeSpan } from './encode-span.js';
import { ProtobufSink, varintLength } from './protobuf-sink.js';

/** An `ExportTraceServiceRequest` already encoded as protobuf, with the number of spans it carries. */
export interface EncodedTraceRequest {
  readonly bytes: Uint8Array;
  readonly spanCount: number;
  /**
   * Hand the memory under `bytes` back to the builder that sealed them, for a later request: call
   * it once nothing reads `bytes` any more (the export was answered with success, so the transport
   * has sent every byte); `bytes` may be overwritten afterwards. Idempotent. Not calling it only
   * costs a fresh buffer for the next request.
   */
  readonly release?: () => void;
}

/** Sealed-request buffers a builder keeps for reuse, at most. */
const SPARE_REQUEST_BUFFERS = 2;
/** A request buffer larger than this is left to the garbage collector rather than kept. */
const LARGEST_SPARE_BUFFER = 4 * 1024 * 1024;

/**
 * The bytes around a group's spans: the `Resource` and `InstrumentationScope` fields and any schema
 * URLs. Taken from the SDK serializer's own output for one span of the group, so they are exactly
 * what it writes.
 */
interface GroupEnvelope {
  resourceField: Uint8Array;
  resourceSuffix: Uint8Array;
  scopeField: Uint8Array;
  scopeSuffix: Uint8Array;
}

/** Spans of one resource and scope, encoded as they ended. */
interface SpanGroup {
  envelope: GroupEnvelope;
  readonly spans: ProtobufSink;
  count: number;
  /**
   * The group's first span, kept while its envelope was built before the resource's asynchronous
   * attributes (a detector's `host.id`, a cloud region) settled: the envelope is built again from
   * it once they have, so no span is exported without them for the life of the process.
   */
  provisional: ReadableSpan | undefined;
}

/**
 * Collects ended spans as protobuf bytes, grouped by resource and instrumentation scope as the SDK
 * serializer groups them, and seals them into an `ExportTraceServiceRequest` byte-identical to
 * `ProtobufTraceSerializer.serializeRequest` of the same spans. A span is encoded once, when it is
 * added; the span object itself is not kept.
 */
export class TraceRequestBuilder {
  private readonly groups = new Map<Resource, Map<InstrumentationScope, SpanGroup>>();
  /**
   * Buffers of sealed requests that were released, for the next ones: allocating a fresh buffer of
   * a few hundred kilobytes per request (zeroed, page-faulted in, unmapped after) costs more than
   * encoding its spans.
   */
  private readonly spareRequests: ProtobufSink[] = [];
  /**
   * The groups with spans since the last seal, by their first span, with its resource: the order
   * the SDK serializer writes resources and scopes in (first seen in the batch, not in the process).
   */
  private readonly batchOrder: Array<{ readonly resource: Resource; readonly group: SpanGroup }> = [];
  /** Spans added since the last {@link TraceRequestBuilder.seal}. */
  spanCount = 0;

  add(span: ReadableSpan): void {
    let scopes = this.groups.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      this.groups.set(span.resource, scopes);
    }
    let group = scopes.get(span.instrumentationScope);
    if (group === undefined) {
      group = {
        envelope: envelopeOf(span),
        spans: new ProtobufSink(16 * 1024),
        count: 0,
        provisional: span.resource.asyncAttributesPending === true ? span : undefined,
      };
      scopes.set(span.instrumentationScope, group);
    }
    encodeSpan(group.spans, span);
    if (group.count === 0) this.batchOrder.push({ resource: span.resource, group });
    group.count++;
    this.spanCount++;
  }

  /**
   * Resources of the spans waiting here whose asynchronous attributes have not settled yet: wait
   * for them (`waitForAsyncAttributes()`) before {@link TraceRequestBuilder.seal}, as the SDK's
   * batch processor does, or the request goes without those attributes.
   */
  pendingResources(): Resource[] {
    const pending: Resource[] = [];
    for (const [resource, scopes] of this.groups) {
      if (resource.asyncAttributesPending !== true) continue;
      for (const group of scopes.values()) {
        if (group.count > 0 && group.provisional !== undefined) {
          pending.push(resource);
          break;
        }
      }
    }
    return pending;
  }

  /**
   * The request for every span added since the last call (undefined when none), and start over.
   * Its `bytes` are a view of a buffer the builder reuses once the request is released.
   */
  seal(): EncodedTraceRequest | undefined {
    if (this.spanCount === 0) return undefined;
    // Lengths first, so every length prefix is written in place and no body moves afterwards.
    const resources: Array<{ groups: SpanGroup[]; body: number }> = [];
    let total = 0;
    const byResource = new Map<Resource, SpanGroup[]>();
    for (const { resource, group } of this.batchOrder) {
      const groupsOfResource = byResource.get(resource);
      if (groupsOfResource === undefined) byResource.set(resource, [group]);
      else groupsOfResource.push(group);
    }
    this.batchOrder.length = 0;
    for (const [resource, scopes] of byResource) {
      const groups: SpanGroup[] = [];
      let body = 0;
      for (const group of scopes) {
        if (group.count === 0) continue;
        if (group.provisional !== undefined && resource.asyncAttributesPending !== true) {
          group.envelope = envelopeOf(group.provisional);
          group.provisional = undefined;
        }
        // The resource's fields are those of its first group, as the SDK writes them.
        if (groups.length === 0) body = group.envelope.resourceField.length + group.envelope.resourceSuffix.length;
        body += fieldBytes(scopeBody(group));
        groups.push(group);
      }
      if (groups.length === 0) continue;
      resources.push({ groups, body });
      total += fieldBytes(body);
    }
    const sink = this.spareRequests.pop() ?? new ProtobufSink(Math.max(16 * 1024, total));
    sink.reset();
    sink.ensure(total);
    for (const { groups, body } of resources) {
      const { resourceField, resourceSuffix } = groups[0]!.envelope;
      sink.tag(1, 2);
      sink.varint(body);
      sink.raw(resourceField);
      for (const group of groups) {
        sink.tag(2, 2);
        sink.varint(scopeBody(group));
        sink.raw(group.envelope.scopeField);
        sink.raw(group.spans.bytes.subarray(0, group.spans.length));
        sink.raw(group.envelope.scopeSuffix);
        group.spans.reset();
        group.count = 0;
      }
      sink.raw(resourceSuffix);
    }
    const spanCount = this.spanCount;
    this.spanCount = 0;
    // Resources and scopes of a long-running process are few; forget them once their batch is out.
    if (this.groups.size > 16) this.groups.clear();
    let released = false;
    return {
      bytes: sink.bytes.subarray(0, sink.length),
      spanCount,
      release: () => {
        if (released) return;
        released = true;
        if (this.spareRequests.length < SPARE_REQUEST_BUFFERS && sink.bytes.length <= LARGEST_SPARE_BUFFER)
          this.spareRequests.push(sink);
      },
    };
  }
}

/** Encode `spans` as one request (the exporter path for spans handed over by any processor). */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): EncodedTraceRequest {
  const builder = new TraceRequestBuilder();
  for (const span of spans) builder.add(span);
  return builder.seal() ?? { bytes: new Uint8Array(0), spanCount: 0 };
}

/** Split the SDK's request for one span into the bytes before and after the span field. */
function envelopeOf(span: ReadableSpan): GroupEnvelope {
  const bytes = ProtobufTraceSerializer.serializeRequest([span]);
  if (bytes === undefined) throw new Error('ProtobufTraceSerializer returned no bytes');
  const [resourceSpansStart, resourceSpansEnd] = lengthDelimitedBody(bytes, 0);
  const resourceField = fieldAt(bytes, resourceSpansStart);
  const scopeSpansField = fieldAt(bytes, resourceField.end);
  const [scopeSpansStart, scopeSpansEnd] = lengthDelimitedBody(bytes, resourceField.end);
  const scopeField = fieldAt(bytes, scopeSpansStart);
  const spanField = fieldAt(bytes, scopeField.end);
  return {
    resourceField: bytes.slice(resourceSpansStart, resourceField.end),
    resourceSuffix: bytes.slice(scopeSpansField.end, resourceSpansEnd),
    scopeField: bytes.slice(scopeSpansStart, scopeField.end),
    scopeSuffix: bytes.slice(spanField.end, scopeSpansEnd),
  };
}

function readVarint(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let position = at;
  for (;;) {
    const byte = bytes[position++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, position];
    shift += 7;
  }
}

/** [start, end) of the body of the length-delimited field whose tag is at `at`. */
function lengthDelimitedBody(bytes: Uint8Array, at: number): [number, number] {
  const [, afterTag] = readVarint(bytes, at);
  const [length, bodyStart] = readVarint(bytes, afterTag);
  return [bodyStart, bodyStart + length];
}

/** The length-delimited field whose tag is at `at`: where it ends. */
function fieldAt(bytes: Uint8Array, at: number): { end: number } {
  return { end: lengthDelimitedBody(bytes, at)[1] };
}

/** The length of a group's `ScopeSpans` message: its scope, its spans, its schema URL. */
function scopeBody(group: SpanGroup): number {
  return group.envelope.scopeField.length + group.spans.length + group.envelope.scopeSuffix.length;
}

/** Bytes of a length-delimited field of number 1 to 15 (a one-byte tag) with a `body`-byte body. */
function fieldBytes(body: number): number {
  return 1 + varintLength(body) + body;
}
