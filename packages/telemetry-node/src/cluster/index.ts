/**
 * node:cluster mode: every scrape of a port the workers share answers the exact aggregate of all
 * of them. The primary (`startClusterPrimary`) collects every worker over IPC and merges by kind
 * and by the catalog's `clusterMerge` rule; a worker's metrics endpoints ask it through
 * `createClusterMetricsSource` (`startTelemetry({ cluster: true })` wires that); a worker that exits
 * leaves its counters and histograms in place (as of the final snapshot its graceful shutdown sends). `ClusterModelHealthStore` lets workers share the
 * primary's in-memory model-health store.
 *
 * - `cluster-primary.ts`: `startClusterPrimary()`
 * - `cluster-worker.ts`: `createClusterMetricsSource()` and the request/reply channel
 * - `merge-worker-metrics.ts`: the merge (by slot in a table of label sets) and what an exited
 *   worker leaves behind
 * - `series-wire.ts`, `wire-encoder.ts`, `wire-decoder.ts`, `collection-parts.ts`: how collections
 *   travel (each series' labels once, numbers in columns, in parts)
 * - `cluster-model-health-store.ts`: `ClusterModelHealthStore`
 * - `cluster-messages.ts`, `wire-dates.ts`: the messages on the IPC channel
 */
export { startClusterPrimary } from './cluster-primary.js';
export type { ClusterPrimary, ClusterPrimaryOptions } from './cluster-primary.js';
export { createClusterMetricsSource } from './cluster-worker.js';
export type { ClusterMetricsSourceOptions, ClusterChannel } from './cluster-worker.js';
export { ClusterModelHealthStore } from './cluster-model-health-store.js';
export type { ClusterModelHealthStoreOptions } from './cluster-model-health-store.js';
export type { GaugeMergeRule } from './merge-worker-metrics.js';
