/**
 * Headers passed in code (`metrics.otlp.headers`) are checked at start-up for the transport, as the
 * `OTEL_EXPORTER_OTLP_*HEADERS` entries are: one the transport cannot send is a
 * `TelemetryConfigurationError` naming the option and the header's key (never its value), instead of
 * every push failing (HTTP) or going out without it (gRPC). Sendable ones arrive at real receivers.
 */
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { thrown } from '../../../test-support/thrown.js';
import { startTelemetry, type OtlpMetricsOptions, type RunningTelemetry } from '../src/index.js';
import { otlpGrpcDelegateOptions } from '../src/env/otlp-exporter-config.js';
import { NO_OTLP_TLS } from '../src/env/otlp-tls-from-env.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
});

type Protocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: Protocol[] = ['http/protobuf', 'http/json', 'grpc'];

async function receiverFor(protocol: Protocol): Promise<OtlpReceiver | OtlpGrpcReceiver> {
  const receiver = protocol === 'grpc' ? await startOtlpGrpcReceiver() : await startOtlpReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

/** Start pushing metrics to `receiver` over `protocol` with `headers` (anything, as from plain JavaScript). */
function startPushing(protocol: Protocol, receiver: OtlpReceiver | OtlpGrpcReceiver, headers: unknown) {
  const url = protocol === 'grpc' ? receiver.url : (receiver as OtlpReceiver).metricsUrl;
  running = startTelemetry({
    env: {},
    traces: false,
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    metrics: {
      exporters: ['otlp'],
      otlp: { protocol, url, headers: headers as OtlpMetricsOptions['headers'], exportIntervalMillis: 3_600_000 },
    },
  });
  return running;
}

/** The headers (HTTP) or metadata (gRPC) of every push `receiver` saw. */
function headersSeen(receiver: OtlpReceiver | OtlpGrpcReceiver): Array<Record<string, string>> {
  return 'calls' in receiver
    ? receiver.calls().map((call) => call.metadata)
    : receiver.requests().map((request) => request.headers);
}

const SECRET = 's3cret-token';

describe('metrics.otlp.headers', () => {
  it.each(PROTOCOLS)(
    '%s: a value with a trailing newline (a token file) fails start-up, naming the key, not the value',
    async (protocol) => {
      const receiver = await receiverFor(protocol);
      const error = thrown(TelemetryConfigurationError, () =>
        startPushing(protocol, receiver, { 'x-tenant': 'acme', authorization: `Bearer ${SECRET}\n` }),
      );
      expect(error.option).toBe('metrics.otlp.headers');
      expect(error.message).toContain('the "authorization" header cannot be sent');
      expect(error.message).toContain('ends with a line break (trim it)');
      expect(error.message).not.toContain(SECRET);
      expect(headersSeen(receiver)).toEqual([]);
    },
  );

  it.each(PROTOCOLS)('%s: sendable headers go with every push', async (protocol) => {
    const receiver = await receiverFor(protocol);
    const otel = startPushing(protocol, receiver, { authorization: `Bearer ${SECRET}`, 'x-tenant': 'acme' });
    otel.telemetry.incrementCostByProvider('openai', 1);
    await otel.forceFlush();
    const seen = headersSeen(receiver);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${SECRET}`, 'x-tenant': 'acme' });
  });

  it('what gRPC metadata cannot carry fails over grpc only: a Latin-1 value, a -bin key', async () => {
    const http = await receiverFor('http/protobuf');
    const otel = startPushing('http/protobuf', http, { 'x-tenant': 'café' });
    otel.telemetry.incrementCostByProvider('openai', 1);
    await otel.forceFlush();
    expect(headersSeen(http)[0]).toMatchObject({ 'x-tenant': 'café' });
    await otel.shutdown();
    running = undefined;

    const grpc = await receiverFor('grpc');
    for (const [headers, key] of [
      [{ 'x-tenant': 'café' }, 'x-tenant'],
      [{ 'x-trace-bin': 'abc' }, 'x-trace-bin'],
    ] as const) {
      const error = thrown(TelemetryConfigurationError, () => startPushing('grpc', grpc, headers));
      expect(error.option).toBe('metrics.otlp.headers');
      expect(error.message).toContain(`the "${key}" header cannot be sent: gRPC metadata cannot carry it`);
    }
    expect(headersSeen(grpc)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['a number value', { 'x-retries': 3 }, 'the "x-retries" header: expected a string value, got number'],
    ['a string', 'authorization=Bearer abc', 'expected an object of header names to string values, got string'],
    ['an invalid name', { 'x tenant': 'acme' }, 'the "x tenant" header cannot be sent'],
  ])('%s fails start-up, naming the option', async (_case, headers, message) => {
    const receiver = await receiverFor('http/protobuf');
    const error = thrown(TelemetryConfigurationError, () => startPushing('http/protobuf', receiver, headers));
    expect(error.option).toBe('metrics.otlp.headers');
    expect(error.message).toContain(message);
  });
});

describe('gRPC metadata of the resolved headers', () => {
  it('a header gRPC cannot carry is warned about by its key only and left out; the others are sent', () => {
    const { result, warnings } = captureConfigurationWarnings(() =>
      otlpGrpcDelegateOptions(
        {
          url: 'http://127.0.0.1:4317',
          headers: { authorization: `Bearer ${SECRET}\n`, 'x-tenant': 'acme' },
          timeoutMillis: 1000,
          compression: 'none',
        },
        NO_OTLP_TLS,
      ),
    );
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring the OTLP header "authorization": gRPC metadata cannot carry it (keys of a-z, 0-9, "-", "_" and ".", not ending in "-bin"; values of printable ASCII); sending the other headers',
    ]);
    expect(warnings.join('\n')).not.toContain(SECRET);
    const metadata = result.metadata!();
    expect(metadata.get('authorization')).toEqual([]);
    expect(metadata.get('x-tenant')).toEqual(['acme']);
  });
});
