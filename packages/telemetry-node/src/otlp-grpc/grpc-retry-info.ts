/**
 * Reading the `google.rpc.RetryInfo` a gRPC server may attach to an error status: it travels in the
 * `grpc-status-details-bin` trailer as a serialized `google.rpc.Status` whose `details` hold
 * `google.protobuf.Any` messages. Only the few fields needed are read, with a bounds-checked
 * protobuf reader, so no protobuf runtime is loaded for it.
 */

const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';
const RETRY_INFO_TYPE = 'google.rpc.RetryInfo';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

interface Field {
  number: number;
  /** The value of a varint field. */
  varint?: bigint;
  /** The bytes of a length-delimited field. */
  bytes?: Uint8Array;
}

/** The top-level fields of a protobuf message; throws on truncated or malformed input. */
function readFields(message: Uint8Array): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  const readVarint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = message[offset++];
      if (byte === undefined) throw new RangeError('truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('varint too long');
  };
  while (offset < message.length) {
    const key = readVarint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === WIRE_VARINT) fields.push({ number, varint: readVarint() });
    else if (wireType === WIRE_LENGTH_DELIMITED) {
      const length = Number(readVarint());
      if (offset + length > message.length) throw new RangeError('truncated field');
      fields.push({ number, bytes: message.subarray(offset, offset + length) });
      offset += length;
    } else if (wireType === WIRE_FIXED64) offset += 8;
    else if (wireType === WIRE_FIXED32) offset += 4;
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }
  if (offset > message.length) throw new RangeError('truncated field');
  return fields;
}

/** A `google.protobuf.Duration` in milliseconds. */
function durationMillis(duration: Uint8Array): number {
  let seconds = 0n;
  let nanos = 0n;
  for (const field of readFields(duration)) {
    if (field.number === 1 && field.varint !== undefined) seconds = BigInt.asIntN(64, field.varint);
    if (field.number === 2 && field.varint !== undefined) nanos = BigInt.asIntN(32, field.varint);
  }
  return Number(seconds) * 1000 + Number(nanos) / 1e6;
}

/** The retry delay of a serialized `google.rpc.Status`, or `undefined` when it carries no RetryInfo. */
export function retryDelayFromStatusDetails(status: Uint8Array): number | undefined {
  for (const detail of readFields(status)) {
    if (detail.number !== 3 || detail.bytes === undefined) continue;
    const any = readFields(detail.bytes);
    const typeUrl = any.find((field) => field.number === 1)?.bytes;
    if (typeUrl === undefined || !new TextDecoder().decode(typeUrl).endsWith(`/${RETRY_INFO_TYPE}`)) continue;
    const retryInfo = any.find((field) => field.number === 2)?.bytes ?? new Uint8Array(0);
    const delay = readFields(retryInfo).find((field) => field.number === 1)?.bytes;
    return delay === undefined ? 0 : Math.max(durationMillis(delay), 0);
  }
  return undefined;
}

/** What a gRPC client error carries: its status code and the trailers the server sent. */
export interface GrpcStatusError {
  code: number;
  metadata?: { get(key: string): Array<string | Buffer> };
}

/** Whether `error` is a gRPC status error (a `ServiceError` from `@grpc/grpc-js`). */
export function isGrpcStatusError(error: unknown): error is GrpcStatusError {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number';
}

/**
 * The RetryInfo delay the server attached to `error`, in milliseconds; `undefined` when there is
 * none or the trailer does not decode (a server's malformed details are then ignored, not fatal).
 */
export function serverRetryDelayMillis(error: GrpcStatusError): number | undefined {
  const details = error.metadata?.get(STATUS_DETAILS_TRAILER)[0];
  if (details === undefined || typeof details === 'string') return undefined;
  try {
    return retryDelayFromStatusDetails(details);
  } catch {
    return undefined;
  }
}
