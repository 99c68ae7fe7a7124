/**
 * `startTelemetry({ env })` decides GenAI content capture from `env`:
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (true / false or a capture mode in any case;
 * anything else is warned about once and means off), `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`
 * (true / false) and `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH` (a positive integer, or a
 * `TelemetryConfigurationError` at start-up); `telemetry` options given in code win. The decision
 * is on `otel.telemetry.genAiContent`, where the gateway reads it.
 */
import { Writable } from 'node:stream';
import { TelemetryConfigurationError, type GatewayTelemetryOptions } from '@gatewayz/telemetry';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  vi.unstubAllEnvs();
});

/** Telemetry started from `env` alone (and `telemetry` options), with the warnings it logged. */
function start(
  env: Record<string, string>,
  telemetry?: GatewayTelemetryOptions,
  logs: false | { exporter: InMemoryLogRecordExporter } = false,
): { otel: RunningTelemetry; warnings: string[] } {
  const warnings: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString('utf8')) as { level: string; msg: string };
      if (line.level === 'warn') warnings.push(line.msg);
      done();
    },
  });
  running = startTelemetry({
    hostMetrics: false,
    runtimeMetrics: false,
    traces: false,
    logs,
    contextManager: 'synchronous',
    logStream,
    env,
    ...(telemetry !== undefined ? { telemetry } : {}),
  });
  return { otel: running, warnings };
}

const CAPTURE = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
const MAX_LENGTH = 'GATEWAYZ_GENAI_CONTENT_MAX_LENGTH';

describe('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', () => {
  it('true in any case, spaces around it ignored, turns capture on', async () => {
    for (const value of ['true', 'TRUE', ' True ']) {
      const { otel, warnings } = start({ [CAPTURE]: value });
      expect(otel.telemetry.genAiContent).toMatchObject({ mode: 'span_only', capture: true, maxLength: undefined });
      expect(warnings).toEqual([]);
      await otel.shutdown();
    }
  });

  it('false, blank or unset leave it off; process.env is not read', async () => {
    vi.stubEnv(CAPTURE, 'true');
    const envs: Array<Record<string, string>> = [
      { [CAPTURE]: 'false' },
      { [CAPTURE]: 'FALSE' },
      { [CAPTURE]: '  ' },
      {},
    ];
    for (const env of envs) {
      const { otel, warnings } = start(env);
      expect(otel.telemetry.genAiContent.capture).toBe(false);
      expect(warnings).toEqual([]);
      await otel.shutdown();
    }
  });

  it('an unknown value means off, with one warning naming the variable and the value', async () => {
    for (const value of ['1', 'yes', 'SPAN']) {
      const { otel, warnings } = start({ [CAPTURE]: value });
      expect(otel.telemetry.genAiContent.capture).toBe(false);
      expect(warnings).toEqual([
        `@gatewayz/telemetry-node: ignoring ${CAPTURE}=${JSON.stringify(value)}; expected one of true, false, no_content, span_only, event_only, span_and_event, not capturing message content`,
      ]);
      await otel.shutdown();
    }
  });

  it('the telemetry option given in code wins over the variable, either way', async () => {
    const off = start({ [CAPTURE]: 'true' }, { captureGenAiContent: false });
    expect(off.otel.telemetry.genAiContent.capture).toBe(false);
    await off.otel.shutdown();
    const on = start({ [CAPTURE]: 'false' }, { captureGenAiContent: true });
    expect(on.otel.telemetry.genAiContent.capture).toBe(true);
    await on.otel.shutdown();
    // An unknown value is still warned about, though code decides.
    const decided = start({ [CAPTURE]: 'on' }, { captureGenAiContent: true });
    expect(decided.otel.telemetry.genAiContent.capture).toBe(true);
    expect(decided.warnings).toHaveLength(1);
  });

  it('is read when telemetry is disabled too, so the decision is the same either way', () => {
    const { otel } = start({ OTEL_SDK_DISABLED: 'true', [CAPTURE]: 'true', [MAX_LENGTH]: '64' });
    expect(otel.disabled).toBe(true);
    expect(otel.telemetry.genAiContent).toMatchObject({ capture: true, maxLength: 64 });
  });
});

