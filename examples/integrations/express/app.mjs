// Express 5: `nodeMetricsListener` is a plain (req, res) listener, so it mounts as a route handler.
import express from 'express';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { incrementCostByProvider, recordProviderResponseTime } from '@gatewayz/telemetry';

const otel = startTelemetry({ serviceName: 'example-express' });
const app = express();

// The listener routes on `req.url`, so mount it on full paths with app.get(): app.use('/metrics', …)
// would strip the mount prefix from `req.url`.
app.get(['/metrics', '/prometheus/metrics/*category'], otel.nodeMetricsListener);

app.get('/work', (_req, res) => {
  recordProviderResponseTime('openai', 0.25);
  incrementCostByProvider('openai', 0.5);
  res.json({ ok: true });
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`listening http://${address}:${port}`);
});

process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void otel.shutdown();
});
