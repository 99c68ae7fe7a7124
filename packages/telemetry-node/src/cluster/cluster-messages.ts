/**
 * The messages the primary and the workers of a node:cluster exchange over the IPC channel. Every
 * message carries `gatewayz` so an application's own messages on the same channel are left alone.
 */
import type { CollectionPart } from './collection-parts.js';

/** Marker of every message of this package on the cluster IPC channel. */
export const MESSAGE_TAG = '@gatewayz/telemetry-node/cluster';

/** Methods of a `ModelHealthStore` a worker may call on the primary's store. */
export const STORE_METHODS = [
  'applyBatch',
  'getModelHealth',
  'listModelHealth',
  'getUnhealthyModels',
  'getStats',
  'getProviderSummary',
  'listProviders',
  'deleteOlderThan',
  'listAllModelHealth',
] as const;

/** A method name of {@link STORE_METHODS}. */
export type StoreMethod = (typeof STORE_METHODS)[number];

/** An error sent over the channel: enough to rebuild a `TelemetryError` on the other side. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly reason?: string;
  readonly metric?: string;
  readonly option?: string;
}

/**
 * Every message of this package; `id` pairs a reply with its request. A collection travels as
 * several messages (`part`, `more`), in order.
 */
export type ClusterMessage =
  | { readonly gatewayz: typeof MESSAGE_TAG; readonly type: 'hello' }
  | { readonly gatewayz: typeof MESSAGE_TAG; readonly type: 'hello-ack' }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'collect';
      readonly id: number;
      /** The worker lost track of the series it was told: send them all again. */
      readonly fresh?: boolean;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'collect-result';
      readonly id: number;
      /** The primary that sent it: a new one knows none of the series the worker was told before. */
      readonly session?: string;
      /** One part of the merged collection; `more` when others follow. */
      readonly part?: CollectionPart;
      readonly more?: boolean;
      readonly error?: string;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'snapshot-request';
      readonly id: number;
      /** The asking primary: a new one knows none of the series the worker sent before. */
      readonly session: string;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'snapshot';
      readonly id: number;
      /** The session of the request it answers. */
      readonly session?: string;
      /** One part of the worker's collection; `more` when others follow. */
      readonly part?: CollectionPart;
      readonly more?: boolean;
      readonly error?: string;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      /** A worker stopping gracefully: take its final snapshot, then ask it no more. */
      readonly type: 'retire';
      readonly id: number;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      /** The primary took the final snapshot (or says why it could not). */
      readonly type: 'retire-result';
      readonly id: number;
      readonly error?: string;
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'store-call';
      readonly id: number;
      readonly method: StoreMethod;
      readonly args: readonly unknown[];
    }
  | {
      readonly gatewayz: typeof MESSAGE_TAG;
      readonly type: 'store-result';
      readonly id: number;
      readonly value?: unknown;
      readonly error?: WireError;
    };

/** Whether `value` is a message of this package. */
export function isClusterMessage(value: unknown): value is ClusterMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { gatewayz?: unknown }).gatewayz === MESSAGE_TAG &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

/** The message `type` names, with the tag added. */
export function message<T extends ClusterMessage['type']>(
  body: Omit<Extract<ClusterMessage, { type: T }>, 'gatewayz'> & { type: T },
): ClusterMessage {
  return { gatewayz: MESSAGE_TAG, ...body } as ClusterMessage;
}

/** What of `error` travels over the channel. */
export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields = error as Error & Partial<Record<'code' | 'reason' | 'metric' | 'option', unknown>>;
  return {
    name: error.name,
    message: error.message,
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.reason === 'string' ? { reason: fields.reason } : {}),
    ...(typeof fields.metric === 'string' ? { metric: fields.metric } : {}),
    ...(typeof fields.option === 'string' ? { option: fields.option } : {}),
  };
}
