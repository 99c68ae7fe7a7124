/**
 * How many items (spans, log records, data points) the request a response answers held, so a
 * partial success claiming more rejected items than were sent can be capped. A serializer sees the
 * request and, later, the response's bytes, but not which request a response answers: exports can
 * overlap. So the count travels with the bytes: the serializer records it against the request's
 * bytes, the transport that sent them carries it over to the response's bytes, and the serializer
 * reads it back from those. Entries go with their byte arrays (weakly held keys).
 */

const itemsByBytes = new WeakMap<Uint8Array, number>();

/**
 * Record that the request encoded as `requestBytes` holds `count` items; the serializer calls it
 * with the bytes it returns.
 *
 * @example
 * ```ts
 * const bytes = ProtobufTraceSerializer.serializeRequest(spans);
 * if (bytes !== undefined) recordRequestItems(bytes, spans.length);
 * ```
 */
export function recordRequestItems(requestBytes: Uint8Array, count: number): void {
  itemsByBytes.set(requestBytes, count);
}

/**
 * Hand the item count recorded for `requestBytes` on to `responseBytes`, the answer to them; a
 * transport calls it when a send succeeds with a response body, before the exporter decodes it.
 * Nothing happens when no count was recorded.
 *
 * @example
 * ```ts
 * const response = await transport.send(data, timeoutMillis);
 * if (response.status === 'success' && response.data !== undefined) carryRequestItems(data, response.data);
 * ```
 */
export function carryRequestItems(requestBytes: Uint8Array, responseBytes: Uint8Array): void {
  const count = itemsByBytes.get(requestBytes);
  if (count !== undefined) itemsByBytes.set(responseBytes, count);
}

/**
 * The items of the request `responseBytes` answer, when the transport carried them over; otherwise
 * `undefined`.
 *
 * @example
 * ```ts
 * const held = requestItemsOf(responseBytes);
 * const counted = held === undefined ? claimed : Math.min(claimed, held);
 * ```
 */
export function requestItemsOf(responseBytes: Uint8Array): number | undefined {
  return itemsByBytes.get(responseBytes);
}
