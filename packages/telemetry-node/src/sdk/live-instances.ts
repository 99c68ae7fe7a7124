/**
 * The telemetry instances `startTelemetry()` started and has not shut down yet, process-wide (every
 * build of this package loaded shares the list, as the core's builds share the shared instance).
 * A second `startTelemetry()` while a first runs (a test, a plugin, a hot-reloaded module) is allowed;
 * what it changes is undone by its `shutdown()`, so the first one keeps working.
 */
import { peekTelemetry, setTelemetry, type GatewayTelemetry } from '@gatewayz/telemetry';
import { warnConfiguration } from '../env/standard-variables.js';

interface LiveInstances {
  readonly telemetry: GatewayTelemetry[];
  warned: boolean;
}

const LIVE_KEY = Symbol.for('@gatewayz/telemetry-node.live-instances');

function liveInstances(): LiveInstances {
  const holder = globalThis as { [LIVE_KEY]?: LiveInstances };
  return (holder[LIVE_KEY] ??= { telemetry: [], warned: false });
}

/**
 * Make `telemetry` the shared instance behind the module-level helpers, for an instance now starting,
 * and return what its shutdown calls: the shared instance then goes back to the latest instance still
 * running (or to none), unless something else replaced it meanwhile. The first time an instance
 * starts while another runs, says so as the other start-up warnings are said (`warnConfiguration`).
 *
 * @example
 * ```ts
 * const releaseSharedTelemetry = shareTelemetry(telemetry);
 * // ... at shutdown
 * releaseSharedTelemetry();
 * ```
 */
export function shareTelemetry(telemetry: GatewayTelemetry): () => void {
  const live = liveInstances();
  if (live.telemetry.length > 0 && !live.warned) {
    live.warned = true;
    // As the other start-up warnings: to diag and to the instance's logger (diag prints nothing
    // unless OTEL_LOG_LEVEL is set).
    warnConfiguration(
      '@gatewayz/telemetry-node: startTelemetry() called while an earlier instance is running (call its shutdown() first). ' +
        'The module-level helpers record into the new instance until its shutdown(), then into the earlier one again; ' +
        'the global providers the earlier one registered stay in place. Said once per process.',
    );
  }
  live.telemetry.push(telemetry);
  setTelemetry(telemetry);
  return () => {
    const index = live.telemetry.indexOf(telemetry);
    if (index === -1) return;
    live.telemetry.splice(index, 1);
    if (peekTelemetry() === telemetry) setTelemetry(live.telemetry.at(-1));
  };
}
