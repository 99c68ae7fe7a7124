/**
 * An append-only protobuf byte buffer that grows by doubling. Length-delimited fields reserve one
 * length byte and move their body when it turns out longer than 127 bytes, as the SDK's writer does.
 */
export class ProtobufSink {
  bytes: Uint8Array;
  length = 0;
  private readonly encoder = new TextEncoder();
  /** UTF-8 of strings that repeat (attribute keys, span names), bounded. */
  private readonly utf8Cache = new Map<string, Uint8Array>();
  /**
   * Whole encoded span-attribute fields with string values, by key then value; `null` marks a key
   * with too many values to cache. Filled and bounded by `encode-span.ts`.
   */
  readonly stringAttributes = new Map<string, Map<string, Uint8Array> | null>();

  constructor(initialSize = 64 * 1024) {
    this.bytes = new Uint8Array(initialSize);
  }

  /** Forget the content, keep the memory. */
  reset(): void {
    this.length = 0;
  }

  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Unsigned varint of a non-negative integer below 2^32 (every length, count and tag). */
  varint(value: number): void {
    this.ensure(5);
    const bytes = this.bytes;
    let position = this.length;
    let remaining = value >>> 0;
    while (remaining > 0x7f) {
      bytes[position++] = (remaining & 0x7f) | 0x80;
      remaining >>>= 7;
    }
    bytes[position++] = remaining;
    this.length = position;
  }