describe('capture modes and OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT', () => {
  const EMIT = 'OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT';
  const withLogs = () => ({ exporter: new InMemoryLogRecordExporter() });

  it('the modes of the Python GenAI utilities, in any case, say where content goes; events follow unless the switch says', async () => {
    const cases: Array<[Record<string, string>, Record<string, unknown>]> = [
      [{ [CAPTURE]: 'SPAN_ONLY' }, { mode: 'span_only', capture: true, events: false, eventContent: false }],
      [
        { [CAPTURE]: 'event_only' },
        { mode: 'event_only', capture: false, events: true, eventContent: true, collect: true },
      ],
      [{ [CAPTURE]: 'Span_And_Event' }, { mode: 'span_and_event', capture: true, events: true, eventContent: true }],
      [{ [CAPTURE]: 'NO_CONTENT' }, { mode: 'no_content', capture: false, events: false, collect: false }],
      [{ [EMIT]: 'TRUE' }, { mode: 'no_content', events: true, eventContent: false, collect: false }],
      [
        { [CAPTURE]: 'EVENT_ONLY', [EMIT]: 'false' },
        { events: false, eventContent: false, collect: false },
      ],
      [
        { [CAPTURE]: 'true', [EMIT]: 'true' },
        { capture: true, events: true, eventContent: false },
      ],
    ];
    for (const [env, expected] of cases) {
      const { otel, warnings } = start(env, undefined, withLogs());
      expect(otel.telemetry.genAiContent, JSON.stringify(env)).toMatchObject(expected);
      expect(warnings).toEqual([]);
      await otel.shutdown();
    }
  });

  it('an unknown event switch is warned about and ignored; code options win', async () => {
    const { otel, warnings } = start({ [CAPTURE]: 'event_only', [EMIT]: 'yes' }, undefined, withLogs());
    expect(otel.telemetry.genAiContent.events).toBe(true);
    expect(warnings).toEqual([
      `@gatewayz/telemetry-node: ignoring ${EMIT}="yes"; expected one of true, false, as the capture mode says`,
    ]);
    await otel.shutdown();
    const coded = start(
      { [CAPTURE]: 'event_only', [EMIT]: 'true' },
      { captureGenAiContent: 'span_only', emitGenAiEvents: false },
    );
    expect(coded.otel.telemetry.genAiContent).toMatchObject({ mode: 'span_only', events: false });
  });

  it('warns once at start-up when events are on but no log exporter would carry them', async () => {
    const nowhere = start({ [CAPTURE]: 'event_only' });
    expect(nowhere.warnings).toEqual([
      `@gatewayz/telemetry-node: GenAI events (${EMIT}, ${CAPTURE}=event_only) are on, but no log exporter is configured (OTEL_LOGS_EXPORTER, or an OTLP endpoint): they are not exported.`,
    ]);
    await nowhere.otel.shutdown();
    expect(start({ [CAPTURE]: 'event_only' }, undefined, withLogs()).warnings).toEqual([]);
  });
});

describe('GATEWAYZ_GENAI_CONTENT_MAX_LENGTH', () => {
  it('a positive integer sets the limit; the code option wins', async () => {
    const { otel } = start({ [CAPTURE]: 'true', [MAX_LENGTH]: ' 4096 ' });
    expect(otel.telemetry.genAiContent).toMatchObject({ capture: true, maxLength: 4096 });
    await otel.shutdown();
    const coded = start({ [MAX_LENGTH]: '4096' }, { genAiContentMaxLength: 100 });
    expect(coded.otel.telemetry.genAiContent.maxLength).toBe(100);
  });

  it('anything else throws a TelemetryConfigurationError naming the variable, before anything starts', () => {
    for (const value of ['0', '-5', '1.5', '12k', '1e3', '99999999999999999999']) {
      let thrown: unknown;
      try {
        start({ [MAX_LENGTH]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
      expect((thrown as Error).message).toContain(MAX_LENGTH);
      expect((thrown as Error).message).toContain(`got "${value}"`);
      expect(running).toBeUndefined();
    }
  });
});
