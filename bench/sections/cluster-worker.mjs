// Not a section: the worker process of bench/sections/cluster-primary.mjs. As a node:cluster
// worker (BENCH_CLUSTER_MODE=cluster) it runs startTelemetry({ cluster: true }) and serves the
// metrics endpoints on the shared port; forked with child_process (BENCH_CLUSTER_MODE=plain) it is
// the single-process baseline, startTelemetry() without cluster mode on its own port. Either way it
// fills BENCH_CLUSTER_SERIES series of the shared mix and answers the primary's `bench` messages
// with its event-loop delay and CPU time since the last reset.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { assertSeriesCounts, recordSeries, seriesOfMix } from '../lib/series-mix.mjs';

const SERIES = Number(process.env.BENCH_CLUSTER_SERIES);
const PORT = Number(process.env.BENCH_CLUSTER_PORT ?? 0);
const CLUSTER = process.env.BENCH_CLUSTER_MODE === 'cluster';

const running = startTelemetry({
  serviceName: 'bench-gateway',
  telemetry: { maxSeriesPerMetric: SERIES },
  cluster: CLUSTER,
  traces: false,
  logs: false,
  hostMetrics: false,
  runtimeMetrics: false,
  logStream: null,
  env: {},
});
recordSeries(running.telemetry, seriesOfMix(SERIES));
assertSeriesCounts(running.telemetry, SERIES);

const server = createServer(running.nodeMetricsListener);
server.keepAliveTimeout = 1;

let loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let cpuSince = process.cpuUsage();

process.on('message', (received) => {
  if (received?.bench === 'reset') {
    // A fresh monitor: re-enabling one would count the pause as a delay.
    loop.disable();
    loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    cpuSince = process.cpuUsage();
    process.send({ bench: 'reset-done' });
  } else if (received?.bench === 'read') {
    const cpu = process.cpuUsage(cpuSince);
    process.send({
      bench: 'reading',
      loopMaxMs: loop.max / 1e6,
      loopP99Ms: loop.percentile(99) / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000,
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    });
  } else if (received?.bench === 'stop') {
    loop.disable();
    server.close();
    void running.shutdown().then(() => process.exit(0));
  }
});

server.listen(PORT, '127.0.0.1', () => {
  process.send({ bench: 'ready', port: server.address().port, series: SERIES });
});
