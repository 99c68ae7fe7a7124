/**
 * `startTelemetry({ env })` builds the SDK's providers from `env` alone: the resource
 * (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`), `OTEL_LOG_LEVEL`, the log record limits and
 * `OTEL_SDK_DISABLED` come from `env`, with `process.env` saying otherwise. Checked on what a real
 * OTLP/HTTP receiver on loopback gets.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import type { ResourceDetector } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { resourceAttributesFromEnv, resourceDetectorsFromEnv } from '../src/env/resource-from-env.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';
import { logRecordLimitsFromEnv } from '../src/logs/log-exporters-from-env.js';
import { startTelemetry, type RunningTelemetry, type StartTelemetryOptions } from '../src/index.js';

const DIAG_FIXTURE = fileURLToPath(new URL('./fixtures/diag-log-level.mjs', import.meta.url));

let running: RunningTelemetry | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await receiver?.close();
  receiver = undefined;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Telemetry exporting every signal to a fresh receiver, configured by `env` (plus `options`). */
async function start(
  env: Record<string, string>,
  options: Partial<StartTelemetryOptions> = {},
): Promise<{ otel: RunningTelemetry; receiver: OtlpReceiver; logLines: string[] }> {
  receiver = await startOtlpReceiver();
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  running = startTelemetry({
    hostMetrics: false,
    runtimeMetrics: false,
    contextManager: 'synchronous',
    logStream,
    ...options,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
      OTEL_BLRP_SCHEDULE_DELAY: '3600000',
      ...env,
    },
  });
  return { otel: running, receiver, logLines };
}

/** One span, one log record and one metric through `otel`, flushed: the resources each carried. */
async function resourcesOf(otel: RunningTelemetry, to: OtlpReceiver): Promise<Array<Record<string, unknown>>> {
  otel.tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }).end();
  otel.logger.info('routed');
  otel.telemetry.incrementCostByProvider('openai', 0.25);
  await otel.forceFlush();
  const span = to.spans()[0];
  const record = to.logRecords().find((entry) => entry.body === 'routed');
  const metric = to.metrics().find((entry) => entry.name === 'gatewayz_cost_by_provider');
  expect([span, record, metric].map((item) => item === undefined)).toEqual([false, false, false]);
  return [span!.resource, record!.resource, metric!.resource];
}

