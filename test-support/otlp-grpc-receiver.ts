/**
 * A real OTLP/gRPC receiver for integration tests, built on `@grpc/grpc-js` (the server half of the
 * library the exporters use as client).
 *
 * It serves the three unary Export methods of the OTLP collector services on `127.0.0.1:<port>`:
 * `/opentelemetry.proto.collector.{trace,metrics,logs}.v1.{Trace,Metrics,Logs}Service/Export`. Each
 * request's message bytes (after gRPC's own decompression) and metadata are recorded, then decoded
 * with the same protobuf decoder as the OTLP/HTTP receiver's (`decodeProtobufRequest`), into the
 * same flat records, so a test compares what arrives over either transport with one set of helpers.
 * It can answer the next requests with a gRPC error status or with an OTLP partial success. The
 * connections are accepted by a `net` server and handed to gRPC through a byte-counting stream, so
 * a test can see what travelled on the wire (gRPC decompresses before any handler sees a message).
 * With `tls` it serves gRPC over TLS, and with `tls.clientCa` requires a client certificate that
 * CA signed (mutual TLS), recording the verified certificate's name on each call.
 *
 * ```ts
 * const receiver = await startOtlpGrpcReceiver();
 * // OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url
 * const spans = await receiver.waitForSpans((received) => received.length > 0);
 * await receiver.close();
 * ```
 *
 * @packageDocumentation
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import {
  commonName,
  decodeLogs,
  decodeMetrics,
  decodeProtobufRequest,
  decodeTraces,
  encodePartialSuccess,
  type ReceivedLogRecord,
  type ReceivedMetric,
  type ReceivedSpan,
  type ReceiverTls,
} from './otlp-receiver.js';
import { encodeStatusDetails } from './grpc-status-details.js';

/** Which signal a request carried. */
export type OtlpSignal = 'traces' | 'metrics' | 'logs';

/** The gRPC method path of each signal's Export call. */
export const OTLP_GRPC_METHODS: Readonly<Record<OtlpSignal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** The OTLP/HTTP path whose protobuf message types a signal's gRPC call shares. */
const HTTP_PATHS: Readonly<Record<OtlpSignal, string>> = {
  traces: '/v1/traces',
  metrics: '/v1/metrics',
  logs: '/v1/logs',
};

/** One Export call the receiver saw. */
export interface OtlpGrpcCallRecord {
  signal: OtlpSignal;
  /** The gRPC method path. */
  method: string;
  /** The request metadata (gRPC's request headers), keys in lower case, repeated values joined with `, `. */
  metadata: Record<string, string>;
  /** The request message as it arrived (after gRPC decompression): an `Export*ServiceRequest`. */
  bytes: Uint8Array;
  /** The gRPC status the receiver answered with (`0` OK). */
  status: number;
  /** When the call arrived (`Date.now()`). */
  receivedAt: number;
  /** The decoded request (protobuf in the OTLP/JSON shape), for accepted calls. */
  body?: unknown;
  /**
   * Over TLS, the common name of the client certificate the receiver verified against
   * `tls.clientCa`; `undefined` when the client presented none (or over plaintext).
   */
  clientCertificate?: string;
}

/** Options for {@link startOtlpGrpcReceiver}. */
export interface OtlpGrpcReceiverOptions {
  /** Port to listen on (127.0.0.1); default an ephemeral one. */
  port?: number;
  /**
   * Serve gRPC over TLS with this key and certificate (`url` is then `https://`); with `clientCa`,
   * require a client certificate that CA signed (mutual TLS): a client without one fails to connect.
   */
  tls?: ReceiverTls;
}

