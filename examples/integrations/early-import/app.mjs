// Helpers may run before the SDK starts (e.g. in a module imported first): startTelemetry() keeps
// what they recorded, and the exposed counters include those values.
import http from 'node:http';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { incrementCostByProvider, recordProviderResponseTime } from '@gatewayz/telemetry';

// Module top level, before startTelemetry().
incrementCostByProvider('openai', 1.25);
recordProviderResponseTime('openai', 0.5);

const otel = startTelemetry({ serviceName: 'example-early-import' });

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (otel.metricsHandler.handles(pathname)) return otel.nodeMetricsListener(req, res);
  if (pathname === '/work') {
    recordProviderResponseTime('openai', 0.25);
    incrementCostByProvider('openai', 0.5);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    return;
  }
  res.writeHead(404).end();
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`listening http://${address}:${port}`);
});

process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void otel.shutdown();
});