describe('startTelemetry({ env }): the resource comes from env', () => {
  it('OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME of env reach traces, logs and metrics; process.env is not read', async () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'leak=process-env,deployment.environment=staging');
    vi.stubEnv('OTEL_SERVICE_NAME', 'process-env-name');
    const { otel, receiver: to } = await start({
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod, team=llm%20platform%2Crouting ,host.name=gw-7,,',
      OTEL_SERVICE_NAME: 'checkout',
    });
    for (const resource of await resourcesOf(otel, to)) {
      expect(resource).toMatchObject({
        'service.name': 'checkout',
        'deployment.environment': 'prod',
        team: 'llm platform,routing',
        // The variable wins over the host detector.
        'host.name': 'gw-7',
        'process.runtime.name': 'nodejs',
      });
      expect(resource).not.toHaveProperty('leak');
    }
  });

  it('service.name of OTEL_RESOURCE_ATTRIBUTES names the service when OTEL_SERVICE_NAME is unset; options win over env', async () => {
    const { otel, receiver: to } = await start(
      { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,service.version=0.9.0' },
      { serviceVersion: '2.0.0' },
    );
    for (const resource of await resourcesOf(otel, to)) {
      expect(resource).toMatchObject({ 'service.name': 'from-attributes', 'service.version': '2.0.0' });
    }
    await running?.shutdown();
    const named = await start({ OTEL_SERVICE_NAME: 'from-env' }, { serviceName: 'from-code' });
    for (const resource of await resourcesOf(named.otel, named.receiver)) {
      expect(resource['service.name']).toBe('from-code');
    }
  });

  it('a malformed OTEL_RESOURCE_ATTRIBUTES is discarded whole, with a warning in the log naming it', async () => {
    const {
      otel,
      receiver: to,
      logLines,
    } = await start({
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=half,team=a=b',
    });
    for (const resource of await resourcesOf(otel, to)) {
      expect(resource['service.name']).toBe('gatewayz-gateway');
      expect(resource).not.toHaveProperty('team');
    }
    const warning = logLines
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .find((line) => line.level === 'warn');
    expect(warning?.msg).toContain('ignoring OTEL_RESOURCE_ATTRIBUTES="service.name=half,team=a=b"');
    expect(warning?.msg).toContain('"team=a=b" is not one key=value pair');
  });

  it('a cluster or OTLP push keeps the service.instance.id env gives, and makes one when env gives none', async () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.instance.id=from-process-env');
    const { otel, receiver: to } = await start({ OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=gw-3' });
    for (const resource of await resourcesOf(otel, to)) expect(resource['service.instance.id']).toBe('gw-3');
    await running?.shutdown();
    const generated = await start({});
    const [first] = await resourcesOf(generated.otel, generated.receiver);
    expect(first?.['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keys naming members of Object.prototype (__proto__, constructor, toString) are attributes on every signal', async () => {
    const { otel, receiver: to } = await start({
      OTEL_RESOURCE_ATTRIBUTES: '__proto__=x,constructor=y,toString=z,hasOwnProperty=w,team=routing',
    });
    await resourcesOf(otel, to);
    // The request bodies as sent (KeyValue lists): the receiver's decoded objects would lose `__proto__` themselves.
    type KeyValue = { key: string; value: { stringValue?: string } };
    const sent = to
      .requests()
      .filter((entry) => entry.path.startsWith('/v1/') && entry.status === 200)
      .map((entry) => {
        const body = entry.body as Record<string, Array<{ resource: { attributes: KeyValue[] } }>>;
        const [resourceEntry] = body.resourceSpans ?? body.resourceLogs ?? body.resourceMetrics ?? [];
        return [entry.path, resourceEntry?.resource.attributes.map(({ key, value }) => [key, value.stringValue])];
      });
    expect(sent.map(([path]) => path).sort()).toEqual(['/v1/logs', '/v1/metrics', '/v1/traces']);
    for (const [path, attributes] of sent) {
      expect(attributes, path as string).toEqual(
        expect.arrayContaining([
          ['__proto__', 'x'],
          ['constructor', 'y'],
          ['toString', 'z'],
          ['hasOwnProperty', 'w'],
          ['team', 'routing'],
        ]),
      );
    }
  });
});

describe('resource detectors: OTEL_NODE_RESOURCE_DETECTORS and the resourceDetectors option', () => {
  it.each([
    [undefined, { 'host.name': true, 'os.type': false, 'process.command_args': false }],
    ['os', { 'host.name': false, 'os.type': true, 'process.command_args': false }],
    ['HOST, process', { 'host.name': true, 'os.type': false, 'process.command_args': true }],
    ['all', { 'host.name': true, 'os.type': true, 'process.command_args': true }],
    ['none', { 'host.name': false, 'os.type': false, 'process.command_args': false }],
  ])('OTEL_NODE_RESOURCE_DETECTORS=%j runs the detectors it names', async (detectors, expected) => {
    vi.stubEnv('OTEL_NODE_RESOURCE_DETECTORS', 'all');
    const { otel, receiver: to } = await start({
      ...(detectors !== undefined ? { OTEL_NODE_RESOURCE_DETECTORS: detectors } : {}),
      OTEL_RESOURCE_ATTRIBUTES: 'team=routing',
    });
    for (const resource of await resourcesOf(otel, to)) {
      const present = Object.fromEntries(Object.keys(expected).map((key) => [key, key in resource]));
      expect(present).toEqual(expected);
      // Always read, whatever the detectors.
      expect(resource['team']).toBe('routing');
    }
  });

  it('an unknown detector name is warned about and skipped; none with others runs none', () => {
    const run = (value: string): string[] =>
      captureConfigurationWarnings(() => resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: value })).warnings;
    expect(run('host,k8s')).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_NODE_RESOURCE_DETECTORS="k8s"; expected env, host, os, process, serviceinstance, all or none, skipping it',
    ]);
    expect(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'none,host' })).toEqual([]);
    expect(run('none,host')).toHaveLength(1);
    expect(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'env' })).toEqual([]);
    // Names of Object.prototype are not detectors either.
    expect(run('constructor,toString')).toHaveLength(2);
    expect(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'constructor' })).toEqual([]);
  });

  it("the option's detectors run after the built-in ones, async attributes included; env and options win over them", async () => {
    const { otel, receiver: to } = await start(
      { OTEL_RESOURCE_ATTRIBUTES: 'host.name=gw-7' },
      {
        serviceVersion: '2.0.0',
        resourceDetectors: [
          {
            detect: () => ({
              attributes: {
                'k8s.pod.name': 'gateway-0',
                'host.name': 'from-detector',
                'service.version': 'from-detector',
                'cloud.region': new Promise<string>((resolve) => setTimeout(() => resolve('eu-west-1'), 50)),
              },
            }),
          },
        ],
      },
    );
    const all = await resourcesOf(otel, to);
    for (const resource of all) {
      expect(resource).toMatchObject({
        'k8s.pod.name': 'gateway-0',
        'cloud.region': 'eu-west-1',
        'host.name': 'gw-7',
        'service.version': '2.0.0',
      });
      expect(resource).toHaveProperty('host.arch');
    }
  });

  it('a resourceDetectors option that is not an array of detectors is a TelemetryConfigurationError', () => {
    for (const value of [{ detect: () => ({}) }, [{}], ['host']])
      expect(() =>
        startTelemetry({ logStream: null, env: {}, resourceDetectors: value as unknown as ResourceDetector[] }),
      ).toThrow(TelemetryConfigurationError);
  });
});

