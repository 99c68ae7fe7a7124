/**
 * `startTelemetry({ env })` decides GenAI content capture from `env`:
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (true / false in any case; anything else is
 * warned about once and means off) and `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH` (a positive integer, or
 * a `TelemetryConfigurationError` at start-up); `telemetry` options given in code win. The
 * decision is on `otel.telemetry.genAiContent`, where the gateway reads it.
 */
import { Writable } from 'node:stream';
import { TelemetryConfigurationError, type GatewayTelemetryOptions } from '@gatewayz/telemetry';
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
    logs: false,
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
      expect(otel.telemetry.genAiContent).toEqual({ capture: true, maxLength: undefined });
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
    for (const value of ['1', 'yes', 'SPAN_ONLY']) {
      const { otel, warnings } = start({ [CAPTURE]: value });
      expect(otel.telemetry.genAiContent.capture).toBe(false);
      expect(warnings).toEqual([
        `@gatewayz/telemetry-node: ignoring ${CAPTURE}=${JSON.stringify(value)}; expected one of true, false, not capturing message content`,
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
    expect(otel.telemetry.genAiContent).toEqual({ capture: true, maxLength: 64 });
  });
});

describe('GATEWAYZ_GENAI_CONTENT_MAX_LENGTH', () => {
  it('a positive integer sets the limit; the code option wins', async () => {
    const { otel } = start({ [CAPTURE]: 'true', [MAX_LENGTH]: ' 4096 ' });
    expect(otel.telemetry.genAiContent).toEqual({ capture: true, maxLength: 4096 });
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
