// Fastify 5: a route turns the fastify request into a fetch `Request`, calls `metricsHandler`
// and sends the `Response` back through `reply`.
import Fastify from 'fastify';
import { startTelemetry } from '@gatewayz/telemetry-node';
import { incrementCostByProvider, recordProviderResponseTime } from '@gatewayz/telemetry';

const otel = startTelemetry({ serviceName: 'example-fastify' });
const app = Fastify();

async function metrics(request, reply) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  const response = await otel.metricsHandler(new Request(new URL(request.url, 'http://localhost'), { headers }));
  reply.code(response.status);
  response.headers.forEach((value, name) => reply.header(name, value));
  // Bytes, not text: the body is gzip-coded when the scraper's Accept-Encoding allows it.
  return reply.send(Buffer.from(await response.arrayBuffer()));
}
app.get('/metrics', metrics);
app.get('/prometheus/metrics/*', metrics);

app.get('/work', async () => {
  recordProviderResponseTime('openai', 0.25);
  incrementCostByProvider('openai', 0.5);
  return { ok: true };
});

const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
console.log(`listening ${url}`);

process.once('SIGTERM', async () => {
  await app.close();
  await otel.shutdown();
});
