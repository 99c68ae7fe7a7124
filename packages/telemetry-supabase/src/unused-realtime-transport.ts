import type { WebSocketLikeConstructor } from '@supabase/supabase-js';

/**
 * The realtime transport of the supabase-js client that `SupabaseModelHealthStore` creates from
 * `url` and `serviceRoleKey`: one that refuses to connect. The store only calls SQL functions over
 * HTTP. Without a transport, realtime-js 2.105.2 and later look for a native WebSocket while the
 * client is being created and throw on Node.js 20, which has none; given one, realtime-js does not
 * construct it until a channel subscribes, which the store never does.
 *
 * @example
 * ```ts
 * const client = createClient(url, serviceRoleKey, { realtime: { transport: UnusedRealtimeTransport } });
 * ```
 */
// It never returns an instance, so it needs none of the members of a WebSocket.
export const UnusedRealtimeTransport = class UnusedRealtimeTransport {
  constructor() {
    throw new Error(
      'SupabaseModelHealthStore: the model-health store does not use Supabase realtime, so its client has no ' +
        'WebSocket transport; for realtime channels, create a supabase-js client with one yourself',
    );
  }
} as unknown as WebSocketLikeConstructor;
