/**
 * A model-health store for node:cluster workers whose store lives in the primary's memory: every
 * call goes to the primary (see `startClusterPrimary({ modelHealthStore })`), so all workers count
 * into one set of records and read the same figures. Workers that share a database store do not
 * need it.
 */
import { TelemetryConfigurationError, TelemetryInputError } from '@gatewayz/telemetry';
import type {
  ModelCallBatch,
  ModelHealthPage,
  ModelHealthQuery,
  ModelHealthRecord,
  ModelHealthStats,
  ModelHealthStore,
  ProviderHealthSummary,
} from '@gatewayz/telemetry/model-health';
import { message, type StoreMethod, type WireError } from './cluster-messages.js';
import { ClusterRequests, type ClusterChannel } from './cluster-worker.js';
import { timerDelayOption } from '../env/timer-delay-option.js';
import { decodeDates, encodeDates } from './wire-dates.js';

/** The error the primary's store threw, rebuilt so that the REST handlers answer as they would locally. */
function rebuildError(wire: WireError): Error {
  if (wire.name === 'TelemetryInputError')
    return new TelemetryInputError(wire.metric ?? 'model_health', wire.reason ?? 'invalid', wire.message);
  if (wire.name === 'TelemetryConfigurationError') {
    const prefix = `Invalid option "${wire.option ?? ''}": `;
    const text = wire.message.startsWith(prefix) ? wire.message.slice(prefix.length) : wire.message;
    return new TelemetryConfigurationError(wire.option ?? 'store', text);
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

/**
 * Options of {@link ClusterModelHealthStore}.
 *
 * @example
 * ```ts
 * const options: ClusterModelHealthStoreOptions = { timeoutMs: 5000 };
 * ```
 */
export interface ClusterModelHealthStoreOptions {
  /** How long a call waits for the primary, from 1 to 2147483647 ms. Default 10 000 ms. */
  timeoutMs?: number;
  /** The IPC channel; default `process`. */
  channel?: ClusterChannel;
}

/**
 * A `ModelHealthStore` whose calls run on the store of the cluster primary.
 *
 * @example
 * ```ts
 * const store = cluster.isWorker ? new ClusterModelHealthStore() : new MemoryModelHealthStore();
 * const recorder = new ModelHealthRecorder({ store });
 * ```
 */
export class ClusterModelHealthStore implements ModelHealthStore {
  private readonly requests: ClusterRequests;

  /** Listen on the worker's IPC channel; every call then goes to the primary's store. */
  constructor(options: ClusterModelHealthStoreOptions = {}) {
    const timeoutMs = timerDelayOption(options.timeoutMs, 10_000, 'timeoutMs');
    this.requests = new ClusterRequests(options.channel ?? process, timeoutMs, 'store-result');
  }

  private async call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    const reply = await this.requests.request(
      (id) => message({ type: 'store-call', id, method, args: encodeDates(args) as unknown[] }),
      `model-health ${method}()`,
    );
    if (reply.type !== 'store-result') throw new Error(`unexpected reply ${reply.type} to ${method}()`);
    if (reply.error !== undefined) throw rebuildError(reply.error);
    return decodeDates(reply.value) as T;
  }

  applyBatch(batch: ModelCallBatch): Promise<void> {
    return this.call('applyBatch', batch);
  }

  getModelHealth(provider: string, model: string): Promise<ModelHealthRecord | undefined> {
    return this.call('getModelHealth', provider, model);
  }

  listModelHealth(query?: ModelHealthQuery): Promise<ModelHealthPage> {
    return this.call('listModelHealth', query);
  }

  getUnhealthyModels(errorThreshold: number, minCalls?: number): Promise<readonly ModelHealthRecord[]> {
    return this.call('getUnhealthyModels', errorThreshold, minCalls);
  }

  getStats(): Promise<ModelHealthStats> {
    return this.call('getStats');
  }

  getProviderSummary(provider: string): Promise<ProviderHealthSummary | undefined> {
    return this.call('getProviderSummary', provider);
  }

  listProviders(): Promise<readonly ProviderHealthSummary[]> {
    return this.call('listProviders');
  }

  deleteOlderThan(days: number): Promise<number> {
    return this.call('deleteOlderThan', days);
  }

  listAllModelHealth(): Promise<readonly ModelHealthRecord[]> {
    return this.call('listAllModelHealth');
  }

  /** Stop listening on the channel; calls still waiting are rejected. */
  close(): void {
    this.requests.close();
  }
}