describe('startTelemetry({ env }): the rest of the SDK configuration comes from env', () => {
  it('OTEL_SDK_DISABLED=true in process.env does not disable telemetry that env enables', async () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true');
    const { otel, receiver: to } = await start({});
    expect(otel.disabled).toBe(false);
    otel.tracer.startSpan('traced').end();
    await otel.forceFlush();
    expect(to.spans().map((span) => span.name)).toEqual(['traced']);
  });

  it("log record limits of env truncate exported log attributes; process.env's are not read", async () => {
    vi.stubEnv('OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', '2');
    const { otel, receiver: to } = await start({
      OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '8',
      OTEL_ATTRIBUTE_COUNT_LIMIT: '2',
    });
    logs.getLogger('limits-test').emit({ body: 'limited', attributes: { a: 'abcdefghijkl', b: 'x', c: 'y' } });
    await otel.forceFlush();
    const record = to.logRecords().find((entry) => entry.body === 'limited');
    expect(record?.attributes).toEqual({ a: 'abcdefgh', b: 'x' });
  });

  it.each([
    [
      { OTEL_LOG_LEVEL: 'DEBUG' },
      { OTEL_LOG_LEVEL: 'none' },
      ['probe: debug while running', 'probe: error while running'],
    ],
    [{ OTEL_LOG_LEVEL: 'error' }, { OTEL_LOG_LEVEL: 'debug' }, ['probe: error while running']],
    [{}, { OTEL_LOG_LEVEL: 'debug' }, []],
  ])(
    'OTEL_LOG_LEVEL of env %j (process.env %j) installs a console diagnostic logger until shutdown',
    async (env, processEnv, expected) => {
      const child = spawn(process.execPath, [DIAG_FIXTURE, JSON.stringify(env)], {
        env: { PATH: process.env['PATH'] ?? '', ...processEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code, output).toBe(0);
      expect(output.split('\n').filter((line) => line.startsWith('probe'))).toEqual(expected);
    },
  );

  it('a failed export makes forceFlush reject with one AggregateError naming it, not an array', async () => {
    const refused: SpanExporter = {
      export: (_spans, done) =>
        done({ code: ExportResultCode.FAILED, error: new Error('HTTP 400 from the collector') }),
      shutdown: async () => {},
    };
    const { otel } = await start({}, { traces: { exporter: refused } });
    otel.tracer.startSpan('refused').end();
    const failure = await otel.forceFlush().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).message).toBe(
      '@gatewayz/telemetry-node: forceFlush: spans not exported: HTTP 400 from the collector',
    );
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      'spans not exported: HTTP 400 from the collector',
    ]);
    // The exporter's own error is kept as the cause.
    expect(((failure as AggregateError).errors[0] as Error).cause).toMatchObject({
      message: 'HTTP 400 from the collector',
    });
  });

  it('an unknown OTEL_LOG_LEVEL is warned about and ignored', () => {
    const { warnings } = captureConfigurationWarnings(() => {
      running = startTelemetry({
        logStream: null,
        hostMetrics: false,
        runtimeMetrics: false,
        env: { OTEL_LOG_LEVEL: 'loud' },
      });
    });
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_LOG_LEVEL="loud"; expected one of none, error, warn, info, debug, verbose, all, leaving the diagnostic logger as it is',
    ]);
  });
});

describe('resourceAttributesFromEnv', () => {
  it.each([
    ['', {}],
    ['a=1', { a: '1' }],
    [' a = 1 , b=2,', { a: '1', b: '2' }],
    ['a=1,a=2', { a: '2' }],
    ['k%3Dx=v%2Cw', { 'k=x': 'v,w' }],
    ['a=', { a: '' }],
  ])('%j parses to %j', (raw, expected) => {
    expect(resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: raw })).toEqual(expected);
  });

  it('makes every key an own attribute, __proto__ and constructor too, and leaves the prototype alone', () => {
    const attributes = resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: '__proto__=x,constructor=y,__proto__=z' });
    expect(Object.entries(attributes)).toEqual([
      ['__proto__', 'z'],
      ['constructor', 'y'],
    ]);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
  });

  it.each([
    ['a=1,b', 'is not one key=value pair'],
    ['a=1=2', 'is not one key=value pair'],
    ['=1', 'has an empty key'],
    ['a=%E0%A4%A', 'has a malformed percent escape'],
  ])('%j is discarded whole with a warning (%s)', (raw, reason) => {
    const { result, warnings } = captureConfigurationWarnings(() =>
      resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: `ok=1,${raw}`, OTEL_SERVICE_NAME: 'svc' }),
    );
    expect(result).toEqual({ 'service.name': 'svc' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(reason);
  });
});

describe('logRecordLimitsFromEnv', () => {
  it('reads the log record variables, falls back to the general ones, then to the defaults', () => {
    expect(logRecordLimitsFromEnv({})).toEqual({ attributeCountLimit: 128, attributeValueLengthLimit: Infinity });
    expect(
      logRecordLimitsFromEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '4', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '16' }),
    ).toEqual({ attributeCountLimit: 4, attributeValueLengthLimit: 16 });
    expect(
      logRecordLimitsFromEnv({
        OTEL_ATTRIBUTE_COUNT_LIMIT: '4',
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '0',
        OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '32',
      }),
    ).toEqual({ attributeCountLimit: 0, attributeValueLengthLimit: 32 });
  });
});