  /** int64 varint of any integer in the int64 range (negative ones take ten bytes, two's complement). */
  int64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) return this.varint(value);
    let remaining = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (remaining > 0x7fn) {
      this.bytes[this.length++] = Number(remaining & 0x7fn) | 0x80;
      remaining >>= 7n;
    }
    this.bytes[this.length++] = Number(remaining);
  }

  fixed32(value: number): void {
    this.ensure(4);
    const bytes = this.bytes;
    let position = this.length;
    bytes[position++] = value & 0xff;
    bytes[position++] = (value >>> 8) & 0xff;
    bytes[position++] = (value >>> 16) & 0xff;
    bytes[position++] = (value >>> 24) & 0xff;
    this.length = position;
  }

  /** A fixed64 from its low and high 32 bits. */
  fixed64(low: number, high: number): void {
    this.fixed32(low >>> 0);
    this.fixed32(high >>> 0);
  }

  double(value: number): void {
    // Through a shared scratch array, not a DataView per value; its byte order is the platform's.
    FLOAT64[0] = value;
    if (LITTLE_ENDIAN) this.raw(FLOAT64_BYTES);
    else {
      this.ensure(8);
      for (let index = 7; index >= 0; index--) this.bytes[this.length++] = FLOAT64_BYTES[index]!;
    }
  }

  /** Nanoseconds since the epoch of an `HrTime`, as fixed64, exact for any [seconds, nanoseconds]. */
  hrTime(time: readonly [number, number]): void {
    const seconds = time[0];
    const lowSeconds = seconds & 0xffff;
    const highSeconds = (seconds / 0x10000) >>> 0;
    const fromLow = lowSeconds * 1e9;
    const fromHigh = highSeconds * 1e9;
    const low = (fromLow >>> 0) + (((fromHigh & 0xffff) * 0x10000) >>> 0) + time[1];
    const high = Math.floor(fromLow / 0x100000000) + ((fromHigh / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
    this.fixed64(low >>> 0, high >>> 0);
  }

  /** Length-prefixed raw bytes. */
  lengthDelimited(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  /**
   * Length-prefixed UTF-8 of a string that repeats from span to span (attribute keys, span names):
   * encoded once and copied afterwards. Bounded: past 4096 distinct strings, new ones are encoded
   * every time, so high-cardinality names cannot grow the heap.
   */
  repeatedString(value: string): void {
    let cached = this.utf8Cache.get(value);
    if (cached === undefined) {
      if (this.utf8Cache.size >= 4096 || value.length > 128) return this.string(value);
      cached = this.encoder.encode(value);
      this.utf8Cache.set(value, cached);
    }
    this.lengthDelimited(cached);
  }

  /** Length-prefixed UTF-8 of a string. */
  string(value: string): void {
    const length = value.length;
    let ascii = true;
    for (let index = 0; index < length; index++) {
      if (value.charCodeAt(index) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      this.lengthDelimited(this.encoder.encode(value));
      return;
    }
    this.varint(length);
    this.ensure(length);
    const bytes = this.bytes;
    const start = this.length;
    for (let index = 0; index < length; index++) bytes[start + index] = value.charCodeAt(index);
    this.length = start + length;
  }

  /** Hex id (trace or span) as length-prefixed bytes. */
  hexId(hex: string): void {
    const byteLength = hex.length >>> 1;
    this.varint(byteLength);
    this.ensure(byteLength);
    const bytes = this.bytes;
    let position = this.length;
    for (let index = 0; index < hex.length; index += 2)
      bytes[position++] =
        (HEX_DIGITS[hex.charCodeAt(index) & 0xff]! << 4) | HEX_DIGITS[hex.charCodeAt(index + 1) & 0xff]!;
    this.length = position;
  }

  /** Start a length-delimited body; pass the result to {@link ProtobufSink.finish}. */
  start(): number {
    this.ensure(1);
    return this.length++;
  }

  /**
   * Start a length-delimited body that is usually 128 to 16,383 bytes long (a span): two bytes are
   * reserved for its length; pass the result to {@link ProtobufSink.finishTwoByte}.
   */
  startTwoByte(): number {
    this.ensure(2);
    const lengthAt = this.length;
    this.length += 2;
    return lengthAt;
  }

  /**
   * Write the body length in front of the body started by {@link ProtobufSink.startTwoByte}: in the
   * two bytes reserved when it takes two, else moving the body so the length takes exactly its
   * minimal size, as {@link ProtobufSink.finish} writes it.
   */
  finishTwoByte(lengthAt: number): void {
    const bodyLength = this.length - lengthAt - 2;
    if (bodyLength >= 0x80 && bodyLength < 0x4000) {
      this.bytes[lengthAt] = (bodyLength & 0x7f) | 0x80;
      this.bytes[lengthAt + 1] = bodyLength >>> 7;
      return;
    }
    // One byte (a body under 128 bytes) or more than two: move the body to the size the length needs.
    this.bytes.copyWithin(lengthAt + 1, lengthAt + 2, this.length);
    this.length--;
    this.finish(lengthAt);
  }

  /** Write the body length in front of the body started at `lengthAt`, moving the body if needed. */
  finish(lengthAt: number): void {
    const bodyLength = this.length - lengthAt - 1;
    if (bodyLength < 0x80) {
      this.bytes[lengthAt] = bodyLength;
      return;
    }
    const lengthBytes = varintLength(bodyLength);
    this.ensure(lengthBytes - 1);
    const bytes = this.bytes;
    bytes.copyWithin(lengthAt + lengthBytes, lengthAt + 1, this.length);
    this.length += lengthBytes - 1;
    let position = lengthAt;
    let remaining = bodyLength;
    while (remaining > 0x7f) {
      bytes[position++] = (remaining & 0x7f) | 0x80;
      remaining >>>= 7;
    }
    bytes[position] = remaining;
  }
}

/** Bytes of the unsigned varint of `value` (a length below 2^35): what a length prefix takes. */
export function varintLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Scratch space for {@link ProtobufSink.double}: one float64 and its bytes. */
const FLOAT64 = new Float64Array(1);
const FLOAT64_BYTES = new Uint8Array(FLOAT64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The value of each hex digit by character code (either case); other characters read 0. */
const HEX_DIGITS = (() => {
  const digits = new Uint8Array(256);
  for (let value = 0; value < 16; value++) {
    digits['0123456789abcdef'.charCodeAt(value)] = value;
    digits['0123456789ABCDEF'.charCodeAt(value)] = value;
  }
  return digits;
})();
