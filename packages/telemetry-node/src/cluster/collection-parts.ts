/**
 * A whole collection on the cluster channel: the resource and the scopes other than the helpers'
 * (a few dozen per-process series) ride on the first part, the helpers' series are slices (see
 * `series-wire.ts`). A worker sends its own collection this way, the primary the merged one.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Scope, SeriesTable, WorkerCollection } from './merge-worker-metrics.js';
import type { WireSlice } from './series-wire.js';
import { decodeNonFiniteNumbers, encodeNonFiniteNumbers } from './wire-dates.js';
import { WireDecoder, type Assembly } from './wire-decoder.js';
import { pointsOfMetricData, pointsOfSlotMetric, type PointSource, type WireEncoder } from './wire-encoder.js';

/** One message's worth of a collection. */
export interface CollectionPart {
  /**
   * First part: the resource, the helpers' scope and every other scope as collected, numbers JSON
   * cannot carry tagged (`encodeNonFiniteNumbers`; {@link CollectionReceiver} restores them).
   */
  readonly head?: {
    readonly resource: Attributes;
    readonly scope: Scope | undefined;
    readonly other: WorkerCollection['other'];
  };
  readonly metrics: WireSlice[];
}

function* partsOf(
  encoder: WireEncoder,
  head: NonNullable<CollectionPart['head']>,
  sources: readonly PointSource[],
  pointsPerPart: number | undefined,
): Generator<CollectionPart> {
  // Other scopes' data as collected: NaN or ±Infinity in it would reach the receiver as `null` over
  // the channel's default JSON (the helpers' numbers travel as bytes, see `series-wire.ts`).
  const sent = encodeNonFiniteNumbers(head) as NonNullable<CollectionPart['head']>;
  let first = true;
  for (const metrics of encoder.parts(sources, pointsPerPart)) {
    yield first ? { head: sent, metrics } : { metrics };
    first = false;
  }
  if (first) yield { head: sent, metrics: [] };
}

/**
 * A worker's collection in parts: the scope named `ownScope` in slices, the rest as collected.
 *
 * @example
 * ```ts
 * for (const part of partsOfCollection(encoder, resourceMetrics, PACKAGE_NAME)) send(part);
 * ```
 */
export function partsOfCollection(
  encoder: WireEncoder,
  resourceMetrics: ResourceMetrics,
  ownScope: string,
  pointsPerPart?: number,
): Generator<CollectionPart> {
  const own = resourceMetrics.scopeMetrics.find((scope) => scope.scope.name === ownScope);
  return partsOf(
    encoder,
    {
      resource: resourceMetrics.resource.attributes,
      scope: own?.scope,
      other: resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name !== ownScope),
    },
    (own?.metrics ?? []).map(pointsOfMetricData),
    pointsPerPart,
  );
}

/** The merged collection in parts (the primary's answer to a scraped worker). */
export function partsOfMerged(
  encoder: WireEncoder,
  merged: WorkerCollection,
  pointsPerPart?: number,
): Generator<CollectionPart> {
  return partsOf(
    encoder,
    { resource: merged.resource, scope: merged.scope, other: merged.other },
    merged.metrics.map(pointsOfSlotMetric),
    pointsPerPart,
  );
}

/** A collection whose last part arrived. */
export interface ReceivedCollection {
  readonly head: NonNullable<CollectionPart['head']>;
  readonly assembly: Assembly;
}

/**
 * Collections from one sender, put together part by part (`id` tells collections apart; a sender
 * may interleave them). Every part the sender sends must be given to `receive`, in order.
 */
export class CollectionReceiver {
  readonly decoder = new WireDecoder();
  private readonly pending = new Map<number, { head?: CollectionPart['head']; assembly: Assembly }>();

  /** Read part `part` of collection `id`; the collection when it is the last (`more` false). */
  receive(id: number, part: CollectionPart, more: boolean): ReceivedCollection | undefined {
    let collection = this.pending.get(id);
    if (collection === undefined) {
      // A collection whose sender stopped part-way (it timed out) is abandoned when a later one starts.
      for (const older of this.pending.keys()) if (older < id) this.pending.delete(older);
      this.pending.set(id, (collection = { assembly: new Map() }));
    }
    if (part.head !== undefined) collection.head = decodeNonFiniteNumbers(part.head) as CollectionPart['head'];
    this.decoder.apply(collection.assembly, part.metrics);
    if (more) return undefined;
    this.pending.delete(id);
    // Without its first part (abandoned part-way, no one waits for it), it only fed the dictionary.
    return collection.head === undefined ? undefined : { head: collection.head, assembly: collection.assembly };
  }

  /** Forget collections under way (the sender failed them). */
  abandon(id: number): void {
    this.pending.delete(id);
  }

  /** A received collection with its series numbered in the primary's tables, for the merge. */
  toWorkerCollection(received: ReceivedCollection, tableOf: (name: string) => SeriesTable): WorkerCollection {
    const { head, assembly } = received;
    return {
      resource: head.resource,
      scope: head.scope,
      metrics: this.decoder.toSlots(assembly, tableOf),
      other: head.other,
    };
  }

  /** A received collection's scopes as collected data, the helpers' after the others (as a single process has them). */
  toScopeMetrics(received: ReceivedCollection): ResourceMetrics['scopeMetrics'] {
    const { head, assembly } = received;
    const scopes = head.other.map((scope) => ({ scope: scope.scope, metrics: [...scope.metrics] }));
    if (head.scope !== undefined) scopes.push({ scope: head.scope, metrics: this.decoder.toMetricData(assembly) });
    return scopes;
  }
}