/** A running receiver from {@link startOtlpGrpcReceiver}. */
export interface OtlpGrpcReceiver {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`): the endpoint for `OTEL_EXPORTER_OTLP_ENDPOINT` with the `grpc` protocol. */
  url: string;
  port: number;
  spans(): ReceivedSpan[];
  logRecords(): ReceivedLogRecord[];
  metrics(): ReceivedMetric[];
  /** Every Export call seen, including refused ones, in arrival order. */
  calls(): OtlpGrpcCallRecord[];
  /** Bytes received on the wire so far (HTTP/2 frames, headers included), over every connection. */
  readonly wireBytes: number;
  /** Polls every 25 ms until `predicate(spans)` holds; throws with what arrived after `timeoutMs` (default 10 000). */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  waitForLogRecords(
    predicate: (records: ReceivedLogRecord[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedLogRecord[]>;
  waitForMetrics(predicate: (metrics: ReceivedMetric[]) => boolean, timeoutMs?: number): Promise<ReceivedMetric[]>;
  /**
   * Answer the next `count` calls (any signal) with gRPC status `code` (default UNAVAILABLE),
   * discarding their data. With `retryDelayMillis`, the status carries a `google.rpc.RetryInfo` of
   * that delay in the `grpc-status-details-bin` trailer, as a collector asking for a later retry.
   */
  failNext(count: number, code?: number, details?: string, retryDelayMillis?: number): void;
  /**
   * Answer the next `count` calls with OK and an OTLP partial success of `rejected` items (data
   * points, spans or log records); their data is recorded like any accepted call's.
   */
  partialSuccessNext(count: number, rejected: number, errorMessage?: string): void;
  /** Forget all received data and calls. */
  reset(): void;
  /** Stop the server at once, ending open calls. Idempotent. */
  close(): Promise<void>;
}

/** A method definition that hands the handler the message bytes as they are and sends bytes back. */
function passThroughMethod(path: string): ServiceDefinition[string] {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (value: Buffer) => value,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (value: Buffer) => value,
  };
}

function metadataRecord(metadata: Metadata): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap()))
    record[key.toLowerCase()] = Buffer.isBuffer(value) ? value.toString('base64') : String(value);
  for (const key of Object.keys(record)) {
    const all = metadata.get(key);
    if (all.length > 1) record[key] = all.map(String).join(', ');
  }
  return record;
}

/** `socket` as a stream that reports the bytes it reads (a plain `Duplex`, so HTTP/2 reads through it). */
function countingStream(socket: Socket, onBytes: (count: number) => void): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
    destroy: (error, done) => {
      socket.destroy(error ?? undefined);
      done(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    onBytes(chunk.length);
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (error) => stream.destroy(error));
  socket.on('close', () => stream.destroy());
  return stream;
}

/**
 * Starts an OTLP/gRPC receiver on `127.0.0.1`: plaintext HTTP/2, or TLS with `tls`.
 *
 * - An Export call whose message decodes: recorded, answered OK with an empty response (or the
 *   partial success asked for with `partialSuccessNext`).
 * - A message that does not decode: `INVALID_ARGUMENT`.
 * - The next calls after `failNext(count, code, details, retryDelayMillis)`: `code`, data discarded,
 *   with a RetryInfo trailer when `retryDelayMillis` is given.
 */
export async function startOtlpGrpcReceiver(options: OtlpGrpcReceiverOptions = {}): Promise<OtlpGrpcReceiver> {
  let spans: ReceivedSpan[] = [];
  let logRecords: ReceivedLogRecord[] = [];
  let metrics: ReceivedMetric[] = [];
  let calls: OtlpGrpcCallRecord[] = [];
  let failuresLeft = 0;
  let failure: { code: number; details: string; retryDelayMillis: number | undefined } = {
    code: GrpcStatus.UNAVAILABLE,
    details: 'simulated failure',
    retryDelayMillis: undefined,
  };
  let partialSuccessesLeft = 0;
  let partialSuccess = { rejected: 0, errorMessage: '' };
  let wireBytes = 0;

  const handlerFor =
    (signal: OtlpSignal) =>
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const bytes = new Uint8Array(call.request);
      const record: OtlpGrpcCallRecord = {
        signal,
        method: OTLP_GRPC_METHODS[signal],
        metadata: metadataRecord(call.metadata),
        bytes,
        status: GrpcStatus.OK,
        receivedAt: Date.now(),
      };
      const peer = call.getAuthContext().sslPeerCertificate;
      const clientCertificate = peer === undefined ? undefined : commonName(peer.subject);
      if (clientCertificate !== undefined) record.clientCertificate = clientCertificate;
      calls.push(record);
      if (failuresLeft > 0) {
        failuresLeft--;
        record.status = failure.code;
        const trailers = new Metadata();
        if (failure.retryDelayMillis !== undefined)
          trailers.set(
            'grpc-status-details-bin',
            Buffer.from(encodeStatusDetails(failure.code, failure.details, failure.retryDelayMillis)),
          );
        callback({ code: failure.code, details: failure.details, metadata: trailers });
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = decodeProtobufRequest(HTTP_PATHS[signal], bytes);
      } catch (error) {
        record.status = GrpcStatus.INVALID_ARGUMENT;
        callback({ code: GrpcStatus.INVALID_ARGUMENT, details: `cannot decode the request: ${String(error)}` });
        return;
      }
      record.body = body;
      if (signal === 'traces') spans.push(...decodeTraces(body));
      else if (signal === 'logs') logRecords.push(...decodeLogs(body));
      else metrics.push(...decodeMetrics(body));
      if (partialSuccessesLeft > 0) {
        partialSuccessesLeft--;
        const response = encodePartialSuccess(HTTP_PATHS[signal], partialSuccess.rejected, partialSuccess.errorMessage);
        callback(null, Buffer.from(response));
        return;
      }
      // An empty message is an Export*ServiceResponse with no partial success.
      callback(null, Buffer.alloc(0));
    };

  const server = new Server();
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const path = OTLP_GRPC_METHODS[signal];
    server.addService({ Export: passThroughMethod(path) }, { Export: handlerFor(signal) });
  }
  const tls = options.tls;
  const credentials =
    tls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(
          tls.clientCa === undefined ? null : Buffer.from(tls.clientCa),
          [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }],
          tls.clientCa !== undefined,
        );
  // Over TLS the bytes counted are the encrypted ones: gRPC's TLS server wraps the counting stream.
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const listener = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    injector.injectConnection(countingStream(socket, (count) => (wireBytes += count)));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, '127.0.0.1', () => {
      listener.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = listener.address() as AddressInfo;
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;

  const describeState = (): string =>
    `spans: ${spans.length}, log records: ${logRecords.length}, metrics: ${metrics.length}\ncalls (${calls.length}):\n` +
    (calls.map((call) => `  ${call.method} -> ${call.status}`).join('\n') || '  (none)');

  async function waitFor<T>(what: string, get: () => T[], predicate: (items: T[]) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = get();
      if (predicate(items)) return items;
      if (Date.now() >= deadline)
        throw new Error(
          `OTLP/gRPC receiver at ${url}: timed out after ${timeoutMs} ms waiting for ${what}\n${describeState()}`,
        );
      await sleep(25);
    }
  }

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    spans: () => [...spans],
    logRecords: () => [...logRecords],
    metrics: () => [...metrics],
    calls: () => [...calls],
    get wireBytes() {
      return wireBytes;
    },
    waitForSpans: (predicate, timeoutMs = 10_000) => waitFor('spans', () => [...spans], predicate, timeoutMs),
    waitForLogRecords: (predicate, timeoutMs = 10_000) =>
      waitFor('log records', () => [...logRecords], predicate, timeoutMs),
    waitForMetrics: (predicate, timeoutMs = 10_000) => waitFor('metrics', () => [...metrics], predicate, timeoutMs),
    failNext: (count, code = GrpcStatus.UNAVAILABLE, details = 'simulated failure', retryDelayMillis) => {
      failuresLeft = count;
      failure = { code, details, retryDelayMillis };
    },
    partialSuccessNext: (count, rejected, errorMessage = 'rejected by the test receiver') => {
      partialSuccessesLeft = count;
      partialSuccess = { rejected, errorMessage };
    },
    reset: () => {
      spans = [];
      logRecords = [];
      metrics = [];
      calls = [];
      wireBytes = 0;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        listener.close(() => resolve());
        injector.destroy();
        server.forceShutdown();
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
