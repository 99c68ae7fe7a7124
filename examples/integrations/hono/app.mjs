// Hono: `metricsHandler` takes and returns fetch objects, which is what Hono works with.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { incrementCostByProvider, recordProviderResponseTime } from '@gatewayz/telemetry';

const otel = startTelemetry({ serviceName: 'example-hono' });
const app = new Hono();

app.all('/metrics', (c) => otel.metricsHandler(c.req.raw));
app.all('/prometheus/metrics/*', (c) => otel.metricsHandler(c.req.raw));

app.get('/work', (c) => {
  recordProviderResponseTime('openai', 0.25);
  incrementCostByProvider('openai', 0.5);
  return c.json({ ok: true });
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1' },
  ({ address, port }) => console.log(`listening http://${address}:${port}`),
);

process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections?.();
  void otel.shutdown();
});
