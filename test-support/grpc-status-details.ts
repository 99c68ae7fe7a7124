/**
 * Encoding of the `google.rpc.Status` a gRPC server sends in the `grpc-status-details-bin` trailer,
 * with a `google.rpc.RetryInfo` detail: what a collector under load attaches to say when to retry.
 * A minimal protobuf writer for the three small messages involved.
 *
 * @packageDocumentation
 */

function varint(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest === 0n ? byte : byte | 0x80);
  } while (rest !== 0n);
  return bytes;
}

function varintField(number: number, value: bigint): number[] {
  return value === 0n ? [] : [...varint(BigInt(number << 3)), ...varint(value)];
}

function bytesField(number: number, value: Uint8Array | number[]): number[] {
  return [...varint(BigInt((number << 3) | 2)), ...varint(BigInt(value.length)), ...value];
}

/** A serialized `google.protobuf.Duration` of `millis` milliseconds. */
function duration(millis: number): number[] {
  const seconds = Math.floor(millis / 1000);
  const nanos = Math.round((millis - seconds * 1000) * 1e6);
  return [...varintField(1, BigInt(seconds)), ...varintField(2, BigInt(nanos))];
}

/**
 * A serialized `google.rpc.Status { code, message, details: [Any(RetryInfo { retry_delay })] }`;
 * without `retryDelayMillis` the status has no details.
 *
 * @example
 * ```ts
 * metadata.set('grpc-status-details-bin', Buffer.from(encodeStatusDetails(14, 'busy', 250)));
 * ```
 */
export function encodeStatusDetails(code: number, message: string, retryDelayMillis?: number): Uint8Array {
  const details =
    retryDelayMillis === undefined
      ? []
      : bytesField(3, [
          ...bytesField(1, [...new TextEncoder().encode('type.googleapis.com/google.rpc.RetryInfo')]),
          ...bytesField(2, bytesField(1, duration(retryDelayMillis))),
        ]);
  return new Uint8Array([
    ...varintField(1, BigInt(code)),
    ...bytesField(2, [...new TextEncoder().encode(message)]),
    ...details,
  ]);
}
