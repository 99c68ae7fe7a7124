import cluster from 'node:cluster';
import { loadWorkerCount } from './config.js';
import { runClusterPrimary } from './server/run-cluster.js';
import { runGateway } from './server/run-gateway.js';

/** One process by default; with GATEWAY_WORKERS=N (or auto) a node:cluster of N workers on one port. */
async function main(): Promise<void> {
  const env = process.env;
  if (cluster.isWorker) return runGateway(env, true);
  const workers = loadWorkerCount(env);
  if (workers > 1) return runClusterPrimary(env, workers);
  return runGateway(env, false);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exit(1);
});
