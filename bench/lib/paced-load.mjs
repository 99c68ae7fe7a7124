// Shared by the gateway and traces sections: process CPU from /proc, and one open-loop schedule
// that sends POST /v1/chat/completions to several gateways in turn at a fixed rate.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { sleep } from './common.mjs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** user + system CPU seconds of a process, all threads (Linux /proc); NaN elsewhere. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN; // not Linux
  }
}

// Which clock `runtimeSeconds` reads, decided once (schedstat is a kernel feature, there for every
// process or for none): a difference of a schedstat reading and a tick reading would mean nothing.
const SCHEDSTAT = existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`);
/** What `runtimeSeconds` reads: 'schedstat', or 'stat' (clock ticks) where schedstat is not there. */
export const RUNTIME_CLOCK = SCHEDSTAT ? 'schedstat' : 'stat';

/**
 * Time on CPU of a process in seconds, all its threads, in nanosecond resolution: the sum of the
 * scheduler's run time of each thread (`/proc/<pid>/task/<tid>/schedstat`), where `cpuSeconds`
 * counts clock ticks (10 ms); `cpuSeconds` throughout where schedstat is not there. A thread that
 * exits between the listing and its read is left out, as is the time of threads that exited
 * before (ticks keep it): the gateways start no threads of their own, and Node's live as long as
 * the process. `proc` reads /proc (the tests hand in their own).
 */
export function runtimeSeconds(pid, proc = { readFileSync, readdirSync }) {
  if (!SCHEDSTAT) return cpuSeconds(pid);
  let threads;
  try {
    threads = proc.readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN; // the process is gone
  }
  let nanoseconds = 0;
  for (const thread of threads) {
    try {
      nanoseconds += Number(proc.readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited after the listing
    }
  }
  return nanoseconds / 1e9;
}

/**
 * Open-loop load at `rate` requests per second per gateway from one schedule (request k goes to
 * gateway k mod n), `durationS` long. Each latency runs from the scheduled start to the end of the
 * response body, so a stalled gateway is charged for the requests that queue behind the stall (no
 * coordinated omission). Returns, per gateway in order, the 2xx latencies in ms, the failures, the
 * number of requests scheduled for it and the CPU seconds its process used meanwhile, read with
 * `cpuClock` (`cpuSeconds` or `runtimeSeconds`).
 */
export async function pacedSchedule(gateways, body, durationS, rate, cpuClock = cpuSeconds) {
  const cpuBefore = gateways.map((gateway) => cpuClock(gateway.child.pid));
  const payload = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  const targets = gateways.map((gateway) => ({
    url: new URL(`${gateway.url}/v1/chat/completions`),
    agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    latencies: [],
    failures: 0,
  }));
  const perGateway = Math.max(1, Math.round(durationS * rate));
  const intervalMs = 1000 / (rate * targets.length);
  const startedAt = performance.now();
  const pending = [];
  for (let index = 0; index < perGateway * targets.length; index++) {
    const scheduledAt = startedAt + index * intervalMs;
    const wait = scheduledAt - performance.now();
    if (wait > 1) await sleep(wait);
    const target = targets[index % targets.length];
    pending.push(
      new Promise((resolve) => {
        const outgoing = request(target.url, { method: 'POST', agent: target.agent, headers }, (response) => {
          response.resume();
          response.once('end', () => {
            if (response.statusCode >= 200 && response.statusCode < 300)
              target.latencies.push(performance.now() - scheduledAt);
            else target.failures++;
            resolve();
          });
        });
        outgoing.once('error', () => {
          target.failures++;
          resolve();
        });
        outgoing.end(payload);
      }),
    );
  }
  await Promise.all(pending);
  return targets.map((target, index) => {
    target.agent.destroy();
    return {
      latencies: Float64Array.from(target.latencies),
      failures: target.failures,
      total: perGateway,
      cpuSeconds: cpuClock(gateways[index].child.pid) - cpuBefore[index],
    };
  });
}
