import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MESSAGE_TAG } from '../../src/cluster/cluster-messages.js';
import { ClusterRequests, type ClusterChannel } from '../../src/cluster/cluster-worker.js';

/** A worker's IPC channel whose sent messages the test reads and answers. */
function fakeChannel(): ClusterChannel & {
  sent: Array<{ type: string; id: number }>;
  receive(message: unknown): void;
} {
  const emitter = new EventEmitter();
  const sent: Array<{ type: string; id: number }> = [];
  return {
    sent,
    send(message, callback) {
      sent.push(message as { type: string; id: number });
      callback?.(null);
      return true;
    },
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    receive: (message) => emitter.emit('message', message),
  };
}

// A worker's metrics source and its model-health store proxy share the process's IPC channel. Under
// load a store reply once resolved a metrics collection that had the same id, and the scrape failed.
describe('two request channels on one IPC channel', () => {
  it('take only their own replies, and never share an id', async () => {
    const channel = fakeChannel();
    const metrics = new ClusterRequests(channel, 1000, 'collect-result');
    const store = new ClusterRequests(channel, 1000, 'store-result');
    const collect = metrics.request((id) => ({ gatewayz: MESSAGE_TAG, type: 'collect', id }), 'a collection');
    const call = store.request(
      (id) => ({ gatewayz: MESSAGE_TAG, type: 'store-call', id, method: 'getStats', args: [] }),
      'getStats()',
    );
    const [collectId, callId] = channel.sent.map((message) => message.id);
    expect(collectId).not.toBe(callId);
    // A store reply carrying the collection's id is not the collection's reply.
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'store-result', id: collectId, value: 1 });
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'store-result', id: callId, value: 2 });
    channel.receive({
      gatewayz: MESSAGE_TAG,
      type: 'collect-result',
      id: collectId,
      collection: undefined,
      error: 'x',
    });
    expect(await call).toMatchObject({ type: 'store-result', value: 2 });
    expect(await collect).toMatchObject({ type: 'collect-result', error: 'x' });
    metrics.close();
    store.close();
  });
});
