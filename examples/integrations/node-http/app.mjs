// Plain node:http: the metrics endpoints are served by `nodeMetricsListener`, everything else by the app.
import http from 'node:http';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { incrementCostByProvider, recordProviderResponseTime } from '@gatewayz/telemetry';

const otel = startTelemetry({ serviceName: 'example-node-http' });

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
