/**
 * The OTLP/gRPC retry policy, on a scripted transport with fake timers: which status codes are
 * retried, the backoff and its jitter, RetryInfo, and the export timeout as the bound of it all.
 * End-to-end behaviour against a real gRPC receiver is in otlp-grpc.test.ts.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeStatusDetails } from '../../../test-support/grpc-status-details.js';
import { retryDelayFromStatusDetails, serverRetryDelayMillis } from '../src/otlp-grpc/grpc-retry-info.js';
import { createRetryingGrpcTransport } from '../src/otlp-grpc/retrying-grpc-transport.js';

/** A gRPC client error as `@grpc/grpc-js` reports it, with RetryInfo when `retryDelayMillis` is given. */
function grpcError(code: number, retryDelayMillis?: number): Error & { code: number; metadata: Metadata } {
  const metadata = new Metadata();
  if (retryDelayMillis !== undefined)
    metadata.set('grpc-status-details-bin', Buffer.from(encodeStatusDetails(code, 'busy', retryDelayMillis)));
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: busy`), { code, details: 'busy', metadata });
}

interface Attempt {
  at: number;
  timeoutMillis: number;
}

/** A transport answering each send with the next of `answers` (the last one repeats). */
function scripted(...answers: ExportResponse[]): IExporterTransport & { attempts: Attempt[]; shutdowns: number } {
  const attempts: Attempt[] = [];
  return {
    attempts,
    shutdowns: 0,
    send(_data, timeoutMillis) {
      attempts.push({ at: Date.now(), timeoutMillis });
      return Promise.resolve(answers[Math.min(attempts.length - 1, answers.length - 1)]!);
    },
    shutdown() {
      this.shutdowns++;
    },
  };
}

const failure = (code: number, retryDelayMillis?: number): ExportResponse => ({
  status: 'failure',
  error: grpcError(code, retryDelayMillis),
});
const success: ExportResponse = { status: 'success', data: new Uint8Array([1]) };
/** `random()` of 0.5 is no jitter at all. */
const noJitter = { random: () => 0.5 };

/** Runs `send` to completion under fake timers; returns its response and the fake time it took. */
async function run(transport: IExporterTransport, timeoutMillis: number): Promise<[ExportResponse, number]> {
  const started = Date.now();
  const sent = transport.send(new Uint8Array([1, 2, 3]), timeoutMillis);
  await vi.runAllTimersAsync();
  return [await sent, Date.now() - started];
}

beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] }));
afterEach(() => void vi.useRealTimers());

describe('RetryInfo in grpc-status-details-bin', () => {
  it('decodes the delay of a google.rpc.Status as protobufjs encodes it', () => {
    // Status { code: 14, message: "busy", details: [Any(RetryInfo { retry_delay: 2.5 s })] }, encoded by protobufjs.
    const status = Buffer.from(
      '080e1204627573791a360a28747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e5265747279496e666f120a0a0808021080cab5ee01',
      'hex',
    );
    expect(retryDelayFromStatusDetails(status)).toBe(2500);
    // Status { code: 8, details: [Any(DebugInfo), Any(RetryInfo { retry_delay: { seconds: 0, nanos: 250 ms } })] }.
    const second = Buffer.from(
      '080812001a2f0a28747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e4465627567496e666f12030a01611a350a28747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e5265747279496e666f12090a0708001080e59a77',
      'hex',
    );
    expect(retryDelayFromStatusDetails(second)).toBe(250);
  });

  it('no details, other details, or bytes that do not decode: no server delay, no crash', () => {
    expect(retryDelayFromStatusDetails(encodeStatusDetails(14, 'busy'))).toBeUndefined();
    expect(serverRetryDelayMillis(grpcError(14))).toBeUndefined();
    const garbage = new Metadata();
    garbage.set('grpc-status-details-bin', Buffer.from([0x1a, 0x7f, 0x01]));
    expect(serverRetryDelayMillis({ code: 14, metadata: garbage })).toBeUndefined();
    expect(serverRetryDelayMillis({ code: 14 })).toBeUndefined();
    expect(serverRetryDelayMillis(grpcError(8, 1234))).toBe(1234);
  });
});

describe('retrying gRPC transport', () => {
  it('retries UNAVAILABLE with exponential backoff, each attempt given what is left of the timeout', async () => {
    const inner = scripted(failure(GrpcStatus.UNAVAILABLE), failure(GrpcStatus.UNAVAILABLE), success);
    const [response] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response).toBe(success);
    const start = inner.attempts[0]!.at;
    expect(inner.attempts.map((attempt) => [attempt.at - start, attempt.timeoutMillis])).toEqual([
      [0, 10_000],
      [1000, 9000],
      [2500, 7500],
    ]);
  });

  it.each([
    ['CANCELLED', GrpcStatus.CANCELLED],
    ['DEADLINE_EXCEEDED', GrpcStatus.DEADLINE_EXCEEDED],
    ['ABORTED', GrpcStatus.ABORTED],
    ['OUT_OF_RANGE', GrpcStatus.OUT_OF_RANGE],
    ['UNAVAILABLE', GrpcStatus.UNAVAILABLE],
    ['DATA_LOSS', GrpcStatus.DATA_LOSS],
  ])('%s is retried', async (_name, code) => {
    const inner = scripted(failure(code), success);
    const [response] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response).toBe(success);
    expect(inner.attempts).toHaveLength(2);
  });

  it.each([
    ['INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT],
    ['UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED],
    ['PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED],
    ['UNIMPLEMENTED', GrpcStatus.UNIMPLEMENTED],
    ['INTERNAL', GrpcStatus.INTERNAL],
    ['UNKNOWN', GrpcStatus.UNKNOWN],
    ['RESOURCE_EXHAUSTED without RetryInfo', GrpcStatus.RESOURCE_EXHAUSTED],
  ])('%s fails at once with its error', async (_name, code) => {
    const refused = failure(code);
    const inner = scripted(refused, success);
    const [response, took] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response).toBe(refused);
    expect(inner.attempts).toHaveLength(1);
    expect(took).toBe(0);
  });

  it('an error without a gRPC status (the client could not be built) is not retried', async () => {
    const broken: ExportResponse = { status: 'failure', error: new Error('invalid metadata') };
    const inner = scripted(broken, success);
    const [response] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response).toBe(broken);
    expect(inner.attempts).toHaveLength(1);
  });

  it('RetryInfo sets the wait, for RESOURCE_EXHAUSTED and for UNAVAILABLE', async () => {
    for (const code of [GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.UNAVAILABLE]) {
      const inner = scripted(failure(code, 3700), success);
      const [response] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
      expect(response).toBe(success);
      expect(inner.attempts[1]!.at - inner.attempts[0]!.at).toBe(3700);
    }
  });

  it('a RetryInfo delay that ends past the timeout is not waited for: the failure is the answer at once', async () => {
    const refused = failure(GrpcStatus.RESOURCE_EXHAUSTED, 5000);
    const inner = scripted(refused, success);
    const [response, took] = await run(createRetryingGrpcTransport(inner, noJitter), 4000);
    expect(response).toBe(refused);
    expect(inner.attempts).toHaveLength(1);
    expect(took).toBe(0);
  });

  it('UNAVAILABLE forever: gives up before the timeout, answering the last failure', async () => {
    const inner = scripted(failure(GrpcStatus.UNAVAILABLE));
    const [response, took] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response.status).toBe('failure');
    // Waits 1000, 1500, 2250, 3375: the next (5000) would start after 10 s.
    expect(inner.attempts.map((attempt) => attempt.at - inner.attempts[0]!.at)).toEqual([0, 1000, 2500, 4750, 8125]);
    expect(took).toBeLessThan(10_000);
  });

  it('a step of the wall clock back during an export stretches neither its timeout nor its attempts', async () => {
    const inner = scripted(failure(GrpcStatus.UNAVAILABLE));
    const sent = createRetryingGrpcTransport(inner, noJitter).send(new Uint8Array([1]), 10_000);
    vi.setSystemTime(Date.now() - 3_600_000); // NTP steps the clock back an hour after the first attempt
    await vi.runAllTimersAsync();
    expect((await sent).status).toBe('failure');
    expect(inner.attempts.map((attempt) => attempt.timeoutMillis)).toEqual([10_000, 9000, 7500, 5250, 1875]);
  });

  it('a collector asking for an immediate retry every time gets five retries, not a loop until the timeout', async () => {
    const busy = failure(GrpcStatus.UNAVAILABLE, 0);
    const inner = scripted(busy);
    const [response, took] = await run(createRetryingGrpcTransport(inner, noJitter), 10_000);
    expect(response).toBe(busy);
    expect(inner.attempts).toHaveLength(6);
    expect(took).toBe(0);
    // The bound is an option; a success within it ends the retries as before.
    const twice = scripted(busy, busy, busy, success);
    const [capped] = await run(createRetryingGrpcTransport(twice, { ...noJitter, maxRetries: 2 }), 10_000);
    expect(capped).toBe(busy);
    expect(twice.attempts).toHaveLength(3);
  });

  it('the wait is capped and jittered by ±20 %', async () => {
    const waits = async (random: number): Promise<number[]> => {
      const inner = scripted(failure(GrpcStatus.UNAVAILABLE));
      await run(createRetryingGrpcTransport(inner, { random: () => random }), 60_000);
      return inner.attempts.slice(1).map((attempt, index) => attempt.at - inner.attempts[index]!.at);
    };
    const lowest = await waits(0);
    expect(lowest.slice(0, 5)).toEqual([800, 1200, 1800, 2700, 4000]);
    expect(new Set(lowest.slice(4))).toEqual(new Set([4000]));
    const highest = await waits(0.999_999);
    // Fake timers fire on whole milliseconds: 1199.9998 ms shows as 1199.
    [1200, 1800, 2700, 4050, 6000].forEach((expected, index) => expect(highest[index]).toBeCloseTo(expected, -1));
    expect(Math.max(...highest)).toBeLessThan(6001);
  });

  it('shutdown is passed to the wrapped transport', () => {
    const inner = scripted(success);
    createRetryingGrpcTransport(inner).shutdown();
    expect(inner.shutdowns).toBe(1);
  });
});
